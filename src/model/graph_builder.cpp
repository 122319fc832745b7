// Builds standalone TorchScript modules from a range of the frozen graph's top-level nodes.
// Every part written by `split` and every feature extractor is made here: a new Graph with a
// `self` of the new module type and one tensor input, clones of all constants and of the
// range's nodes (sub-blocks included), the requested outputs, then dead-code elimination.
// To support a new kind of part, call build_submodule with another range and outputs.
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/shape_analysis.h>

#include <fmt/format.h>

#include "partplan/common/error.hpp"
#include "partplan/model/jit_graph.hpp"

namespace partplan::model {

using torch::jit::Graph;
using torch::jit::Node;
using torch::jit::Value;

common::Shape to_shape(const at::Tensor& t) { return common::Shape(t.sizes().begin(), t.sizes().end()); }

torch::jit::Module build_submodule(const Model::Impl& impl, size_t begin, size_t end, Value* input,
                                   const std::vector<Value*>& outputs, const std::string& class_name,
                                   bool clone_outputs) {
  torch::jit::Module module(c10::QualifiedName("__torch__." + class_name));
  module.register_attribute("training", c10::BoolType::get(), false);

  auto g = std::make_shared<Graph>();
  Value* self = g->addInput("self");
  self->setType(module.type());
  Value* x = g->addInput("x");
  x->setType(c10::TensorType::get());

  std::unordered_map<Value*, Value*> vmap;
  vmap[impl.graph->inputs()[0]] = self;
  vmap[input] = x;
  auto lookup = [&](Value* v) -> Value* {
    auto it = vmap.find(v);
    if (it == vmap.end())
      throw ModelError(
          fmt::format("cannot build part '{}': value %{} (from {}) crosses the cut; this position is not a valid cut",
                      class_name, v->debugName(), v->node()->kind().toQualString()));
    return it->second;
  };

  for (Node* n : impl.graph->nodes()) {
    if (!is_constant_like(n)) continue;
    Node* c = g->appendNode(g->createClone(n, lookup));
    vmap[n->output()] = c->output();
  }
  for (size_t i = begin; i < end; ++i) {
    Node* n = impl.nodes[i];
    Node* c = g->appendNode(g->createClone(n, lookup));
    for (size_t k = 0; k < n->outputs().size(); ++k) vmap[n->outputs()[k]] = c->outputs()[k];
  }

  std::vector<Value*> outs;
  for (Value* v : outputs) {
    Value* o = lookup(v);
    if (clone_outputs) {
      Node* cl = g->create(c10::aten::clone, {o, g->insertConstant(c10::IValue())});
      g->appendNode(cl);
      o = cl->output();
      o->setType(c10::TensorType::get());
    }
    outs.push_back(o);
  }
  if (outs.size() == 1) {
    g->registerOutput(outs[0]);
  } else {
    Node* tup = g->appendNode(g->createTuple(outs));
    g->registerOutput(tup->output());
  }
  torch::jit::EliminateDeadCode(g);
  torch::jit::EraseShapeInformation(g);
  g->lint();

  auto* fn =
      module._ivalue()->compilation_unit()->create_function(c10::QualifiedName(*module.type()->name(), "forward"), g);
  module.type()->addMethod(fn);
  return module;
}

}  // namespace partplan::model
