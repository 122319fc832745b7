// Which cuts the white-box attacker runs at beside a learned attacker (whitebox_skip_note):
// the per-cut GFLOP cap, and the cap on the summed fronts that keeps it to the early cuts.
// Known answers on hand-made cut lists; nothing is trained.
#include <catch2/catch.hpp>

#include "src/pipeline/phases/phases.hpp"

using namespace partplan;
using pipeline::phases::whitebox_skip_note;

namespace {

model::CutPoint cut(int id, double gflops) {
  model::CutPoint c;
  c.id = id;
  c.name = "cut" + std::to_string(id);
  c.front_flops = gflops * 1e9;
  return c;
}

pipeline::phases::AttackPlan cgan_and_whitebox() {
  pipeline::phases::AttackPlan p;
  p.trained = {"cgan"};
  p.whitebox = true;
  return p;
}

/// The cut ids that keep the white-box attacker.
std::vector<int> kept(const pipeline::AssessOptions& o, const pipeline::phases::AttackPlan& a,
                      const pipeline::phases::CutSelection& sel) {
  std::vector<int> ids;
  for (const auto& c : sel.cuts)
    if (!whitebox_skip_note(o, a, sel, c)) ids.push_back(c.id);
  return ids;
}

}  // namespace

TEST_CASE("the white-box attacker keeps the early cuts within the summed-front cap", "[pipeline][whitebox]") {
  pipeline::AssessOptions o;  // defaults: 1 GFLOP per front, 0.5 GFLOP summed
  REQUIRE(o.whitebox.max_front_gflops == 1.0);
  REQUIRE(o.whitebox.max_total_gflops == 0.5);
  const auto attacks = cgan_and_whitebox();
  pipeline::phases::CutSelection sel;
  // EfficientNet-B0 at 224x224 (partplan inspect): features.0 .. flatten.
  sel.candidates = {cut(1, 0.023), cut(2, 0.045), cut(3, 0.163), cut(4, 0.242),
                    cut(5, 0.507), cut(6, 0.791), cut(7, 0.791), cut(8, 0.791)};
  sel.cuts = sel.candidates;
  // 0.023 + 0.045 + 0.163 + 0.242 = 0.473 <= 0.5; with features.5 it is 0.980.
  CHECK(kept(o, attacks, sel) == std::vector<int>{1, 2, 3, 4});
  const auto note = whitebox_skip_note(o, attacks, sel, sel.cuts[4]);
  REQUIRE(note);
  CHECK(note->find("0.98 GFLOPs") != std::string::npos);
  CHECK(note->find("whitebox.max_total_gflops = 0.5") != std::string::npos);

  SECTION("a shard decides as the whole selection does") {
    sel.cuts = {sel.candidates[3], sel.candidates[4]};
    CHECK(kept(o, attacks, sel) == std::vector<int>{4});
  }
  SECTION("0 lifts the summed cap; the per-front cap still holds") {
    o.whitebox.max_total_gflops = 0;
    sel.candidates.push_back(cut(9, 1.5));
    sel.cuts = sel.candidates;
    CHECK(kept(o, attacks, sel) == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
    const auto big = whitebox_skip_note(o, attacks, sel, sel.cuts.back());
    REQUIRE(big);
    CHECK(big->find("1.50 GFLOPs per image, above whitebox.max_front_gflops = 1") != std::string::npos);
  }
  SECTION("alone, the white-box attacker runs at every cut") {
    pipeline::phases::AttackPlan alone;
    alone.whitebox = true;
    sel.candidates.push_back(cut(9, 1.5));
    sel.cuts = sel.candidates;
    CHECK(kept(o, alone, sel).size() == 9);
  }
}

TEST_CASE("the first cut keeps the white-box attacker even when it alone passes the summed cap",
          "[pipeline][whitebox]") {
  pipeline::AssessOptions o;
  const auto attacks = cgan_and_whitebox();
  pipeline::phases::CutSelection sel;
  // ResNet-50 at 224x224 (its plan): conv1 0.236 and relu 0.238 sum to 0.474; layer1 costs 1.589.
  sel.candidates = {cut(1, 0.236), cut(3, 0.238), cut(10, 1.589)};
  sel.cuts = sel.candidates;
  CHECK(kept(o, attacks, sel) == std::vector<int>{1, 3});
  // A first front of 0.8 GFLOP: above the summed cap, under the per-front cap; the next is not.
  sel.candidates = {cut(1, 0.8), cut(2, 0.85)};
  sel.cuts = sel.candidates;
  CHECK(kept(o, attacks, sel) == std::vector<int>{1});
  o.whitebox.max_front_gflops = 0.5;  // the per-front cap applies to the first cut too
  CHECK(kept(o, attacks, sel).empty());
}
