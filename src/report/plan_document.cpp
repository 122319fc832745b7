// PlanDocument -> plan.json, and the document's accessors. With plan_from_json.cpp, the only
// code that knows the plan's keys (docs/plan-json.md and docs/schemas/plan.schema.json change
// with it): each value is spelt once.
#include "partplan/report/plan_document.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "partplan/config/settings.hpp"
#include "partplan/report/json_io.hpp"

using nlohmann::json;

namespace partplan::report {

std::string PlanDocument::model_name() const {
  return model.path.empty() ? std::string() : std::filesystem::path(model.path).stem().string();
}

const PlanDocument::Cut* PlanDocument::chosen_cut() const {
  for (const auto& c : cuts)
    if (is_chosen(c)) return &c;
  return nullptr;
}

std::map<std::string, std::string> PlanDocument::settings() const {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : config::Settings::parse(config_json, source.empty() ? "plan" : source).leaves()) out[k] = v;
  return out;
}

namespace {

template <class T>
json or_null(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

json data_json(const PlanDocument& doc) {
  const auto& d = doc.data;
  json j{{"source", d.source},
         {"description", d.description},
         {"size", d.size},
         {"splits", {{"attacker_train", d.n_train}, {"attacker_val", d.n_val}, {"eval", d.n_eval}}},
         {"batch_size", d.batch_size},
         {"augmented", d.augmented},
         {"notes", d.notes}};
  if (!doc.records()) return j;
  json cols = json::array();
  for (const auto& c : d.columns) {
    json col{{"name", c.name}, {"kind", data::to_string(c.kind)}, {"feature", c.feature < 0 ? json(nullptr) : json(c.feature)}};
    if (c.feature >= 0) {
      col["constant"] = c.constant;
      if (c.kind == data::ColumnKind::kNumeric)
        col.update({{"min", c.min}, {"max", c.max}, {"log_scaled", c.log_scaled}, {"missing", c.missing}, {"infinite", c.infinite}});
      else
        col["categories"] = c.categories;
    }
    cols.push_back(col);
  }
  j["columns"] = cols;
  return j;
}

json baseline_json(const pipeline::Baseline& b) {
  json j{{"name", b.name}, {"note", b.note}};
  if (b.records)
    j["records"] = records_json(*b.records);
  else
    j.update({{"ssim", ci_json(b.ssim)}, {"psnr_db", ci_json(b.psnr_db)}});
  return j;
}

json cut_json(const PlanDocument::Cut& c) {
  json attacks = json::array();
  for (const auto& s : c.attacks) attacks.push_back(attack_json(s, /*with_curve=*/false));
  const auto& o = c.oracle;
  const auto& k = c.cost;
  return {{"id", c.id},
          {"name", c.name},
          {"scope", c.scope},
          {"op", c.op},
          {"shape", c.shape},
          {"is_block", c.is_block},
          {"activation_bytes", c.activation_bytes},
          {"front_flops", c.front_flops},
          {"front_param_bytes", c.front_param_bytes},
          {"front_peak_activation_bytes", c.front_peak_activation_bytes},
          {"attacks", attacks},
          {"oracle",
           {{"available", o.available},
            {"kl_min", o.available ? json(o.kl_min) : json(nullptr)},
            {"channel", o.available ? json(o.channel) : json(nullptr)},
            {"channels_tested", o.channels_tested},
            {"note", o.note}}},
          {"cost",
           {{"enclave_flops", k.enclave_flops},
            {"enclave_param_bytes", k.enclave_param_bytes},
            {"enclave_peak_activation_bytes", k.enclave_peak_activation_bytes},
            {"enclave_bytes", k.enclave_bytes},
            {"boundary_bytes", k.boundary_bytes},
            {"enclave_seconds", k.enclave_seconds},
            {"untrusted_seconds", k.untrusted_seconds},
            {"transfer_seconds", k.transfer_seconds},
            {"latency_seconds", c.latency_seconds},
            {"fits_budget", c.fits_budget},
            {"profiled", k.profiled}, {"from_runtime", k.from_runtime}}},
          {"probe_accuracy", or_null(c.probe_accuracy)},
          {"measured", c.measured},
          {"worst_attack", c.worst_attack},
          {"envelope", c.envelope},
          {"envelope_from", c.envelope_from},
          {"notes", c.notes},
          {"verdict", c.verdict},
          {"lower_bound", c.lower_bound},
          {"still_improving", c.still_improving}};
}

json decision_json(const PlanDocument::Decision& d) {
  return {{"kind", d.kind},
          {"cut_ids", d.cut_ids},
          {"latency_seconds", d.latency_seconds},
          {"speedup_vs_enclave", d.speedup_vs_enclave},
          {"cut_name", d.cut_ids.empty() ? json(nullptr) : json(d.cut_name)},
          {"threshold", d.threshold},
          {"leakage", d.leakage},
          {"reason", d.reason},
          {"fail_above", or_null(d.fail_above)},
          {"gate_failed", d.gate_failed},
          {"gate_reason", d.gate_reason}};
}

json cost_model_json(const PlanDocument::CostModel& c) {
  return {{"timed_on", c.timed_on},
          {"whole_model_seconds", c.whole_model_seconds},
          {"untrusted_timed_on", c.untrusted_timed_on},
          {"untrusted_whole_model_seconds", c.untrusted_whole_model_seconds},
          {"gpu_speedup_applied", c.gpu_speedup_applied},
          {"all_enclave_seconds", c.all_enclave_seconds},
          {"enclave_memory_bytes", c.enclave_memory_bytes}};
}

json ternary_json(const std::optional<PlanDocument::Ternary>& t) {
  if (!t) return nullptr;
  return {{"back_cut", {{"id", t->back_cut_id}, {"name", t->back_cut_name}}},
          {"back_probe_accuracy", or_null(t->back_probe_accuracy)},
          {"front_probe_accuracy", or_null(t->front_probe_accuracy)},
          {"probe_chance", or_null(t->probe_chance)}};
}

json exported_json(const PlanDocument& doc, json& verification) {
  json parts = json::array();
  for (const auto& p : doc.partitions)
    parts.push_back({{"name", p.name},
                     {"role", p.role},
                     {"file", p.file},
                     {"sha256", p.sha256},
                     {"bytes", p.bytes},
                     {"input_shape", p.input_shape},
                     {"output_shape", p.output_shape}});
  verification = nullptr;
  if (const auto& v = doc.verification)
    verification = {{"samples", v->samples},
                    {"max_abs_error", v->max_abs_error},
                    {"max_rel_error", v->max_rel_error},
                    {"bit_exact", v->bit_exact},
                    {"passed", v->passed}};
  return parts;
}

}  // namespace

/// "time": the estimate after the calibration and what --time-budget did (null: none).
json time_json(const PlanDocument& doc) {
  json t{{"estimated_seconds", doc.estimated_seconds >= 0 ? json(doc.estimated_seconds) : json()}, {"budget", nullptr}};
  if (const auto& b = doc.time_budget)
    t["budget"] = {{"budget_seconds", b->budget_seconds},
                   {"calibration_seconds", b->calibration_seconds},
                   {"estimated_seconds", b->estimated_seconds},
                   {"planned_seconds", b->planned_seconds},
                   {"fits", b->fits},
                   {"steps_requested", b->steps_requested},
                   {"steps", b->steps},
                   {"whitebox_images_requested", b->whitebox_images_requested},
                   {"whitebox_images", b->whitebox_images},
                   {"whitebox_iterations_requested", b->whitebox_iterations_requested},
                   {"whitebox_iterations", b->whitebox_iterations},
                   {"reductions", b->reductions}};
  return t;
}

std::string to_json(const PlanDocument& doc) {
  json j;
  j["schema_version"] = doc.schema_version;
  j["kind"] = "partplan.plan";
  j["tool"] = {{"name", doc.tool.name}, {"version", doc.tool.version}, {"libtorch", doc.tool.libtorch}};
  j["created_utc"] = doc.created_utc;
  j["device"] = doc.device;
  j["measure"] = doc.measure;
  j["command"] = doc.command;
  const auto& m = doc.model;
  j["model"] = {{"path", m.path},
                {"sha256", m.sha256},
                {"input_shape", m.input_shape},
                {"output_shape", m.output_shape},
                {"total_flops", m.total_flops},
                {"total_param_bytes", m.total_param_bytes},
                {"cut_count", m.cut_count}};
  j["seed"] = doc.seed;
  j["config"] = json::parse(doc.config_json);
  j["data"] = data_json(doc);
  j["baselines"] = json::array();
  for (const auto& b : doc.baselines) j["baselines"].push_back(baseline_json(b));
  j["label_floor"] = or_null(doc.label_floor);
  j["cuts"] = json::array();
  for (const auto& c : doc.cuts) j["cuts"].push_back(cut_json(c));
  j["oracle_reference_kl"] = or_null(doc.oracle_reference_kl);
  j["cost_model"] = cost_model_json(doc.cost_model);
  j["ternary"] = ternary_json(doc.ternary);
  j["decision"] = decision_json(doc.decision);
  j["partitions"] = exported_json(doc, j["verification"]);
  j["seconds"] = doc.seconds;
  j["phase_seconds"] = json::array();
  for (const auto& p : doc.phase_seconds)
    j["phase_seconds"].push_back({{"phase", pipeline::to_string(p.phase)}, {"seconds", p.seconds}});
  j["time"] = time_json(doc);
  return j.dump(2) + "\n";
}

}  // namespace partplan::report
