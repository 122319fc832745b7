// plan_from_json: plan.json of any schema version into a PlanDocument. The keys are the
// writer's (plan_document.cpp); the *_ssim keys of versions 0 and 1 are read as the generic
// ones, and what an older version did not write takes its default.
#include "partplan/report/plan_document.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/config/json_document.hpp"

using nlohmann::json;

namespace partplan::report {

namespace {

/// One JSON object of a plan and where it is ("'plan.json' cut 3"), for errors that name the
/// file and the field. Integers are range-checked (config::integer_from_json): json::get
/// converts an out-of-range float with undefined behaviour.
class Obj {
 public:
  Obj(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object())
      throw UsageError(fmt::format("{}: not an object ({}): is it a plan.json from partplan assess?", where_,
                                   j_.dump().substr(0, 40)));
  }
  const std::string& where() const { return where_; }
  /// Present and not null.
  bool has(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }

  /// The value of `key`; throws UsageError when absent.
  const json& at(const char* key) const {
    if (!j_.contains(key))
      throw UsageError(fmt::format("{}: no '{}': is it a plan.json from partplan assess?", where_, key));
    return j_.at(key);
  }
  template <class T>
  T need(const char* key) const {
    at(key);
    return as<T>(key);
  }
  /// `fallback` when absent or null.
  template <class T>
  T get(const char* key, T fallback) const {
    return has(key) ? as<T>(key) : fallback;
  }
  template <class T>
  std::optional<T> maybe(const char* key) const {
    return has(key) ? std::optional<T>(as<T>(key)) : std::nullopt;
  }
  /// `key`, or the legacy `old_key` a plan of schema_version 1 or before wrote instead.
  double need_number(const char* key, const char* old_key) const {
    return j_.contains(key) ? need<double>(key) : need<double>(old_key);
  }
  Obj object(const char* key) const { return Obj(at(key), fmt::format("{} {}", where_, key)); }
  std::optional<Obj> maybe_object(const char* key) const {
    if (!has(key)) return std::nullopt;
    return object(key);
  }
  /// The objects of the array `key` ([] when absent or null and not `required`), each named
  /// "`where` `label`" in errors.
  std::vector<Obj> list(const char* key, bool required, const char* label) const {
    std::vector<Obj> out;
    if (!required && !has(key)) return out;
    const json& a = at(key);
    if (!a.is_array()) throw UsageError(fmt::format("{}: '{}' is not a list", where_, key));
    for (const auto& e : a) out.emplace_back(e, fmt::format("{} {}", where_, label));
    return out;
  }
  const json& raw() const { return j_; }

 private:
  template <class T>
  T as(const char* key) const {
    const json& v = j_.at(key);
    try {
      if constexpr (std::is_same_v<T, json>)
        return v;
      else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
        return config::integer_from_json<T>(v);
      else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<int>>)
        return config::integers_from_json<typename T::value_type>(v);
      else
        return v.get<T>();
    } catch (const json::exception&) {
      throw UsageError(fmt::format("{}: '{}' has the wrong type or range ({})", where_, key, v.dump().substr(0, 40)));
    }
  }
  const json& j_;
  std::string where_;
};

metrics::MeanCi read_ci(const Obj& o) {
  metrics::MeanCi c;
  c.mean = o.get("mean", 0.0);
  c.low = o.get("ci_low", c.mean);
  c.high = o.get("ci_high", c.mean);
  c.stddev = o.get("std", 0.0);
  c.n = o.get<int64_t>("n", 0);
  c.level = o.get("level", 0.95);
  c.half_width = (c.high - c.low) / 2;
  c.has_ci = c.high > c.low || c.n > 1;
  return c;
}

std::optional<metrics::MeanCi> maybe_ci(const Obj& o, const char* key) {
  if (auto sub = o.maybe_object(key)) return read_ci(*sub);
  return std::nullopt;
}

metrics::RecordScores read_records(const Obj& o) {
  metrics::RecordScores r;
  r.reidentification = read_ci(o.object("reidentification"));
  r.numeric_error = maybe_ci(o, "numeric_error");
  r.numeric_within = maybe_ci(o, "numeric_within_tolerance");
  r.categorical_accuracy = maybe_ci(o, "categorical_accuracy");
  return r;
}

attacks::TrainStats read_train(const Obj& o) {
  attacks::TrainStats t;
  t.steps_run = o.get<int64_t>("steps_run", 0);
  t.early_stopped = o.get("early_stopped", false);
  t.best_step = o.get<int64_t>("best_step", 0);
  t.best_val = o.has("best_val") ? o.need<double>("best_val") : o.get("best_val_ssim", -1.0);
  t.still_improving = o.get("still_improving", false);
  t.val_slope = o.get("val_slope", 0.0);
  t.seconds = o.get("seconds", 0.0);
  t.first_l1 = o.get("first_l1", 0.0);
  t.last_l1 = o.get("last_l1", 0.0);
  t.cut_short = o.get("cut_short", false);
  return t;
}

pipeline::AttackScore read_attack(const Obj& o) {
  pipeline::AttackScore s;
  s.attack = o.need<std::string>("attack");
  s.images = o.get<int64_t>("images", 0);
  s.top1_agreement = o.maybe<double>("top1_agreement");
  s.kl = o.maybe<double>("kl");
  if (auto t = o.maybe_object("train")) s.train = read_train(*t);
  if (auto r = o.maybe_object("records")) {
    s.records = read_records(*r);
  } else {
    if (auto c = maybe_ci(o, "ssim")) s.ssim = *c;
    if (auto c = maybe_ci(o, "psnr_db")) s.psnr_db = *c;
    s.psnr_capped = o.get<int64_t>("psnr_capped", 0);
  }
  return s;
}

pipeline::Baseline read_baseline(const Obj& o) {
  pipeline::Baseline b;
  b.name = o.need<std::string>("name");
  b.note = o.get<std::string>("note", "");
  if (auto r = o.maybe_object("records")) {
    b.records = read_records(*r);
  } else {
    if (auto c = maybe_ci(o, "ssim")) b.ssim = *c;
    if (auto c = maybe_ci(o, "psnr_db")) b.psnr_db = *c;
  }
  return b;
}

void read_cost(const Obj& o, PlanDocument::Cut& c) {
  auto& k = c.cost;
  k.enclave_flops = o.get("enclave_flops", c.front_flops);
  k.enclave_param_bytes = o.get("enclave_param_bytes", 0.0);
  k.enclave_peak_activation_bytes = o.get("enclave_peak_activation_bytes", 0.0);
  k.enclave_bytes = o.get("enclave_bytes", 0.0);
  k.boundary_bytes = o.get("boundary_bytes", 0.0);
  k.enclave_seconds = o.get("enclave_seconds", 0.0);
  k.untrusted_seconds = o.get("untrusted_seconds", 0.0);
  k.transfer_seconds = o.get("transfer_seconds", 0.0);
  k.profiled = o.get("profiled", false);
  k.from_runtime = o.get("from_runtime", false);
  c.latency_seconds = o.get("latency_seconds", 0.0);
  c.fits_budget = o.get("fits_budget", true);
}

pipeline::OracleScore read_oracle(const Obj& o) {
  pipeline::OracleScore s;
  s.available = o.get("available", false);
  s.kl_min = o.get("kl_min", 0.0);
  s.channel = o.get<int64_t>("channel", -1);
  s.channels_tested = o.get<int64_t>("channels_tested", 0);
  s.note = o.get<std::string>("note", "");
  return s;
}

PlanDocument::Cut read_cut(const Obj& j) {
  PlanDocument::Cut c;
  c.id = j.need<int>("id");
  const Obj o(j.raw(), fmt::format("{} {}", j.where(), c.id));
  c.name = o.need<std::string>("name");
  c.scope = o.get<std::string>("scope", "");
  c.op = o.get<std::string>("op", "");
  c.shape = o.get("shape", common::Shape{});
  c.is_block = o.get("is_block", false);
  c.activation_bytes = o.get<int64_t>("activation_bytes", 0);
  c.front_flops = o.need<double>("front_flops");
  c.front_param_bytes = o.get<int64_t>("front_param_bytes", 0);
  c.front_peak_activation_bytes = o.get<int64_t>("front_peak_activation_bytes", 0);
  for (const auto& a : o.list("attacks", /*required=*/true, "attack")) c.attacks.push_back(read_attack(a));
  if (auto oracle = o.maybe_object("oracle")) c.oracle = read_oracle(*oracle);
  read_cost(o.object("cost"), c);
  c.probe_accuracy = o.maybe<double>("probe_accuracy");
  c.measured = o.need_number("measured", "measured_ssim");
  c.worst_attack = o.get<std::string>("worst_attack", "");
  c.envelope = o.need_number("envelope", "envelope_ssim");
  c.envelope_from = o.get("envelope_from", c.id);
  c.notes = o.get("notes", std::vector<std::string>{});
  c.verdict = o.need<std::string>("verdict");
  c.lower_bound = o.get("lower_bound", false);
  c.still_improving = o.get("still_improving", std::vector<std::string>{});
  return c;
}

data::ColumnKind column_kind(const Obj& o) {
  const auto name = o.need<std::string>("kind");
  for (auto k : {data::ColumnKind::kNumeric, data::ColumnKind::kIp, data::ColumnKind::kCategorical,
                 data::ColumnKind::kLabel, data::ColumnKind::kDropped})
    if (name == data::to_string(k)) return k;
  throw UsageError(fmt::format("{}: column kind '{}' is not one of numeric, ip, categorical, label, dropped",
                               o.where(), name));
}

PlanDocument::Data read_data(const Obj& o) {
  PlanDocument::Data d;
  d.source = o.get<std::string>("source", "");
  d.description = o.get<std::string>("description", "");
  d.size = o.get<int64_t>("size", 0);
  if (auto s = o.maybe_object("splits")) {
    d.n_train = s->get<int64_t>("attacker_train", 0);
    d.n_val = s->get<int64_t>("attacker_val", 0);
    d.n_eval = s->get<int64_t>("eval", 0);
  }
  d.batch_size = o.get<int64_t>("batch_size", 1);
  d.augmented = o.get("augmented", false);
  d.notes = o.get("notes", std::vector<std::string>{});
  for (const auto& c : o.list("columns", /*required=*/false, "column")) {
    data::ColumnEncoding e;
    e.name = c.need<std::string>("name");
    e.kind = column_kind(c);
    e.feature = c.get<int64_t>("feature", -1);
    e.constant = c.get("constant", false);
    e.min = c.get("min", 0.0);
    e.max = c.get("max", 0.0);
    e.log_scaled = c.get("log_scaled", false);
    e.missing = c.get<int64_t>("missing", 0);
    e.infinite = c.get<int64_t>("infinite", 0);
    e.categories = c.get<int64_t>("categories", 0);
    d.columns.push_back(std::move(e));
  }
  return d;
}

PlanDocument::Model read_model(const Obj& o) {
  PlanDocument::Model m;
  m.path = o.need<std::string>("path");
  m.sha256 = o.get<std::string>("sha256", "");
  m.input_shape = o.get("input_shape", common::Shape{});
  m.output_shape = o.get("output_shape", common::Shape{});
  m.total_flops = o.need<double>("total_flops");
  m.total_param_bytes = o.get<int64_t>("total_param_bytes", 0);
  m.cut_count = o.need<int64_t>("cut_count");
  return m;
}

PlanDocument::Decision read_decision(const Obj& o) {
  PlanDocument::Decision d;
  d.kind = o.need<std::string>("kind");
  d.cut_ids = o.get("cut_ids", std::vector<int>{});
  d.cut_name = o.get<std::string>("cut_name", "");
  d.latency_seconds = o.get("latency_seconds", 0.0);
  d.speedup_vs_enclave = o.get("speedup_vs_enclave", 0.0);
  d.threshold = o.need<double>("threshold");
  d.leakage = o.need_number("leakage", "leakage_ssim");
  d.reason = o.need<std::string>("reason");
  d.fail_above = o.maybe<double>("fail_above");
  d.gate_failed = o.get("gate_failed", false);
  d.gate_reason = o.get<std::string>("gate_reason", "");
  return d;
}

PlanDocument::CostModel read_cost_model(const Obj& o) {
  PlanDocument::CostModel c;
  c.timed_on = o.get<std::string>("timed_on", "cpu");
  c.whole_model_seconds = o.get("whole_model_seconds", 0.0);
  c.untrusted_timed_on = o.get<std::string>("untrusted_timed_on", "cpu");
  c.untrusted_whole_model_seconds = o.get("untrusted_whole_model_seconds", 0.0);
  c.gpu_speedup_applied = o.get("gpu_speedup_applied", true);
  c.all_enclave_seconds = o.get("all_enclave_seconds", 0.0);
  c.enclave_memory_bytes = o.get("enclave_memory_bytes", 0.0);
  return c;
}

std::optional<PlanDocument::Ternary> read_ternary(const Obj& doc) {
  const auto o = doc.maybe_object("ternary");
  if (!o) return std::nullopt;
  PlanDocument::Ternary t;
  if (auto back = o->maybe_object("back_cut")) {
    t.back_cut_id = back->get("id", 0);
    t.back_cut_name = back->get<std::string>("name", "");
  }
  t.back_probe_accuracy = o->maybe<double>("back_probe_accuracy");
  t.front_probe_accuracy = o->maybe<double>("front_probe_accuracy");
  t.probe_chance = o->maybe<double>("probe_chance");
  return t;
}

void read_exported(const Obj& o, PlanDocument& doc) {
  for (const auto& p : o.list("partitions", /*required=*/false, "partition"))
    doc.partitions.push_back({p.need<std::string>("name"), p.get<std::string>("role", ""), p.need<std::string>("file"),
                              p.get<std::string>("sha256", ""), p.get<int64_t>("bytes", 0),
                              p.get("input_shape", common::Shape{}), p.get("output_shape", common::Shape{})});
  if (auto v = o.maybe_object("verification"))
    doc.verification = PlanDocument::Verification{v->get<int64_t>("samples", 0), v->get("max_abs_error", 0.0),
                                                  v->get("max_rel_error", 0.0), v->get("bit_exact", false),
                                                  v->get("passed", false)};
}

void read_phases(const Obj& o, PlanDocument& doc) {
  for (const auto& p : o.list("phase_seconds", /*required=*/false, "phase")) {
    const auto name = p.need<std::string>("phase");
    int i = 0;
    while (i < pipeline::kPhaseCount && name != pipeline::to_string(static_cast<pipeline::Phase>(i))) ++i;
    if (i == pipeline::kPhaseCount) throw UsageError(fmt::format("{}: phase '{}' is not known", p.where(), name));
    doc.phase_seconds.push_back({static_cast<pipeline::Phase>(i), p.get("seconds", 0.0)});
  }
  const auto t = o.maybe_object("time");  // plans before partplan's ETA have none
  if (!t) return;
  doc.estimated_seconds = t->get("estimated_seconds", -1.0);
  if (const auto b = t->maybe_object("budget")) {
    pipeline::TimeBudgetReport r;
    r.budget_seconds = b->need<double>("budget_seconds");
    r.calibration_seconds = b->get("calibration_seconds", 0.0);
    r.estimated_seconds = b->get("estimated_seconds", 0.0);
    r.planned_seconds = b->get("planned_seconds", 0.0);
    r.fits = b->get("fits", true);
    r.steps_requested = b->get<int64_t>("steps_requested", 0);
    r.steps = b->get<int64_t>("steps", 0);
    r.whitebox_images_requested = b->get<int64_t>("whitebox_images_requested", 0);
    r.whitebox_images = b->get<int64_t>("whitebox_images", 0);
    r.whitebox_iterations_requested = b->get<int64_t>("whitebox_iterations_requested", 0);
    r.whitebox_iterations = b->get<int64_t>("whitebox_iterations", 0);
    r.reductions = b->get("reductions", std::vector<std::string>{});
    doc.time_budget = r;
  }
}

json parse_plan_json(const std::string& text, const std::string& source) {
  json j;
  try {
    j = config::parse_json_document(text);
  } catch (const json::exception& e) {
    throw UsageError(fmt::format("'{}' is not JSON ({}): give a plan.json written by partplan assess", source,
                                 first_line(e.what())));
  }
  if (!j.is_object() || !j.contains("kind") || j["kind"] != "partplan.plan")
    throw UsageError(
        fmt::format("'{}' is not a partplan plan (no \"kind\": \"partplan.plan\"): give a plan.json "
                    "written by partplan assess",
                    source));
  return j;
}

}  // namespace

bool is_plan_json(const std::string& text) {
  try {
    const json j = config::parse_json_document(text);
    return j.is_object() && j.contains("kind") && j["kind"] == "partplan.plan";
  } catch (const json::exception&) {
    return false;
  }
}

PlanDocument plan_from_json(const std::string& text, const std::string& source) {
  const json j = parse_plan_json(text, source);
  const Obj o(j, "'" + source + "'");
  PlanDocument doc;
  doc.source = source;
  doc.schema_version = o.get("schema_version", 0);
  if (auto t = o.maybe_object("tool"))
    doc.tool = {t->get<std::string>("name", "partplan"), t->get<std::string>("version", ""),
                t->get<std::string>("libtorch", "")};
  doc.created_utc = o.get<std::string>("created_utc", "");
  doc.device = o.get<std::string>("device", "");
  doc.measure = o.get<std::string>("measure", pipeline::kMeasureSsim);
  doc.command = o.get<std::string>("command", "");
  doc.model = read_model(o.object("model"));
  doc.seed = o.get<uint64_t>("seed", 0);
  if (o.has("config") && o.at("config").is_object()) doc.config_json = o.at("config").dump();
  if (auto d = o.maybe_object("data")) doc.data = read_data(*d);
  for (const auto& b : o.list("baselines", /*required=*/false, "baseline")) doc.baselines.push_back(read_baseline(b));
  doc.label_floor = o.has("label_floor") ? o.maybe<double>("label_floor") : o.maybe<double>("label_floor_ssim");
  for (const auto& c : o.list("cuts", /*required=*/true, "cut")) doc.cuts.push_back(read_cut(c));
  if (doc.cuts.empty()) throw UsageError(o.where() + " has no cuts");
  doc.oracle_reference_kl = o.maybe<double>("oracle_reference_kl");
  if (auto c = o.maybe_object("cost_model")) doc.cost_model = read_cost_model(*c);
  doc.ternary = read_ternary(o);
  doc.decision = read_decision(o.object("decision"));
  read_exported(o, doc);
  doc.seconds = o.get("seconds", 0.0);
  read_phases(o, doc);
  return doc;
}

}  // namespace partplan::report
