// Renders `partplan metrics` results. Field names are documented in docs/metrics.md.
#include "partplan/report/metrics_report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "partplan/metrics/options.hpp"
#include "partplan/report/json_io.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

json number(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

}  // namespace

std::string metrics_json(const MetricsSummary& m) {
  const metrics::SsimOptions so;
  json j;
  j["a"] = m.a;
  j["b"] = m.b;
  j["ssim_definition"] = {
      {"window", so.window}, {"sigma", so.sigma},         {"k1", so.k1}, {"k2", so.k2}, {"data_range", so.data_range},
      {"region", "valid"},   {"covariance", "population"}};
  j["psnr_cap_db"] = metrics::kPsnrCapDb;
  j["pairs"] = json::array();
  for (const auto& s : m.pairs)
    j["pairs"].push_back({{"name", s.name},
                          {"a", s.a_path},
                          {"b", s.b_path},
                          {"shape", s.shape},
                          {"ssim", number(s.ssim)},
                          {"psnr_db", number(s.psnr_db)},
                          {"psnr_capped", s.psnr_capped},
                          {"resized", s.resized}});
  j["summary"] = {{"n", m.pairs.size()},
                  {"ssim", ci_json(m.ssim, CiKeys::kMetrics)},
                  {"psnr_db", ci_json(m.psnr_db, CiKeys::kMetrics)},
                  {"psnr_capped", m.psnr_capped},
                  {"ci_level", 0.95},
                  {"ci_method", "student-t"}};
  return j.dump(2) + "\n";
}

std::string metrics_text(const MetricsSummary& m) {
  size_t width = 10;
  for (const auto& s : m.pairs) width = std::max(width, s.name.size());
  std::string out = fmt::format("{:<{}}  {:>8}  {:>8}\n", "pair", width, "ssim", "psnr_db");
  bool any_resized = false;
  for (const auto& s : m.pairs) {
    out += fmt::format("{:<{}}  {:>8.4f}  {:>8.2f}{}\n", s.name, width, s.ssim, s.psnr_db,
                       s.psnr_capped ? "*" : (s.resized ? "r" : " "));
    any_resized = any_resized || s.resized;
  }
  if (m.pairs.size() > 1) {
    out += fmt::format("{:<{}}  {:>8.4f}  {:>8.2f}\n", fmt::format("mean (n={})", m.pairs.size()), width, m.ssim.mean,
                       m.psnr_db.mean);
    out += fmt::format("{:<{}}  [{:.4f}, {:.4f}]  [{:.2f}, {:.2f}]\n", "95% CI (t)", width, m.ssim.low, m.ssim.high,
                       m.psnr_db.low, m.psnr_db.high);
  }
  if (m.psnr_capped > 0)
    out += fmt::format("* PSNR capped at {:.0f} dB: identical images ({} of {})\n", metrics::kPsnrCapDb, m.psnr_capped,
                       m.pairs.size());
  if (any_resized) out += "r the second image was resized to the first (--resize)\n";
  return out;
}

}  // namespace partplan::report
