#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace partplan::common {

using Shape = std::vector<int64_t>;

/// Parse "1,3,224,224" or "1x3x224x224". Throws UsageError naming the text on a bad value.
Shape parse_shape(const std::string& text);

/// "1x3x224x224"; "scalar" for an empty shape.
std::string format_shape(const Shape& shape);

/// Product of the dimensions (1 for an empty shape).
int64_t numel(const Shape& shape);

/// Human-readable byte count: "1.5 MiB".
std::string format_bytes(double bytes);

/// Human-readable FLOP count: "4.1 G".
std::string format_count(double count);

}  // namespace partplan::common
