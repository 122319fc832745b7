// The serialisers of json_io.hpp.
#include "partplan/report/json_io.hpp"

#include <cmath>

#include "partplan/common/build_info.hpp"
#include "partplan/config/json_document.hpp"
#include "partplan/model/model.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

json finite_or_null(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

std::optional<double> optional_number(const json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) return std::nullopt;
  const double v = j.at(key).get<double>();
  return v < 0 ? std::nullopt : std::optional<double>(v);  // the run store's pre-0.2 "-1 = none"
}

}  // namespace

json tool_json() { return {{"name", "partplan"}, {"version", kVersion}, {"libtorch", model::torch_version()}}; }

json ci_json(const metrics::MeanCi& c, CiKeys keys) {
  if (keys == CiKeys::kMetrics)
    return {{"mean", finite_or_null(c.mean)},
            {"stddev", c.n > 1 ? finite_or_null(c.stddev) : json(nullptr)},
            {"ci95_low", c.has_ci ? finite_or_null(c.low) : json(nullptr)},
            {"ci95_high", c.has_ci ? finite_or_null(c.high) : json(nullptr)}};
  return {{"mean", c.mean}, {"ci_low", c.low}, {"ci_high", c.high}, {"std", c.stddev}, {"n", c.n}, {"level", c.level}};
}

json ci_json(const std::optional<metrics::MeanCi>& c) { return c ? ci_json(*c) : json(nullptr); }

metrics::MeanCi ci_from_json(const json& j) {
  metrics::MeanCi c;
  c.n = config::integer_from_json<int64_t>(j.at("n"));
  c.mean = j.at("mean");
  c.level = j.at("level");
  const bool old = j.contains("low");
  c.low = j.at(old ? "low" : "ci_low");
  c.high = j.at(old ? "high" : "ci_high");
  c.stddev = j.at(old ? "stddev" : "std");
  c.half_width = old ? j.at("half_width").get<double>() : (c.high - c.low) / 2;
  c.has_ci = old ? j.at("has_ci").get<bool>() : c.high > c.low || c.n > 1;
  return c;
}

json records_json(const metrics::RecordScores& r) {
  return {{"reidentification", ci_json(r.reidentification)},
          {"numeric_error", ci_json(r.numeric_error)},
          {"numeric_within_tolerance", ci_json(r.numeric_within)},
          {"categorical_accuracy", ci_json(r.categorical_accuracy)}};
}

metrics::RecordScores records_from_json(const json& j) {
  auto opt = [&](const char* key) {
    return j.at(key).is_null() ? std::optional<metrics::MeanCi>()
                               : std::optional<metrics::MeanCi>(ci_from_json(j.at(key)));
  };
  metrics::RecordScores r;
  r.reidentification = ci_from_json(j.at("reidentification"));
  r.numeric_error = opt("numeric_error");
  // The run store spelt it numeric_within before the plan's name was used everywhere.
  r.numeric_within = j.contains("numeric_within") ? opt("numeric_within") : opt("numeric_within_tolerance");
  r.categorical_accuracy = opt("categorical_accuracy");
  return r;
}

json train_json(const attacks::TrainStats& t, bool with_curve) {
  json j{{"steps_run", t.steps_run},
         {"early_stopped", t.early_stopped},
         {"best_step", t.best_step},
         {"best_val", t.best_val},
         {"still_improving", t.still_improving},
         {"val_slope", t.val_slope},
         {"seconds", t.seconds},
         {"first_l1", t.first_l1},
         {"last_l1", t.last_l1},
         {"cut_short", t.cut_short}};
  if (with_curve) j["val_curve"] = t.val_curve;
  return j;
}

attacks::TrainStats train_from_json(const json& j) {
  attacks::TrainStats t;
  t.steps_run = config::integer_from_json<int64_t>(j.at("steps_run"));
  t.early_stopped = j.at("early_stopped");
  t.best_step = config::integer_from_json<int64_t>(j.at("best_step"));
  // Plans of schema_version 1 and run directories of partplan 0.1 spelt it best_val_ssim.
  t.best_val = j.contains("best_val") ? j.at("best_val") : j.at("best_val_ssim");
  t.still_improving = j.at("still_improving");
  t.val_slope = j.at("val_slope");
  t.seconds = j.at("seconds");
  t.first_l1 = j.at("first_l1");
  t.last_l1 = j.at("last_l1");
  t.cut_short = j.value("cut_short", false);  // run directories before the time budget had none
  if (j.contains("val_curve"))
    for (const auto& point : j.at("val_curve"))
      t.val_curve.emplace_back(config::integer_from_json<int64_t>(point.at(0)), point.at(1).get<double>());
  return t;
}

json attack_json(const pipeline::AttackScore& s, bool with_curve) {
  json j{{"attack", s.attack},
         {"images", s.images},
         {"top1_agreement", s.top1_agreement ? json(*s.top1_agreement) : json(nullptr)},
         {"kl", s.kl ? json(*s.kl) : json(nullptr)},
         {"train", train_json(s.train, with_curve)}};
  if (s.records)
    j["records"] = records_json(*s.records);
  else
    j.update({{"ssim", ci_json(s.ssim)}, {"psnr_db", ci_json(s.psnr_db)}, {"psnr_capped", s.psnr_capped}});
  return j;
}

pipeline::AttackScore attack_from_json(const json& j) {
  pipeline::AttackScore s;
  s.attack = j.at("attack");
  s.images = config::integer_from_json<int64_t>(j.at("images"));
  s.top1_agreement = optional_number(j, "top1_agreement");
  s.kl = optional_number(j, "kl");
  s.train = train_from_json(j.at("train"));
  if (j.contains("records") && !j.at("records").is_null()) {
    s.records = records_from_json(j.at("records"));
  } else {
    s.ssim = ci_from_json(j.at("ssim"));
    s.psnr_db = ci_from_json(j.at("psnr_db"));
    s.psnr_capped = config::integer_from_json<int64_t>(j.at("psnr_capped"));
  }
  return s;
}

}  // namespace partplan::report
