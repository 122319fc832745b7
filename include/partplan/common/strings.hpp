#pragma once
#include <string>
#include <vector>

namespace partplan::common {

/// Split on every `sep`: "a.b" -> {"a", "b"}; "" -> {""}; "a," -> {"a", ""}. With
/// skip_empty_input, "" gives {} instead.
std::vector<std::string> split(const std::string& text, char sep, bool skip_empty_input = false);

}  // namespace partplan::common
