#include "partplan/common/strings.hpp"

namespace partplan::common {

std::vector<std::string> split(const std::string& text, char sep, bool skip_empty_input) {
  std::vector<std::string> out;
  if (text.empty() && skip_empty_input) return out;
  size_t start = 0;
  for (;;) {
    const auto at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos) return out;
    start = at + 1;
  }
}

}  // namespace partplan::common
