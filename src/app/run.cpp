// app::run_plan (include/partplan/app/run.hpp): a plan served across processes. In order:
// read the plan and check every file's SHA-256 (nothing starts on a mismatch); load the inputs
// and the unsplit model's outputs on them; start the workers over socketpairs (stage i reads
// channel i and writes channel i+1; the client writes channel 0 and reads the last); wait for
// each to say "ready"; stream the requests with at most `concurrency` in flight; stop, reap
// and measure. Any failure once requests flow ends the run in bounded time: the client polls
// its channel and its children, kills every worker and keeps the completed requests.
#include "partplan/app/run.hpp"

#include <torch/torch.h>

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/hash.hpp"
#include "partplan/common/shape.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/config/settings.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/preprocess.hpp"
#include "partplan/model/device.hpp"
#include "partplan/model/model.hpp"
#include "partplan/partition/part.hpp"
#include "partplan/pipeline/assess.hpp"
#include "partplan/report/plan_document.hpp"
#include "partplan/report/report.hpp"
#include "partplan/runtime/gramine.hpp"
#include "partplan/runtime/sandbox.hpp"
#include "partplan/runtime/wire.hpp"
#include "partplan/runtime/worker.hpp"

namespace fs = std::filesystem;

namespace partplan::app {
namespace {

using report::RuntimeDocument;

struct RunPart {
  std::string name, role, file, sha256;
  common::Shape input_shape, output_shape;
};

/// What the client needs of a plan.json or a partition.json.
struct RunPlan {
  std::optional<report::PlanDocument> doc;  ///< plan.json only: the cost model's estimates
  std::string kind;
  std::vector<int> cut_ids;
  std::vector<std::string> cut_names;
  std::string model_path, model_sha256;
  common::Shape input_shape, output_shape;
  std::vector<RunPart> parts;
};

/// A part's file as the plan names it: absolute, else relative to the working directory (as
/// assess wrote it), else to the plan's own directory.
std::string resolve_part(const std::string& file, const std::string& plan_path) {
  if (fs::path(file).is_absolute() || fs::exists(file)) return file;
  const auto beside = fs::path(plan_path).parent_path() / file;
  return fs::exists(beside) ? beside.string() : file;
}

RunPlan read_plan(const std::string& path) {
  const std::string text = common::read_file(path);
  RunPlan p;
  if (report::is_plan_json(text)) {
    auto doc = report::plan_from_json(text, path);
    if (doc.decision.kind == "prescreen")
      throw UsageError(fmt::format("'{}' is a pre-screen (--attack oracle) and chose no cut: assess with the attackers "
                                   "and --export DIR, then run that plan",
                                   path));
    if (doc.decision.cut_ids.empty())
      throw UsageError(fmt::format("'{}' has no chosen cut (decision '{}': {}): there is no split to run; raise "
                                   "--threshold or try --ternary in partplan assess",
                                   path, doc.decision.kind, first_line(doc.decision.reason)));
    if (doc.partitions.empty())
      throw UsageError(fmt::format("'{}' records no exported parts: re-run partplan assess with --export DIR", path));
    p.kind = doc.decision.kind;
    p.cut_ids = doc.decision.cut_ids;
    for (int id : p.cut_ids)
      for (const auto& c : doc.cuts)
        if (c.id == id) p.cut_names.push_back(c.name);
    p.model_path = doc.model.path, p.model_sha256 = doc.model.sha256;
    p.input_shape = doc.model.input_shape, p.output_shape = doc.model.output_shape;
    for (const auto& x : doc.partitions)
      p.parts.push_back({x.name, x.role, resolve_part(x.file, path), x.sha256, x.input_shape, x.output_shape});
    p.doc = std::move(doc);
  } else {
    const auto m = report::partition_from_json(text, path);
    p.kind = m.parts.size() == 3 ? "ternary" : "binary";
    for (const auto& c : m.cuts) p.cut_ids.push_back(c.id), p.cut_names.push_back(c.name);
    p.model_path = m.model_path, p.model_sha256 = m.model_sha256;
    p.input_shape = m.input_shape, p.output_shape = m.output_shape;
    const auto base = fs::path(path).parent_path();
    for (const auto& x : m.parts)
      p.parts.push_back({x.name, x.role, (base / x.file).string(), x.sha256, x.input_shape, x.output_shape});
  }
  if (p.parts.size() != 2 && p.parts.size() != 3)
    throw UsageError(fmt::format("'{}' has {} parts: partplan run serves 2 (binary) or 3 (ternary)", path, p.parts.size()));
  return p;
}

/// Every part's and the model's SHA-256 against the plan, before anything starts.
void check_files(const RunPlan& p) {
  for (const auto& part : p.parts) {
    if (!fs::is_regular_file(part.file))
      throw IoError(fmt::format("part '{}' ({}) not found: keep the exported parts where the plan names them, or "
                                "re-run partplan assess with --export DIR; nothing was run",
                                part.file, part.name));
    const auto got = common::sha256_file(part.file);
    if (got != part.sha256)
      throw IntegrityError(fmt::format("part '{}' does not match the plan's SHA-256 (plan {}, file {}): it changed after "
                                       "the export; nothing was run (exit {})",
                                       part.file, part.sha256, got, static_cast<int>(kExitIntegrity)));
  }
  if (!fs::is_regular_file(p.model_path))
    throw IoError(fmt::format("the unsplit model '{}' not found: run compares every output with it; keep it where "
                              "the plan names it",
                              p.model_path));
}

/// The inputs, as the model takes them: [n, input...] float32 on the CPU.
at::Tensor load_inputs(const RunRequest& req, const RunPlan& p) {
  const data::SampleShape sample(p.input_shape.begin() + 1, p.input_shape.end());
  data::DataOptions options;
  if (p.doc) options = pipeline::options_from_settings(config::Settings::parse(p.doc->config_json, req.plan_path)).data;
  data::LoadOptions load;
  load.sample_shape = sample;
  load.max_samples = req.max_samples;
  load.csv = options.csv;
  const auto ds = data::load(req.data_source, load);
  std::vector<int64_t> all(static_cast<size_t>(ds.size()));
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int64_t>(i);
  return data::to_model_input(data::gather_unit(ds, all), data::preprocess_for(sample, options), sample).contiguous();
}

at::Tensor reference_outputs(const RunPlan& p, const at::Tensor& inputs) {
  const auto model = partition::Part::load(p.model_path, p.model_sha256, "cpu");
  std::vector<at::Tensor> out;
  for (int64_t i = 0; i < inputs.size(0); i += 8) out.push_back(model.forward(inputs.slice(0, i, i + 8)));
  return torch::cat(out);
}

// ---- processes -------------------------------------------------------------------------------

struct Worker {
  std::string role, device;
  std::vector<std::string> parts;
  int threads = 1;
  pid_t pid = -1;
  int control_fd = -1;  ///< the client's end
  bool reaped = false;
  int status = 0;
  int64_t peak_rss_bytes = 0;
  std::string ready;  ///< the ready message's lines
};

std::string exit_text(int status) {
  if (WIFEXITED(status)) return fmt::format("exit {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return fmt::format("killed by signal {} ({}){}", sig, sigabbrev_np(sig) ? std::string("SIG") + sigabbrev_np(sig) : "?",
                       sig == SIGSYS ? ": a syscall outside the sandbox's allow-list (docs/runtime.md; --no-sandbox to "
                                       "diagnose)"
                                     : "");
  }
  return "stopped";
}

bool reap(Worker& w, bool block) {
  if (w.reaped || w.pid <= 0) return w.reaped;
  rusage ru{};
  const pid_t r = ::wait4(w.pid, &w.status, block ? 0 : WNOHANG, &ru);
  if (r == w.pid) {
    w.reaped = true;
    w.peak_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  }
  return w.reaped;
}

bool failed(const Worker& w) { return w.reaped && !(WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0); }

std::array<int, 2> socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    throw IoError(fmt::format("socketpair failed: {}", std::strerror(errno)));
  return {fds[0], fds[1]};
}

/// The argv word the forked child overwrites with unshare_network's code ("--netns CODE").
constexpr size_t kNetnsWordBytes = 48;

/// fork + exec `argv`, keeping `keep` open in the child; the child dies with the client. With
/// `netns_word` (an index into argv), the child first enters its own network namespace (it is
/// single-threaded there, as unshare needs) and writes the outcome into that word.
pid_t spawn(std::vector<std::string> argv, const std::vector<int>& keep, int netns_word) {
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw IoError(fmt::format("cannot start a worker: fork failed: {}", std::strerror(errno)));
  if (pid == 0) {  // only async-signal-safe calls until exec
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (netns_word >= 0) runtime::unshare_network(args[static_cast<size_t>(netns_word)], kNetnsWordBytes);
    for (int fd : keep) ::fcntl(fd, F_SETFD, 0);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

/// The processes of one run and the client's ends of their channels. Stops and reaps every
/// worker when it goes out of scope: no orphans, whatever happened.
struct Layout {
  std::vector<Worker> workers;
  int to_first = -1, from_last = -1;
  std::vector<int> client_fds;

  ~Layout() {
    for (auto& w : workers)
      if (!w.reaped && w.pid > 0) ::kill(w.pid, SIGKILL);
    for (auto& w : workers) reap(w, /*block=*/true);
    for (int fd : client_fds) ::close(fd);
  }
  void kill_all() {
    for (auto& w : workers)
      if (!reap(w, false) && w.pid > 0) ::kill(w.pid, SIGKILL);
  }
  Worker* worker_of(const std::string& role) {
    for (auto& w : workers)
      if (w.role == role) return &w;
    return nullptr;
  }
};

/// The frame limit of every channel: twice the plan's largest tensor, at least 1 MiB.
uint64_t max_payload_of(const RunPlan& p) {
  uint64_t max_payload = 1 << 20;
  for (const auto& part : p.parts)
    for (const auto* s : {&part.input_shape, &part.output_shape})
      max_payload = std::max<uint64_t>(max_payload, 4 * static_cast<uint64_t>(common::numel(*s)) * 2);
  return max_payload;
}

/// Stage i of the plan, without its fds.
runtime::StageSpec stage_spec(const RunPlan& p, size_t i) {
  const size_t n = p.parts.size();
  const auto name = [&](size_t k) {  // k: the stage a channel end belongs to, 0 and n+1 the client
    return k == 0 || k > n ? std::string("the client") : "the " + p.parts[k - 1].role + " worker (" + p.parts[k - 1].name + ")";
  };
  runtime::StageSpec s;
  s.name = p.parts[i].name, s.file = p.parts[i].file, s.sha256 = p.parts[i].sha256;
  s.upstream = name(i), s.downstream = name(i + 2);
  s.slot = static_cast<int>(i);
  s.sample_shape.assign(p.parts[i].input_shape.begin() + 1, p.parts[i].input_shape.end());
  return s;
}

void start_workers(Layout& lay, const RunPlan& p, const RunRequest& req, const std::string& device, int threads) {
  const size_t n = p.parts.size();
  std::vector<std::array<int, 2>> ch;  // channel i: [0] the writer's end, [1] the reader's
  for (size_t i = 0; i <= n; ++i) ch.push_back(socket_pair());
  lay.to_first = ch.front()[0], lay.from_last = ch.back()[1];
  std::vector<int> worker_fds;
  struct CloseAll {  // the workers' ends, whatever happens below: a copy left open hides EOF
    std::vector<int>& fds;
    ~CloseAll() {
      for (int fd : fds) ::close(fd);
    }
  } close_worker_ends{worker_fds};
  for (size_t i = 0; i <= n; ++i) {
    (i == 0 ? lay.client_fds : worker_fds).push_back(ch[i][0]);
    (i == n ? lay.client_fds : worker_fds).push_back(ch[i][1]);
  }
  const uint64_t max_payload = max_payload_of(p);
  for (const std::string role : {"enclave", "untrusted"}) {
    Worker w;
    w.role = role;
    w.device = role == "enclave" ? "cpu" : device;
    w.threads = threads;
    const auto control = socket_pair();
    lay.client_fds.push_back(control[0]);
    w.control_fd = control[0];
    std::vector<std::string> argv = {req.worker_exe, "__worker", "--role", role, "--control-fd", std::to_string(control[1]),
                                     "--device", w.device, "--threads", std::to_string(threads),
                                     "--max-payload-bytes", std::to_string(max_payload)};
    int netns_word = -1;
    if (!req.sandbox) {
      argv.push_back("--no-sandbox");
    } else if (role == "enclave") {
      argv.push_back("--netns");
      netns_word = static_cast<int>(argv.size());
      argv.push_back(std::string(kNetnsWordBytes, '\0'));
    }
    if (!req.fault.empty() && req.fault.rfind(role + ":", 0) == 0) argv.insert(argv.end(), {"--fault", req.fault.substr(role.size() + 1)});
    std::vector<int> keep = {control[1]};
    for (size_t i = 0; i < n; ++i) {
      if (p.parts[i].role != role) continue;
      auto s = stage_spec(p, i);
      s.in_fd = ch[i][1], s.out_fd = ch[i + 1][0];
      argv.insert(argv.end(), {"--stage", runtime::encode_stage(s)});
      keep.insert(keep.end(), {s.in_fd, s.out_fd});
      w.parts.push_back(s.name);
    }
    w.pid = spawn(std::move(argv), keep, netns_word);
    ::close(control[1]);
    lay.workers.push_back(std::move(w));
  }
}

/// Wait for every worker's "ready"; a worker that fails to load is an error with its code.
void await_ready(Layout& lay, double timeout_seconds) {
  for (auto& w : lay.workers) {
    runtime::FrameLimits limits;
    std::optional<runtime::Frame> f;
    try {
      f = runtime::Channel(w.control_fd, "the " + w.role + " worker").receive(limits, -1,
                                                                            static_cast<int>(timeout_seconds * 1000));
    } catch (const runtime::WireError& e) {
      reap(w, false);
      throw Error(fmt::format("the {} worker did not start: {}{}", w.role, e.what(),
                              w.reaped ? " (" + exit_text(w.status) + ")" : ""));
    }
    if (!f) {
      reap(w, true);
      throw Error(fmt::format("the {} worker exited before it was ready ({}): is '{}' a partplan binary?", w.role,
                              exit_text(w.status), "__worker"));
    }
    if (f->header.kind == runtime::FrameKind::kError) {
      reap(w, true);
      const int code = WIFEXITED(w.status) && WEXITSTATUS(w.status) != 0 ? WEXITSTATUS(w.status) : kExitRuntime;
      throw Error(fmt::format("the {} worker: {}", w.role, f->text()), code);
    }
    w.ready = f->text();
  }
}

// ---- serving ---------------------------------------------------------------------------------

struct Result {
  double end_to_end_ms = 0;
  std::array<uint64_t, runtime::kMaxStages> stage_ns{}, hop_ns{};
  std::array<uint64_t, runtime::kMaxStages + 1> hop_bytes{};
};

struct Served {
  std::vector<Result> results;  ///< completed requests, in order
  std::optional<RuntimeDocument::Failure> failure;
  double wall_seconds = 0;
  double max_abs_error = 0, max_ref = 0;
  int64_t top1_same = 0, top1_total = 0;
};

/// The worker at fault: one that died by a signal. A worker downstream of it exits non-zero
/// soon after (its channel closed), so a non-zero exit counts only once every worker has been
/// reaped or 2 s have passed.
std::string who_failed(Layout& lay) {
  for (int tries = 0; tries < 40; ++tries) {
    bool all = true;
    for (auto& w : lay.workers) all = reap(w, false) && all;
    for (auto& w : lay.workers)
      if (w.reaped && WIFSIGNALED(w.status)) return w.role;
    if (all) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& w : lay.workers)
    if (failed(w)) return w.role;
  return "";
}

bool any_died(Layout& lay) {
  bool died = false;
  for (auto& w : lay.workers) died = (reap(w, false) && failed(w)) || died;
  return died;
}

RuntimeDocument::Failure failure_at(Layout& lay, int64_t request, const std::string& what) {
  const std::string role = who_failed(lay);
  const Worker* w = role.empty() ? nullptr : lay.worker_of(role);
  return {request, role,
          w ? fmt::format("the {} worker (pid {}) {} while request {} was in flight ({})", role, w->pid,
                          exit_text(w->status), request, what)
            : fmt::format("request {}: {}", request, what)};
}

Served serve(Layout& lay, const RunRequest& req, const RunPlan& p, const at::Tensor& inputs, const at::Tensor& refs,
             int64_t total) {
  Served s;
  const int64_t n = inputs.size(0);
  const runtime::Channel out(lay.to_first, "the enclave worker (front)");
  const runtime::Channel in(lay.from_last, "the " + p.parts.back().role + " worker (" + p.parts.back().name + ")");
  runtime::FrameLimits limits;
  limits.sample_shape.assign(p.output_shape.begin() + 1, p.output_shape.end());
  limits.max_payload_bytes = std::max<uint64_t>(1 << 20, 8 * static_cast<uint64_t>(common::numel(p.output_shape)));
  std::mutex mu;
  std::condition_variable cv;
  int64_t in_flight = 0;
  bool stop = false;
  std::vector<uint64_t> sent_at(static_cast<size_t>(total), 0);
  const uint64_t start = runtime::monotonic_ns();
  const auto input_bytes = static_cast<uint64_t>(inputs[0].numel() * 4);

  std::thread sender([&] {
    for (int64_t i = 0; i < total; ++i) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || in_flight < req.concurrency; });
        if (stop) return;
        ++in_flight;
        sent_at[static_cast<size_t>(i)] = runtime::monotonic_ns();
      }
      runtime::Frame f;
      f.header.sequence = static_cast<uint64_t>(i);
      const at::Tensor x = inputs[i % n].unsqueeze(0).contiguous();
      f.header.shape = x.sizes().vec();
      const auto* b = static_cast<const uint8_t*>(x.data_ptr());
      f.payload.assign(b, b + x.numel() * 4);
      try {
        out.send(std::move(f));
      } catch (const runtime::WireError&) {
        return;  // the receiver finds out which worker went and why
      }
    }
    try {
      out.send(runtime::text_frame(runtime::FrameKind::kShutdown, static_cast<uint64_t>(total), ""));
    } catch (const runtime::WireError&) {
    }
  });

  const uint64_t timeout_ns = static_cast<uint64_t>(req.request_timeout_seconds * 1e9);
  int64_t expected = 0;
  uint64_t last_progress = start;
  while (!s.failure) {
    pollfd pfd{lay.from_last, POLLIN, 0};
    const int r = ::poll(&pfd, 1, 100);
    if (r == 0) {
      for (auto& w : lay.workers)
        if (reap(w, false) && failed(w)) s.failure = failure_at(lay, expected, "no response came back");
      uint64_t since = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (expected < total && sent_at[static_cast<size_t>(expected)] != 0)
          since = runtime::monotonic_ns() - sent_at[static_cast<size_t>(expected)];
      }
      if (!s.failure && since > timeout_ns)
        s.failure = RuntimeDocument::Failure{
            expected, "", fmt::format("request {} got no response within {:g} s (--request-timeout)", expected,
                                      req.request_timeout_seconds)};
      continue;
    }
    std::optional<runtime::Frame> f;
    try {
      f = in.receive(limits, static_cast<int>(p.parts.size()), static_cast<int>(req.request_timeout_seconds * 1000));
    } catch (const runtime::WireError& e) {
      s.failure = failure_at(lay, expected, e.what());
      break;
    }
    if (!f) {
      s.failure = failure_at(lay, expected, "its channel closed");
      break;
    }
    const auto& h = f->header;
    if (h.kind == runtime::FrameKind::kShutdown) break;
    if (h.kind == runtime::FrameKind::kError) {
      // A part that failed on a request names itself; an error about a closed channel comes
      // from the stage after a worker that died, so the dead worker is the one to name.
      const std::string text = f->text();
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (any_died(lay)) {
        s.failure = failure_at(lay, expected, text);
      } else {
        s.failure = RuntimeDocument::Failure{std::max<int64_t>(static_cast<int64_t>(h.sequence), expected),
                                             text.find("the enclave worker") == 0     ? "enclave"
                                             : text.find("the untrusted worker") == 0 ? "untrusted"
                                                                                      : "",
                                             text};
      }
      break;
    }
    if (h.sequence != static_cast<uint64_t>(expected)) {
      s.failure = RuntimeDocument::Failure{expected, "", fmt::format("the response to request {} arrived when {} was due: "
                                                                     "responses must come back once, in order",
                                                                     h.sequence, expected)};
      break;
    }
    Result res;
    const uint64_t now = runtime::monotonic_ns();
    {
      std::lock_guard<std::mutex> lock(mu);
      res.end_to_end_ms = static_cast<double>(now - sent_at[static_cast<size_t>(expected)]) / 1e6;
      --in_flight;
    }
    cv.notify_all();
    res.stage_ns = h.stage_ns, res.hop_ns = h.hop_ns;
    res.hop_bytes[0] = input_bytes;
    for (size_t i = 0; i + 1 < p.parts.size(); ++i)
      res.hop_bytes[i + 1] = 4 * static_cast<uint64_t>(common::numel(p.parts[i].output_shape) /
                                                       std::max<int64_t>(1, p.parts[i].output_shape[0]));
    res.hop_bytes[p.parts.size()] = h.length;
    auto y = torch::empty(h.shape, torch::kFloat32);
    std::memcpy(y.data_ptr(), f->payload.data(), f->payload.size());
    const auto ref = refs[expected % n].unsqueeze(0);
    if (y.sizes() != ref.sizes()) {
      s.failure = RuntimeDocument::Failure{expected, "", fmt::format("response {} has shape {}, the unsplit model's {}",
                                                                     expected, common::format_shape(y.sizes().vec()),
                                                                     common::format_shape(ref.sizes().vec()))};
      break;
    }
    s.max_abs_error = std::max(s.max_abs_error, (y - ref).abs().max().item<double>());
    s.max_ref = std::max(s.max_ref, ref.abs().max().item<double>());
    if (y.dim() == 2 && y.size(1) > 1) {
      ++s.top1_total;
      s.top1_same += y.argmax(1).item<int64_t>() == ref.argmax(1).item<int64_t>();
    }
    s.results.push_back(res);
    ++expected;
    if (req.progress && (now - last_progress > 1000000000ull || expected == total)) {
      req.progress(expected, total);
      last_progress = now;
    }
  }
  s.wall_seconds = static_cast<double>(runtime::monotonic_ns() - start) / 1e9;
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
  }
  cv.notify_all();
  if (s.failure) lay.kill_all();  // unblocks a sender stuck on a full channel
  sender.join();
  return s;
}

/// Let the workers exit after the shutdown, for at most `seconds`; then kill what is left.
void finish_workers(Layout& lay, double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (auto& w : lay.workers)
    while (!reap(w, false) && std::chrono::steady_clock::now() < until)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  lay.kill_all();
  for (auto& w : lay.workers) reap(w, true);
}

// ---- the document ----------------------------------------------------------------------------

std::optional<double> ratio_of(double measured, const std::optional<double>& estimated) {
  return estimated && *estimated > 0 ? std::optional<double>(measured / *estimated) : std::nullopt;
}

/// The plan's cost-model estimate per part and per hop, in ms, comparable to what this run
/// measures: the enclave natively (its estimate divided by tee_slowdown), the untrusted part
/// on the device it ran on (a CPU run undoes the plan's assumed GPU speed-up).
void add_estimates(RuntimeDocument& d, const RunPlan& p, const std::string& device) {
  if (!p.doc) return;
  const auto* cut = p.doc->chosen_cut();
  if (!cut) return;
  const auto settings = p.doc->settings();
  const auto number = [&](const char* key, double fallback) {
    const auto it = settings.find(key);
    return it == settings.end() ? fallback : std::stod(it->second);
  };
  d.tee_slowdown = number("cost.tee_slowdown", 4.0);
  const double speedup = device == "cpu" && p.doc->cost_model.gpu_speedup_applied ? number("cost.gpu_speedup", 20.0) : 1.0;
  const auto& c = cut->cost;
  const double enclave_ms = 1e3 * c.enclave_seconds / d.tee_slowdown, untrusted_ms = 1e3 * c.untrusted_seconds * speedup;
  double front_share = 1.0;
  if (p.kind == "ternary" && c.enclave_flops > 0) front_share = std::min(1.0, cut->front_flops / c.enclave_flops);
  for (auto& part : d.parts) {
    if (part.role == "untrusted") part.estimated_ms = untrusted_ms;
    else part.estimated_ms = enclave_ms * (part.name == "front" ? front_share : 1.0 - front_share);
    part.ratio = ratio_of(part.measured.p50, part.estimated_ms);
  }
  double crossing_bytes = 0;
  for (const auto& h : d.hops)
    if (h.from != "client" && h.to != "client") crossing_bytes += static_cast<double>(h.bytes_per_request);
  for (auto& h : d.hops) {
    if (h.from == "client" || h.to == "client" || crossing_bytes <= 0) continue;
    h.estimated_ms = 1e3 * c.transfer_seconds * static_cast<double>(h.bytes_per_request) / crossing_bytes;
    h.ratio = ratio_of(h.measured.p50, h.estimated_ms);
  }
  d.estimated_end_to_end_ms = enclave_ms + untrusted_ms + 1e3 * c.transfer_seconds;
  d.enclave_budget_bytes = static_cast<int64_t>(p.doc->cost_model.enclave_memory_bytes);
}

std::string ready_field(const std::string& ready, const std::string& key) {
  for (const auto& line : common::split(ready, '\n'))
    if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
  return "";
}

RuntimeDocument document(const RunRequest& req, const RunPlan& p, const Layout& lay, const Served& s,
                         int64_t samples, int64_t total, const std::string& device) {
  RuntimeDocument d;
  d.tool_version = kVersion, d.libtorch = model::torch_version(), d.created_utc = common::utc_now();
  d.command = req.command_line;
  d.plan_path = fs::absolute(req.plan_path).string(), d.plan_sha256 = common::sha256_file(req.plan_path);
  d.model_path = p.model_path, d.model_sha256 = p.model_sha256;
  d.decision_kind = p.kind, d.cut_ids = p.cut_ids, d.cut_names = p.cut_names;
  d.data_source = req.data_source, d.samples = samples;
  d.requests = total, d.concurrency = req.concurrency, d.completed = static_cast<int64_t>(s.results.size());
  d.tolerance = req.tolerance;
  for (const auto& w : lay.workers) {
    RuntimeDocument::Worker x;
    x.role = w.role, x.parts = w.parts, x.device = w.device, x.threads = w.threads, x.peak_rss_bytes = w.peak_rss_bytes;
    x.core_dumps_off = ready_field(w.ready, "core_dumps_off") == "1";
    if (const auto net = ready_field(w.ready, "network"); !net.empty()) x.network = net;
    if (const auto sc = ready_field(w.ready, "seccomp"); !sc.empty()) x.seccomp = sc;
    x.exit = w.reaped ? exit_text(w.status) : "not reaped";
    if (w.role == "enclave") d.enclave_peak_rss_bytes = w.peak_rss_bytes;
    d.workers.push_back(x);
  }
  const size_t n = p.parts.size();
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> ms;
    for (const auto& r : s.results) ms.push_back(static_cast<double>(r.stage_ns[i]) / 1e6);
    d.parts.push_back({p.parts[i].name, p.parts[i].role, report::latency_of(ms), std::nullopt, std::nullopt});
  }
  for (size_t i = 0; i <= n; ++i) {
    std::vector<double> ms;
    for (const auto& r : s.results) ms.push_back(static_cast<double>(r.hop_ns[std::min(i, n)]) / 1e6);
    RuntimeDocument::Hop h;
    h.from = i == 0 ? "client" : p.parts[i - 1].name;
    h.to = i == n ? "client" : p.parts[i].name;
    h.bytes_per_request = s.results.empty() ? 0 : static_cast<int64_t>(s.results.front().hop_bytes[i]);
    h.measured = report::latency_of(ms);
    d.hops.push_back(h);
  }
  std::vector<double> e2e;
  for (const auto& r : s.results) e2e.push_back(r.end_to_end_ms);
  d.end_to_end = report::latency_of(e2e);
  d.wall_seconds = s.wall_seconds;
  d.throughput_rps = s.wall_seconds > 0 ? static_cast<double>(s.results.size()) / s.wall_seconds : 0;
  add_estimates(d, p, device);
  d.enclave_fits = d.enclave_budget_bytes <= 0 || d.enclave_peak_rss_bytes <= d.enclave_budget_bytes;
  d.compared = static_cast<int64_t>(s.results.size());
  d.max_abs_error = s.max_abs_error;
  d.max_rel_error = s.max_abs_error / std::max(s.max_ref, 1e-30);
  d.top1_agreement = s.top1_total ? static_cast<double>(s.top1_same) / static_cast<double>(s.top1_total) : 1.0;
  d.faithful = d.max_rel_error <= req.tolerance;
  d.failure = s.failure;
  return d;
}

void validate(const RunRequest& r) {
  if (r.concurrency < 1 || r.concurrency > 1024)
    throw UsageError(fmt::format("--concurrency {} must be 1 to 1024", r.concurrency));
  if (r.requests < 0) throw UsageError(fmt::format("--requests {} must be >= 0 (0: each sample once)", r.requests));
  if (r.max_samples < 1) throw UsageError(fmt::format("--samples {} must be at least 1", r.max_samples));
  if (!(r.tolerance >= 0)) throw UsageError(fmt::format("--tolerance {} must be >= 0", r.tolerance));
  if (!(r.request_timeout_seconds > 0))
    throw UsageError(fmt::format("--request-timeout {} must be > 0 seconds", r.request_timeout_seconds));
  if (r.threads < 0) throw UsageError(fmt::format("--threads {} must be >= 0 (0: share the cores)", r.threads));
  if (r.worker_exe.empty()) throw UsageError("run needs the partplan binary for its workers (worker_exe)");
}

}  // namespace

RunOutcome run_plan(const RunRequest& req) {
  validate(req);
  if (req.out_path != "-") common::check_can_create(req.out_path, /*is_dir=*/false);
  if (!req.gramine_dir.empty()) common::check_can_create(req.gramine_dir, /*is_dir=*/true);
  const RunPlan plan = read_plan(req.plan_path);
  check_files(plan);
  const std::string device = model::resolve_device(req.device);
  const at::Tensor inputs = load_inputs(req, plan);
  const at::Tensor refs = reference_outputs(plan, inputs);
  const int64_t total = req.requests > 0 ? req.requests : inputs.size(0);
  const int threads =
      req.threads > 0 ? req.threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / 2);

  Layout lay;
  start_workers(lay, plan, req, device, threads);
  await_ready(lay, req.request_timeout_seconds);
  Served served = serve(lay, req, plan, inputs, refs, total);
  finish_workers(lay, served.failure ? 0.0 : 10.0);

  RunOutcome out;
  out.doc = document(req, plan, lay, served, inputs.size(0), total, device);
  out.runtime_json = report::to_json(out.doc);
  if (req.out_path != "-") common::write_file_atomic(req.out_path, out.runtime_json);
  if (!req.gramine_dir.empty() && !served.failure) {
    runtime::GramineSpec g;
    g.worker_exe = req.worker_exe;
    for (size_t i = 0; i < plan.parts.size(); ++i) {
      if (plan.parts[i].role != "enclave") continue;
      auto st = stage_spec(plan, i);
      st.file = fs::absolute(st.file).string();
      g.trusted_files.push_back({st.file, st.sha256});
      g.stages.push_back(st);
    }
    g.max_payload_bytes = max_payload_of(plan);
    g.peak_rss_bytes = out.doc.enclave_peak_rss_bytes;
    g.threads = std::max(4, threads + 2);
    out.gramine_manifest_path = runtime::write_gramine(req.gramine_dir, g);
  }
  out.exit_code = served.failure ? kExitRuntime : out.doc.faithful ? kExitOk : kExitVerification;
  return out;
}

}  // namespace partplan::app
