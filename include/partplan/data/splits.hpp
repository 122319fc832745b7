#pragma once
// Deterministic, disjoint splits of a data set into attacker-train, attacker-val and eval.
// The permutation uses splitmix64 and Fisher-Yates written out here, not <random>'s
// distributions, whose outputs are implementation-defined: the same seed gives the same
// splits on every machine and standard library. Torch-free.

#include <cstdint>
#include <vector>

namespace partplan::data {

/// splitmix64 (Steele, Lea, Flood 2014): a 64-bit generator that is one line of arithmetic,
/// so any machine (and a Python script) reproduces it.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  /// Uniform integer in [0, bound) by rejection (no modulo bias). bound > 0.
  uint64_t below(uint64_t bound);

 private:
  uint64_t state_;
};

/// A permutation of 0..n-1 drawn by Fisher-Yates from SplitMix64(seed).
std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed);

/// `count` distinct indices of 0..n-1 drawn with `seed`, sorted ascending (count <= n).
std::vector<int64_t> seeded_subset(int64_t n, int64_t count, uint64_t seed);

/// Selection sampling (Knuth's Algorithm S) for a reader that streams its n records: call
/// take() once per index 0..n-1, in order; exactly `count` calls return true, every subset
/// of that size equally likely, decided by SplitMix64(seed). O(1) memory, where
/// seeded_subset holds a permutation of all n. Throws std::invalid_argument unless
/// 0 <= count <= n, and when take() is called more than n times.
class SeededSelection {
 public:
  SeededSelection(int64_t n, int64_t count, uint64_t seed);
  bool take();

 private:
  SplitMix64 rng_;
  int64_t left_;    // indices not yet visited
  int64_t needed_;  // of them still to take
};

/// Split sizes in samples.
struct SplitSizes {
  int64_t attacker_train = 0;  ///< 0 = every sample not in eval or attacker_val
  int64_t attacker_val = 500;
  int64_t eval = 1000;
};

/// Indices into a data set, each list sorted ascending, pairwise disjoint.
struct Splits {
  std::vector<int64_t> attacker_train;
  std::vector<int64_t> attacker_val;
  std::vector<int64_t> eval;
};

/// The fewest samples an assessment can score: 2 eval (a confidence interval), 1 attacker-val
/// and 7 attacker-train.
inline constexpr int64_t kMinSamples = 10;

/// Split sizes stated as caps with fractions, so that one preset fits any data set size.
struct SplitPolicy {
  int64_t attacker_train_cap = 3000;  ///< 0 = no cap (every sample not in eval or attacker-val)
  int64_t attacker_val_cap = 200;
  int64_t eval_cap = 500;
  double attacker_val_fraction = 0.1;
  double eval_fraction = 0.2;
  /// Samples to load: the sum of the caps, or 0 (all) when a cap is 0.
  int64_t samples_to_load() const;
};

/// The sizes for n samples: eval = min(eval_cap, max(2, floor(n * eval_fraction))),
/// attacker-val = min(cap, max(1, floor(n * attacker_val_fraction))), attacker-train = the
/// rest up to its cap. Throws UsageError when n < kMinSamples, saying what to do.
SplitSizes fit_split_sizes(int64_t n, const SplitPolicy& policy);

/// Split 0..n-1: one seeded permutation, eval takes its first `eval` entries, attacker_val
/// the next ones, attacker_train the next `attacker_train` (or all the rest). Because eval is
/// drawn first, it stays the same when the attacker sizes change.
/// Throws UsageError when eval < 1, a size is negative, the sizes exceed n, or no sample is
/// left for attacker_train.
Splits make_splits(int64_t n, const SplitSizes& sizes, uint64_t seed);

/// Split 0..n-1 so that samples of one group (groups[i], e.g. the photo a crop came from)
/// never land in two splits: a seeded permutation of the groups fills eval, then attacker-val,
/// then attacker-train, whole groups at a time (attacker-train takes part of its last group
/// when capped). Sizes are then at least the asked ones for eval and attacker-val, by less
/// than one group. Throws UsageError when a split would be empty.
Splits make_group_splits(const std::vector<int64_t>& groups, const SplitSizes& sizes, uint64_t seed);

}  // namespace partplan::data
