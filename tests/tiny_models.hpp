#pragma once
// Tiny TorchScript models built in C++ (Module::define), so the tests need no Python.
// Torch-free on purpose: glog's CHECK macro (pulled in by torch) clashes with Catch's.

#include <cstdint>
#include <string>

namespace partplan::testing {

/// TinyNet, input [N,2,8,8]: stem (conv 2->4) -> body (conv 4->4, relu) -> res (relu(conv(x)) + x,
/// a residual block) -> head (flatten, linear 256->3). Expected cuts, in order:
/// stem, body:conv2d, body, res, head:flatten; none inside `res`.
/// `input_shape_json` ("[1, 2, 8, 8]") is stored as the partplan.json extra file; "" = none.
void save_tiny_net(const std::string& path, const std::string& input_shape_json = "[1, 2, 8, 8]", uint64_t seed = 0);

/// A small classifier for 1x28x28 images: conv 1->8 (+relu) -> maxpool 2 -> flatten ->
/// linear 1568->10. Random weights; input shape recorded as [1, 1, 28, 28].
/// Cuts: conv (0), relu (1), pool (2), flatten (3).
void save_tiny_mnist_net(const std::string& path);
/// A 1x1x8x8 net whose forward guards its input with a raising branch (a top-level
/// prim::Uninitialized after freezing, as scripted transformers have).
void save_guarded_net(const std::string& path);
/// One transposed convolution as a traced model records it (aten::_convolution, transposed), input 1x4x4x4.
void save_transposed_conv_net(const std::string& path);

/// Two linear layers, input [N,5] (inferable from the first layer), no shape recorded.
void save_mlp(const std::string& path);

/// A classifier over flat records [N, features]: linear features->64 (+relu), linear 64->16
/// (+relu), linear 16->2. Random weights; the first layer is over-complete, so its cut
/// determines the record. Input shape recorded. Cuts: the 2 hidden linear and relu outputs.
void save_record_mlp(const std::string& path, int64_t features);

/// forward(x, y) -> x + y: two inputs, unsupported.
void save_two_input(const std::string& path);

/// forward(x) -> (relu(x), x): tuple output, unsupported.
void save_tuple_output(const std::string& path);

/// A fresh temporary directory for one test.
std::string temp_dir(const std::string& tag);

}  // namespace partplan::testing
