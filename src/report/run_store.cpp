// Run directory: run.json (fingerprint) and cut-<id>.json per finished cut. Reconstructions
// are stored as base64 of their uint8 pixels (common::base64_encode).
#include "partplan/report/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/strings.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace partplan::report {
namespace {

json ci_to(const metrics::MeanCi& c) {
  return {{"n", c.n},         {"mean", c.mean},           {"stddev", c.stddev}, {"level", c.level},
          {"has_ci", c.has_ci}, {"half_width", c.half_width}, {"low", c.low},       {"high", c.high}};
}

metrics::MeanCi ci_from(const json& j) {
  metrics::MeanCi c;
  c.n = j.at("n");
  c.mean = j.at("mean");
  c.stddev = j.at("stddev");
  c.level = j.at("level");
  c.has_ci = j.at("has_ci");
  c.half_width = j.at("half_width");
  c.low = j.at("low");
  c.high = j.at("high");
  return c;
}

std::string cut_file(const std::string& dir, int id) { return (fs::path(dir) / fmt::format("cut-{:03d}.json", id)).string(); }

}  // namespace

RunStore::RunStore(std::string dir, std::string fingerprint, bool resume, bool shared)
    : dir_(std::move(dir)), resume_(resume) {
  common::ensure_writable_dir(dir_);
  const std::string run = (fs::path(dir_) / "run.json").string();
  std::error_code ec;
  if (fs::exists(run, ec)) {
    if (!resume_ && !shared)
      throw UsageError("--run-dir '" + dir_ + "' already holds a run: pass --resume to reuse its finished cuts, "
                       "or choose an empty directory");
    json j;
    try {
      j = json::parse(common::read_file(run));
    } catch (const json::exception&) {
      throw UsageError("'" + run + "' is not valid JSON: choose another --run-dir");
    }
    if (j.value("fingerprint", "") != fingerprint)
      throw UsageError("--run-dir '" + dir_ + "' was made with another model or other settings" +
                       (shared ? std::string(": every shard needs the same model, settings and seed, or a new --run-dir")
                               : std::string(": drop --resume, or use a new --run-dir")));
  } else {
    common::write_file_atomic(run, json{{"kind", "partplan.run"}, {"fingerprint", fingerprint}}.dump(2) + "\n");
  }
}

std::optional<pipeline::CutAssessment> RunStore::load(const model::CutPoint& cut) const {
  if (!resume_) return std::nullopt;
  const std::string path = cut_file(dir_, cut.id);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  try {
    const json j = json::parse(common::read_file(path));
    if (j.at("cut_id") != cut.id || j.at("cut_name") != cut.name) return std::nullopt;
    pipeline::CutAssessment ca;
    ca.cut = cut;
    ca.worst_attack = j.at("worst_attack");
    ca.leak = j.at("leak_ssim");
    ca.leak_ci = ci_from(j.at("leak_ci"));
    for (const auto& s : j.at("scores")) {
      pipeline::AttackScore sc;
      sc.attack = s.at("attack");
      sc.ssim = ci_from(s.at("ssim"));
      sc.psnr_db = ci_from(s.at("psnr_db"));
      sc.psnr_capped = s.at("psnr_capped");
      const auto& t = s.at("train");
      sc.train.steps_run = t.at("steps_run");
      sc.train.early_stopped = t.at("early_stopped");
      sc.train.best_val_ssim = t.at("best_val_ssim");
      sc.train.best_step = t.at("best_step");
      sc.train.seconds = t.at("seconds");
      sc.train.first_l1 = t.at("first_l1");
      sc.train.last_l1 = t.at("last_l1");
      sc.train.val_curve = t.at("val_curve").get<std::vector<std::pair<int64_t, double>>>();
      sc.train.still_improving = t.at("still_improving");
      sc.train.val_slope = t.at("val_slope");
      sc.images = s.at("images");
      sc.top1_agreement = s.at("top1_agreement");
      sc.kl = s.at("kl");
      if (s.contains("records") && !s.at("records").is_null()) {
        const auto& rj = s.at("records");
        metrics::RecordScores rs;
        rs.reidentification = ci_from(rj.at("reidentification"));
        auto opt = [&](const char* k) {
          return rj.at(k).is_null() ? std::optional<metrics::MeanCi>() : std::optional<metrics::MeanCi>(ci_from(rj.at(k)));
        };
        rs.numeric_error = opt("numeric_error");
        rs.numeric_within = opt("numeric_within");
        rs.categorical_accuracy = opt("categorical_accuracy");
        sc.records = rs;
      }
      ca.scores.push_back(sc);
    }
    ca.notes = j.at("notes").get<std::vector<std::string>>();
    const auto& im = j.at("reconstructions");
    ca.reconstructions.n = im.at("n");
    ca.reconstructions.c = im.at("c");
    ca.reconstructions.h = im.at("h");
    ca.reconstructions.w = im.at("w");
    auto pixels = common::base64_decode(im.at("pixels_b64").get<std::string>());
    if (!pixels) throw UsageError("'" + path + "' holds corrupt base64 pixels: delete it to recompute that cut");
    ca.reconstructions.pixels = std::move(*pixels);
    return ca;
  } catch (const json::exception& e) {
    throw UsageError("'" + path + "' is not a valid cut result (" + first_line(e.what()) +
                     "): delete it to recompute that cut");
  }
}

void RunStore::save(const pipeline::CutAssessment& ca) const {
  json scores = json::array();
  auto opt = [](const std::optional<metrics::MeanCi>& c) { return c ? ci_to(*c) : json(nullptr); };
  for (const auto& s : ca.scores)
    scores.push_back({{"attack", s.attack},
                      {"records", s.records ? json{{"reidentification", ci_to(s.records->reidentification)},
                                                   {"numeric_error", opt(s.records->numeric_error)},
                                                   {"numeric_within", opt(s.records->numeric_within)},
                                                   {"categorical_accuracy", opt(s.records->categorical_accuracy)}}
                                            : json(nullptr)},
                      {"ssim", ci_to(s.ssim)},
                      {"psnr_db", ci_to(s.psnr_db)},
                      {"psnr_capped", s.psnr_capped},
                      {"images", s.images},
                      {"top1_agreement", s.top1_agreement},
                      {"kl", s.kl},
                      {"train",
                       {{"steps_run", s.train.steps_run},
                        {"still_improving", s.train.still_improving},
                        {"val_slope", s.train.val_slope},
                        {"early_stopped", s.train.early_stopped},
                        {"best_val_ssim", s.train.best_val_ssim},
                        {"best_step", s.train.best_step},
                        {"seconds", s.train.seconds},
                        {"first_l1", s.train.first_l1},
                        {"last_l1", s.train.last_l1},
                        {"val_curve", s.train.val_curve}}}});
  const auto& im = ca.reconstructions;
  json j{{"cut_id", ca.cut.id},
         {"cut_name", ca.cut.name},
         {"worst_attack", ca.worst_attack},
         {"leak_ssim", ca.leak},
         {"leak_ci", ci_to(ca.leak_ci)},
         {"scores", scores},
         {"notes", ca.notes},
         {"reconstructions", {{"n", im.n}, {"c", im.c}, {"h", im.h}, {"w", im.w}, {"pixels_b64", common::base64_encode(im.pixels)}}}};
  common::write_file_atomic(cut_file(dir_, ca.cut.id), j.dump() + "\n");
}

}  // namespace partplan::report

namespace partplan::report {

std::string RunStore::cut_path(const std::string& dir, int cut_id) { return cut_file(dir, cut_id); }

void RunStore::write_shard(const ShardManifest& m) const {
  json cands = json::array();
  for (const auto& [id, name] : m.candidates) cands.push_back({{"id", id}, {"name", name}});
  const json j{{"kind", "partplan.shard"},
               {"index", m.index},
               {"count", m.count},
               {"model", {{"path", m.model_path}, {"sha256", m.model_sha256}}},
               {"settings", json::parse(m.settings_json)},
               {"candidate_cuts", cands},
               {"cuts", m.cuts}};
  common::write_file_atomic((fs::path(dir_) / fmt::format("shard-{}-of-{}.json", m.index, m.count)).string(),
                            j.dump(2) + "\n");
}

std::vector<ShardManifest> RunStore::read_shards(const std::string& dir) {
  std::string fingerprint;
  try {
    fingerprint = json::parse(common::read_file((fs::path(dir) / "run.json").string())).value("fingerprint", "");
  } catch (const std::exception&) {
    throw UsageError("'" + dir + "' holds no run (no readable run.json): give the --run-dir the shards wrote to");
  }
  std::vector<ShardManifest> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("shard-", 0) != 0 || e.path().extension() != ".json") continue;
    ShardManifest m;
    m.file = e.path().string();
    m.fingerprint = fingerprint;
    try {
      const json j = json::parse(common::read_file(m.file));
      if (j.at("kind") != "partplan.shard") throw json::other_error::create(501, "not a shard manifest", nullptr);
      m.index = j.at("index");
      m.count = j.at("count");
      m.model_path = j.at("model").at("path");
      m.model_sha256 = j.at("model").at("sha256");
      m.settings_json = j.at("settings").dump();
      for (const auto& c : j.at("candidate_cuts")) m.candidates.emplace_back(c.at("id"), c.at("name"));
      m.cuts = j.at("cuts").get<std::vector<int>>();
    } catch (const json::exception& x) {
      throw UsageError("'" + m.file + "' is not a valid shard manifest (" + first_line(x.what()) +
                       "): delete it and rerun that shard");
    }
    out.push_back(std::move(m));
  }
  std::sort(out.begin(), out.end(), [](const ShardManifest& a, const ShardManifest& b) {
    return a.count != b.count ? a.count < b.count : a.index < b.index;
  });
  return out;
}

}  // namespace partplan::report
