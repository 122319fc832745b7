// DIR: an image folder, read recursively in byte-wise path order. When every image sits in a
// first-level sub-folder, those sub-folders are classes (ImageFolder-style; sorted names ->
// labels 0..K-1); otherwise there are no labels. Each image is decoded once (imaging/), scaled
// so that it covers the target H x W, centre-cropped and converted to the target channels, and
// stored as uint8. Unreadable and undecodable files are skipped and counted; above
// max_bad_fraction, or with no usable image, loading fails. A file of a format this build
// cannot decode at all (TIFF or WebP with images: stb) fails the load, naming the file.
#include <ATen/ATen.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <filesystem>
#include <map>
#include <optional>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/image_io.hpp"
#include "partplan/data/splits.hpp"
#include "partplan/imaging/image.hpp"
#include "src/data/sources.hpp"

namespace fs = std::filesystem;

namespace partplan::data::detail {
namespace {

constexpr size_t kBadExamples = 5;

std::string first_component(const std::string& rel) {
  const auto slash = rel.find('/');
  return slash == std::string::npos ? std::string() : rel.substr(0, slash);
}

/// ImageFolder layout, every file inside a first-level sub-folder: each folder's label by
/// sorted name (0..K-1). Empty when some file sits at the top (no labels).
std::map<std::string, int64_t> class_folders_of(const std::vector<std::string>& files) {
  std::map<std::string, int64_t> index;
  for (const auto& f : files)
    if (first_component(f).empty()) return {};
  for (const auto& f : files) index.emplace(first_component(f), 0);
  int64_t k = 0;
  for (auto& [name, i] : index) i = k++;
  return index;
}

void note_bad(LoadReport& report, const std::string& rel, const std::string& why) {
  ++report.files_bad;
  if (report.bad_examples.size() < kBadExamples) report.bad_examples.push_back(rel + ": " + why);
}

/// The decoded file, or nullopt when it is unreadable or corrupt (counted in `report`). A
/// format this build cannot decode at all throws: the remedy is for every such file.
std::optional<imaging::ImageU8> read_image(const std::string& dir, const std::string& rel, LoadReport& report) {
  const std::string path = (fs::path(dir) / rel).string();
  std::string bytes;
  try {
    bytes = common::read_file(path);
  } catch (const IoError&) {
    note_bad(report, rel, "cannot be read");
    return std::nullopt;
  }
  try {
    return imaging::decode_u8(bytes, path);
  } catch (const imaging::UnsupportedFormatError&) {
    throw;
  } catch (const imaging::DecodeError& e) {
    note_bad(report, rel, e.reason());
    return std::nullopt;
  }
}

/// `crops` samples of `img` at `shape`, planar, at `out`: the first covers the target and is
/// centre-cropped, each other one is the largest region of the target's aspect, scaled by
/// 35-100%, at a place drawn from `seed`.
void write_crops(const imaging::ImageU8& img, const SampleShape& shape, int64_t crops, uint64_t seed, uint8_t* out) {
  const int c = static_cast<int>(shape[0]), h = static_cast<int>(shape[1]), w = static_cast<int>(shape[2]);
  const int64_t per_sample = common::numel(shape);
  SplitMix64 rng(seed);
  auto uniform = [&rng]() { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; };
  for (int64_t j = 0; j < crops; ++j) {
    imaging::ImageU8 sample;
    if (j > 0) {
      const double full_h = std::min<double>(img.height, img.width * static_cast<double>(h) / w);
      const double scale = 0.35 + 0.65 * uniform();
      const int rh = std::max(1, static_cast<int>(full_h * scale));
      const int rw = std::max(1, std::min(img.width, static_cast<int>(rh * static_cast<double>(w) / h)));
      const int y = static_cast<int>(uniform() * (img.height - rh + 1)) % std::max(1, img.height - rh + 1);
      const int x = static_cast<int>(uniform() * (img.width - rw + 1)) % std::max(1, img.width - rw + 1);
      sample = imaging::cover_crop(imaging::crop(img, x, y, rw, rh), c, h, w);
    } else {
      sample = imaging::cover_crop(img, c, h, w);
    }
    imaging::to_planar(sample, out + j * per_sample);
  }
}

/// Once every file was read: the skipped files as a note and a warning, and the refusals (no
/// usable image; more bad files than max_bad_fraction).
void check_bad_files(const std::string& dir, int64_t total, int64_t good, double max_bad_fraction,
                     LoadReport& report) {
  const int64_t bad_count = report.files_bad;
  const std::string examples = fmt::format("{}", fmt::join(report.bad_examples, "; "));
  if (bad_count > 0) {
    const std::string note =
        fmt::format("skipped {} of {} image files in '{}' that could not be decoded: {}{}", bad_count, total, dir,
                    examples, bad_count > static_cast<int64_t>(kBadExamples) ? "; ..." : "");
    report.notes.push_back(note);
    log::warn("{}", note);
  }
  if (good == 0)
    throw DataError(fmt::format("no usable image in '{}': all {} files failed ({})", dir, total, examples));
  if (static_cast<double>(bad_count) > max_bad_fraction * static_cast<double>(total))
    throw DataError(
        fmt::format("{} of {} image files in '{}' are unreadable or corrupt, above the allowed fraction {}: "
                    "fix or remove them (first: {})",
                    bad_count, total, dir, max_bad_fraction, examples));
}

}  // namespace

Dataset load_image_folder(const std::string& dir, const LoadOptions& o) {
  std::vector<std::string> files = list_image_files(dir);
  if (files.empty())
    throw DataError(fmt::format("image folder '{}' holds no images ({}): point --data at a folder of images", dir,
                                image_extensions_text()));
  const auto class_index = class_folders_of(files);
  const bool class_folders = !class_index.empty();

  Dataset d;
  d.report.files_seen = static_cast<int64_t>(files.size());
  if (o.max_samples > 0 && o.max_samples < static_cast<int64_t>(files.size())) {
    const auto keep = seeded_subset(static_cast<int64_t>(files.size()), o.max_samples, subset_seed(o));
    std::vector<std::string> kept;
    for (auto i : keep) kept.push_back(files[static_cast<size_t>(i)]);
    files.swap(kept);
  }

  if (o.crops_per_image < 1 || o.crops_per_image > 4096)
    throw UsageError(fmt::format("data.crops_per_image = {} must lie in [1, 4096]", o.crops_per_image));
  const int64_t crops = o.crops_per_image;
  SampleShape shape;
  at::Tensor samples;  // allocated for every file once the shape is known; trimmed if some are bad
  int64_t good = 0;
  std::vector<int64_t> labels, groups;
  const int64_t total = static_cast<int64_t>(files.size());
  for (int64_t k = 0; k < total; ++k) {
    const auto& rel = files[static_cast<size_t>(k)];
    const auto img = read_image(dir, rel, d.report);
    if (!img) continue;
    if (shape.empty()) {
      shape = resolve_image_shape(o.sample_shape, SampleShape{img->channels, img->height, img->width},
                                  "image folder '" + dir + "'");
      check_memory_bound((common::numel(shape) + 16) * total * crops, o,
                         fmt::format("{} crops of {}", total * crops, common::format_shape(shape)));
      samples = at::empty({total * crops, shape[0], shape[1], shape[2]}, at::kByte);
    }
    const uint64_t seed = subset_seed(o) ^ (0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(k + 1));
    write_crops(*img, shape, crops, seed, samples.data_ptr<uint8_t>() + good * common::numel(shape));
    good += crops;
    for (int64_t j = 0; j < crops; ++j) {
      if (class_folders) labels.push_back(class_index.at(first_component(rel)));
      groups.push_back(k);
    }
    if (o.progress && (k % 256 == 255 || k == total - 1)) o.progress(k + 1, total);
  }
  check_bad_files(dir, total, good, o.max_bad_fraction, d.report);

  d.samples = good == total * crops ? samples : samples.narrow(0, 0, good).clone();
  d.is_image_folder = true;
  if (crops > 1) d.groups = at::tensor(groups, at::TensorOptions().dtype(at::kLong));
  if (class_folders) {
    d.labels = at::tensor(labels, at::TensorOptions().dtype(at::kLong));
    for (const auto& kv : class_index) d.class_names.push_back(kv.first);
  }
  d.description =
      fmt::format("image folder '{}' ({} images{}, {}{})", dir, good / crops,
                  crops > 1 ? fmt::format(" x {} crops", crops) : std::string(), common::format_shape(shape),
                  class_folders ? fmt::format(", {} classes", class_index.size()) : std::string(", unlabelled"));
  return d;
}

}  // namespace partplan::data::detail
