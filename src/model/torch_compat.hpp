#pragma once
// The one place where LibTorch version differences are guarded. Debian ships 1.13
// (c10::optional); LibTorch 2.x uses std::optional and requires C++17.

#include <torch/script.h>
#include <torch/version.h>

#include <optional>
#include <string>

namespace partplan::model::compat {

#if TORCH_VERSION_MAJOR >= 2
template <typename T>
using Optional = std::optional<T>;
inline constexpr auto kNullopt = std::nullopt;
#else
template <typename T>
using Optional = c10::optional<T>;
inline constexpr auto kNullopt = c10::nullopt;
#endif

/// c10::Error's message without the C++ backtrace, first line only.
std::string error_text(const std::exception& e);

/// When torch::jit::load failed because the archive was written by a newer torch than this
/// build's LibTorch (an operator it does not know, a file format version above the one it
/// reads), the rest of a one-line message after the archive's path: what it needs and which
/// partplan build to use (docs/building.md). nullopt for any other load failure.
std::optional<std::string> newer_archive_reason(const std::exception& e);

}  // namespace partplan::model::compat
