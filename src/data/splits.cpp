// Deterministic splits (splits.hpp). Everything here is integer arithmetic defined to the
// bit, so a split can be reproduced anywhere, including from Python.
#include "partplan/data/splits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
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

SeededSelection::SeededSelection(int64_t n, int64_t count, uint64_t seed) : rng_(seed), left_(n), needed_(count) {
  if (count < 0 || count > n) throw std::invalid_argument("SeededSelection: count outside [0, n]");
}

bool SeededSelection::take() {
  if (left_ <= 0) throw std::invalid_argument("SeededSelection::take: called more than n times");
  // Take this index with probability needed/left: then every subset of `count` is equally likely.
  const bool yes = needed_ > 0 && static_cast<int64_t>(rng_.below(static_cast<uint64_t>(left_))) < needed_;
  --left_;
  if (yes) --needed_;
  return yes;
}

Splits make_splits(int64_t n, const SplitSizes& s, uint64_t seed) {
  if (s.eval < 1 || s.attacker_val < 0 || s.attacker_train < 0)
    throw UsageError(
        fmt::format("split sizes must be eval >= 1, attacker-val >= 0, attacker-train >= 0 "
                    "(0 = the rest); got eval {}, attacker-val {}, attacker-train {}",
                    s.eval, s.attacker_val, s.attacker_train));
  const int64_t fixed = s.eval + s.attacker_val;
  const int64_t train = s.attacker_train == 0 ? n - fixed : s.attacker_train;
  if (fixed + train > n || train < 1)
    throw UsageError(
        fmt::format("split sizes eval {} + attacker-val {} + attacker-train {} need more than the {} "
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

int64_t SplitPolicy::samples_to_load() const {
  if (attacker_train_cap <= 0 || attacker_val_cap <= 0 || eval_cap <= 0) return 0;
  return attacker_train_cap + attacker_val_cap + eval_cap;
}

SplitSizes fit_split_sizes(int64_t n, const SplitPolicy& p) {
  if (!(p.eval_fraction > 0 && p.attacker_val_fraction >= 0 && p.eval_fraction + p.attacker_val_fraction < 1))
    throw UsageError(fmt::format("split fractions eval {} + attacker-val {} must be positive and below 1",
                                 p.eval_fraction, p.attacker_val_fraction));
  if (n < kMinSamples)
    throw UsageError(
        fmt::format("the data set has {} samples; an assessment needs at least {} (2 to score, 1 to "
                    "stop early, 7 to train on): add samples, or for a folder of a few large photos "
                    "take several crops of each (--set data.crops_per_image=16)",
                    n, kMinSamples));
  auto frac = [&](double f, int64_t floor_at) {
    return std::max(floor_at, static_cast<int64_t>(std::floor(static_cast<double>(n) * f)));
  };
  SplitSizes s;
  s.eval = p.eval_cap > 0 ? std::min(p.eval_cap, frac(p.eval_fraction, 2)) : frac(p.eval_fraction, 2);
  s.attacker_val = std::min(p.attacker_val_cap > 0 ? p.attacker_val_cap : n, frac(p.attacker_val_fraction, 1));
  const int64_t rest = n - s.eval - s.attacker_val;
  s.attacker_train = p.attacker_train_cap > 0 ? std::min(p.attacker_train_cap, rest) : rest;
  return s;
}

Splits make_group_splits(const std::vector<int64_t>& groups, const SplitSizes& s, uint64_t seed) {
  const auto n = static_cast<int64_t>(groups.size());
  int64_t n_groups = 0;
  for (auto g : groups) {
    if (g < 0) throw std::invalid_argument("make_group_splits: negative group id");
    n_groups = std::max(n_groups, g + 1);
  }
  std::vector<std::vector<int64_t>> members(static_cast<size_t>(n_groups));
  for (int64_t i = 0; i < n; ++i) members[static_cast<size_t>(groups[static_cast<size_t>(i)])].push_back(i);
  Splits out;
  const int64_t train_want = s.attacker_train == 0 ? n : s.attacker_train;
  for (auto g : seeded_permutation(n_groups, seed)) {
    const auto& m = members[static_cast<size_t>(g)];
    if (m.empty()) continue;
    std::vector<int64_t>* dst = nullptr;
    if (static_cast<int64_t>(out.eval.size()) < s.eval)
      dst = &out.eval;
    else if (static_cast<int64_t>(out.attacker_val.size()) < s.attacker_val)
      dst = &out.attacker_val;
    else if (static_cast<int64_t>(out.attacker_train.size()) < train_want)
      dst = &out.attacker_train;
    else
      break;
    for (auto i : m)
      if (dst != &out.attacker_train || static_cast<int64_t>(dst->size()) < train_want) dst->push_back(i);
  }
  if (out.eval.empty() || out.attacker_train.empty() || (s.attacker_val > 0 && out.attacker_val.empty()))
    throw UsageError(
        fmt::format("the {} samples come from {} source files, too few to keep eval, attacker-val and "
                    "attacker-train apart by file: add files, or lower data.crops_per_image",
                    n, n_groups));
  for (auto* v : {&out.eval, &out.attacker_val, &out.attacker_train}) std::sort(v->begin(), v->end());
  return out;
}

}  // namespace partplan::data
