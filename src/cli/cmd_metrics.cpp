// partplan metrics A B: SSIM and PSNR of two image files, or of two folders whose images are
// paired by relative path without extension (so a.png pairs with a.jpg). Images are decoded
// by src/data to [0,1] tensors and scored by the metrics library; results go to stdout as a
// table or JSON (rendered by report/metrics_report), progress to stderr.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/image_io.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/metrics/stats.hpp"
#include "partplan/report/metrics_report.hpp"
#include "src/cli/commands.hpp"

namespace fs = std::filesystem;

namespace partplan::cli {
namespace {

struct MetricsOptions {
  std::string a;
  std::string b;
  bool json = false;
  bool resize = false;
};

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
      throw DataError(fmt::format("'{}' holds both '{}' and '{}': pairs are matched by name without extension, "
                                  "so keep one of them", dir, it->second, rel));
  }
  if (out.empty()) throw DataError(fmt::format("'{}' holds no images (jpg, jpeg, png, bmp, webp, tif, tiff)", dir));
  return out;
}

std::vector<Pair> pair_inputs(const MetricsOptions& o) {
  std::error_code ec;
  for (const auto& p : {o.a, o.b})
    if (!fs::exists(p, ec)) throw IoError(fmt::format("'{}' not found: pass two image files or two folders", p));
  const bool a_dir = fs::is_directory(o.a, ec), b_dir = fs::is_directory(o.b, ec);
  if (a_dir != b_dir)
    throw UsageError(fmt::format("'{}' is a {} but '{}' is a {}: pass two image files or two folders", o.a,
                                 a_dir ? "folder" : "file", o.b, b_dir ? "folder" : "file"));
  if (!a_dir) return {Pair{fs::path(o.a).filename().string(), o.a, o.b}};

  const auto a = keyed_images(o.a), b = keyed_images(o.b);
  std::vector<std::string> only_a, only_b;
  std::vector<Pair> pairs;
  for (const auto& [key, rel] : a) {
    const auto it = b.find(key);
    if (it == b.end()) only_a.push_back(rel);
    else pairs.push_back(Pair{key, (fs::path(o.a) / rel).string(), (fs::path(o.b) / it->second).string()});
  }
  for (const auto& [key, rel] : b)
    if (!a.count(key)) only_b.push_back(rel);
  if (!only_a.empty() || !only_b.empty()) {
    std::string what;
    if (!only_a.empty()) what += fmt::format("{} in '{}' without a partner in '{}' ({})", only_a.size(), o.a, o.b, listed(only_a));
    if (!only_b.empty())
      what += fmt::format("{}{} in '{}' without a partner in '{}' ({})", what.empty() ? "" : "; ", only_b.size(), o.b, o.a,
                          listed(only_b));
    throw DataError("unpaired images: " + what + "; pairs are matched by relative path without extension");
  }
  return pairs;
}

report::PairScore score(const Pair& p, bool allow_resize) {
  report::PairScore s;
  s.name = p.name;
  s.a_path = p.a_path;
  s.b_path = p.b_path;
  const at::Tensor a = data::read_image(p.a_path);
  at::Tensor b = data::read_image(p.b_path);
  s.shape = a.sizes().vec();
  if (a.sizes() != b.sizes()) {
    if (!allow_resize)
      throw DataError(fmt::format("'{}' is {} (CxHxW) but '{}' is {}: the images must match in size and channels; "
                                  "pass --resize to resize the second to the first",
                                  p.a_path, common::format_shape(s.shape), p.b_path, common::format_shape(b.sizes().vec())));
    log::debug("resizing '{}' from {} to {}", p.b_path, common::format_shape(b.sizes().vec()), common::format_shape(s.shape));
    b = data::resize_image(b, a.size(0), a.size(1), a.size(2));
    s.resized = true;
  }
  const metrics::SsimOptions so;
  if (a.size(1) < so.window || a.size(2) < so.window)
    throw DataError(fmt::format("'{}' is {}x{} pixels: SSIM's {}x{} Gaussian window needs at least {}x{} (as "
                                "scikit-image does); upscale both images", p.a_path, a.size(1), a.size(2), so.window,
                                so.window, so.window, so.window));
  const auto x = a.unsqueeze(0), y = b.unsqueeze(0);
  s.ssim = metrics::ssim(x, y, so).item<double>();
  const auto pr = metrics::psnr(x, y);
  s.psnr_db = pr.psnr_db.item<double>();
  s.psnr_capped = pr.capped.item<bool>();
  return s;
}

int run_metrics(const MetricsOptions& o, Io& io) {
  const auto pairs = pair_inputs(o);
  log::info("scoring {} image pair{}", pairs.size(), pairs.size() == 1 ? "" : "s");
  std::vector<report::PairScore> scores;
  std::vector<double> ssim_values, psnr_values;
  int64_t capped = 0;
  for (size_t i = 0; i < pairs.size(); ++i) {
    scores.push_back(score(pairs[i], o.resize));
    ssim_values.push_back(scores.back().ssim);
    psnr_values.push_back(scores.back().psnr_db);
    capped += scores.back().psnr_capped ? 1 : 0;
    log::debug("[{}/{}] {}: ssim {:.4f}, psnr {:.2f} dB", i + 1, pairs.size(), pairs[i].name, scores.back().ssim,
               scores.back().psnr_db);
  }
  const auto ssim = metrics::mean_ci(ssim_values);
  const auto psnr = metrics::mean_ci(psnr_values);
  const report::MetricsSummary summary{o.a, o.b, scores, ssim, psnr, capped};
  io.out << (o.json ? report::metrics_json(summary) : report::metrics_text(summary));
  return 0;
}

}  // namespace

void setup_metrics(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<MetricsOptions>();
  auto* sub = app.add_subcommand(
      "metrics",
      "SSIM and PSNR of two images, or of two folders paired by file name (without extension): per pair, "
      "then the mean with a 95% confidence interval. SSIM: 11x11 Gaussian window, sigma 1.5, valid region, "
      "as scikit-image; PSNR capped at 100 dB for identical images (docs/metrics.md).");
  sub->add_option("A", opt->a, "reference image file or folder")->required();
  sub->add_option("B", opt->b, "compared image file or folder (e.g. reconstructions)")->required();
  sub->add_flag("--json", opt->json, "JSON on stdout instead of the table");
  sub->add_flag("--resize", opt->resize,
                "resize each B image to its A image's size and channels instead of refusing a mismatch");
  sub->callback([opt, &dispatch]() { dispatch = [opt](Io& io) { return run_metrics(*opt, io); }; });
}

}  // namespace partplan::cli
