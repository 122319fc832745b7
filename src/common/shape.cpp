#include "partplan/common/shape.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>

#include "partplan/common/error.hpp"

namespace partplan::common {

Shape parse_shape(const std::string& text) {
  Shape out;
  std::string token;
  auto flush = [&]() {
    if (token.empty())
      throw UsageError("input shape '" + text + "' has an empty dimension: write it as N,C,H,W, e.g. 1,3,224,224");
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(token, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != token.size() || v <= 0)
      throw UsageError("input shape '" + text + "': dimension '" + token +
                       "' is not a positive integer; write it as N,C,H,W, e.g. 1,3,224,224");
    out.push_back(v);
    token.clear();
  };
  for (char c : text) {
    if (c == ',' || c == 'x' || c == 'X')
      flush();
    else if (c != ' ')
      token.push_back(c);
  }
  flush();
  if (out.size() < 2)
    throw UsageError("input shape '" + text + "' needs a batch dimension and at least one more, e.g. 1,3,224,224");
  return out;
}

std::string format_shape(const Shape& shape) {
  if (shape.empty()) return "scalar";
  return fmt::format("{}", fmt::join(shape, "x"));
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (std::fabs(bytes) >= 1024.0 && u < 4) {
    bytes /= 1024.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f} B", bytes) : fmt::format("{:.1f} {}", bytes, units[u]);
}

std::string format_count(double count) {
  const char* units[] = {"", "K", "M", "G", "T", "P"};
  int u = 0;
  while (std::fabs(count) >= 1000.0 && u < 5) {
    count /= 1000.0;
    ++u;
  }
  return u == 0 ? fmt::format("{:.0f}", count) : fmt::format("{:.2f} {}", count, units[u]);
}

}  // namespace partplan::common
