// Exports the parts of a split. Each part is a module built from a range of the frozen
// graph's top-level nodes (model::build_submodule), saved as TorchScript. A ternary split
// puts the output-side part back in the enclave.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/model/jit_graph.hpp"
#include "partplan/partition/partition.hpp"

namespace fs = std::filesystem;

namespace partplan::partition {

PartitionManifest export_parts(const model::Model& model, std::vector<int> cut_ids, common::StagedDir& out) {
  const auto& impl = model.impl();
  const auto& s = model.summary();
  std::sort(cut_ids.begin(), cut_ids.end());
  if (cut_ids.empty() || cut_ids.size() > 2)
    throw UsageError(fmt::format("split takes 1 cut (two parts) or 2 cuts (three parts), got {}", cut_ids.size()));
  if (cut_ids.size() == 2 && cut_ids[0] == cut_ids[1])
    throw UsageError(fmt::format("the two cuts of a ternary split must differ (both are {})", cut_ids[0]));

  PartitionManifest m;
  m.tool_version = kVersion;
  m.torch_version = model::torch_version();
  m.model_path = fs::absolute(s.path).lexically_normal().string();
  m.model_sha256 = s.sha256;
  m.input_shape = s.input_shape;
  m.output_shape = s.output_shape;
  m.optimize_numerics = model.options().optimize_numerics;

  for (int id : cut_ids) {
    const auto& c = s.cuts.at(static_cast<size_t>(id));
    m.cuts.push_back({c.id, c.name, c.scope, c.op, c.shape, c.activation_bytes});
  }

  const bool ternary = cut_ids.size() == 2;
  const std::vector<std::string> names =
      ternary ? std::vector<std::string>{"front", "middle", "back"} : std::vector<std::string>{"front", "back"};
  const std::vector<std::string> roles = ternary ? std::vector<std::string>{"enclave", "untrusted", "enclave"}
                                                 : std::vector<std::string>{"enclave", "untrusted"};
  torch::jit::Value* input = impl.graph->inputs()[1];
  size_t begin = 0;
  common::Shape in_shape = s.input_shape;
  for (size_t k = 0; k < names.size(); ++k) {
    const bool last = k + 1 == names.size();
    const auto* cut = last ? nullptr : &s.cuts.at(static_cast<size_t>(cut_ids[k]));
    torch::jit::Value* output = last ? impl.graph->outputs()[0] : impl.cut_values.at(static_cast<size_t>(cut->id));
    const size_t end = last ? impl.nodes.size() : static_cast<size_t>(cut->position) + 1;
    std::string class_name = names[k];
    class_name[0] = static_cast<char>(std::toupper(class_name[0]));
    auto part = model::build_submodule(impl, begin, end, input, {output}, class_name);

    PartRecord rec;
    rec.name = names[k];
    rec.role = roles[k];
    rec.file = names[k] + ".pt";
    rec.input_shape = in_shape;
    rec.output_shape = last ? s.output_shape : cut->shape;
    const std::string path = out.add(rec.file);
    try {
      part.save(path);
    } catch (const std::exception& e) {
      throw IoError("cannot save part '" + rec.file + "' into '" + out.target() + "': " + first_line(e.what()));
    }
    rec.sha256 = common::sha256_file(path);
    rec.bytes = static_cast<int64_t>(fs::file_size(path));
    m.parts.push_back(rec);

    input = output;
    begin = end;
    in_shape = rec.output_shape;
  }
  return m;
}

}  // namespace partplan::partition
