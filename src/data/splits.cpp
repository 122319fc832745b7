// Deterministic splits (splits.hpp). Everything here is integer arithmetic defined to the
// bit, so a split can be reproduced anywhere, including from Python.
#include "partplan/data/splits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "partplan/common/error.hpp"

namespace partplan::data {

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("SplitMix64::below: bound must be positive");
  // Reject the lowest 2^64 mod bound values so that every residue is equally likely.
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t r = next();
    if (r >= threshold) return r % bound;
  }
}

std::vector<int64_t> seeded_permutation(int64_t n, uint64_t seed) {
  if (n < 0) throw std::invalid_argument("seeded_permutation: negative n");
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  SplitMix64 rng(seed);
  for (int64_t i = n - 1; i > 0; --i) {
    const auto j = static_cast<int64_t>(rng.below(static_cast<uint64_t>(i) + 1));
    std::swap(p[static_cast<size_t>(i)], p[static_cast<size_t>(j)]);
  }
  return p;
}

std::vector<int64_t> seeded_subset(int64_t n, int64_t count, uint64_t seed) {
  if (count < 0 || count > n) throw std::invalid_argument("seeded_subset: count outside [0, n]");
  auto p = seeded_permutation(n, seed);
  p.resize(static_cast<size_t>(count));
  std::sort(p.begin(), p.end());
  return p;
}

Splits make_splits(int64_t n, const SplitSizes& s, uint64_t seed) {
  if (s.eval < 1 || s.attacker_val < 0 || s.attacker_train < 0)
    throw UsageError(fmt::format("split sizes must be eval >= 1, attacker-val >= 0, attacker-train >= 0 "
                                 "(0 = the rest); got eval {}, attacker-val {}, attacker-train {}",
                                 s.eval, s.attacker_val, s.attacker_train));
  const int64_t fixed = s.eval + s.attacker_val;
  const int64_t train = s.attacker_train == 0 ? n - fixed : s.attacker_train;
  if (fixed + train > n || train < 1)
    throw UsageError(fmt::format("split sizes eval {} + attacker-val {} + attacker-train {} need more than the {} "
                                 "samples available: lower them or use a larger data set",
                                 s.eval, s.attacker_val, s.attacker_train == 0 ? std::string("(rest)") : std::to_string(train), n));
  const auto p = seeded_permutation(n, seed);
  auto slice = [&](int64_t from, int64_t len) {
    std::vector<int64_t> out(p.begin() + from, p.begin() + from + len);
    std::sort(out.begin(), out.end());
    return out;
  };
  Splits out;
  out.eval = slice(0, s.eval);
  out.attacker_val = slice(s.eval, s.attacker_val);
  out.attacker_train = slice(fixed, train);
  return out;
}

}  // namespace partplan::data
