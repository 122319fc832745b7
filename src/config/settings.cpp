// Settings tree on nlohmann/json; presets are configs/*.json embedded at build time.
#include "partplan/common/strings.hpp"
#include "partplan/config/settings.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <climits>
#include <functional>
#include <cmath>
#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/config/presets.hpp"
#include "partplan/config/json_document.hpp"

using nlohmann::json;

namespace partplan::config {

struct Settings::Impl {
  json tree = json::object();
};

Settings::Settings() : impl_(std::make_unique<Impl>()) {}
Settings::~Settings() = default;
Settings::Settings(const Settings& o) : impl_(std::make_unique<Impl>(*o.impl_)) {}
Settings& Settings::operator=(const Settings& o) {
  *impl_ = *o.impl_;
  return *this;
}

namespace {

std::vector<std::string> split_key(const std::string& key) { return common::split(key, '.'); }

const json* find(const json& root, const std::string& key) {
  const json* cur = &root;
  for (const auto& p : split_key(key)) {
    if (!cur->is_object() || !cur->contains(p)) return nullptr;
    cur = &(*cur)[p];
  }
  return cur;
}

json& slot(json& root, const std::string& key) {
  json* cur = &root;
  for (const auto& p : split_key(key)) cur = &(*cur)[p];
  return *cur;
}

std::string kind_of(const json& j) {
  if (j.is_number()) return "number";
  if (j.is_string()) return "string";
  if (j.is_boolean()) return "bool";
  if (j.is_array()) return "array";
  if (j.is_object()) return "object";
  return "null";
}

void merge_into(json& base, const json& over, const std::string& prefix, const std::string& source) {
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    if (!base.contains(it.key())) {
      std::vector<std::string> valid;
      for (auto b = base.begin(); b != base.end(); ++b) valid.push_back(b.key());
      throw UsageError(fmt::format("{}: unknown setting '{}'; valid{}: {}", source, key,
                                   prefix.empty() ? "" : " under '" + prefix + "'", fmt::join(valid, ", ")));
    }
    json& b = base[it.key()];
    const bool nullable = b.is_null();  // a default of null takes any kind
    if (!nullable && kind_of(b) != kind_of(*it))
      throw UsageError(fmt::format("{}: setting '{}' must be a {}, not {}", source, key, kind_of(b), kind_of(*it)));
    if (b.is_object() && it->is_object()) {
      merge_into(b, *it, key, source);
    } else {
      b = *it;
    }
  }
}

// nlohmann/json writes UTF-8 only: a key or string that is not would fail every later dump
// (--print-config, every output file's config).
bool is_utf8(const std::string& text) {
  try {
    (void)json(text).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw UsageError(fmt::format("setting '{}' {}", key, what));
}

}  // namespace

Settings Settings::parse(const std::string& text, const std::string& source) {
  Settings s;
  try {
    s.impl_->tree = parse_json_document(text, /*ignore_comments=*/true);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number such as 1e400
    throw UsageError(fmt::format("config '{}' is not valid JSON: {}", source, first_line(e.what())));
  }
  if (!s.impl_->tree.is_object()) throw UsageError(fmt::format("config '{}' must be a JSON object", source));
  return s;
}

std::vector<std::string> Settings::presets() {
  std::vector<std::string> out;
  for (const auto& p : kPresets) out.emplace_back(p.name);
  return out;
}

Settings Settings::load(const std::string& name) {
  for (const auto& p : kPresets)
    if (name == p.name) return parse(p.json, std::string("preset ") + p.name);
  if (name.find('/') == std::string::npos && name.find('.') == std::string::npos)
    throw UsageError(
        fmt::format("--config '{}' is neither a preset ({}) nor a file path", name, fmt::join(presets(), ", ")));
  return parse(common::read_file(name), name);
}

void Settings::merge(const Settings& over, const std::string& source) {
  merge_into(impl_->tree, over.impl_->tree, "", source);
}

void Settings::set(const std::string& key, double v) { slot(impl_->tree, key) = v; }
void Settings::set(const std::string& key, int64_t v) { slot(impl_->tree, key) = v; }
void Settings::set(const std::string& key, const std::string& v) { slot(impl_->tree, key) = v; }
void Settings::set(const std::string& key, bool v) { slot(impl_->tree, key) = v; }
void Settings::set(const std::string& key, const std::vector<std::string>& v) { slot(impl_->tree, key) = v; }
void Settings::set(const std::string& key, const std::vector<double>& v) { slot(impl_->tree, key) = v; }
void Settings::set_null(const std::string& key) { slot(impl_->tree, key) = nullptr; }

void Settings::assign(const std::string& key, const std::string& text, const std::string& source) {
  if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
    throw UsageError(fmt::format("{}: '{}' is not a setting key: write dotted names, e.g. budget.steps", source, key));
  if (!is_utf8(key) || !is_utf8(text))
    throw UsageError(fmt::format("{}: the key or the value is not UTF-8 text: settings are written as JSON, which "
                                 "holds UTF-8 only",
                                 source));
  json value;
  try {
    value = parse_json_document(text);  // exactly one JSON value, or it throws
  } catch (const json::parse_error&) {
    value = text;  // not JSON: a plain string
  } catch (const json::exception& e) {  // out_of_range: a number beyond a double; other_error: nesting
    throw UsageError(fmt::format("{}: the value is not usable JSON ({}): give a number within +-1.8e308, or "
                                 "nest less deeply",
                                 source, first_line(e.what())));
  }
  json over = value;
  const auto parts = split_key(key);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) over = json{{*it, over}};
  merge_into(impl_->tree, over, "", source);
}

bool Settings::equals(const Settings& other) const { return impl_->tree == other.impl_->tree; }

std::vector<std::pair<std::string, std::string>> Settings::leaves() const {
  std::vector<std::pair<std::string, std::string>> out;
  std::function<void(const json&, const std::string&)> walk = [&](const json& j, const std::string& prefix) {
    if (j.is_object() && !j.empty()) {
      for (auto it = j.begin(); it != j.end(); ++it) walk(*it, prefix.empty() ? it.key() : prefix + "." + it.key());
    } else {
      out.emplace_back(prefix, j.dump());
    }
  };
  walk(impl_->tree, "");
  return out;
}

bool Settings::has(const std::string& key) const {
  const json* j = find(impl_->tree, key);
  return j && !j->is_null();
}

double Settings::number(const std::string& key, double lo, double hi) const {
  const json* j = find(impl_->tree, key);
  if (!j || !j->is_number()) bad(key, "must be a number");
  const double v = j->get<double>();
  if (!std::isfinite(v) || v < lo || v > hi)
    bad(key, hi >= 1e300 ? fmt::format("= {} must be at least {}", v, lo)
                         : fmt::format("= {} is outside [{}, {}]", v, lo, hi));
  return v;
}

int64_t Settings::integer(const std::string& key, int64_t lo, int64_t hi) const {
  const json* j = find(impl_->tree, key);
  if (!j || !j->is_number()) bad(key, "must be an integer");
  const double d = j->get<double>();
  if (d != std::floor(d)) bad(key, fmt::format("= {} must be an integer", d));
  // A double outside [-2^63, 2^63) has no int64 value: the cast would be undefined.
  if (!(d >= -0x1p63 && d < 0x1p63))
    bad(key, hi == INT64_MAX ? fmt::format("= {} must be at least {} and below 2^63", d, lo)
                             : fmt::format("= {} is outside [{}, {}]", d, lo, hi));
  const auto v = static_cast<int64_t>(d);
  if (v < lo || v > hi)
    bad(key, hi == INT64_MAX ? fmt::format("= {} must be at least {}", v, lo)
                             : fmt::format("= {} is outside [{}, {}]", v, lo, hi));
  return v;
}

std::string Settings::string(const std::string& key) const {
  const json* j = find(impl_->tree, key);
  if (!j || !j->is_string()) bad(key, "must be a string");
  return j->get<std::string>();
}

bool Settings::boolean(const std::string& key) const {
  const json* j = find(impl_->tree, key);
  if (!j || !j->is_boolean()) bad(key, "must be true or false");
  return j->get<bool>();
}

std::vector<std::string> Settings::strings(const std::string& key) const {
  const json* j = find(impl_->tree, key);
  if (!j || !j->is_array()) bad(key, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& e : *j) {
    if (!e.is_string()) bad(key, "must be an array of strings");
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> Settings::numbers(const std::string& key) const {
  const json* j = find(impl_->tree, key);
  if (!j || j->is_null()) return {};
  if (!j->is_array()) bad(key, "must be an array of numbers");
  std::vector<double> out;
  for (const auto& e : *j) {
    if (!e.is_number()) bad(key, "must be an array of numbers");
    out.push_back(e.get<double>());
  }
  return out;
}

std::string Settings::dump(int indent) const { return impl_->tree.dump(indent); }

}  // namespace partplan::config
