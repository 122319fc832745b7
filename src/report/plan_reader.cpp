// plan.json read back for the comparison and the HTML pages (PlanView): the generic keys of
// schema_version 2 and the *_ssim keys of version 1 and before (docs/plan-json.md, "Versions").
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/config/json_document.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/report/html.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

// Integers are range-checked (config::integer_from_json): json::get converts an
// out-of-range float with undefined behaviour.
template <class T>
T field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    throw UsageError(fmt::format("{}: no '{}': is it a plan.json from partplan assess?", where, key));
  try {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      return config::integer_from_json<T>(j.at(key));
    else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<int>>)
      return config::integers_from_json<typename T::value_type>(j.at(key));
    else
      return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw UsageError(
        fmt::format("{}: '{}' has the wrong type or range ({})", where, key, j.at(key).dump().substr(0, 40)));
  }
}

// An optional field of the object `j`: `fallback` when absent or null, else as field().
template <class T>
T field_or(const json& j, const char* key, T fallback, const std::string& where) {
  if (!j.is_object())
    throw UsageError(fmt::format("{}: not an object ({}): is it a plan.json from partplan assess?", where,
                                 j.dump().substr(0, 40)));
  return j.contains(key) && !j.at(key).is_null() ? field<T>(j, key, where) : fallback;
}

}  // namespace

PlanView read_plan(const std::string& text, const std::string& source) {
  json j;
  try {
    j = config::parse_json_document(text);
  } catch (const json::exception& e) {
    throw UsageError(fmt::format("'{}' is not JSON ({}): give a plan.json written by partplan assess", source,
                                 first_line(e.what())));
  }
  if (!j.is_object() || field_or<std::string>(j, "kind", "", "'" + source + "'") != "partplan.plan")
    throw UsageError(
        fmt::format("'{}' is not a partplan plan (no \"kind\": \"partplan.plan\"): give a plan.json "
                    "written by partplan assess",
                    source));
  const std::string where = "'" + source + "'";
  PlanView p;
  p.source = source;
  p.measure = field_or<std::string>(j, "measure", pipeline::kMeasureSsim, where);
  // Generic keys (measured, envelope, leakage, label_floor): schema_version 2 writes only these;
  // version 1 wrote *_ssim copies for images, and plans from before records wrote *_ssim only.
  auto number = [&](const json& o, const char* key, const char* old_key, const std::string& w) {
    return o.contains(key) ? field<double>(o, key, w) : field<double>(o, old_key, w);
  };
  const auto& m = field<json>(j, "model", where);
  p.model_path = field<std::string>(m, "path", where + " model");
  p.model_name = std::filesystem::path(p.model_path).stem().string();
  p.model_sha256 = field_or<std::string>(m, "sha256", "", where + " model");
  p.input_shape = field_or(m, "input_shape", std::vector<int64_t>{}, where + " model");
  p.total_flops = field<double>(m, "total_flops", where + " model");
  p.cut_count = field<int64_t>(m, "cut_count", where + " model");
  const auto& d = field<json>(j, "decision", where);
  p.decision_kind = field<std::string>(d, "kind", where + " decision");
  if (p.decision_kind == "prescreen")
    throw UsageError(
        fmt::format("{} is an oracle pre-screen: it has no measured leakage to compare; assess with a "
                    "trained attacker",
                    where));
  p.threshold = field<double>(d, "threshold", where + " decision");
  p.reason = field<std::string>(d, "reason", where + " decision");
  p.leakage = number(d, "leakage", "leakage_ssim", where + " decision");
  p.latency_seconds = field_or(d, "latency_seconds", 0.0, where + " decision");
  p.speedup = field_or(d, "speedup_vs_enclave", 0.0, where + " decision");
  p.gate_failed = field_or(d, "gate_failed", false, where + " decision");
  p.gate_reason = field_or<std::string>(d, "gate_reason", "", where + " decision");
  const auto ids = field_or(d, "cut_ids", std::vector<int>{}, where + " decision");
  if (!ids.empty()) {
    p.chosen_id = ids.front();
    p.chosen_name = field_or<std::string>(d, "cut_name", "", where + " decision");
  }
  if (j.contains("cost_model"))
    p.all_enclave_seconds = field_or(j["cost_model"], "all_enclave_seconds", 0.0, where + " cost_model");
  for (const char* key : {"label_floor", "label_floor_ssim"})
    if (!p.label_floor && j.contains(key) && j[key].is_number()) p.label_floor = j[key].get<double>();
  if (j.contains("config") && j["config"].is_object())
    for (auto& [k, v] : config::Settings::parse(j["config"].dump(), source).leaves()) p.settings[k] = v;
  if (j.contains("data")) p.data_description = field_or<std::string>(j["data"], "description", "", where + " data");
  if (j.contains("ternary") && j["ternary"].is_object() && j["ternary"].contains("back_cut"))
    p.back_cut_name = field_or<std::string>(j["ternary"]["back_cut"], "name", "", where + " ternary");
  for (const auto& c : field<json>(j, "cuts", where)) {
    PlanView::Cut cut;
    cut.id = field<int>(c, "id", where + " cut");
    const std::string cw = fmt::format("{} cut {}", where, cut.id);
    cut.name = field<std::string>(c, "name", cw);
    cut.front_flops = field<double>(c, "front_flops", cw);
    cut.measured = number(c, "measured", "measured_ssim", cw);
    cut.worst_attack = field_or<std::string>(c, "worst_attack", "", cw);
    cut.envelope = number(c, "envelope", "envelope_ssim", cw);
    cut.verdict = field<std::string>(c, "verdict", cw);
    const auto& cost = field<json>(c, "cost", cw);
    const std::string costw = cw + " cost";
    cut.enclave_flops = field_or(cost, "enclave_flops", cut.front_flops, costw);
    cut.enclave_bytes = field_or(cost, "enclave_bytes", 0.0, costw);
    cut.enclave_seconds = field_or(cost, "enclave_seconds", 0.0, costw);
    cut.latency_seconds = field_or(cost, "latency_seconds", 0.0, costw);
    cut.fits = field_or(cost, "fits_budget", true, costw);
    for (const auto& a : field<json>(c, "attacks", cw)) {
      PlanView::Attack at;
      at.name = field<std::string>(a, "attack", cw + " attack");
      const std::string aw = cw + " attack";
      at.headline = a.contains("records")
                    ? field_or(field<json>(field<json>(a, "records", aw), "reidentification", aw), "mean", 0.0, aw)
                    : field_or(field<json>(a, "ssim", aw), "mean", 0.0, aw);
      if (a.contains("train")) at.still_improving = field_or(a["train"], "still_improving", false, aw);
      cut.attacks.push_back(at);
    }
    p.cuts.push_back(std::move(cut));
  }
  if (p.cuts.empty()) throw UsageError(where + " has no cuts");
  return p;
}

}  // namespace partplan::report
