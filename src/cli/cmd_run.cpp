// partplan run PLAN --data SRC: serve a plan's parts across processes as a deployment would
// (app/run.hpp), print the measured table, write runtime.json. Also the hidden `__worker`
// subcommand the run starts its workers with (runtime/worker.hpp).
#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <memory>

#include "partplan/app/run.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/log.hpp"
#include "partplan/runtime/worker.hpp"
#include "src/cli/commands.hpp"

namespace partplan::cli {
namespace {

std::string self_exe() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) throw IoError("cannot find the partplan binary (/proc/self/exe) to start the workers with");
  return std::string(buf, static_cast<size_t>(n));
}

int run_run(app::RunRequest req, bool json, Io& io) {
  req.worker_exe = self_exe();
  req.progress = [](int64_t done, int64_t total) { log::info("run: {}/{} requests", done, total); };
  const auto out = app::run_plan(req);
  io.out << (json ? out.runtime_json : report::runtime_table(out.doc));
  if (!out.gramine_manifest_path.empty()) log::info("wrote the Gramine manifest template {}", out.gramine_manifest_path);
  if (out.doc.failure) {
    io.err << "error: " << first_line(out.doc.failure->message) << " (" << out.doc.completed << " of "
           << out.doc.requests << " requests completed and kept in " << req.out_path << ")\n";
  } else if (!out.doc.faithful) {
    io.err << fmt::format("error: outputs differ from the unsplit model: max relative error {:.3g} above --tolerance "
                          "{:.3g} (exit {})\n",
                          out.doc.max_rel_error, req.tolerance, static_cast<int>(kExitVerification));
  }
  return out.exit_code;
}

}  // namespace

void setup_run(CLI::App& app, Dispatch& dispatch) {
  auto req = std::make_shared<app::RunRequest>();
  auto json = std::make_shared<bool>(false);
  auto no_sandbox = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand(
      "run",
      "Serve a plan's exported parts as a deployment would: the front (and a ternary back) in a sandboxed "
      "enclave-emulating worker, the rest in an untrusted worker; check each output against the unsplit model "
      "(exit 5 above tolerance) and measure latency, transfer and the enclave's memory (docs/runtime.md).");
  sub->add_option("PLAN", req->plan_path, "plan.json from assess --export DIR (or a partition.json from split)")
      ->required();
  sub->add_option("--data", req->data_source, "inputs: builtin:fashion-mnist, an image folder or a CSV (docs/data.md)")
      ->required();
  sub->add_option("--requests", req->requests, "requests to send (0: each loaded sample once)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000000}))
      ->capture_default_str();
  sub->add_option("--samples", req->max_samples, "distinct inputs drawn from --data, reused round-robin")
      ->check(CLI::Range(int64_t{1}, int64_t{100000}))
      ->capture_default_str();
  sub->add_option("--concurrency", req->concurrency, "requests in flight at once")
      ->check(CLI::Range(int64_t{1}, int64_t{1024}))
      ->capture_default_str();
  sub->add_option("--device", req->device, "the untrusted worker's device: auto, cpu, cuda, cuda:N (the enclave is the CPU)")
      ->capture_default_str();
  sub->add_option("--worker-threads", req->threads, "torch threads per worker (0: the cores shared by the two)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  sub->add_option("--tolerance", req->tolerance, "max relative error of an output against the unsplit model's")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--request-timeout", req->request_timeout_seconds, "seconds a request may take before the run fails")
      ->check(CLI::Range(0.001, 86400.0))
      ->capture_default_str();
  sub->add_option("-o,--out", req->out_path, "runtime.json to write (\"-\": none; --json prints it)")->capture_default_str();
  sub->add_option("--gramine", req->gramine_dir, "write a Gramine manifest template for the enclave worker here");
  sub->add_flag("--no-sandbox", *no_sandbox, "run the enclave worker without the network namespace and seccomp filter");
  sub->add_flag("--json", *json, "runtime.json on stdout instead of the table");
  sub->add_option("--fault", req->fault, "test hook: ROLE:kill@N, ROLE:crash@N or ROLE:perturb@N")->group("");
  sub->callback([req, json, no_sandbox, sub, &dispatch]() {
    req->sandbox = !*no_sandbox;
    req->command_line.clear();
    for (const auto& a : command_line(*sub)) req->command_line += (req->command_line.empty() ? "" : " ") + a;
    dispatch = [req, json](Io& io) { return run_run(*req, *json, io); };
  });

  auto spec = std::make_shared<runtime::WorkerSpec>();
  auto stages = std::make_shared<std::vector<std::string>>();
  auto worker_no_sandbox = std::make_shared<bool>(false);
  auto* w = app.add_subcommand("__worker", "internal: a partplan run worker")->group("");
  w->add_option("--role", spec->role)->required()->check(CLI::IsMember({"enclave", "untrusted"}));
  w->add_option("--control-fd", spec->control_fd)->required();
  w->add_option("--device", spec->device);
  w->add_option("--threads", spec->threads);
  w->add_option("--max-payload-bytes", spec->max_payload_bytes);
  w->add_option("--stage", *stages)->required();
  w->add_option("--fault", spec->fault);
  w->add_option("--netns", spec->netns);
  w->add_flag("--no-sandbox", *worker_no_sandbox);
  w->callback([spec, stages, worker_no_sandbox, &dispatch]() {
    dispatch = [spec, stages, worker_no_sandbox](Io&) {
      spec->sandbox = !*worker_no_sandbox;
      for (const auto& s : *stages) spec->stages.push_back(runtime::decode_stage(s));
      return runtime::run_worker(*spec);
    };
  });
}

}  // namespace partplan::cli
