// SettingsReader: typed reads with the bounds each struct's visit() states.
#include "partplan/config/fields.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "partplan/common/error.hpp"

namespace partplan::config {

void SettingsReader::operator()(const char* k, int64_t& v, int64_t lo, int64_t hi) const {
  v = s_.integer(key(k), lo, hi);
}
void SettingsReader::operator()(const char* k, uint64_t& v) const { v = static_cast<uint64_t>(s_.integer(key(k), 0)); }
void SettingsReader::operator()(const char* k, double& v, double lo, double hi) const { v = s_.number(key(k), lo, hi); }
void SettingsReader::operator()(const char* k, bool& v) const { v = s_.boolean(key(k)); }
void SettingsReader::operator()(const char* k, std::string& v) const { v = s_.string(key(k)); }
void SettingsReader::operator()(const char* k, std::vector<std::string>& v) const { v = s_.strings(key(k)); }
void SettingsReader::operator()(const char* k, std::vector<double>& v) const { v = s_.numbers(key(k)); }
void SettingsReader::operator()(const char* k, std::optional<double>& v, double lo, double hi) const {
  if (s_.has(key(k)))
    v = s_.number(key(k), lo, hi);
  else
    v.reset();
}

void SettingsReader::bad_choice(const std::string& key, const std::string& value,
                                const std::vector<std::string>& valid) {
  throw UsageError(fmt::format("setting '{}' = '{}': use {}", key, value, fmt::join(valid, ", ")));
}

}  // namespace partplan::config
