// FLOP and parameter accounting per node. To count a new op exactly, add a case to
// exact_flops() that derives its multiply-adds from the operand shapes.
#include "src/model/flops.hpp"

#include "src/model/op_kinds.hpp"
#include "src/model/torch_compat.hpp"

#include <optional>
#include <string>

namespace partplan::model {
namespace {

using torch::jit::Node;
using torch::jit::Value;

std::optional<at::Tensor> tensor_of(const Value* v, const std::unordered_map<const Value*, at::Tensor>& acts) {
  auto it = acts.find(v);
  if (it != acts.end()) return it->second;
  if (v->node()->kind() == c10::prim::Constant) {
    auto iv = torch::jit::toIValue(v);
    if (iv && iv->isTensor()) return iv->toTensor();
  }
  return std::nullopt;
}

void count_params(const Node* n, std::unordered_set<const Value*>& seen, int64_t& bytes) {
  for (const Value* v : n->inputs()) {
    if (v->node()->kind() != c10::prim::Constant || seen.count(v)) continue;
    auto iv = torch::jit::toIValue(v);
    if (iv && iv->isTensor()) {
      seen.insert(v);
      const auto& t = iv->toTensor();
      bytes += t.numel() * static_cast<int64_t>(t.element_size());
    }
  }
  for (const auto* b : n->blocks())
    for (const Node* inner : b->nodes()) count_params(inner, seen, bytes);
}

// Multiply-add based count for a batch; nullopt when the op is not one we count exactly.
std::optional<double> exact_flops(const Node* n, const std::unordered_map<const Value*, at::Tensor>& acts) {
  const std::string kind = n->kind().toQualString();
  const OpKind op = op_kind(kind);
  auto out = n->outputs().empty() ? std::nullopt : tensor_of(n->output(0), acts);
  if (op == OpKind::kConvolution) {
    auto w = tensor_of(n->inputs()[1], acts);
    if (!w || !out) return std::nullopt;
    // Transposed convolutions (_convolution with transposed=true) scale with the input instead.
    double per_out = 1;
    for (int64_t d = 1; d < w->dim(); ++d) per_out *= static_cast<double>(w->size(d));
    bool transposed = false;
    if (kind == "aten::_convolution" || kind == "aten::convolution") {
      // By the schema's argument name, not its position.
      compat::Optional<c10::IValue> tr;
      if (n->maybeSchema()) tr = n->get(c10::Symbol::attr("transposed"));
      transposed = tr && tr->isBool() && tr->toBool();
    }
    if (transposed) {
      auto in = tensor_of(n->inputs()[0], acts);
      if (!in) return std::nullopt;
      return 2.0 * static_cast<double>(in->numel()) * static_cast<double>(w->numel() / w->size(0));
    }
    return 2.0 * static_cast<double>(out->numel()) * per_out;
  }
  if (op == OpKind::kLinear) {
    auto w = tensor_of(n->inputs()[1], acts);
    if (!w || !out) return std::nullopt;
    return 2.0 * static_cast<double>(out->numel()) * static_cast<double>(w->size(1));
  }
  if (op == OpKind::kMatmul) {
    auto a = tensor_of(n->inputs()[0], acts);
    if (!a || !out || a->dim() == 0) return std::nullopt;
    return 2.0 * static_cast<double>(out->numel()) * static_cast<double>(a->size(-1));
  }
  if (op == OpKind::kAddmm) {
    auto a = tensor_of(n->inputs()[1], acts);
    if (!a || !out || a->dim() == 0) return std::nullopt;
    return 2.0 * static_cast<double>(out->numel()) * static_cast<double>(a->size(-1));
  }
  return std::nullopt;
}

}  // namespace

NodeCost node_cost(const Node* node, const std::unordered_map<const Value*, at::Tensor>& acts, int64_t batch,
                   std::unordered_set<const Value*>& seen_params) {
  NodeCost c;
  count_params(node, seen_params, c.param_bytes);
  const double per = batch > 0 ? 1.0 / static_cast<double>(batch) : 1.0;
  if (auto f = exact_flops(node, acts)) {
    c.flops = *f * per;
    return c;
  }
  const std::string kind = node->kind().toQualString();
  if (op_kind(kind) == OpKind::kView && node->blocks().empty()) return c;
  double elems = 0;
  for (const Value* v : node->outputs())
    if (auto t = tensor_of(v, acts)) elems += static_cast<double>(t->numel());
  const bool norm = kind.find("norm") != std::string::npos;
  c.flops = c.flops_approx = elems * (norm ? 2.0 : 1.0) * per;
  return c;
}

}  // namespace partplan::model
