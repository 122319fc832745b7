// The run directory (run_store.hpp): JSON through report/json_io.hpp, reconstructions as PNG.
#include "partplan/store/run_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/config/json_document.hpp"
#include "partplan/report/json_io.hpp"
#include "partplan/report/png.hpp"

using nlohmann::json;
namespace fs = std::filesystem;

namespace partplan::store {
namespace {

std::string cut_file(const std::string& dir, int id) {
  return (fs::path(dir) / fmt::format("cut-{:03d}.json", id)).string();
}
std::string png_name(int id) { return fmt::format("cut-{:03d}.png", id); }

}  // namespace

config::Settings result_settings(config::Settings s) {
  s.set("cuts", std::string());
  s.set("threshold", 0.0);
  s.set("fail_above", 0.0);
  s.set("accept_unconverged", false);
  s.set("report.grid_images", int64_t{0});
  return s;
}

std::string run_fingerprint(const std::string& model_sha256, const config::Settings& settings) {
  return common::sha256_bytes(model_sha256 + result_settings(settings).dump(0));
}

std::map<std::string, std::string> result_leaves(const std::string& json_text, const std::string& source) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : result_settings(config::Settings::parse(json_text, source)).leaves()) out[k] = v;
  return out;
}

RunStore::RunStore(std::string dir, std::string fingerprint, bool resume, bool shared)
    : dir_(std::move(dir)), resume_(resume) {
  common::ensure_writable_dir(dir_);
  const std::string run = (fs::path(dir_) / "run.json").string();
  std::error_code ec;
  if (fs::exists(run, ec)) {
    if (!resume_ && !shared)
      throw UsageError("--run-dir '" + dir_ +
                       "' already holds a run: pass --resume to reuse its finished cuts, "
                       "or choose an empty directory");
    if (parse_run_fingerprint(common::read_file(run), run) != fingerprint)
      throw UsageError("--run-dir '" + dir_ + "' was made with another model or other settings" +
                       (shared
                            ? std::string(": every shard needs the same model, settings and seed, or a new --run-dir")
                            : std::string(": drop --resume, or use a new --run-dir")));
  } else {
    common::write_file_atomic(run, json{{"kind", "partplan.run"}, {"fingerprint", fingerprint}}.dump(2) + "\n");
  }
}

std::string RunStore::parse_run_fingerprint(const std::string& text, const std::string& run) {
  json j;
  try {
    j = config::parse_json_document(text);
  } catch (const json::exception&) {
    throw UsageError("'" + run + "' is not valid JSON: choose another --run-dir");
  }
  if (!j.is_object() || (j.contains("fingerprint") && !j["fingerprint"].is_string()))
    throw UsageError("'" + run + "' is not a partplan run.json (no \"fingerprint\" string): choose another --run-dir");
  return j.value("fingerprint", "");
}

std::optional<pipeline::CutAssessment> RunStore::load(const model::CutPoint& cut) const {
  if (!resume_) return std::nullopt;
  const std::string path = cut_file(dir_, cut.id);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  return parse_cut(common::read_file(path), cut, path,
                   [&](const std::string& name) { return common::read_file((fs::path(dir_) / name).string()); });
}

std::optional<pipeline::CutAssessment> RunStore::parse_cut(
    const std::string& text, const model::CutPoint& cut, const std::string& path,
    const std::function<std::string(const std::string& name)>& read_sibling) {
  try {
    const json j = config::parse_json_document(text);
    if (j.at("cut_id") != cut.id || j.at("cut_name") != cut.name) return std::nullopt;
    pipeline::CutAssessment ca;
    ca.cut = cut;
    ca.worst_attack = j.at("worst_attack");
    ca.leak = j.at(j.contains("leak") ? "leak" : "leak_ssim");  // leak_ssim: partplan 0.1
    ca.leak_ci = report::ci_from_json(j.at("leak_ci"));
    for (const auto& s : j.at("scores")) ca.scores.push_back(report::attack_from_json(s));
    ca.notes = j.at("notes").get<std::vector<std::string>>();
    const auto& im = j.at("reconstructions");
    // The strip's n images of c x h x w, checked before anything is allocated for them.
    const auto strip_size = [&] {
      const auto n = config::integer_from_json<int64_t>(im.at("n")), c = config::integer_from_json<int64_t>(im.at("c")),
                 h = config::integer_from_json<int64_t>(im.at("h")), w = config::integer_from_json<int64_t>(im.at("w"));
      constexpr int64_t kMaxSide = int64_t{1} << 20;
      if (n < 1 || n > kMaxSide || h < 1 || h > kMaxSide || w < 1 || w > kMaxSide || (c != 1 && c != 3) ||
          n * w > (int64_t{1} << 30) || n * c * h * w > (int64_t{1} << 31))
        throw UsageError(fmt::format("'{}' records reconstructions of {}x{}x{}x{} (n x c x h x w), not a strip of 1- "
                                     "or 3-channel images: delete it to recompute that cut",
                                     path, n, c, h, w));
      return std::array<int64_t, 4>{n, c, h, w};
    };
    if (im.contains("png")) {
      const std::string png_file = im.at("png").get<std::string>();
      // A plain name of the run directory: a path elsewhere (/dev/zero) would be read whole.
      if (png_file.empty() || png_file.find('/') != std::string::npos || png_file.find("..") != std::string::npos)
        throw UsageError(fmt::format("'{}' names its reconstruction strip '{}', not a file of the run directory: "
                                     "delete it to recompute that cut",
                                     path, png_file));
      const auto [n, c, h, w] = strip_size();
      const std::string png = (fs::path(path).parent_path() / png_file).string();
      const std::string bytes = read_sibling(png_file);
      try {
        ca.reconstructions = report::decode_png_strip(std::vector<uint8_t>(bytes.begin(), bytes.end()), n, c, h, w);
      } catch (const DataError& e) {
        throw UsageError("'" + png + "' is not the reconstruction strip of '" + path + "' (" + e.what() +
                         "): delete both to recompute that cut");
      }
    } else if (im.contains("pixels_b64")) {  // run directories of partplan 0.1 kept raw pixels
      const auto [n, c, h, w] = strip_size();
      auto pixels = common::base64_decode(im.at("pixels_b64").get<std::string>());
      if (!pixels) throw UsageError("'" + path + "' holds corrupt base64 pixels: delete it to recompute that cut");
      if (pixels->size() != static_cast<size_t>(n * c * h * w))
        throw UsageError(fmt::format("'{}' holds {} bytes of pixels for reconstructions of {}x{}x{}x{}, which take {}: "
                                     "delete it to recompute that cut",
                                     path, pixels->size(), n, c, h, w, n * c * h * w));
      ca.reconstructions.n = n;
      ca.reconstructions.c = c;
      ca.reconstructions.h = h;
      ca.reconstructions.w = w;
      ca.reconstructions.pixels = std::move(*pixels);
    }
    return ca;
  } catch (const json::exception& e) {
    throw UsageError("'" + path + "' is not a valid cut result (" + first_line(e.what()) +
                     "): delete it to recompute that cut");
  }
}

void RunStore::save(const pipeline::CutAssessment& ca) const {
  json scores = json::array();
  for (const auto& sc : ca.scores) scores.push_back(report::attack_json(sc, /*with_curve=*/true));
  const auto& im = ca.reconstructions;
  json recon{{"n", im.n}, {"c", im.c}, {"h", im.h}, {"w", im.w}};
  if (!im.empty()) {
    // The strip first: a JSON that names it is only ever written after it.
    const auto png = report::encode_png_strip(im);
    common::write_file_atomic((fs::path(dir_) / png_name(ca.cut.id)).string(), std::string(png.begin(), png.end()));
    recon["png"] = png_name(ca.cut.id);
  }
  const json j{{"cut_id", ca.cut.id},
               {"cut_name", ca.cut.name},
               {"worst_attack", ca.worst_attack},
               {"leak", ca.leak},
               {"leak_ci", report::ci_json(ca.leak_ci)},
               {"scores", scores},
               {"notes", ca.notes},
               {"reconstructions", recon}};
  common::write_file_atomic(cut_file(dir_, ca.cut.id), j.dump() + "\n");
}

}  // namespace partplan::store

namespace partplan::store {

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

ShardManifest RunStore::parse_shard(const std::string& text, const std::string& file, const std::string& fingerprint) {
  ShardManifest m;
  m.file = file;
  m.fingerprint = fingerprint;
  try {
    const json j = config::parse_json_document(text);
    if (j.at("kind") != "partplan.shard") throw json::other_error::create(501, "not a shard manifest", nullptr);
    m.index = config::integer_from_json<int64_t>(j.at("index"));
    m.count = config::integer_from_json<int64_t>(j.at("count"));
    m.model_path = j.at("model").at("path");
    m.model_sha256 = j.at("model").at("sha256");
    m.settings_json = j.at("settings").dump();
    for (const auto& c : j.at("candidate_cuts"))
      m.candidates.emplace_back(config::integer_from_json<int>(c.at("id")), c.at("name").get<std::string>());
    m.cuts = config::integers_from_json<int>(j.at("cuts"));
  } catch (const json::exception& x) {
    throw UsageError("'" + m.file + "' is not a valid shard manifest (" + first_line(x.what()) +
                     "): delete it and rerun that shard");
  }
  return m;
}

std::vector<ShardManifest> RunStore::read_shards(const std::string& dir) {
  std::string fingerprint;
  try {
    fingerprint = parse_run_fingerprint(common::read_file((fs::path(dir) / "run.json").string()), dir + "/run.json");
  } catch (const std::exception&) {
    throw UsageError("'" + dir + "' holds no run (no readable run.json): give the --run-dir the shards wrote to");
  }
  std::vector<ShardManifest> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind("shard-", 0) != 0 || e.path().extension() != ".json") continue;
    out.push_back(parse_shard(common::read_file(e.path().string()), e.path().string(), fingerprint));
  }
  std::sort(out.begin(), out.end(), [](const ShardManifest& a, const ShardManifest& b) {
    return a.count != b.count ? a.count < b.count : a.index < b.index;
  });
  return out;
}

ShardManifest RunStore::complete_shards(const std::string& dir) {
  const auto shards = read_shards(dir);
  if (shards.empty())
    throw UsageError(
        fmt::format("'{}' holds no shard manifest (shard-I-of-N.json): run partplan assess MODEL "
                    "--shard I/N --run-dir {} for each shard first",
                    dir, dir));
  const auto& first = shards.front();
  const int64_t n = first.count;
  auto label = [](const ShardManifest& s) {
    return fmt::format("shard {}/{} ('{}')", s.index, s.count, s.file);
  };
  for (const auto& s : shards)
    if (s.count != n)
      throw UsageError(
          fmt::format("{} and {} split the run differently: remove the manifests of the sharding you "
                      "abandoned",
                      label(first), label(s)));
  for (int64_t i = 0; i < n; ++i)
    if (std::none_of(shards.begin(), shards.end(), [&](const auto& s) { return s.index == i; }))
      throw UsageError(
          fmt::format("shard {0}/{1} has not finished (no {2}/shard-{0}-of-{1}.json): run it, or rerun "
                      "it with --resume, then merge again",
                      i, n, dir));
  const auto reference = result_leaves(first.settings_json, first.file);
  for (const auto& s : shards) {
    if (s.model_sha256 != first.model_sha256)
      throw UsageError(fmt::format("{} assessed another model (sha256 {}…) than {} ({}…): rerun it on '{}'", label(s),
                                   s.model_sha256.substr(0, 12), label(first), first.model_sha256.substr(0, 12),
                                   first.model_path));
    const auto mine = result_leaves(s.settings_json, s.file);
    for (const auto& [k, v] : reference) {
      auto it = mine.find(k);
      const std::string other = it == mine.end() ? std::string("(unset)") : it->second;
      if (other != v)
        throw UsageError(
            fmt::format("{} was run with setting '{}' = {}, {} with {}: rerun it with the same settings "
                        "and seed",
                        label(s), k, other, label(first), v));
    }
    if (s.candidates != first.candidates)
      throw UsageError(fmt::format("{} saw other candidate cuts than {}: rerun it with the same model and --cuts",
                                   label(s), label(first)));
  }
  for (const auto& [id, name] : first.candidates) {
    const auto owner = std::find_if(shards.begin(), shards.end(), [&, id = id](const auto& s) {
      return std::find(s.cuts.begin(), s.cuts.end(), id) != s.cuts.end();
    });
    if (owner == shards.end())
      throw UsageError(
          fmt::format("cut {} '{}' was assessed by no shard: rerun the shards with the same --shard N", id, name));
    if (!fs::exists(cut_path(dir, id)))
      throw UsageError(
          fmt::format("cut {} '{}' has no result in '{}': rerun {} with --resume", id, name, dir, label(*owner)));
  }
  return first;
}

}  // namespace partplan::store
