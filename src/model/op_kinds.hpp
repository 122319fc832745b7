#pragma once
// One table of the op kinds model analysis tells apart. The FLOP count, the classifier-head
// search and input-shape inference all ask it, so they agree on which ops carry weights.
// To count a new op exactly, give it a kind here and a case in flops.cpp.

#include <string_view>

namespace partplan::model {

enum class OpKind {
  kConvolution,  ///< aten::conv1d/2d/3d, aten::_convolution, aten::convolution (weight = input 1)
  kLinear,       ///< aten::linear (weight = input 1, [out, in])
  kMatmul,       ///< aten::matmul, aten::mm, aten::bmm
  kAddmm,        ///< aten::addmm (bias + a @ b; a = input 1)
  kView,         ///< free: views, reshapes, dropout, dtype moves, and every prim:: op
  kOther,        ///< any other tensor op: estimated (one FLOP per output element)
};

/// The kind of a qualified op name ("aten::conv2d").
inline OpKind op_kind(std::string_view kind) {
  struct Entry {
    std::string_view name;
    OpKind kind;
  };
  static constexpr Entry kTable[] = {
      {"aten::conv1d", OpKind::kConvolution},
      {"aten::conv2d", OpKind::kConvolution},
      {"aten::conv3d", OpKind::kConvolution},
      {"aten::_convolution", OpKind::kConvolution},
      {"aten::convolution", OpKind::kConvolution},
      {"aten::linear", OpKind::kLinear},
      {"aten::matmul", OpKind::kMatmul},
      {"aten::mm", OpKind::kMatmul},
      {"aten::bmm", OpKind::kMatmul},
      {"aten::addmm", OpKind::kAddmm},
      {"aten::view", OpKind::kView},
      {"aten::reshape", OpKind::kView},
      {"aten::flatten", OpKind::kView},
      {"aten::dropout", OpKind::kView},
      {"aten::dropout_", OpKind::kView},
      {"aten::feature_dropout", OpKind::kView},
      {"aten::contiguous", OpKind::kView},
      {"aten::unsqueeze", OpKind::kView},
      {"aten::squeeze", OpKind::kView},
      {"aten::permute", OpKind::kView},
      {"aten::transpose", OpKind::kView},
      {"aten::t", OpKind::kView},
      {"aten::detach", OpKind::kView},
      {"aten::expand", OpKind::kView},
      {"aten::slice", OpKind::kView},
      {"aten::select", OpKind::kView},
      {"aten::chunk", OpKind::kView},
      {"aten::split", OpKind::kView},
      {"aten::to", OpKind::kView},
      {"aten::alias", OpKind::kView},
  };
  for (const auto& e : kTable)
    if (e.name == kind) return e.kind;
  return kind.rfind("prim::", 0) == 0 ? OpKind::kView : OpKind::kOther;
}

/// Ops whose cost is a weight multiplied in: the classifier head is the last of them.
inline bool has_weights(OpKind k) {
  return k == OpKind::kConvolution || k == OpKind::kLinear || k == OpKind::kMatmul || k == OpKind::kAddmm;
}

}  // namespace partplan::model
