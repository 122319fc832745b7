// data::load: picks the loader from the SRC string, and the Dataset accessors.
#include "partplan/data/dataset.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "src/data/sources.hpp"

namespace fs = std::filesystem;

namespace partplan::data {

int64_t Dataset::size() const { return samples.defined() ? samples.size(0) : 0; }

SampleShape Dataset::sample_shape() const {
  if (!samples.defined()) return {};
  const auto s = samples.sizes().vec();
  return SampleShape(s.begin() + 1, s.end());
}

int64_t Dataset::memory_bytes() const {
  int64_t b = 0;
  if (samples.defined()) b += samples.numel() * static_cast<int64_t>(samples.element_size());
  if (labels.defined()) b += labels.numel() * static_cast<int64_t>(labels.element_size());
  return b;
}

namespace detail {

void check_memory_bound(int64_t bytes, const LoadOptions& options, const std::string& what) {
  if (bytes > options.max_bytes)
    throw DataError(
        fmt::format("{} would take {} in memory, above the bound of {}: load fewer samples "
                    "(max_samples) or raise the bound (max_bytes)",
                    what, common::format_bytes(static_cast<double>(bytes)),
                    common::format_bytes(static_cast<double>(options.max_bytes))));
}

SampleShape resolve_image_shape(const SampleShape& requested, const SampleShape& native, const std::string& what) {
  if (requested.empty()) return native;
  if (requested.size() == 3) {
    if (requested[0] != 1 && requested[0] != 3)
      throw UsageError(
          fmt::format("{} gives 1- or 3-channel images, but the model input has {} channels "
                      "(per-sample shape {}): use an image model or a CSV source",
                      what, requested[0], common::format_shape(requested)));
    return requested;
  }
  if (requested.size() == 1) {
    if (requested[0] == common::numel(native)) return native;
    throw UsageError(
        fmt::format("the model takes flat vectors of {} values, but {} gives {} images ({} values): "
                    "give an image input shape C,H,W",
                    requested[0], what, common::format_shape(native), common::numel(native)));
  }
  throw UsageError(fmt::format("per-sample shape {} is neither C,H,W nor a flat F", common::format_shape(requested)));
}

uint64_t subset_seed(const LoadOptions& options) { return options.seed ^ 0xd1b54a32d192ed03ULL; }

}  // namespace detail

bool is_csv_source(const std::string& source) {
  return common::to_lower(fs::path(source).extension().string()) == ".csv";
}

Dataset load(const std::string& source, const LoadOptions& options) {
  if (options.max_samples < 0) throw UsageError("max_samples must be >= 0 (0 = all)");
  if (options.max_bytes <= 0) throw UsageError("max_bytes must be positive");
  if (!(options.max_bad_fraction >= 0.0 && options.max_bad_fraction <= 1.0))
    throw UsageError(fmt::format("max_bad_fraction {} must lie in [0,1]", options.max_bad_fraction));
  for (auto d : options.sample_shape)
    if (d <= 0)
      throw UsageError("sample shape " + common::format_shape(options.sample_shape) + " has a non-positive dimension");

  Dataset d;
  const std::string builtin = "builtin:";
  if (source.rfind(builtin, 0) == 0) {
    const std::string name = source.substr(builtin.size());
    if (name == "fashion-mnist")
      d = detail::load_fashion_mnist("all", options);
    else if (name == "fashion-mnist:train")
      d = detail::load_fashion_mnist("train", options);
    else if (name == "fashion-mnist:test")
      d = detail::load_fashion_mnist("test", options);
    else
      throw UsageError("unknown built-in data source '" + source +
                       "'; valid: builtin:fashion-mnist, builtin:fashion-mnist:train, builtin:fashion-mnist:test");
  } else {
    std::error_code ec;
    if (fs::is_directory(source, ec))
      d = detail::load_image_folder(source, options);
    else if (is_csv_source(source)) {
      if (!fs::exists(source, ec)) throw IoError("data file '" + source + "' not found: check the path");
      d = detail::load_csv(source, options);
    } else if (!fs::exists(source, ec))
      throw IoError("data source '" + source +
                    "' not found: pass builtin:fashion-mnist, an image folder or a .csv file");
    else
      throw UsageError(
          "data source '" + source +
          "' is neither a folder nor a .csv file: pass builtin:fashion-mnist, an image folder or a .csv file");
  }
  d.source = source;
  log::info("data: {} ({} in memory)", d.description, common::format_bytes(static_cast<double>(d.memory_bytes())));
  return d;
}

}  // namespace partplan::data
