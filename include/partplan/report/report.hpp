#pragma once
// Human tables and stable JSON for inspect, split and verify. The only JSON writer for
// these outputs; torch-free.

#include <optional>
#include <string>
#include <vector>

#include "partplan/common/fs.hpp"
#include "partplan/model/model.hpp"
#include "partplan/partition/partition.hpp"

namespace partplan::report {

/// Version of the `inspect --json` document (docs/cli.md).
inline constexpr int kInspectSchemaVersion = 1;

/// Fixed-width table of cut points, for people.
std::string inspect_table(const model::ModelSummary& summary, const std::vector<model::CutPoint>& cuts,
                          const std::string& cuts_spec);

/// `inspect --json` document: {"schema_version", "tool", "model", "cuts_spec", "cuts": [...]}.
std::string inspect_json(const model::ModelSummary& summary, const std::vector<model::CutPoint>& cuts,
                         const std::string& cuts_spec);

/// The parts at `cut_ids` (1 cut: front, back; 2: front, middle, back) and their partition.json,
/// written into `staged` (the caller commits it, so a failure leaves the target as it was).
/// Used by `split` and by `assess --export`. Same errors as partition::export_parts.
partition::PartitionManifest export_split(const model::Model& model, const std::vector<int>& cut_ids,
                                          common::StagedDir& staged);

/// A chosen split, exported and verified against the original model.
struct ExportedSplit {
  partition::PartitionManifest manifest;
  std::string dir;  ///< absolute: valid from any working directory
  partition::VerifyResult verification;
};

/// `assess --export DIR`: the parts at `cut_ids` (the decision's cut, and a ternary split's
/// back cut) exported into `dir` atomically, then verified. nullopt, and nothing written, when
/// `cut_ids` is empty (no cut was chosen).
std::optional<ExportedSplit> export_chosen_split(const model::Model& model, const std::vector<int>& cut_ids,
                                                 const std::string& dir);

/// partition.json text (pretty-printed, trailing newline).
std::string partition_to_json(const partition::PartitionManifest& manifest);

/// Parse partition.json. Throws UsageError naming `source` when the text is not a partition
/// sidecar of a supported schema version, with the field at fault.
partition::PartitionManifest partition_from_json(const std::string& text, const std::string& source);

/// When `text` is a plan.json (from assess --export), the path of the partition.json next to
/// its exported parts; nullopt when `text` is not a plan. Throws UsageError naming `source`
/// for a plan whose split was not exported.
std::optional<std::string> plan_sidecar_path(const std::string& text, const std::string& source);

/// One-paragraph summary of a split, for people.
std::string split_summary(const partition::PartitionManifest& manifest, const std::string& dir);

/// Verify result as a table or as JSON.
std::string verify_text(const partition::PartitionManifest& manifest, const partition::VerifyResult& result,
                        double tolerance);
std::string verify_json(const partition::PartitionManifest& manifest, const partition::VerifyResult& result,
                        double tolerance);

}  // namespace partplan::report
