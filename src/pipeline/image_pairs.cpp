// Pairing and scoring for `partplan metrics` (image_pairs.hpp).
#include "partplan/pipeline/image_pairs.hpp"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/data/image_io.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/ssim.hpp"

namespace fs = std::filesystem;

namespace partplan::pipeline {
namespace {

struct Pair {
  std::string name;
  std::string a_path;
  std::string b_path;
};

constexpr size_t kListed = 5;

std::string listed(const std::vector<std::string>& names) { return common::first_names(names, kListed); }

// Relative path without its extension -> relative path, for one folder.
std::map<std::string, std::string> keyed_images(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& rel : data::list_image_files(dir)) {
    const std::string key = fs::path(rel).replace_extension().generic_string();
    const auto [it, fresh] = out.emplace(key, rel);
    if (!fresh)
      throw DataError(
          fmt::format("'{}' holds both '{}' and '{}': pairs are matched by name without extension, "
                      "so keep one of them",
                      dir, it->second, rel));
  }
  if (out.empty()) throw DataError(fmt::format("'{}' holds no images ({})", dir, data::image_extensions_text()));
  return out;
}

std::vector<Pair> pair_inputs(const std::string& a_in, const std::string& b_in) {
  std::error_code ec;
  for (const auto& p : {a_in, b_in})
    if (!fs::exists(p, ec)) throw IoError(fmt::format("'{}' not found: pass two image files or two folders", p));
  const bool a_dir = fs::is_directory(a_in, ec), b_dir = fs::is_directory(b_in, ec);
  if (a_dir != b_dir)
    throw UsageError(fmt::format("'{}' is a {} but '{}' is a {}: pass two image files or two folders", a_in,
                                 a_dir ? "folder" : "file", b_in, b_dir ? "folder" : "file"));
  if (!a_dir) return {Pair{fs::path(a_in).filename().string(), a_in, b_in}};

  const auto a = keyed_images(a_in), b = keyed_images(b_in);
  std::vector<std::string> only_a, only_b;
  std::vector<Pair> pairs;
  for (const auto& [key, rel] : a) {
    const auto it = b.find(key);
    if (it == b.end())
      only_a.push_back(rel);
    else
      pairs.push_back(Pair{key, (fs::path(a_in) / rel).string(), (fs::path(b_in) / it->second).string()});
  }
  for (const auto& [key, rel] : b)
    if (!a.count(key)) only_b.push_back(rel);
  if (!only_a.empty() || !only_b.empty()) {
    std::string what;
    if (!only_a.empty())
      what += fmt::format("{} in '{}' without a partner in '{}' ({})", only_a.size(), a_in, b_in, listed(only_a));
    if (!only_b.empty())
      what += fmt::format("{}{} in '{}' without a partner in '{}' ({})", what.empty() ? "" : "; ", only_b.size(), b_in,
                          a_in, listed(only_b));
    throw DataError("unpaired images: " + what + "; pairs are matched by relative path without extension");
  }
  return pairs;
}

PairScore score(const Pair& p, bool allow_resize) {
  PairScore s;
  s.name = p.name;
  s.a_path = p.a_path;
  s.b_path = p.b_path;
  const at::Tensor a = data::read_image(p.a_path);
  at::Tensor b = data::read_image(p.b_path);
  s.shape = a.sizes().vec();
  if (a.sizes() != b.sizes()) {
    if (!allow_resize)
      throw DataError(
          fmt::format("'{}' is {} (CxHxW) but '{}' is {}: the images must match in size and channels; "
                      "pass --resize to resize the second to the first",
                      p.a_path, common::format_shape(s.shape), p.b_path, common::format_shape(b.sizes().vec())));
    log::debug("resizing '{}' from {} to {}", p.b_path, common::format_shape(b.sizes().vec()),
               common::format_shape(s.shape));
    b = data::resize_image(b, a.size(0), a.size(1), a.size(2));
    s.resized = true;
  }
  const metrics::SsimOptions so;
  if (a.size(1) < so.window || a.size(2) < so.window)
    throw DataError(
        fmt::format("'{}' is {}x{} pixels: SSIM's {}x{} Gaussian window needs at least {}x{} (as "
                    "scikit-image does); upscale both images",
                    p.a_path, a.size(1), a.size(2), so.window, so.window, so.window, so.window));
  const auto x = a.unsqueeze(0), y = b.unsqueeze(0);
  s.ssim = metrics::ssim(x, y, so).item<double>();
  const auto pr = metrics::psnr(x, y);
  s.psnr_db = pr.psnr_db.item<double>();
  s.psnr_capped = pr.capped.item<bool>();
  return s;
}

}  // namespace

PairSummary score_image_pairs(const std::string& a, const std::string& b, bool resize) {
  const auto pairs = pair_inputs(a, b);
  log::info("scoring {} image pair{}", pairs.size(), pairs.size() == 1 ? "" : "s");
  PairSummary out;
  out.a = a;
  out.b = b;
  std::vector<double> ssim_values, psnr_values;
  for (size_t i = 0; i < pairs.size(); ++i) {
    out.pairs.push_back(score(pairs[i], resize));
    const auto& s = out.pairs.back();
    ssim_values.push_back(s.ssim);
    psnr_values.push_back(s.psnr_db);
    out.psnr_capped += s.psnr_capped ? 1 : 0;
    log::debug("[{}/{}] {}: ssim {:.4f}, psnr {:.2f} dB", i + 1, pairs.size(), pairs[i].name, s.ssim, s.psnr_db);
  }
  out.ssim = metrics::mean_ci(ssim_values);
  out.psnr_db = metrics::mean_ci(psnr_values);
  return out;
}

}  // namespace partplan::pipeline
