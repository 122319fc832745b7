// Atomic file and directory outputs (temp + rename), see fs.hpp.
#include "partplan/common/fs.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "partplan/common/error.hpp"
#include "partplan/common/interrupt.hpp"

namespace fs = std::filesystem;

namespace partplan::common {
namespace {

std::string random_suffix() {
  std::random_device rd;
  std::mt19937_64 gen(rd() ^ static_cast<uint64_t>(::getpid()));
  return std::to_string(gen() % 1000000000ULL);
}

std::string parent_of(const std::string& path) {
  auto p = fs::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

// fsync a file or directory by path; throws IoError naming `what` on failure.
void sync_path(const std::string& path, bool directory, const std::string& what) {
  const int fd = ::open(path.c_str(), directory ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (fd < 0) throw IoError("cannot open '" + path + "' to sync " + what + ": " + std::strerror(errno));
  if (::fsync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    throw IoError("syncing " + what + " '" + path + "' failed: " + std::strerror(err) + "; check the disk");
  }
  if (::close(fd) != 0) throw IoError("closing '" + path + "' failed: " + std::strerror(errno));
}

constexpr const char* kStagingPrefix = ".partplan-staging-";

// Staging directories in `dir` whose process is gone (a run killed with SIGKILL): removed.
// Names are <prefix><pid>-<random>; a name without a pid comes from an older version.
void remove_stale_staging(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (name.rfind(kStagingPrefix, 0) != 0) continue;
    const auto rest = name.substr(std::strlen(kStagingPrefix));
    const auto dash = rest.find('-');
    long pid = 0;
    try {
      pid = dash == std::string::npos ? 0 : std::stol(rest.substr(0, dash));
    } catch (const std::exception&) {
      pid = 0;
    }
    const bool alive = pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
    if (!alive) fs::remove_all(e.path(), ec);
  }
}

}  // namespace

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    if (ec)
      throw IoError("cannot create output directory '" + dir + "': " + ec.message() + "; choose a writable location");
  }
  if (!fs::is_directory(dir, ec))
    throw IoError("output path '" + dir + "' exists and is not a directory; choose another path");
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    throw IoError("output directory '" + dir + "' is not writable (" + std::strerror(errno) +
                  "); choose a writable location or fix its permissions");
}

void check_can_create(const std::string& path, bool is_dir) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (fs::exists(p, ec)) {
    if (is_dir && !fs::is_directory(p, ec))
      throw IoError("output path '" + path + "' exists and is not a directory; choose another path");
    if (!is_dir && fs::is_directory(p, ec)) throw IoError("output file '" + path + "' is a directory; name a file");
    if (::access((is_dir ? p : p.parent_path()).c_str(), W_OK) != 0)
      throw IoError("output '" + path + "' is not writable; choose a writable location");
    return;
  }
  fs::path anc = p.parent_path();
  while (!anc.empty() && !fs::exists(anc, ec)) anc = anc.parent_path();
  if (anc.empty() || !fs::is_directory(anc, ec) || ::access(anc.c_str(), W_OK | X_OK) != 0)
    throw IoError("cannot create output '" + path + "': '" + anc.string() +
                  "' is not a writable directory; choose a writable location");
}

void write_file_atomic(const std::string& path, const std::string& content) {
  const std::string dir = parent_of(path);
  ensure_writable_dir(dir);
  const std::string tmp = path + ".tmp-" + random_suffix();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw IoError("cannot write '" + path + "': " + std::strerror(errno) + "; choose a writable location");
  register_partial(tmp, false);
  // Any failure: close if still open, remove the temp file, name the step and the path.
  auto fail = [&](const std::string& step, int err) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    unregister_partial(tmp);
    throw IoError(step + " '" + path + "' failed: " + std::strerror(err) + "; check the disk (space, quota)");
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("writing", errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail("syncing", errno);
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) fail("closing", errno);
  {
    InterruptGuard hold;
    if (::rename(tmp.c_str(), path.c_str()) != 0) fail("moving the finished file into", errno);
    unregister_partial(tmp);
  }
  sync_path(dir, true, "the directory of");
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot read '" + path + "': check that it exists and is readable");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

StagedDir::StagedDir(std::string target_dir) : target_(std::move(target_dir)) {
  std::error_code ec;
  // Every directory this creates (the target and any missing parents), deepest first.
  for (fs::path p = fs::absolute(target_, ec).lexically_normal(); !p.empty() && !fs::exists(p, ec);
       p = p.parent_path()) {
    if (p == p.parent_path()) break;
    created_.push_back(p.string());
  }
  ensure_writable_dir(target_);
  remove_stale_staging(target_);
  staging_ = (fs::absolute(target_, ec).lexically_normal() / (kStagingPrefix + std::to_string(::getpid()) + "-" + random_suffix())).string();
  for (const auto& d : created_) register_partial(d, false);  // removed on interrupt if still empty
  register_partial(staging_, true);
  fs::create_directory(staging_, ec);
  if (ec) throw IoError("cannot create staging directory '" + staging_ + "': " + ec.message());
}

StagedDir::~StagedDir() {
  std::error_code ec;
  fs::remove_all(staging_, ec);
  if (!committed_)
    for (const auto& d : created_) fs::remove(d, ec);  // deepest first; only removes empty ones
  unregister_partial(staging_);
  for (const auto& d : created_) unregister_partial(d);
}

std::string StagedDir::add(const std::string& file_name) {
  files_.push_back(file_name);
  return (fs::path(staging_) / file_name).string();
}

void StagedDir::commit() {
  for (const auto& f : files_) sync_path((fs::path(staging_) / f).string(), false, "the staged file");
  InterruptGuard hold;  // all renames, or (interrupted before) none
  for (const auto& f : files_) {
    const auto from = fs::path(staging_) / f;
    const auto to = fs::path(target_) / f;
    if (::rename(from.c_str(), to.c_str()) != 0)
      throw IoError("cannot move '" + from.string() + "' to '" + to.string() + "': " + std::strerror(errno));
  }
  committed_ = true;
  sync_path(target_, true, "the output directory");
}

}  // namespace partplan::common
