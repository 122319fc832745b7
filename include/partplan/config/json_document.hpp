#pragma once
// Parsing a JSON document that comes from outside (a config file, partition.json, plan.json,
// the run directory's files), for the modules that hold nlohmann/json (config, report, store).

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace partplan::config {

/// Nesting deeper than this is refused: nlohmann/json parses any depth, but dumping, copying
/// and comparing recurse once per level, so a file of a few hundred kilobytes of '[' would
/// overflow the stack. partplan's own documents nest at most 6 levels.
inline constexpr int kMaxJsonDepth = 64;

/// json::parse of `text` (with // and /* */ comments when `ignore_comments`), nesting at most
/// kMaxJsonDepth levels. Throws what json::parse throws (parse_error; out_of_range for a
/// number beyond a double, such as 1e400) and json::other_error for deeper nesting: callers
/// catch nlohmann::json::exception and name their file.
inline nlohmann::json parse_json_document(const std::string& text, bool ignore_comments = false) {
  const nlohmann::json::parser_callback_t limit = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
    if (depth > kMaxJsonDepth)
      throw nlohmann::json::other_error::create(
          501, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
    return true;
  };
  return nlohmann::json::parse(text, limit, /*allow_exceptions=*/true, ignore_comments);
}

/// `j` as the integer type T. json::get<T> converts a float such as 1e300 with undefined
/// behaviour and wraps an integer T cannot hold; this throws json::type_error when `j` is not
/// a number and json::out_of_range when it is not a whole number within T's range.
template <class T>
T integer_from_json(const nlohmann::json& j) {
  static_assert(std::is_integral_v<T> && !std::is_same_v<T, bool>);
  using Limits = std::numeric_limits<T>;
  if (j.is_number_unsigned()) {
    const auto v = j.get<uint64_t>();
    if (v <= static_cast<uint64_t>(Limits::max())) return static_cast<T>(v);
  } else if (j.is_number_integer()) {
    const auto v = j.get<int64_t>();
    if (v >= 0 ? static_cast<uint64_t>(v) <= static_cast<uint64_t>(Limits::max())
               : Limits::is_signed && v >= static_cast<int64_t>(Limits::min()))
      return static_cast<T>(v);
  } else if (j.is_number_float()) {
    const double v = j.get<double>();
    const double end = std::ldexp(1.0, Limits::digits);  // 2^digits: the first value T cannot hold
    if (v == std::floor(v) && v < end && v >= (Limits::is_signed ? -end : 0.0)) return static_cast<T>(v);
  } else {
    throw nlohmann::json::type_error::create(302, std::string("type must be number, but is ") + j.type_name(), &j);
  }
  throw nlohmann::json::out_of_range::create(406, "number " + j.dump() + " is not a whole number in the range of " +
                                                      std::to_string(Limits::min()) + ".." +
                                                      std::to_string(Limits::max()),
                                             &j);
}

/// `j`, an array, as integers of type T (integer_from_json for each); json::type_error when
/// it is not an array.
template <class T>
std::vector<T> integers_from_json(const nlohmann::json& j) {
  if (!j.is_array())
    throw nlohmann::json::type_error::create(302, std::string("type must be array, but is ") + j.type_name(), &j);
  std::vector<T> out;
  out.reserve(j.size());
  for (const auto& e : j) out.push_back(integer_from_json<T>(e));
  return out;
}

}  // namespace partplan::config
