#pragma once
// The one place where LibTorch version differences are guarded. Debian ships 1.13
// (c10::optional); LibTorch 2.x uses std::optional and requires C++17.

#include <torch/script.h>
#include <torch/version.h>

#include <optional>

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

}  // namespace partplan::model::compat
