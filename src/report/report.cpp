// Renders inspect/split/verify results as tables (people) and JSON (programs), and reads
// partition.json back. Field names here are a public contract: see docs/cli.md and
// docs/partition-json.md before changing one.
#include "partplan/report/report.hpp"
#include "partplan/report/plan_document.hpp"
#include "partplan/report/json_io.hpp"

#include <fmt/format.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/config/json_document.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

json cut_json(const model::CutPoint& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"scope", c.scope},
          {"op", c.op},
          {"shape", c.shape},
          {"dtype", c.dtype},
          {"activation_bytes", c.activation_bytes},
          {"front_flops", c.front_flops},
          {"front_flops_approx", c.front_flops_approx},
          {"front_param_bytes", c.front_param_bytes},
          {"front_peak_activation_bytes", c.front_peak_activation_bytes},
          {"is_block", c.is_block},
          {"exits", c.exits}};
}

// A field of an outside document as T; integers and shapes are range-checked
// (config::integer_from_json), since json::get converts an out-of-range float with undefined
// behaviour.
template <typename T>
T as(const json& v) {
  if constexpr (std::is_same_v<T, common::Shape>)
    return config::integers_from_json<int64_t>(v);
  else if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
    return config::integer_from_json<T>(v);
  else
    return v.get<T>();
}

template <typename T>
T get_field(const json& j, const char* key, const std::string& source) {
  if (!j.is_object() || !j.contains(key))
    throw UsageError(
        fmt::format("'{}' has no field '{}': it is not a partplan partition.json; "
                    "produce one with partplan split",
                    source, key));
  try {
    return as<T>(j.at(key));
  } catch (const json::exception&) {
    throw UsageError(fmt::format("'{}': field '{}' has the wrong type or range ({}); produce the file with "
                                 "partplan split",
                                 source, key, j.at(key).dump().substr(0, 40)));
  }
}

// An optional field: `fallback` when absent, else as get_field (which refuses a `j` that is
// not an object).
template <typename T>
T field_or(const json& j, const char* key, T fallback, const std::string& source) {
  return j.is_object() && !j.contains(key) ? fallback : get_field<T>(j, key, source);
}

}  // namespace

std::string inspect_table(const model::ModelSummary& s, const std::vector<model::CutPoint>& cuts,
                          const std::string& spec) {
  std::string out;
  out += fmt::format("model  {}\ninput  {} ({})   output {}   nodes {}   params {}   FLOPs/sample {}{}\n", s.path,
                     common::format_shape(s.input_shape), s.input_shape_source, common::format_shape(s.output_shape),
                     s.node_count, common::format_bytes(static_cast<double>(s.total_param_bytes)),
                     s.total_flops_approx > 0 ? "~" : "", common::format_count(s.total_flops));
  if (s.record_features)
    out += fmt::format("records  trained on CSV records of {} features (archive)\n", *s.record_features);
  out += fmt::format("cuts   {} shown ({}) of {} in all\n\n", cuts.size(), spec, s.cuts.size());
  size_t name_w = 4;
  for (const auto& c : cuts) name_w = std::max(name_w, c.name.size());
  name_w = std::min<size_t>(name_w, 40);
  out += fmt::format("{:>4}  {:<{}}  {:<20}  {:<16}  {:>10}  {:>11}  {:>10}  {:>5}\n", "id", "name", name_w, "op",
                     "shape", "act/sample", "front FLOPs", "front wts", "block");
  for (const auto& c : cuts) {
    std::string op = c.op.rfind("aten::", 0) == 0 ? c.op.substr(6) : c.op;
    out += fmt::format("{:>4}  {:<{}}  {:<20}  {:<16}  {:>10}  {:>11}  {:>10}  {:>5}\n", c.id, c.name, name_w, op,
                       common::format_shape(c.shape), common::format_bytes(static_cast<double>(c.activation_bytes)),
                       (c.front_flops_approx > 0 ? "~" : "") + common::format_count(c.front_flops),
                       common::format_bytes(static_cast<double>(c.front_param_bytes)), c.is_block ? "yes" : "");
  }
  out += "\n~ = includes estimated FLOPs (ops other than conv/linear/matmul count one per output element).\n";
  return out;
}

std::string inspect_json(const model::ModelSummary& s, const std::vector<model::CutPoint>& cuts,
                         const std::string& spec) {
  json j;
  j["schema_version"] = kInspectSchemaVersion;
  j["tool"] = tool_json();
  j["model"] = {{"path", s.path},
                {"sha256", s.sha256},
                {"input_shape", s.input_shape},
                {"input_shape_source", s.input_shape_source},
                {"record_features", s.record_features ? json(*s.record_features) : json(nullptr)},
                {"output_shape", s.output_shape},
                {"node_count", s.node_count},
                {"total_flops", s.total_flops},
                {"total_flops_approx", s.total_flops_approx},
                {"total_param_bytes", s.total_param_bytes},
                {"cut_count", s.cuts.size()}};
  j["cuts_spec"] = spec;
  j["cuts"] = json::array();
  for (const auto& c : cuts) j["cuts"].push_back(cut_json(c));
  return j.dump(2) + "\n";
}

partition::PartitionManifest export_split(const model::Model& model, const std::vector<int>& cut_ids,
                                          common::StagedDir& staged) {
  auto manifest = partition::export_parts(model, cut_ids, staged);
  common::write_file_atomic(staged.add("partition.json"), partition_to_json(manifest));
  return manifest;
}

std::optional<ExportedSplit> export_chosen_split(const model::Model& model, const std::vector<int>& cut_ids,
                                                 const std::string& dir) {
  if (cut_ids.empty()) return std::nullopt;
  common::StagedDir staged(dir);
  ExportedSplit e;
  e.manifest = export_split(model, cut_ids, staged);
  staged.commit();
  e.dir = std::filesystem::absolute(dir).lexically_normal().string();
  e.verification = partition::verify_partition(e.manifest, dir, {});
  return e;
}

std::string partition_to_json(const partition::PartitionManifest& m) {
  json j;
  j["schema_version"] = m.schema_version;
  j["kind"] = "partplan.partition";
  j["tool"] = {{"name", "partplan"}, {"version", m.tool_version}, {"libtorch", m.torch_version}};
  j["model"] = {
      {"path", m.model_path},           {"sha256", m.model_sha256}, {"input_shape", m.input_shape},
      {"output_shape", m.output_shape}, {"frozen", true},           {"optimize_numerics", m.optimize_numerics}};
  j["split"] = m.parts.size() == 3 ? "ternary" : "binary";
  j["cuts"] = json::array();
  for (const auto& c : m.cuts)
    j["cuts"].push_back({{"id", c.id},
                         {"name", c.name},
                         {"scope", c.scope},
                         {"op", c.op},
                         {"shape", c.shape},
                         {"activation_bytes", c.activation_bytes}});
  j["parts"] = json::array();
  for (size_t i = 0; i < m.parts.size(); ++i) {
    const auto& p = m.parts[i];
    j["parts"].push_back({{"index", i},
                          {"name", p.name},
                          {"role", p.role},
                          {"file", p.file},
                          {"sha256", p.sha256},
                          {"bytes", p.bytes},
                          {"input_shape", p.input_shape},
                          {"output_shape", p.output_shape}});
  }
  return j.dump(2) + "\n";
}

partition::PartitionManifest partition_from_json(const std::string& text, const std::string& source) {
  json j;
  try {
    j = config::parse_json_document(text);
  } catch (const json::exception& e) {  // parse_error, out_of_range (a number such as 1e400), nesting
    throw UsageError(fmt::format("'{}' is not valid JSON ({}): pass the partition.json written by partplan split",
                                 source, first_line(e.what())));
  }
  if (!j.is_object() || field_or<std::string>(j, "kind", "", source) != "partplan.partition")
    throw UsageError(
        fmt::format("'{}' is not a partplan partition.json (kind != partplan.partition): "
                    "pass the partition.json written by partplan split",
                    source));
  partition::PartitionManifest m;
  m.schema_version = get_field<int>(j, "schema_version", source);
  if (m.schema_version != partition::kPartitionSchemaVersion)
    throw UsageError(fmt::format("'{}' has schema_version {}; this partplan reads version {}: re-run partplan split",
                                 source, m.schema_version, partition::kPartitionSchemaVersion));
  const json tool = get_field<json>(j, "tool", source);
  m.tool_version = field_or<std::string>(tool, "version", "", source);
  m.torch_version = field_or<std::string>(tool, "libtorch", "", source);
  const json model = get_field<json>(j, "model", source);
  m.model_path = get_field<std::string>(model, "path", source);
  m.model_sha256 = get_field<std::string>(model, "sha256", source);
  m.input_shape = get_field<common::Shape>(model, "input_shape", source);
  m.output_shape = get_field<common::Shape>(model, "output_shape", source);
  m.optimize_numerics = field_or(model, "optimize_numerics", false, source);
  for (const auto& c : get_field<json>(j, "cuts", source))
    m.cuts.push_back({get_field<int>(c, "id", source), get_field<std::string>(c, "name", source),
                      field_or<std::string>(c, "scope", "", source), field_or<std::string>(c, "op", "", source),
                      get_field<common::Shape>(c, "shape", source), field_or(c, "activation_bytes", int64_t{0}, source)});
  for (const auto& p : get_field<json>(j, "parts", source)) {
    partition::PartRecord r;
    r.name = get_field<std::string>(p, "name", source);
    r.role = get_field<std::string>(p, "role", source);
    r.file = get_field<std::string>(p, "file", source);
    r.sha256 = get_field<std::string>(p, "sha256", source);
    r.bytes = field_or(p, "bytes", int64_t{0}, source);
    r.input_shape = get_field<common::Shape>(p, "input_shape", source);
    r.output_shape = get_field<common::Shape>(p, "output_shape", source);
    if (r.file.find('/') != std::string::npos || r.file.find("..") != std::string::npos)
      throw UsageError(
          fmt::format("'{}': part file '{}' must be a plain file name next to the sidecar", source, r.file));
    m.parts.push_back(r);
  }
  if (m.parts.size() < 2 || m.parts.size() > 3 || m.cuts.size() + 1 != m.parts.size())
    throw UsageError(
        fmt::format("'{}' lists {} parts and {} cuts; expected 2+1 or 3+2", source, m.parts.size(), m.cuts.size()));
  if (m.input_shape.empty()) throw UsageError(fmt::format("'{}': model.input_shape is empty", source));
  // verify draws random inputs of input_shape: every size positive, and one sample within
  // 2^31 values, so that a hand-edited sidecar cannot ask for unbounded memory.
  int64_t per_sample = 1;
  for (size_t d = 0; d < m.input_shape.size(); ++d) {
    if (m.input_shape[d] < 1 || (d > 0 && m.input_shape[d] > (int64_t{1} << 31) / per_sample))
      throw UsageError(fmt::format("'{}': model.input_shape {} is not a shape of positive sizes within 2^31 values "
                                   "per sample: produce the file with partplan split",
                                   source, common::format_shape(m.input_shape)));
    if (d > 0) per_sample *= m.input_shape[d];
  }
  return m;
}

std::optional<std::string> plan_sidecar_path(const std::string& text, const std::string& source) {
  if (!is_plan_json(text)) return std::nullopt;  // the caller reads it as a partition.json
  const auto plan = plan_from_json(text, source);
  if (plan.partitions.empty())
    throw UsageError(
        fmt::format("plan '{}' has no exported partitions: run partplan assess with --export DIR, "
                    "then verify that plan or DIR",
                    source));
  const std::string& first = plan.partitions.front().file;
  const auto slash = first.find_last_of('/');
  return (slash == std::string::npos ? std::string(".") : first.substr(0, slash)) + "/partition.json";
}

std::string split_summary(const partition::PartitionManifest& m, const std::string& dir) {
  std::string out = fmt::format("{} split of {} at", m.parts.size() == 3 ? "ternary" : "binary", m.model_path);
  for (const auto& c : m.cuts) out += fmt::format(" [{}] {}", c.id, c.name);
  out += fmt::format(" -> {}\n", dir);
  for (const auto& p : m.parts)
    out += fmt::format("  {:<7} {:<10} {:<10} {:>10}  {} -> {}  sha256 {}\n", p.name, p.role, p.file,
                       common::format_bytes(static_cast<double>(p.bytes)), common::format_shape(p.input_shape),
                       common::format_shape(p.output_shape), p.sha256.substr(0, 16));
  return out;
}

std::string verify_text(const partition::PartitionManifest& m, const partition::VerifyResult& r, double tol) {
  std::string out;
  for (const auto& f : r.files_checked) out += fmt::format("sha256 ok   {}\n", f);
  out += fmt::format(
      "composed {} parts vs original on {} random inputs: max abs error {:.3e}, max rel error "
      "{:.3e} (tolerance {:.1e}){}\n",
      m.parts.size(), r.samples, r.max_abs_error, r.max_rel_error, tol, r.bit_exact ? ", bit-exact" : "");
  out += r.passed ? "PASS\n" : "FAIL: error above tolerance\n";
  return out;
}

std::string verify_json(const partition::PartitionManifest& m, const partition::VerifyResult& r, double tol) {
  json j;
  j["schema_version"] = 1;
  j["tool"] = tool_json();
  j["files_checked"] = r.files_checked;
  j["parts"] = m.parts.size();
  j["samples"] = r.samples;
  j["max_abs_error"] = r.max_abs_error;
  j["max_rel_error"] = r.max_rel_error;
  j["tolerance"] = tol;
  j["bit_exact"] = r.bit_exact;
  j["passed"] = r.passed;
  return j.dump(2) + "\n";
}

}  // namespace partplan::report
