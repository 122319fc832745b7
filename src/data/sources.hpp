#pragma once
// The loaders behind data::load (internal to src/data). Each returns a complete Dataset
// except `source`, which load() fills in.

#include <string>

#include "partplan/data/dataset.hpp"

namespace partplan::data::detail {

/// `split` is "all", "train" or "test".
Dataset load_fashion_mnist(const std::string& split, const LoadOptions& options);
Dataset load_image_folder(const std::string& dir, const LoadOptions& options);
Dataset load_csv(const std::string& path, const LoadOptions& options);

/// Throws DataError when `bytes` exceeds options.max_bytes; `what` names the data.
void check_memory_bound(int64_t bytes, const LoadOptions& options, const std::string& what);

/// The {C,H,W} that image samples are stored as, from the requested model sample shape and
/// the source's native one: empty -> native; {C,H,W} with C = 1 or 3 -> it; {F} with
/// F = native C*H*W -> native (to_model_input flattens). Throws UsageError otherwise.
SampleShape resolve_image_shape(const SampleShape& requested, const SampleShape& native, const std::string& what);

/// Seed of the max_samples subset, kept apart from the split seed's stream.
uint64_t subset_seed(const LoadOptions& options);

}  // namespace partplan::data::detail
