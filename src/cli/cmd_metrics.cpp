// partplan metrics A B: SSIM and PSNR of two image files, or of two folders whose images are
// paired by relative path without extension (so a.png pairs with a.jpg). Images are decoded
// by src/data to [0,1] tensors and scored by the metrics library; results go to stdout as a
// table or JSON, progress to stderr. The small JSON writer here only formats this command's
// flat result (strings escaped, non-finite numbers as null); move it to report/ if it grows.
#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/data/image_io.hpp"
#include "partplan/metrics/psnr.hpp"
#include "partplan/metrics/ssim.hpp"
#include "partplan/metrics/stats.hpp"
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

struct PairScore {
  Pair pair;
  common::Shape shape;  // C,H,W of A
  double ssim = 0;
  double psnr_db = 0;
  bool psnr_capped = false;
  bool resized = false;
};

constexpr size_t kListed = 5;

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < kListed; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kListed) out += fmt::format(", ... ({} in all)", names.size());
  return out;
}

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

PairScore score(const Pair& p, bool allow_resize) {
  PairScore s;
  s.pair = p;
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

std::string json_string(const std::string& v) {
  std::string out = "\"";
  for (unsigned char c : v) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) out += fmt::format("\\u{:04x}", c);
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// JSON has no infinity or NaN: those become null (none is expected; PSNR is capped).
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : "null"; }

std::string json_summary(const metrics::MeanCi& m) {
  return fmt::format("{{\"mean\": {}, \"stddev\": {}, \"ci95_low\": {}, \"ci95_high\": {}}}", json_number(m.mean),
                     m.n > 1 ? json_number(m.stddev) : "null", m.has_ci ? json_number(m.low) : "null",
                     m.has_ci ? json_number(m.high) : "null");
}

std::string to_json(const MetricsOptions& o, const std::vector<PairScore>& scores, const metrics::MeanCi& ssim,
                    const metrics::MeanCi& psnr, int64_t capped) {
  const metrics::SsimOptions so;
  std::string out = "{\n";
  out += fmt::format("  \"a\": {},\n  \"b\": {},\n", json_string(o.a), json_string(o.b));
  out += fmt::format(
      "  \"ssim_definition\": {{\"window\": {}, \"sigma\": {}, \"k1\": {}, \"k2\": {}, \"data_range\": {}, "
      "\"region\": \"valid\", \"covariance\": \"population\"}},\n",
      so.window, so.sigma, so.k1, so.k2, so.data_range);
  out += fmt::format("  \"psnr_cap_db\": {},\n  \"pairs\": [", json_number(metrics::kPsnrCapDb));
  for (size_t i = 0; i < scores.size(); ++i) {
    const auto& s = scores[i];
    out += fmt::format(
        "{}\n    {{\"name\": {}, \"a\": {}, \"b\": {}, \"shape\": [{}], \"ssim\": {}, \"psnr_db\": {}, "
        "\"psnr_capped\": {}, \"resized\": {}}}",
        i ? "," : "", json_string(s.pair.name), json_string(s.pair.a_path), json_string(s.pair.b_path),
        fmt::join(s.shape, ", "), json_number(s.ssim), json_number(s.psnr_db), s.psnr_capped ? "true" : "false",
        s.resized ? "true" : "false");
  }
  out += "\n  ],\n";
  out += fmt::format("  \"summary\": {{\"n\": {}, \"ssim\": {}, \"psnr_db\": {}, \"psnr_capped\": {}, \"ci_level\": 0.95, "
                     "\"ci_method\": \"student-t\"}}\n}}\n",
                     scores.size(), json_summary(ssim), json_summary(psnr), capped);
  return out;
}

std::string to_text(const std::vector<PairScore>& scores, const metrics::MeanCi& ssim, const metrics::MeanCi& psnr,
                    int64_t capped) {
  size_t width = 10;
  for (const auto& s : scores) width = std::max(width, s.pair.name.size());
  std::string out = fmt::format("{:<{}}  {:>8}  {:>8}\n", "pair", width, "ssim", "psnr_db");
  for (const auto& s : scores)
    out += fmt::format("{:<{}}  {:>8.4f}  {:>8.2f}{}\n", s.pair.name, width, s.ssim, s.psnr_db,
                       s.psnr_capped ? "*" : (s.resized ? "r" : " "));
  if (scores.size() > 1) {
    out += fmt::format("{:<{}}  {:>8.4f}  {:>8.2f}\n", fmt::format("mean (n={})", scores.size()), width, ssim.mean, psnr.mean);
    out += fmt::format("{:<{}}  [{:.4f}, {:.4f}]  [{:.2f}, {:.2f}]\n", "95% CI (t)", width, ssim.low, ssim.high, psnr.low,
                       psnr.high);
  }
  if (capped > 0)
    out += fmt::format("* PSNR capped at {:.0f} dB: identical images ({} of {})\n", metrics::kPsnrCapDb, capped, scores.size());
  bool any_resized = false;
  for (const auto& s : scores) any_resized = any_resized || s.resized;
  if (any_resized) out += "r the second image was resized to the first (--resize)\n";
  return out;
}

int run_metrics(const MetricsOptions& o, Io& io) {
  const auto pairs = pair_inputs(o);
  log::info("scoring {} image pair{}", pairs.size(), pairs.size() == 1 ? "" : "s");
  std::vector<PairScore> scores;
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
  io.out << (o.json ? to_json(o, scores, ssim, psnr, capped) : to_text(scores, ssim, psnr, capped));
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
