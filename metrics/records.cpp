// Record measures (records.hpp): field errors, category recovery and re-identification.
#include "partplan/metrics/records.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "partplan/common/error.hpp"
#include "partplan/metrics/ssim.hpp"

namespace partplan::metrics {
namespace {

void check_pair(const at::Tensor& rec, const at::Tensor& orig, size_t fields) {
  if (rec.dim() != 2 || orig.sizes() != rec.sizes())
    throw DataError(fmt::format("record measures need reconstructions and originals of one [N, F] shape, got {} and {}",
                                fmt::join(rec.sizes(), "x"), fmt::join(orig.sizes(), "x")));
  if (fields != 0 && static_cast<int64_t>(fields) != rec.size(1))
    throw DataError(
        fmt::format("record measures: {} field descriptions for records of {} values", fields, rec.size(1)));
}

std::vector<double> to_vector(const at::Tensor& t) {
  const auto c = t.to(at::kCPU, at::kDouble).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

RecordMeasures record_measures(const at::Tensor& rec, const at::Tensor& orig, const std::vector<RecordField>& fields,
                               double tolerance) {
  check_pair(rec, orig, fields.size());
  if (fields.empty()) throw DataError("record measures need the fields' descriptions");
  const auto r = rec.detach().to(at::kDouble).clamp(0, 1);
  const auto o = orig.detach().to(r.device(), at::kDouble);
  std::vector<int64_t> numeric, categorical;
  std::vector<double> levels;  // K - 1 per categorical field
  for (size_t j = 0; j < fields.size(); ++j) {
    if (fields[j].constant) continue;
    if (fields[j].categorical) {
      categorical.push_back(static_cast<int64_t>(j));
      levels.push_back(static_cast<double>(std::max<int64_t>(fields[j].categories - 1, 1)));
    } else {
      numeric.push_back(static_cast<int64_t>(j));
    }
  }
  RecordMeasures m;
  if (!numeric.empty()) {
    const auto idx = at::tensor(numeric, at::kLong).to(r.device());
    const auto err = (r.index_select(1, idx) - o.index_select(1, idx)).abs();
    m.numeric_error = err.mean(1).cpu();
    m.numeric_within = (err <= tolerance + 1e-12).to(at::kDouble).mean(1).cpu();
  }
  if (!categorical.empty()) {
    const auto idx = at::tensor(categorical, at::kLong).to(r.device());
    const auto k = at::tensor(levels, at::kDouble).to(r.device()).view({1, -1});
    const auto hit = (r.index_select(1, idx) * k).round() == (o.index_select(1, idx) * k).round();
    m.categorical_accuracy = hit.to(at::kDouble).mean(1).cpu();
  }
  return m;
}

at::Tensor reidentified(const at::Tensor& rec, const at::Tensor& pool, const std::vector<int64_t>& own) {
  if (rec.dim() != 2 || pool.dim() != 2 || rec.size(1) != pool.size(1) ||
      rec.size(0) != static_cast<int64_t>(own.size()))
    throw DataError(
        fmt::format("re-identification needs [N, F] reconstructions, a [M, F] pool and N own indices, got "
                    "{}, {} and {}",
                    fmt::join(rec.sizes(), "x"), fmt::join(pool.sizes(), "x"), own.size()));
  const int64_t m = pool.size(0);
  for (auto i : own)
    if (i < 0 || i >= m) throw DataError(fmt::format("re-identification: own index {} outside the pool of {}", i, m));
  const auto p = pool.detach().to(at::kDouble);
  const auto r_all = rec.detach().to(p.device(), at::kDouble).clamp(0, 1);
  const auto own_t = at::tensor(own, at::kLong).to(p.device());
  std::vector<at::Tensor> parts;
  for (int64_t i = 0; i < r_all.size(0); i += 1024) {
    const int64_t len = std::min<int64_t>(1024, r_all.size(0) - i);
    const auto r = r_all.narrow(0, i, len);
    const auto d = at::cdist(r, p);  // [len, M]
    const auto mine = own_t.narrow(0, i, len);
    const auto d_own = d.gather(1, mine.view({-1, 1}));              // [len, 1]
    const auto others = d.scatter(1, mine.view({-1, 1}), INFINITY);  // own distance masked out
    parts.push_back((d_own.squeeze(1) < std::get<0>(others.min(1))).to(at::kDouble));
  }
  return at::cat(parts, 0).cpu();
}

at::Tensor record_closeness(const at::Tensor& rec, const at::Tensor& orig) {
  check_pair(rec, orig, 0);
  return 1 - (rec.clamp(0, 1) - orig.to(rec.device(), rec.scalar_type())).abs().mean(1);
}

at::Tensor similarity(const at::Tensor& rec, const at::Tensor& target) {
  return target.dim() == 2 ? record_closeness(rec, target) : ssim(rec, target.to(rec.device()));
}

RecordScores record_scores(const at::Tensor& rec, const at::Tensor& pool, const std::vector<int64_t>& own,
                           const std::vector<RecordField>& fields, double tolerance) {
  RecordScores s;
  // A share of records: the Wilson interval, which a perfect or a chance-level score needs.
  const auto hits = reidentified(rec, pool, own);
  s.reidentification = share_ci(static_cast<int64_t>(hits.sum().item<double>()), hits.size(0));
  const auto orig = pool.index_select(0, at::tensor(own, at::kLong).to(pool.device()));
  const auto m = record_measures(rec, orig, fields, tolerance);
  if (m.numeric_error.defined()) {
    s.numeric_error = mean_ci(to_vector(m.numeric_error));
    s.numeric_within = mean_ci(to_vector(m.numeric_within));
  }
  if (m.categorical_accuracy.defined()) s.categorical_accuracy = mean_ci(to_vector(m.categorical_accuracy));
  return s;
}

at::Tensor record_prototype(const at::Tensor& records, const std::vector<RecordField>& fields) {
  if (records.dim() != 2 || records.size(0) == 0 || records.size(1) != static_cast<int64_t>(fields.size()))
    throw DataError(fmt::format("a record prototype needs [N >= 1, {}] records, got {}", fields.size(),
                                fmt::join(records.sizes(), "x")));
  auto out = records.to(at::kFloat).mean(0);
  for (size_t j = 0; j < fields.size(); ++j) {
    if (!fields[j].categorical || fields[j].categories < 2) continue;
    const int64_t k = fields[j].categories;
    const auto codes = (records.select(1, static_cast<int64_t>(j)).to(at::kDouble) * static_cast<double>(k - 1))
                           .round()
                           .clamp(0, static_cast<double>(k - 1))
                           .to(at::kLong);
    const auto mode = at::bincount(codes, {}, k).argmax().item<int64_t>();
    out[static_cast<int64_t>(j)] = static_cast<double>(mode) / static_cast<double>(k - 1);
  }
  return out;
}

}  // namespace partplan::metrics
