#pragma once
// JIT internals shared by model/ and partition/ only: the frozen graph, its top-level node
// order, and the sub-graph builder every part and extractor is made with. Includes torch:
// never include this from a widely used header.

#include <torch/script.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "partplan/model/model.hpp"

namespace partplan::model {

struct Model::Impl {
  std::string path;
  LoadOptions options;
  torch::jit::Module original;  ///< as loaded, eval mode
  torch::jit::Module frozen;    ///< frozen + inlined
  std::shared_ptr<torch::jit::Graph> graph;
  std::vector<torch::jit::Node*> nodes;        ///< top-level nodes, constants skipped, in order
  std::vector<torch::jit::Value*> cut_values;  ///< per cut id: the live tensor
  ModelSummary summary;
  std::shared_ptr<Model::Impl> cpu_copy;  ///< Model::on_cpu()'s copy, once made
};

/// Build a standalone module "__torch__.<class_name>" whose forward(x) runs top-level nodes
/// [begin, end) of `impl.graph`, with `input` (the graph input or a cut tensor) bound to x,
/// and returns `outputs` (a tuple when more than one). With clone_outputs each output is
/// copied (aten::clone) so later in-place ops of the same forward cannot change it.
/// Throws ModelError when a node needs a value that crosses the range other than `input`.
torch::jit::Module build_submodule(const Model::Impl& impl, size_t begin, size_t end, torch::jit::Value* input,
                                   const std::vector<torch::jit::Value*>& outputs, const std::string& class_name,
                                   bool clone_outputs = false);

/// A node that carries no data and depends on nothing: prim::Constant, and
/// prim::Uninitialized, the value TorchScript gives a variable that one branch of an If does
/// not assign (torch 2.x's nn.TransformerEncoderLayer has one). Such nodes are not positions
/// of the node order; every part gets its own copy.
inline bool is_constant_like(const torch::jit::Node* n) {
  return n->kind() == c10::prim::Constant || n->kind() == c10::prim::Uninitialized;
}

/// Shape of a tensor as a common::Shape.
common::Shape to_shape(const at::Tensor& t);

}  // namespace partplan::model
