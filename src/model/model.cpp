// Loads a TorchScript archive, freezes and inlines it, and finds its cut points.
//
// Cut points follow docs/cut-points.md: walk the top-level nodes of the frozen, inlined
// forward graph in order (constants skipped), record where each value is defined and last
// used (a use inside an If/Loop block counts at its top-level owner, the graph input at -1),
// and keep the positions crossed by exactly one tensor and nothing else, deduplicated by
// tensor. One probe forward at the input shape gives every activation's shape, from which
// FLOPs, parameter bytes and activation bytes are derived (see flops.cpp).
#include <ATen/Parallel.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/cuda.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>
#include <unordered_set>

#include "partplan/common/strings.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/common/log.hpp"
#include "partplan/model/jit_graph.hpp"
#include "src/model/flops.hpp"
#include "src/model/op_kinds.hpp"
#include "src/model/torch_compat.hpp"

namespace fs = std::filesystem;

namespace partplan::model {

using torch::jit::Node;
using torch::jit::Value;


namespace {

void check_archive(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError("model file '" + path + "' not found: check the path");
  if (fs::is_directory(path, ec)) throw IoError("model path '" + path + "' is a directory: pass the .pt file itself");
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {0, 0, 0, 0};
  in.read(magic, 4);
  if (!in || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4)
    throw ModelError("'" + path +
                     "' is not a TorchScript archive (zip header missing): export it with "
                     "torch.jit.script or torch.jit.trace and save it with torch.jit.save");
}

std::optional<common::Shape> shape_from_extra(const std::string& text) {
  // {"input_shape": [1, 3, 224, 224]} written by scripts/export_models.py.
  std::smatch m;
  static const std::regex re("\"input_shape\"\\s*:\\s*\\[([0-9,\\s]+)\\]");
  if (!std::regex_search(text, m, re)) return std::nullopt;
  try {
    return common::parse_shape(m[1].str());
  } catch (const Error&) {
    return std::nullopt;
  }
}

std::optional<int64_t> record_features_from_extra(const std::string& text) {
  // {"record_features": 44} written by scripts/export_models.py for record models.
  std::smatch m;
  static const std::regex re("\"record_features\"\\s*:\\s*([0-9]+)");
  if (!std::regex_search(text, m, re)) return std::nullopt;
  return std::stoll(m[1].str());
}

std::string scope_of(const Node* n) {
  std::string out;
  auto cs = n->callstack();
  while (cs) {
    if (auto mi = (*cs)->module_instance()) {
      const std::string name = mi->instance_name();
      if (!name.empty() && name != "SELF") out += (out.empty() ? "" : ".") + name;
    }
    cs = (*cs)->callee();
  }
  return out;
}

std::vector<std::string> split_dots(const std::string& s) { return common::split(s, '.', /*skip_empty_input=*/true); }

bool is_tensor(const Value* v) { return v->type()->kind() == c10::TypeKind::TensorType; }

std::string op_short(const Node* n) {
  std::string s = n->kind().toUnqualString();
  return s;
}

std::string dtype_name(const at::Tensor& t) {
  std::string s = c10::toString(t.scalar_type());
  if (s == "Float") return "float32";
  if (s == "Double") return "float64";
  if (s == "Half") return "float16";
  if (s == "BFloat16") return "bfloat16";
  if (s == "Long") return "int64";
  if (s == "Int") return "int32";
  if (s == "Byte") return "uint8";
  if (s == "Bool") return "bool";
  return s;
}

void check_signature(const torch::jit::Module& m, const std::string& path) {
  auto method = m.find_method("forward");
  if (!method) throw ModelError("'" + path + "' has no forward method: export the model itself, not a bare function");
  const auto& schema = method->function().getSchema();
  const auto& args = schema.arguments();
  std::vector<std::string> names;
  for (size_t i = 1; i < args.size(); ++i) names.push_back(args[i].name() + ": " + args[i].type()->str());
  if (args.size() != 2)
    throw ModelError(
        fmt::format("'{}' forward takes {} inputs ({}); unsupported: partplan needs exactly one tensor input", path,
                    args.size() - 1, fmt::join(names, ", ")));
  if (args[1].type()->kind() != c10::TypeKind::TensorType)
    throw ModelError(
        fmt::format("'{}' forward input is {}; unsupported: partplan needs one tensor input", path, names[0]));
  const auto& rets = schema.returns();
  if (rets.size() != 1 || rets[0].type()->kind() != c10::TypeKind::TensorType)
    throw ModelError(
        fmt::format("'{}' forward returns {}; unsupported: partplan needs a single tensor output "
                    "(wrap the model so that forward returns one tensor)",
                    path, rets.empty() ? std::string("nothing") : rets[0].type()->str()));
}

common::Shape infer_input_shape(const Model::Impl& impl) {
  Value* x = impl.graph->inputs()[1];
  for (Node* n : impl.nodes) {
    bool uses_x = std::any_of(n->inputs().begin(), n->inputs().end(), [&](Value* v) { return v == x; });
    if (!uses_x) continue;
    auto weight_of = [&]() -> std::optional<at::Tensor> {
      if (n->inputs().size() < 2) return std::nullopt;
      auto iv = torch::jit::toIValue(n->inputs()[1]);
      if (!iv || !iv->isTensor()) return std::nullopt;
      return iv->toTensor();
    };
    const std::string kind = n->kind().toQualString();
    if (op_kind(kind) == OpKind::kLinear) {
      if (auto w = weight_of()) return {1, w->size(1)};
    }
    if (op_kind(kind) == OpKind::kConvolution) {
      if (auto w = weight_of()) {
        const int64_t c = w->size(1);
        const char* spatial = w->dim() == 3 ? "L" : (w->dim() == 5 ? "D,H,W" : "H,W");
        throw UsageError(
            fmt::format("cannot infer the input shape of '{}': its first layer ({}) takes {} channels but {} "
                        "is not recorded; pass --input-shape 1,{},{}",
                        impl.path, kind, c, spatial, c, spatial));
      }
    }
    if (kind == "aten::dim" || kind == "aten::size" || kind == "prim::If") continue;  // shape guards
    break;
  }
  throw UsageError("cannot infer the input shape of '" + impl.path +
                   "': pass --input-shape N,C,H,W (for example 1,3,224,224)");
}

struct Life {
  int def = 0;
  int last = 0;
};

/// Pass 1, liveness: every top-level value (the input first) with the node positions where it
/// is defined and last used; the graph's return counts as position n_nodes.
struct Liveness {
  std::vector<Value*> values;
  std::unordered_map<const Value*, Life> life;
};

Liveness liveness(const Model::Impl& impl, Value* x) {
  auto& g = *impl.graph;
  const int n_nodes = static_cast<int>(impl.nodes.size());
  std::unordered_map<const Node*, int> pos;
  for (int i = 0; i < n_nodes; ++i) pos[impl.nodes[i]] = i;
  auto top_position = [&](Node* user) -> int {
    while (user->owningBlock() != g.block()) user = user->owningBlock()->owningNode();
    if (user == g.return_node()) return n_nodes;
    return pos.at(user);
  };
  Liveness l;
  l.values.push_back(x);
  l.life[x] = {-1, -1};
  for (int i = 0; i < n_nodes; ++i)
    for (Value* v : impl.nodes[i]->outputs()) {
      l.values.push_back(v);
      l.life[v] = {i, i};
    }
  for (Value* v : l.values)
    for (const auto& use : v->uses()) l.life[v].last = std::max(l.life[v].last, top_position(use.user));
  return l;
}

/// The input shape: flag > archive metadata > inference from the first layer.
void resolve_input_shape(Model::Impl& impl) {
  auto& s = impl.summary;
  if (impl.options.input_shape) {
    s.input_shape = *impl.options.input_shape;
    s.input_shape_source = "flag";
  } else if (!s.input_shape.empty()) {  // read from the archive's partplan.json in load()
    s.input_shape_source = "archive";
  } else {
    s.input_shape = infer_input_shape(impl);
    s.input_shape_source = "inferred";
  }
}

/// Pass 2, probe: one forward records the tensor of every top-level activation (and the
/// input). Throws UsageError when the model rejects the input shape.
std::unordered_map<const Value*, at::Tensor> probe_activations(Model::Impl& impl, Value* x) {
  const auto& s = impl.summary;
  std::vector<Value*> probe_values;
  // prim::Uninitialized stands for a value of a branch that raises (scripted transformers
  // have one at top level): typed Tensor, but it never holds one, so it is not probed.
  for (Node* n : impl.nodes)
    if (n->kind() != c10::prim::Uninitialized)
      for (Value* v : n->outputs())
        if (is_tensor(v)) probe_values.push_back(v);
  std::unordered_map<const Value*, at::Tensor> probe;
  torch::NoGradGuard no_grad;
  const int64_t total = common::numel(s.input_shape);
  at::Tensor input = torch::linspace(0.0, 1.0, total).reshape(s.input_shape).to(torch::Device(impl.options.device));
  c10::IValue result;
  try {
    auto probe_module = build_submodule(impl, 0, impl.nodes.size(), x, probe_values, "Probe");
    result = probe_module.forward({input});
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw UsageError(
        fmt::format("'{}' rejects input shape {} ({}): {}; pass the shape it expects with --input-shape N,C,H,W",
                    impl.path, common::format_shape(s.input_shape), s.input_shape_source, compat::error_text(e)));
  }
  // A value typed Tensor may still hold something else at run time (an optional left
  // unset): it is then not recorded, and so never a cut.
  if (probe_values.size() == 1) {
    if (result.isTensor()) probe[probe_values[0]] = result.toTensor();
  } else {
    auto elems = result.toTuple()->elements();
    for (size_t i = 0; i < probe_values.size(); ++i)
      if (elems[i].isTensor()) probe[probe_values[i]] = elems[i].toTensor();
  }
  probe[x] = torch::empty(s.input_shape);
  return probe;
}

/// Bytes per sample of a probe tensor of batch `batch`.
int64_t per_sample_bytes(const at::Tensor& t, int64_t batch) {
  const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
  return (t.dim() > 0 && t.size(0) == batch && batch > 0) ? bytes / batch : bytes;
}

/// Pass 3, cost: per node, its FLOPs and first-used weights (flops.hpp), and its working set,
/// the bytes of the values live across it plus its own outputs.
struct Costs {
  std::vector<NodeCost> node;
  std::vector<int64_t> working;
};

Costs node_costs(const Model::Impl& impl, const Liveness& l, const std::unordered_map<const Value*, at::Tensor>& probe,
                 Value* x) {
  const int n_nodes = static_cast<int>(impl.nodes.size());
  const int64_t batch = impl.summary.input_shape[0];
  Costs c;
  c.node.resize(static_cast<size_t>(n_nodes));
  std::unordered_set<const Value*> seen_params;
  for (int i = 0; i < n_nodes; ++i)
    c.node[static_cast<size_t>(i)] = node_cost(impl.nodes[i], probe, batch, seen_params);
  c.working.assign(static_cast<size_t>(n_nodes), 0);
  for (Value* v : l.values) {
    auto it = probe.find(v);
    if (it == probe.end() || v == x) continue;
    const Life& life = l.life.at(v);
    const int64_t b = per_sample_bytes(it->second, batch);
    for (int i = life.def; i <= std::min(life.last, n_nodes - 1); ++i) c.working[static_cast<size_t>(i)] += b;
  }
  const int64_t xb = per_sample_bytes(probe.at(x), batch);
  for (int i = 0; i <= std::min(l.life.at(x).last, n_nodes - 1); ++i) c.working[static_cast<size_t>(i)] += xb;
  return c;
}

/// Pass 4, naming: a cut after node p is named by the module scopes it leaves (its exits):
/// the scope prefix up to the first component the next node does not share; a cut inside
/// one scope is "scope:op". A block cut leaves a module at depth <= block_depth.
void name_cut(CutPoint& c, const Model::Impl& impl, const Node* producer, int p, std::vector<std::string>& used) {
  const auto pc = split_dots(c.scope);
  const auto qc = split_dots(scope_of(impl.nodes[static_cast<size_t>(p + 1)]));
  size_t k = 0;
  while (k < pc.size() && k < qc.size() && pc[k] == qc[k]) ++k;
  std::string name;
  if (!pc.empty() && k < pc.size()) {
    for (size_t i = 0; i <= k; ++i) name += (i ? "." : "") + pc[i];
    for (size_t len = k + 1; len <= pc.size(); ++len) {
      std::string prefix;
      for (size_t i = 0; i < len; ++i) prefix += (i ? "." : "") + pc[i];
      c.exits.push_back(prefix);
    }
    c.is_block = static_cast<int>(k + 1) <= impl.options.block_depth;
  } else {
    name = c.scope.empty() ? op_short(producer) : c.scope + ":" + op_short(producer);
  }
  std::string unique = name;
  for (int dup = 2; std::find(used.begin(), used.end(), unique) != used.end(); ++dup)
    unique = name + "#" + std::to_string(dup);
  used.push_back(unique);
  c.name = unique;
}

// torch.jit.freeze keeps an attribute that alias analysis cannot prove read-only, for example a
// parameter that a scripted fast-path check puts in a tuple (torch 2.x's
// nn.TransformerEncoderLayer does that with its attention weights). When no node of the graph
// writes an attribute (no prim::SetAttr), every read is of a constant: fold each
// self.a.b...x chain into the value itself, as freezing would have, so the graph no longer
// reads `self` and parts can be cut from it. Returns the number of reads folded.
int fold_read_only_attributes(torch::jit::Graph& g, const torch::jit::Module& frozen) {
  std::vector<Node*> reads;
  bool writes = false;
  std::function<void(torch::jit::Block*)> visit = [&](torch::jit::Block* b) {
    for (Node* n : b->nodes()) {
      if (n->kind() == c10::prim::SetAttr) writes = true;
      if (n->kind() == c10::prim::GetAttr) reads.push_back(n);
      for (auto* sub : n->blocks()) visit(sub);
    }
  };
  visit(g.block());
  if (writes || reads.empty()) return 0;
  std::unordered_map<const Value*, c10::IValue> objects{{g.inputs()[0], frozen._ivalue()}};
  int folded = 0;
  for (Node* n : reads) {  // in program order, so an object is resolved before its reads
    auto it = objects.find(n->input(0));
    if (it == objects.end() || !it->second.isObject()) continue;
    c10::IValue attr = it->second.toObject()->getAttr(n->s(c10::attr::name));
    if (attr.isObject()) {
      objects.emplace(n->output(), attr);
      continue;
    }
    // A graph constant cannot require grad; freezing detaches the parameters it folds too.
    if (attr.isTensor()) attr = attr.toTensor().detach();
    torch::jit::WithInsertPoint guard(n);
    auto constant = g.insertConstant(attr);
    n->output()->replaceAllUsesWith(constant);
    ++folded;
  }
  torch::jit::EliminateDeadCode(g.block());
  return folded;
}

void analyse(Model::Impl& impl) {
  auto& g = *impl.graph;
  for (Node* n : g.nodes())
    if (!is_constant_like(n)) impl.nodes.push_back(n);
  const int n_nodes = static_cast<int>(impl.nodes.size());
  if (n_nodes == 0) throw ModelError("'" + impl.path + "' has an empty forward graph after freezing");

  Value* self = g.inputs()[0];
  if (!self->uses().empty())
    throw ModelError("'" + impl.path + "' still reads module attributes after freezing (mutable state); unsupported");
  Value* x = g.inputs()[1];

  const Liveness l = liveness(impl, x);
  resolve_input_shape(impl);
  const auto probe = probe_activations(impl, x);
  auto& s = impl.summary;
  const int64_t batch = s.input_shape[0];
  Value* out = g.outputs()[0];
  if (probe.count(out)) {
    const auto& t = probe.at(out);
    s.output_shape = to_shape(t);
    s.output_bytes = per_sample_bytes(t, batch);
  }
  const Costs costs = node_costs(impl, l, probe, x);

  // Cuts: after each node where exactly one tensor is live, cumulating the cost along the order.
  std::unordered_set<const Value*> taken;
  double cum_flops = 0, cum_approx = 0;
  int64_t cum_params = 0, peak = 0;
  std::vector<std::string> used_names;
  for (int p = 0; p < n_nodes; ++p) {
    const auto& nc = costs.node[static_cast<size_t>(p)];
    cum_flops += nc.flops;
    cum_approx += nc.flops_approx;
    cum_params += nc.param_bytes;
    peak = std::max(peak, costs.working[static_cast<size_t>(p)]);
    if (p == n_nodes - 1) break;
    Value* live = nullptr;
    int count = 0;
    for (Value* v : l.values) {
      const Life& life = l.life.at(v);
      if (life.def <= p && life.last > p && ++count == 1) live = v;
      if (count > 1) break;
    }
    if (count != 1 || live == x || !is_tensor(live) || taken.count(live) || !probe.count(live)) continue;
    taken.insert(live);

    CutPoint c;
    c.id = static_cast<int>(impl.cut_values.size());
    c.position = p;
    Node* producer = live->node();
    c.scope = scope_of(producer);
    c.op = producer->kind().toQualString();
    const at::Tensor& t = probe.at(live);
    c.shape = to_shape(t);
    c.dtype = dtype_name(t);
    c.activation_bytes = per_sample_bytes(t, batch);
    c.front_flops = cum_flops;
    c.front_flops_approx = cum_approx;
    c.front_param_bytes = cum_params;
    c.front_peak_activation_bytes = peak;
    name_cut(c, impl, producer, p, used_names);
    s.cuts.push_back(c);
    impl.cut_values.push_back(live);
  }
  // The classifier head: the last node with weights (op_kinds.hpp).
  int last_weight_node = -1;
  for (int i = 0; i < n_nodes; ++i)
    if (has_weights(op_kind(impl.nodes[i]->kind().toQualString()))) last_weight_node = i;
  for (const auto& c : s.cuts)
    if (c.position < last_weight_node) s.classifier_input_cut = c.id;
  s.total_flops = cum_flops;
  s.total_flops_approx = cum_approx;
  s.total_param_bytes = cum_params;
  s.node_count = n_nodes;
}

}  // namespace

Model Model::load(const std::string& path, const LoadOptions& options) {
  check_archive(path);
  auto impl = std::make_shared<Impl>();
  impl->path = path;
  impl->options = options;
  impl->summary.path = path;

  torch::jit::ExtraFilesMap extra{{"partplan.json", ""}};
  try {
    impl->original = torch::jit::load(path, torch::Device(options.device), extra);
  } catch (const std::exception& e) {
    if (auto newer = compat::newer_archive_reason(e)) throw UnsupportedModelError("'" + path + "' " + *newer);
    throw ModelError("cannot load '" + path + "' as TorchScript: " + compat::error_text(e) +
                     "; the archive may be truncated or corrupt, or saved by a newer PyTorch: re-export it");
  }
  if (auto shape = shape_from_extra(extra["partplan.json"])) impl->summary.input_shape = *shape;
  impl->summary.record_features = record_features_from_extra(extra["partplan.json"]);
  check_signature(impl->original, path);
  impl->original.eval();

  try {
    impl->frozen = torch::jit::freeze(impl->original.clone(), compat::kNullopt, options.optimize_numerics);
    impl->graph = impl->frozen.get_method("forward").graph();
    torch::jit::Inline(*impl->graph);
    if (int folded = fold_read_only_attributes(*impl->graph, impl->frozen))
      log::debug("{}: folded {} attribute read(s) that freezing kept", path, folded);
  } catch (const std::exception& e) {
    throw ModelError("cannot freeze '" + path + "': " + compat::error_text(e) +
                     "; partplan needs a model that torch.jit.freeze accepts");
  }
  analyse(*impl);
  impl->summary.sha256 = common::sha256_file(path);

  Model m;
  m.impl_ = std::move(impl);
  return m;
}

const ModelSummary& Model::summary() const { return impl_->summary; }

Model Model::on_cpu() const {
  if (impl_->options.device == "cpu") return *this;
  if (!impl_->cpu_copy) {
    LoadOptions lo = impl_->options;
    lo.device = "cpu";
    Model copy = load(impl_->path, lo);
    const auto& a = impl_->summary;
    const auto& b = copy.summary();
    if (b.sha256 != a.sha256)
      throw IntegrityError(fmt::format("'{}' changed while partplan ran (sha256 {}... when loaded, {}... now): "
                                       "keep the model file unchanged during an assessment",
                                       impl_->path, a.sha256.substr(0, 12), b.sha256.substr(0, 12)));
    bool same = a.cuts.size() == b.cuts.size();
    for (size_t i = 0; same && i < a.cuts.size(); ++i) same = a.cuts[i].name == b.cuts[i].name;
    if (!same)
      throw ModelError(fmt::format("'{}' has {} cuts on {} but {} on the CPU: its graph depends on the device; "
                                   "run with --device cpu",
                                   impl_->path, a.cuts.size(), impl_->options.device, b.cuts.size()));
    impl_->cpu_copy = copy.impl_;
  }
  Model m;
  m.impl_ = impl_->cpu_copy;
  return m;
}
const LoadOptions& Model::options() const { return impl_->options; }

std::string torch_version() { return TORCH_VERSION; }

}  // namespace partplan::model
