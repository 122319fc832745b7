#include "partplan/common/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>

namespace partplan::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::recursive_mutex g_stderr;  // recursive: a captured fn may itself log (into the capture)
std::FILE* g_capture = nullptr;  // the temporary file capture_stderr() reuses
Sink g_sink;                     // under g_stderr
std::atomic<bool> g_has_sink{false};
}

ScopedSink::ScopedSink(Sink sink) {
  const std::lock_guard<std::recursive_mutex> lock(g_stderr);
  previous_ = std::move(g_sink);
  g_sink = std::move(sink);
  g_has_sink = static_cast<bool>(g_sink);
}

ScopedSink::~ScopedSink() {
  const std::lock_guard<std::recursive_mutex> lock(g_stderr);
  g_sink = std::move(previous_);
  g_has_sink = static_cast<bool>(g_sink);
}

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
bool stderr_is_tty() { return !g_has_sink && ::isatty(2) == 1; }

void write(Level at, const std::string& line) {
  if (level() < at) return;
  const std::lock_guard<std::recursive_mutex> lock(g_stderr);
  if (g_sink) {
    g_sink(at, line, false);
    return;
  }
  if (stderr_is_tty()) std::fputs("\r\033[K", stderr);  // clear a progress line being drawn
  std::fputs(line.c_str(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
}

void write_raw(const std::string& text) {
  const std::lock_guard<std::recursive_mutex> lock(g_stderr);
  if (g_sink) {
    g_sink(level(), text, true);
    return;
  }
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

std::string capture_stderr(const std::function<void()>& fn) {
  const std::lock_guard<std::recursive_mutex> lock(g_stderr);
  std::fflush(stderr);
  if (!g_capture) g_capture = std::tmpfile();
  const int saved = g_capture ? ::dup(2) : -1;
  if (saved < 0 || ::ftruncate(::fileno(g_capture), 0) != 0 || ::lseek(::fileno(g_capture), 0, SEEK_SET) != 0 ||
      ::dup2(::fileno(g_capture), 2) < 0) {
    if (saved >= 0) ::close(saved);
    fn();
    return {};
  }
  auto restore = [&] {
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
  };
  try {
    fn();
  } catch (...) {
    restore();
    throw;
  }
  restore();
  std::string text;
  const int fd = ::fileno(g_capture);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size > 0) {
    text.resize(static_cast<size_t>(std::min<off_t>(size, 64 * 1024)));
    const ssize_t got = ::pread(fd, text.data(), text.size(), 0);
    text.resize(got > 0 ? static_cast<size_t>(got) : 0);
  }
  return text;
}

}  // namespace partplan::log
