#pragma once
#include <string>
#include <string_view>

namespace partplan::common {

/// Lower-case hex SHA-256 of a file's bytes, streamed. Throws IoError if it cannot be read.
std::string sha256_file(const std::string& path);

/// Lower-case hex SHA-256 of a byte string.
std::string sha256_bytes(std::string_view bytes);

}  // namespace partplan::common
