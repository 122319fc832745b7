// Deterministic, disjoint splits: known answers computed once (and reproduced by an
// independent Python transcription of splitmix64 + Fisher-Yates), not just self-consistency.
#include <catch2/catch.hpp>

#include <algorithm>
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
