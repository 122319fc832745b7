#pragma once
// Small string helpers shared by every module (one copy each).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace partplan::common {

/// Split on every `sep`: "a.b" -> {"a", "b"}; "" -> {""}; "a," -> {"a", ""}. With
/// skip_empty_input, "" gives {} instead.
std::vector<std::string> split(const std::string& text, char sep, bool skip_empty_input = false);

/// The first `max` names joined by ", ", then ", ... (N in all)" when there are more: for
/// error messages that list valid choices.
std::string first_names(const std::vector<std::string>& names, size_t max);

/// Base64 (RFC 4648, with padding).
std::string base64_encode(const std::vector<uint8_t>& bytes);
/// Its inverse; nullopt on a character outside the alphabet.
std::optional<std::vector<uint8_t>> base64_decode(const std::string& text);

/// A duration as a person reads it: "1h02m", "3m05s", "42s"; "?" when negative (unknown).
std::string format_duration(double seconds);

/// The current time as ISO 8601 UTC, to the second: "2026-12-04T17:48:16Z".
std::string utc_now();

/// ASCII lower case.
std::string to_lower(std::string text);
/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace partplan::common
