#pragma once
// Human tables and stable JSON for inspect, split and verify. The only JSON writer for
// these outputs; torch-free.

#include <optional>
#include <string>
#include <vector>

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
