// Deterministic, disjoint splits: known answers computed once (and reproduced by an
// independent Python transcription of splitmix64 + Fisher-Yates), not just self-consistency.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>

#include "partplan/common/error.hpp"
#include "partplan/data/splits.hpp"

namespace pd = partplan::data;

TEST_CASE("splitmix64 reproduces the reference sequence", "[data]") {
  pd::SplitMix64 rng(0);
  CHECK(rng.next() == 0xe220a8397b1dcdafULL);
  CHECK(rng.next() == 0x6e789e6aa1b965f4ULL);
  CHECK(rng.next() == 0x06c45d188009454fULL);
  pd::SplitMix64 r2(5);
  for (int i = 0; i < 1000; ++i) CHECK(r2.below(7) < 7);
}

TEST_CASE("seeded permutation is a known answer", "[data]") {
  CHECK(pd::seeded_permutation(10, 7) == std::vector<int64_t>{8, 1, 5, 9, 0, 4, 3, 2, 6, 7});
  CHECK(pd::seeded_permutation(20, 42) ==
        std::vector<int64_t>{16, 3, 8, 11, 17, 18, 4, 6, 19, 7, 10, 1, 14, 9, 12, 2, 5, 0, 15, 13});
  CHECK(pd::seeded_permutation(0, 1).empty());
  CHECK(pd::seeded_permutation(1, 1) == std::vector<int64_t>{0});
}

TEST_CASE("splits are fixed by the seed, disjoint and sized by config", "[data]") {
  const auto s = pd::make_splits(20, {/*attacker_train=*/0, /*attacker_val=*/3, /*eval=*/5}, 42);
  CHECK(s.eval == std::vector<int64_t>{3, 8, 11, 16, 17});
  CHECK(s.attacker_val == std::vector<int64_t>{4, 6, 18});
  CHECK(s.attacker_train == std::vector<int64_t>{0, 1, 2, 5, 7, 9, 10, 12, 13, 14, 15, 19});

  SECTION("same seed, same splits; another seed, other splits") {
    const auto again = pd::make_splits(20, {0, 3, 5}, 42);
    CHECK(again.eval == s.eval);
    CHECK(again.attacker_train == s.attacker_train);
    CHECK(pd::make_splits(20, {0, 3, 5}, 43).eval != s.eval);
  }
  SECTION("disjoint and within range on a larger set") {
    const auto big = pd::make_splits(70000, {20000, 500, 1000}, 1);
    CHECK(big.attacker_train.size() == 20000);
    CHECK(big.attacker_val.size() == 500);
    CHECK(big.eval.size() == 1000);
    std::set<int64_t> all;
    for (const auto* v : {&big.attacker_train, &big.attacker_val, &big.eval}) {
      CHECK(std::is_sorted(v->begin(), v->end()));
      for (auto i : *v) {
        CHECK((i >= 0 && i < 70000));
        all.insert(i);
      }
    }
    CHECK(all.size() == 21500);  // no index in two splits
  }
  SECTION("eval does not move when the attacker sizes change") {
    CHECK(pd::make_splits(20, {4, 0, 5}, 42).eval == s.eval);
    CHECK(pd::make_splits(20, {10, 5, 5}, 42).eval == s.eval);
  }
  SECTION("sizes that do not fit are usage errors") {
    CHECK_THROWS_AS(pd::make_splits(20, {0, 10, 10}, 1), partplan::UsageError);  // nothing left to train on
    CHECK_THROWS_AS(pd::make_splits(20, {15, 3, 5}, 1), partplan::UsageError);
    CHECK_THROWS_AS(pd::make_splits(20, {0, 3, 0}, 1), partplan::UsageError);
    CHECK_THROWS_WITH(pd::make_splits(20, {15, 3, 5}, 1), Catch::Contains("20 samples"));
  }
}

TEST_CASE("seeded subset is sorted, distinct and deterministic", "[data]") {
  const auto a = pd::seeded_subset(100, 10, 3);
  CHECK(a == pd::seeded_subset(100, 10, 3));
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::set<int64_t>(a.begin(), a.end()).size() == 10);
  CHECK(pd::seeded_subset(5, 5, 9) == std::vector<int64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("selection sampling takes exactly count indices, each about equally often", "[data]") {
  auto run = [](int64_t n, int64_t count, uint64_t seed) {
    pd::SeededSelection pick(n, count, seed);
    std::vector<int64_t> taken;
    for (int64_t i = 0; i < n; ++i)
      if (pick.take()) taken.push_back(i);
    return taken;
  };
  CHECK(run(100, 10, 3).size() == 10);
  CHECK(run(100, 10, 3) == run(100, 10, 3));
  CHECK(run(100, 10, 3) != run(100, 10, 4));
  CHECK(run(7, 7, 1) == std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6});
  CHECK(run(7, 0, 1).empty());
  // 4000 draws of 3 of 12: each index is taken 1000 times in expectation (sd about 27).
  std::vector<int> hits(12, 0);
  for (uint64_t seed = 0; seed < 4000; ++seed)
    for (auto i : run(12, 3, seed)) ++hits[static_cast<size_t>(i)];
  for (int h : hits) CHECK(std::abs(h - 1000) < 150);
  pd::SeededSelection once(1, 1, 0);
  CHECK(once.take());
  CHECK_THROWS_AS(once.take(), std::invalid_argument);
  CHECK_THROWS_AS(pd::SeededSelection(3, 4, 0), std::invalid_argument);
}

TEST_CASE("split sizes are caps with fractions that fit any data set", "[data]") {
  const pd::SplitPolicy quick;  // caps 3000 / 200 / 500, fractions 0.1 / 0.2
  auto sizes = [&](int64_t n) {
    const auto s = pd::fit_split_sizes(n, quick);
    return std::vector<int64_t>{s.attacker_train, s.attacker_val, s.eval};
  };
  CHECK(sizes(70000) == std::vector<int64_t>{3000, 200, 500});  // the caps
  CHECK(sizes(200) == std::vector<int64_t>{140, 20, 40});       // the fractions
  CHECK(sizes(600) == std::vector<int64_t>{420, 60, 120});
  CHECK(sizes(2997) == std::vector<int64_t>{2297, 200, 500});
  CHECK(sizes(10) == std::vector<int64_t>{7, 1, 2});  // the floors
  CHECK(quick.samples_to_load() == 3700);
  pd::SplitPolicy all = quick;
  all.attacker_train_cap = 0;  // no cap: every sample not in eval or attacker-val
  CHECK(pd::fit_split_sizes(5000, all).attacker_train == 5000 - 200 - 500);
  CHECK(all.samples_to_load() == 0);
  CHECK_THROWS_WITH(pd::fit_split_sizes(9, quick), Catch::Contains("9 samples") && Catch::Contains("at least 10"));
}

TEST_CASE("group splits keep the crops of one file in one split", "[data]") {
  std::vector<int64_t> groups;
  for (int64_t g = 0; g < 20; ++g)
    for (int k = 0; k < 4; ++k) groups.push_back(g);  // 20 photos x 4 crops
  const auto s = pd::make_group_splits(groups, {/*attacker_train=*/0, /*attacker_val=*/6, /*eval=*/10}, 3);
  CHECK(s.eval.size() == 12);  // whole groups: at least 10, less than one group over
  CHECK(s.attacker_val.size() == 8);
  CHECK(s.attacker_train.size() == 60);
  auto files = [&](const std::vector<int64_t>& idx) {
    std::set<int64_t> f;
    for (auto i : idx) f.insert(groups[static_cast<size_t>(i)]);
    return f;
  };
  for (auto f : files(s.eval)) CHECK((files(s.attacker_train).count(f) == 0 && files(s.attacker_val).count(f) == 0));
  for (auto f : files(s.attacker_val)) CHECK(files(s.attacker_train).count(f) == 0);
  CHECK(pd::make_group_splits(groups, {0, 6, 10}, 3).eval == s.eval);                              // seeded
  CHECK_THROWS_AS(pd::make_group_splits({0, 0, 0, 1, 1, 1}, {0, 1, 2}, 1), partplan::UsageError);  // 2 files, 3 splits
}
