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

/// Split 0..n-1: one seeded permutation, eval takes its first `eval` entries, attacker_val
/// the next ones, attacker_train the next `attacker_train` (or all the rest). Because eval is
/// drawn first, it stays the same when the attacker sizes change.
/// Throws UsageError when eval < 1, a size is negative, the sizes exceed n, or no sample is
/// left for attacker_train.
Splits make_splits(int64_t n, const SplitSizes& sizes, uint64_t seed);

}  // namespace partplan::data
