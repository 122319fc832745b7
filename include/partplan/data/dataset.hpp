#pragma once
// Data sources (docs/data.md): each source is decoded once into memory, as uint8 where
// the source is 8-bit images, and batches are then cut from that copy. Selected by one string
// (--data SRC); the formats, encodings and limits are in docs/data.md.

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "partplan/data/options.hpp"

namespace partplan::data {

/// The shape of one sample as the model consumes it (its input shape without the batch
/// dimension): {C,H,W} for image models, {F} for models that take flat vectors.
using SampleShape = std::vector<int64_t>;

/// Where Debian's dataset-fashion-mnist package installs its gzip IDX files.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

/// Progress of a long load: samples done out of total.
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

/// How a source is loaded.
struct LoadOptions {
  /// The model's per-sample shape. Images are resized and cropped to {C,H,W}; CSV records are
  /// laid out as {1,H,W} or {F}. Empty: the source's own shape (Fashion-MNIST 1x28x28, an
  /// image folder its first decodable image's, a CSV 1xSxS with S the smallest square that fits).
  SampleShape sample_shape;
  int64_t max_samples = 0;  ///< 0 = all; else a subset of this size drawn with `seed`, kept in source order
  uint64_t seed = 0;        ///< seed of the max_samples subset
  int64_t max_bytes = int64_t{4} << 30;  ///< bound on the decoded samples (and on a CSV file's size)
  double max_bad_fraction = 0.1;         ///< image folders: error when more files than this fraction are bad
  std::string fashion_mnist_dir = kFashionMnistDir;
  CsvOptions csv;
  /// CSV: the record length the model was trained on (ModelSummary::record_features); 0 =
  /// any length that fits the layout. A mismatch is an error naming both lengths.
  int64_t record_features = 0;
  /// Image folders: samples taken from each image. 1 = the centred cover crop; k > 1 adds k-1
  /// seeded random crops (square-ish, 35-100% of the largest region of the target's aspect),
  /// and the samples of one file share a group (Dataset::groups), so splits keep files apart.
  int64_t crops_per_image = 1;
  ProgressFn progress;  ///< optional; called from the loading thread
};

/// What loading found and decided; the warnings in it were also logged.
struct LoadReport {
  int64_t files_seen = 0;                 ///< image folders: image files found
  int64_t files_bad = 0;                  ///< image folders: skipped as unreadable or undecodable
  std::vector<std::string> bad_examples;  ///< the first few "path: reason"
  int64_t rows = 0;                       ///< CSV: records in the file
  std::vector<ColumnEncoding> columns;    ///< CSV: every column, in file order
  std::vector<std::string> notes;         ///< one-line notes (constant columns, NaN cells, ...)
};

/// A data set held in memory.
struct Dataset {
  /// [N,C,H,W] uint8 for images (RGB channel order), [N,1,H,W] or [N,F] float32 in [0,1] for
  /// CSV records; CPU, contiguous.
  at::Tensor samples;
  at::Tensor labels;                     ///< [N] int64 on CPU; undefined when the source has none
  std::vector<std::string> class_names;  ///< label value -> name, where the source names classes
  /// Source file of each sample ([N] int64, CPU) when several samples share one (crops of a
  /// photo); undefined when every sample is its own.
  at::Tensor groups;
  bool is_image_folder = false;  ///< natural images that augmentation may crop and flip
  /// CSV records: F, the encoded record's length. The first F values of each sample, in
  /// row-major order, are the record; the rest of a 1xHxW layout is zero padding. 0 otherwise.
  int64_t record_features = 0;
  std::string source;       ///< the SRC string it came from
  std::string description;  ///< one line for logs and reports
  LoadReport report;

  int64_t size() const;
  /// Shape of one sample ({C,H,W} or {F}).
  SampleShape sample_shape() const;
  bool has_labels() const { return labels.defined(); }
  /// Bytes held by samples and labels.
  int64_t memory_bytes() const;
};

/// Whether load() reads `source` as CSV records: a path ending in .csv, in any case.
bool is_csv_source(const std::string& source);

/// Load a data source named by one string (docs/data.md):
/// - "builtin:fashion-mnist" (train then test: 70000 images), "builtin:fashion-mnist:train"
///   (60000) or "builtin:fashion-mnist:test" (10000), read from the gzip IDX files of Debian's
///   dataset-fashion-mnist under options.fashion_mnist_dir;
/// - a directory: an image folder, read recursively, with optional ImageFolder class sub-folders;
/// - a path ending in .csv: TON_IoT-style tabular records.
/// Memory: the samples take N*C*H*W bytes (uint8 images) or 4 bytes per value (CSV), and
/// loading fails above options.max_bytes. Besides, an image folder holds one decoded image,
/// Fashion-MNIST its decompressed files and a CSV its text plus about 32 bytes per cell.
/// Throws UsageError (unknown builtin, unsupported path, invalid options or sample shape),
/// IoError (path missing or unreadable) and DataError (the Fashion-MNIST package missing,
/// corrupt files above the bad fraction, no usable samples, malformed CSV, memory bound).
Dataset load(const std::string& source, const LoadOptions& options = {});

}  // namespace partplan::data
