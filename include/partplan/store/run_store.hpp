#pragma once
// The run directory: per-cut results kept so that an interrupted or extended assessment can
// resume (--run-dir DIR --resume), and the shard manifests `partplan merge` reads. Layout:
// run.json (the fingerprint), cut-NNN.json (one cut's scores, plan.json's spelling through
// report/json_io.hpp) with cut-NNN.png (its reconstruction strip), shard-I-of-N.json.
// Persistence, not reporting. Torch-free.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <map>

#include "partplan/config/settings.hpp"
#include "partplan/pipeline/assess.hpp"

namespace partplan::store {

/// The settings that change a cut's result: all but the cut list and the decision's inputs
/// (threshold, gate, report). The run directory's fingerprint hashes them, and merge compares
/// them shard by shard.
config::Settings result_settings(config::Settings settings);
/// A run directory's fingerprint: the SHA-256 of the model's SHA-256 and result_settings().
std::string run_fingerprint(const std::string& model_sha256, const config::Settings& settings);
/// result_settings() of a settings JSON text, as key -> value leaves. Throws UsageError
/// naming `source` on bad JSON.
std::map<std::string, std::string> result_leaves(const std::string& json_text, const std::string& source);

/// What one shard of a sharded assessment did (`assess --shard I/N`), kept in the run
/// directory as shard-I-of-N.json for `partplan merge`.
struct ShardManifest {
  int64_t index = 0, count = 1;
  std::string model_path;  ///< absolute, as the shard saw it
  std::string model_sha256;
  std::string settings_json;                            ///< the shard's effective settings
  std::vector<std::pair<int, std::string>> candidates;  ///< every candidate cut: id, name
  std::vector<int> cuts;                                ///< the cuts this shard assessed
  std::string fingerprint;                              ///< of the run directory (filled when read)
  std::string file;                                     ///< where it was read from (filled when read)
};

class RunStore {
 public:
  /// Open `dir` (created if missing). `fingerprint` names the model and every setting that
  /// changes a cut's result. Without `resume`, a directory that already holds a run is
  /// refused (nothing is overwritten); with it, the stored fingerprint must match. A
  /// `shared` directory (shards of one run) may already hold the run: the fingerprint must
  /// match, and only `resume` reuses finished cuts.
  /// Throws UsageError or IoError naming the directory and what to do.
  RunStore(std::string dir, std::string fingerprint, bool resume, bool shared = false);

  /// Write shard-I-of-N.json (atomic).
  void write_shard(const ShardManifest& manifest) const;
  /// The file a cut's result is kept in.
  static std::string cut_path(const std::string& dir, int cut_id);
  /// Every shard manifest in `dir`, by index. Throws UsageError naming the file on a bad one.
  static std::vector<ShardManifest> read_shards(const std::string& dir);
  /// Checks that the shards in `dir` make one complete run: one N, every index 0..N-1, one
  /// model, the same result settings and candidate cuts, every candidate assessed by a shard
  /// and stored. Returns shard 0's manifest (the run's model, settings and fingerprint).
  /// Throws UsageError naming the shard or cut at fault and what to rerun.
  static ShardManifest complete_shards(const std::string& dir);

  /// The stored result of `cut`, when resuming and one exists for the same cut.
  std::optional<pipeline::CutAssessment> load(const model::CutPoint& cut) const;

  /// The readers of the run directory's files on their text, which the members above call
  /// after reading it; `path`/`file` only names the file in messages. The fingerprint a
  /// run.json records; throws UsageError when it is not one.
  static std::string parse_run_fingerprint(const std::string& text, const std::string& path);
  /// A cut-NNN.json: the result of `cut`, nullopt when the file holds another cut.
  /// `read_sibling` returns the bytes of a file of the run directory that it names (its PNG
  /// strip). Throws UsageError naming the file.
  static std::optional<pipeline::CutAssessment> parse_cut(
      const std::string& text, const model::CutPoint& cut, const std::string& path,
      const std::function<std::string(const std::string& name)>& read_sibling);
  /// A shard-I-of-N.json, with `fingerprint` (the run's) and `file` filled in. Throws
  /// UsageError naming the file.
  static ShardManifest parse_shard(const std::string& text, const std::string& file, const std::string& fingerprint);
  /// Store a finished cut (atomic write).
  void save(const pipeline::CutAssessment& cut) const;

 private:
  std::string dir_;
  bool resume_;
};

}  // namespace partplan::store
