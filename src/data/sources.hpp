#pragma once
// The loaders behind data::load (internal to src/data). Each returns a complete Dataset
// except `source`, which load() fills in.

#include <string>
#include <string_view>
#include <vector>

#include "partplan/data/dataset.hpp"

namespace partplan::data::detail {

/// `split` is "all", "train" or "test".
Dataset load_fashion_mnist(const std::string& split, const LoadOptions& options);
/// One Fashion-MNIST part (train or t10k): its IDX images and labels, decompressed and checked.
struct FashionMnistPart {
  std::string images, labels;  // raw IDX bytes
  int64_t n = 0;
};
/// A part from the bytes of its two gzip IDX files (what load_fashion_mnist reads from disk);
/// the names only label messages. Throws DataError (not gzip, corrupt, bad IDX, memory bound).
FashionMnistPart fashion_mnist_part(std::string_view images_gz, std::string_view labels_gz,
                                    const std::string& images_name, const std::string& labels_name,
                                    const LoadOptions& options);
/// The data set of `parts` in order (train, then test), as load_fashion_mnist returns it.
Dataset fashion_mnist_dataset(const std::vector<FashionMnistPart>& parts, const std::string& split,
                              const LoadOptions& options);
Dataset load_image_folder(const std::string& dir, const LoadOptions& options);
Dataset load_csv(const std::string& path, const LoadOptions& options);
/// load_csv on a file's text already in memory (what load_csv calls after reading `path`);
/// `path` only names the file in messages. Same errors, bar IoError.
Dataset load_csv_text(std::string text, const std::string& path, const LoadOptions& options);

/// Throws DataError when `bytes` exceeds options.max_bytes; `what` names the data.
void check_memory_bound(int64_t bytes, const LoadOptions& options, const std::string& what);

/// The {C,H,W} that image samples are stored as, from the requested model sample shape and
/// the source's native one: empty -> native; {C,H,W} with C = 1 or 3 -> it; {F} with
/// F = native C*H*W -> native (to_model_input flattens). Throws UsageError otherwise.
SampleShape resolve_image_shape(const SampleShape& requested, const SampleShape& native, const std::string& what);

/// Seed of the max_samples subset, kept apart from the split seed's stream.
uint64_t subset_seed(const LoadOptions& options);

}  // namespace partplan::data::detail
