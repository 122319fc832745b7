#include "partplan/common/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>

namespace partplan::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
}

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
bool stderr_is_tty() { return ::isatty(2) == 1; }

void write(Level at, const std::string& line) {
  if (level() < at) return;
  if (stderr_is_tty()) std::fputs("\r\033[K", stderr);  // clear a progress line being drawn
  std::fputs(line.c_str(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace partplan::log
