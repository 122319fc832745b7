#pragma once
// Leakage measures for tabular records (docs/metrics.md, "Records"). A record is the encoded
// feature vector of a CSV row (data::load): F values in [0,1], numeric fields min-max scaled,
// categorical fields k/(K-1) for category k. What a host wants from a connection record is its
// fields and which record it was; these measure both.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

#include "partplan/metrics/options.hpp"

namespace partplan::metrics {

/// Per-record field measures, each [N] float64 on CPU; undefined when no non-constant field
/// of that kind exists.
struct RecordMeasures {
  at::Tensor numeric_error;         ///< mean |rec - orig| over the numeric fields (error / field range)
  at::Tensor numeric_within;        ///< share of the numeric fields with |rec - orig| <= tolerance
  at::Tensor categorical_accuracy;  ///< share of the categorical fields whose nearest category is the original's
};

/// rec, orig: [N, F] float in [0,1] (rec is clamped), any device; fields: F entries. Constant
/// fields are left out. Throws DataError on a shape mismatch.
RecordMeasures record_measures(const at::Tensor& rec, const at::Tensor& orig, const std::vector<RecordField>& fields,
                               double tolerance);

/// [N] float64 on CPU: 1 where rec[i] is strictly nearer (Euclidean, in the encoded space) to
/// pool[own[i]] than to every other row of pool, else 0. rec [N, F], pool [M, F] on one
/// device; own[i] in [0, M). Memory: one [N, M] distance matrix per 1024 rows of rec. Chance
/// level for a guess that knows nothing is 1/M. Throws DataError on shapes or indices.
at::Tensor reidentified(const at::Tensor& rec, const at::Tensor& pool, const std::vector<int64_t>& own);

/// [N] float32 on rec's device: 1 - mean |clamp(rec) - orig| over all fields. The attacker-val
/// score that early stopping follows for records (smooth, unlike reidentified()).
at::Tensor record_closeness(const at::Tensor& rec, const at::Tensor& orig);

/// The per-sample score an attacker is checked by on attacker-val: SSIM for images
/// [N,C,H,W], record_closeness for records [N,F]. [N] on rec's device.
at::Tensor similarity(const at::Tensor& rec, const at::Tensor& target);

/// Field measures and re-identification as means with 95% CIs. rec [N,F] are the
/// reconstructions of pool rows own[0..N); fields as above.
RecordScores record_scores(const at::Tensor& rec, const at::Tensor& pool, const std::vector<int64_t>& own,
                           const std::vector<RecordField>& fields, double tolerance);

/// The guess that knows only the data: records [N,F] (N >= 1) -> [F], the mean of each
/// numeric field and the most common category of each categorical one (ties: the lowest).
/// On the records' device. Throws DataError on an empty set or a field count mismatch.
at::Tensor record_prototype(const at::Tensor& records, const std::vector<RecordField>& fields);

}  // namespace partplan::metrics
