#pragma once
// Typed settings. Each options struct lists its fields once, in a `visit(Struct&, V&&)`
// function declared next to it:
//
//   template <class V> void visit(TrainBudget& o, V&& v) {
//     v("steps", o.steps, 1, int64_t{1} << 40);   // key, field, bounds
//     v("norm", o.norm);                          // an enum with enum_names(Norm)
//     visit(o.nested, v.sub("nested"));           // a nested object
//   }
//
// SettingsWriter turns a struct into settings (so the struct's defaults are the default
// settings) and SettingsReader reads it back with the bounds checked, naming the key on error.
// Enums are spelt through `enum_names(E)` found by argument-dependent lookup. Torch-free.

#include <cstdint>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "partplan/config/settings.hpp"

namespace partplan::config {

/// Reads fields from settings; throws UsageError naming the key (missing, wrong kind, out of bounds).
class SettingsReader {
 public:
  explicit SettingsReader(const Settings& s, std::string prefix = "") : s_(s), prefix_(std::move(prefix)) {}
  SettingsReader sub(const std::string& name) const { return SettingsReader(s_, key(name.c_str())); }

  void operator()(const char* k, int64_t& v, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const;
  void operator()(const char* k, uint64_t& v) const;
  void operator()(const char* k, double& v, double lo = -1e300, double hi = 1e300) const;
  void operator()(const char* k, bool& v) const;
  void operator()(const char* k, std::string& v) const;
  void operator()(const char* k, std::vector<std::string>& v) const;
  void operator()(const char* k, std::vector<double>& v) const;                          ///< null = empty
  void operator()(const char* k, std::optional<double>& v, double lo, double hi) const;  ///< null = nullopt

  template <class E, std::enable_if_t<std::is_enum_v<E>, int> = 0>
  void operator()(const char* k, E& v) const {
    const std::string text = s_.string(key(k));
    std::vector<std::string> valid;
    for (const auto& [value, name] : enum_names(E{})) {
      if (name == text) {
        v = value;
        return;
      }
      valid.push_back(name);
    }
    bad_choice(key(k), text, valid);
  }

 private:
  std::string key(const char* k) const { return prefix_.empty() ? std::string(k) : prefix_ + "." + k; }
  [[noreturn]] static void bad_choice(const std::string& key, const std::string& value,
                                      const std::vector<std::string>& valid);
  const Settings& s_;
  std::string prefix_;
};

/// Writes fields into settings (bounds are ignored).
class SettingsWriter {
 public:
  explicit SettingsWriter(Settings& s, std::string prefix = "") : s_(s), prefix_(std::move(prefix)) {}
  SettingsWriter sub(const std::string& name) const { return SettingsWriter(s_, key(name.c_str())); }

  template <class T, class... Bounds>
  void operator()(const char* k, const T& v, Bounds...) const {
    if constexpr (std::is_enum_v<T>) {
      for (const auto& [value, name] : enum_names(T{}))
        if (value == v) s_.set(key(k), name);
    } else if constexpr (std::is_same_v<T, std::optional<double>>) {
      if (v)
        s_.set(key(k), *v);
      else
        s_.set_null(key(k));
    } else if constexpr (std::is_same_v<T, std::vector<double>>) {
      if (v.empty())
        s_.set_null(key(k));
      else
        s_.set(key(k), v);
    } else if constexpr (std::is_same_v<T, uint64_t>) {
      s_.set(key(k), static_cast<int64_t>(v));
    } else {
      s_.set(key(k), v);
    }
  }

 private:
  std::string key(const char* k) const { return prefix_.empty() ? std::string(k) : prefix_ + "." + k; }
  Settings& s_;
  std::string prefix_;
};

/// The settings a struct's fields give (its defaults, for a default-constructed one).
template <class T>
Settings to_settings(T value) {
  Settings s;
  visit(value, SettingsWriter(s));
  return s;
}

/// Read a struct from settings, starting from its defaults.
template <class T>
T from_settings(const Settings& s) {
  T value{};
  visit(value, SettingsReader(s));
  return value;
}

}  // namespace partplan::config
