// A worker process: load and check the parts, warm them up, lock the process down (enclave),
// then one thread per stage turns request frames into response frames. A request that fails
// in a part becomes an error frame that flows on to the client, and the stream stays in step;
// a frame the channel refuses cannot be re-synchronised, so the stage reports it downstream
// and the worker exits non-zero.
#include "partplan/runtime/worker.hpp"

#include <torch/torch.h>

#include <fmt/format.h>
#include <signal.h>

#include <cstring>
#include <optional>
#include <thread>

#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/model/device.hpp"
#include "partplan/partition/part.hpp"
#include "partplan/runtime/sandbox.hpp"
#include "partplan/runtime/wire.hpp"

namespace partplan::runtime {
namespace {

/// A test hook (WorkerSpec::fault): what to do on which request.
struct Fault {
  uint64_t request = 0;
  std::string what;  ///< "kill", "crash" or "perturb"
};

std::optional<Fault> parse_fault(const std::string& fault) {
  if (fault.empty()) return std::nullopt;
  const auto at = fault.find('@');
  Fault f{0, fault.substr(0, at)};
  if (at == std::string::npos || (f.what != "kill" && f.what != "crash" && f.what != "perturb"))
    throw UsageError("fault '" + fault + "' must be kill@N, crash@N or perturb@N");
  try {
    f.request = std::stoull(fault.substr(at + 1));
  } catch (const std::logic_error&) {
    throw UsageError("fault '" + fault + "': N must be a request number");
  }
  return f;
}

at::Tensor tensor_of(const Frame& f) {
  auto t = torch::empty(f.header.shape, torch::kFloat32);
  std::memcpy(t.data_ptr(), f.payload.data(), f.payload.size());
  return t;
}

Frame frame_of(const at::Tensor& y, const FrameHeader& request) {
  Frame out;
  out.header = request;
  out.header.kind = FrameKind::kTensor;
  out.header.dtype = WireDtype::kFloat32;
  out.header.shape = y.sizes().vec();
  const auto* p = static_cast<const uint8_t*>(y.data_ptr());
  out.payload.assign(p, p + y.numel() * sizeof(float));
  return out;
}

/// Serve one stage until shutdown. Returns the worker's exit code for this stage.
int serve(const StageSpec& st, const partition::Part& part, const WorkerSpec& spec, const std::optional<Fault>& fault) {
  const Channel in(st.in_fd, st.upstream), out(st.out_fd, st.downstream);
  FrameLimits limits;
  limits.max_payload_bytes = spec.max_payload_bytes;
  limits.sample_shape = st.sample_shape;
  const std::string who = fmt::format("the {} worker ({})", spec.role, st.name);
  uint64_t last = 0;
  for (;;) {
    std::optional<Frame> f;
    try {
      f = in.receive(limits, st.slot);
    } catch (const WireError& e) {
      // Nothing is run on a refused frame, and the stream cannot be trusted after it.
      try {
        out.send(text_frame(FrameKind::kError, last, fmt::format("{} refused a frame: {}", who, e.what())));
      } catch (const WireError&) {
      }
      return kExitRuntime;
    }
    if (!f) {
      try {
        out.send(text_frame(FrameKind::kError, last,
                            fmt::format("{}: {} closed the channel without a shutdown", who, st.upstream)));
      } catch (const WireError&) {
      }
      return kExitRuntime;
    }
    try {
      if (f->header.kind == FrameKind::kShutdown) {
        out.send(std::move(*f));
        return kExitOk;
      }
      if (f->header.kind != FrameKind::kTensor) {
        out.send(std::move(*f));  // an upstream error: pass it on to the client
        continue;
      }
      last = f->header.sequence;
      const bool hooked = fault && fault->request == last;
      if (hooked && fault->what == "kill") ::raise(SIGKILL);
      if (hooked && fault->what == "crash") ::raise(SIGSEGV);
      const auto t0 = monotonic_ns();
      std::optional<Frame> reply;
      try {
        at::Tensor y = part.forward(tensor_of(*f));
        if (hooked && fault->what == "perturb") y = y + 1.0f;  // a wrong answer, for the faithfulness check
        f->header.stage_ns[static_cast<size_t>(st.slot)] = monotonic_ns() - t0;
        reply = frame_of(y, f->header);
      } catch (const Error& e) {
        reply = text_frame(FrameKind::kError, last, fmt::format("{}: request {}: {}", who, last, e.what()));
      }
      out.send(std::move(*reply));
    } catch (const WireError&) {
      return kExitRuntime;  // downstream is gone; the client sees that worker's exit
    }
  }
}

void say(int control_fd, FrameKind kind, const std::string& text) {
  try {
    Channel(control_fd, "the client").send(text_frame(kind, 0, text));
  } catch (const WireError&) {
  }
}

}  // namespace

int run_worker(const WorkerSpec& spec) {
  SandboxReport sandbox;
  std::vector<partition::Part> parts;
  std::optional<Fault> fault;
  try {
    fault = parse_fault(spec.fault);
    if (spec.role == "enclave" && spec.sandbox) {
      // The network namespace is entered by the client's forked child before exec (unshare needs
      // one thread, and this process already has LibTorch's); without one, try here.
      if (spec.netns.empty()) {
        isolate_process(sandbox);
      } else {
        sandbox.network = describe_network(spec.netns);
        disable_core_dumps(sandbox);
      }
    }
    torch::set_num_threads(std::max(1, spec.threads));
    // On CUDA the parts run in float32 as exported, deterministically (no TF32), so that their
    // outputs can be held to the unsplit model's within --tolerance. The enclave is the CPU.
    if (spec.role != "enclave") model::configure_numerics(spec.device, /*deterministic=*/true);
    for (const auto& st : spec.stages) {
      parts.push_back(partition::Part::load(st.file, st.sha256, spec.role == "enclave" ? "cpu" : spec.device));
      std::vector<int64_t> shape = {1};
      shape.insert(shape.end(), st.sample_shape.begin(), st.sample_shape.end());
      parts.back().forward(torch::zeros(shape));  // lazy allocations and files happen before the filter
    }
    if (spec.role == "enclave" && spec.sandbox) install_syscall_filter(sandbox);
  } catch (const Error& e) {
    say(spec.control_fd, FrameKind::kError, e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    say(spec.control_fd, FrameKind::kError, first_line(e.what()));
    return kExitRuntime;
  }
  if (spec.role == "enclave" && spec.sandbox)
    say(spec.control_fd, FrameKind::kControl,
        fmt::format("ready\ncore_dumps_off={}\nnetwork={}\nseccomp={}\nallowed_syscalls={}",
                    sandbox.core_dumps_off ? 1 : 0, sandbox.network, sandbox.seccomp, sandbox.allowed_syscalls));
  else
    say(spec.control_fd, FrameKind::kControl, "ready\nsandbox=off");

  std::vector<int> codes(spec.stages.size(), kExitOk);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < spec.stages.size(); ++i)
    threads.emplace_back([&, i] { codes[i] = serve(spec.stages[i], parts[i], spec, fault); });
  for (auto& t : threads) t.join();
  for (int c : codes)
    if (c != kExitOk) return c;
  return kExitOk;
}

}  // namespace partplan::runtime
