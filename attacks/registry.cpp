// Attacker registry. Built-ins register on first use; register_attacker adds more.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <mutex>

#include "partplan/attacks/attacker.hpp"
#include "partplan/common/error.hpp"

namespace partplan::attacks {

std::unique_ptr<Attacker> make_cgan(const AttackerSpec& spec);
std::unique_ptr<Attacker> make_inverse(const AttackerSpec& spec);

namespace {

std::map<std::string, Factory>& registry() {
  static std::map<std::string, Factory> r{{"cgan", make_cgan}, {"inverse", make_inverse}};
  return r;
}
std::mutex& registry_mutex() {
  static std::mutex m;
  return m;
}

}  // namespace

void register_attacker(const std::string& name, Factory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[name] = std::move(factory);
}

std::unique_ptr<Attacker> create_attacker(const std::string& name, const AttackerSpec& spec) {
  Factory f;
  {
    std::lock_guard<std::mutex> lock(registry_mutex());
    auto it = registry().find(name);
    if (it != registry().end()) f = it->second;
  }
  if (!f) throw UsageError(fmt::format("attack '{}' is not known; valid: {}", name, fmt::join(attacker_names(), ", ")));
  return f(spec);
}

std::vector<std::string> attacker_names() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> out;
  for (const auto& [k, v] : registry()) out.push_back(k);
  return out;
}

}  // namespace partplan::attacks
