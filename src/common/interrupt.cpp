// Interrupt cleanup (interrupt.hpp): the handler only writes the signal number to a pipe; a
// thread reads it and does the removal in a normal context. Whichever thread the kernel
// delivers the signal to (LibTorch starts some before main), the handler runs.
#include "partplan/common/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace partplan::common {
namespace {

std::recursive_mutex& registry_mutex() {
  static std::recursive_mutex m;
  return m;
}

std::map<std::string, bool>& registry() {
  static std::map<std::string, bool> r;
  return r;
}

[[noreturn]] void clean_up_and_exit(int sig) {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  const auto removed = remove_partials();
  std::string list;
  for (const auto& p : removed) list += (list.empty() ? "" : ", ") + p;
  if (removed.empty())
    std::fprintf(stderr, "partplan: interrupted by %s; nothing was written\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  else
    std::fprintf(stderr, "partplan: interrupted by %s; removed %zu partial output(s): %s; nothing else written\n",
                 sig == SIGINT ? "SIGINT" : "SIGTERM", removed.size(), list.c_str());
  std::fflush(stderr);
  ::_exit(128 + sig);  // stdout's buffer is dropped: no half-written result
}

int g_pipe[2] = {-1, -1};

// Async-signal-safe: hands the signal number to the cleanup thread.
extern "C" void on_signal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] const auto n = ::write(g_pipe[1], &b, 1);
}

}  // namespace

std::vector<std::string> remove_partials() {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  std::vector<std::string> removed;
  // Deepest first: a directory's contents (its staging directory, say) sort after it.
  for (auto it = registry().rbegin(); it != registry().rend(); ++it) {
    const auto& [path, recursive] = *it;
    std::error_code ec;
    const bool gone = recursive ? std::filesystem::remove_all(path, ec) > 0 : std::filesystem::remove(path, ec);
    if (gone) removed.push_back(path);
  }
  registry().clear();
  return removed;
}

void install_interrupt_cleanup() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (::pipe(g_pipe) != 0) return;
    std::thread([]() {
      unsigned char b = 0;
      ssize_t n = 0;
      while ((n = ::read(g_pipe[0], &b, 1)) < 0 && errno == EINTR) {
      }
      if (n == 1) clean_up_and_exit(b);
    }).detach();
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
  });
}

void register_partial(const std::string& path, bool recursive) {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  registry()[path] = recursive;
}

void unregister_partial(const std::string& path) {
  std::lock_guard<std::recursive_mutex> lock(registry_mutex());
  registry().erase(path);
}

InterruptGuard::InterruptGuard() { registry_mutex().lock(); }
InterruptGuard::~InterruptGuard() { registry_mutex().unlock(); }

}  // namespace partplan::common
