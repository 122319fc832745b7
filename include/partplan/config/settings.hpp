#pragma once
// Layered settings: defaults < --config FILE < flags. A tree of JSON values addressed by
// dotted keys ("budget.steps"); nlohmann/json stays inside src/config. Torch-free.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace partplan::config {

class Settings {
 public:
  Settings();
  ~Settings();
  Settings(const Settings&);
  Settings& operator=(const Settings&);

  /// Parse a JSON object. Throws UsageError naming `source` on invalid JSON or a non-object.
  static Settings parse(const std::string& json_text, const std::string& source);
  /// A built-in preset by name ("quick", "thorough"), else a JSON file. Throws UsageError
  /// (unknown preset, bad JSON) or IoError (unreadable file).
  static Settings load(const std::string& preset_or_path);
  /// Names of the built-in presets.
  static std::vector<std::string> presets();

  /// Overlay `over` onto this tree. Every key of `over` must exist here with a value of the
  /// same kind (number, string, bool, array, object): a typo is an error naming the key, the
  /// source and the valid keys at that level. Throws UsageError.
  void merge(const Settings& over, const std::string& source);

  void set(const std::string& key, double value);
  void set(const std::string& key, int64_t value);
  void set(const std::string& key, const std::string& value);
  void set(const std::string& key, bool value);
  void set(const std::string& key, const std::vector<std::string>& value);
  void set(const std::string& key, const std::vector<double>& value);
  void set(const std::string& key, const char* value) { set(key, std::string(value)); }
  void set_null(const std::string& key);
  /// Set one key from JSON text: VALUE is parsed as a single JSON value, or taken as a string
  /// when it is not JSON. The key must exist, and the value must be of its kind (merge's
  /// rules). Throws UsageError naming the key.
  void assign(const std::string& key, const std::string& value_text, const std::string& source);

  /// Same tree (numbers compare by value, so 1000 equals 1000.0).
  bool equals(const Settings& other) const;
  /// Every leaf key, dotted, in sorted order, with its value as compact JSON.
  std::vector<std::pair<std::string, std::string>> leaves() const;

  /// Typed reads. Throw UsageError naming the key when it is missing or of another kind,
  /// or (numbers) outside [lo, hi].
  double number(const std::string& key, double lo = -1e300, double hi = 1e300) const;
  int64_t integer(const std::string& key, int64_t lo = INT64_MIN, int64_t hi = INT64_MAX) const;
  std::string string(const std::string& key) const;
  bool boolean(const std::string& key) const;
  std::vector<std::string> strings(const std::string& key) const;
  std::vector<double> numbers(const std::string& key) const;
  bool has(const std::string& key) const;

  /// The whole tree as pretty JSON text.
  std::string dump(int indent = 2) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace partplan::config
