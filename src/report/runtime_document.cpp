// runtime.json: to_json, runtime_from_json and the table `partplan run` prints. The keys are
// documented in docs/runtime.md and checked by docs/schemas/runtime.schema.json.
#include "partplan/report/runtime_document.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "partplan/common/error.hpp"
#include "partplan/config/json_document.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

json opt(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }
std::optional<double> opt_from(const json& j, const char* key) {
  return j.contains(key) && !j.at(key).is_null() ? std::optional<double>(j.at(key).get<double>()) : std::nullopt;
}

json latency_json(const LatencyMs& l) {
  return {{"p50_ms", l.p50}, {"p95_ms", l.p95}, {"p99_ms", l.p99}, {"mean_ms", l.mean}, {"max_ms", l.max}, {"n", l.n}};
}
LatencyMs latency_from(const json& j) {
  LatencyMs l;
  l.p50 = j.at("p50_ms").get<double>(), l.p95 = j.at("p95_ms").get<double>(), l.p99 = j.at("p99_ms").get<double>();
  l.mean = j.at("mean_ms").get<double>(), l.max = j.at("max_ms").get<double>();
  l.n = config::integer_from_json<int64_t>(j.at("n"));
  return l;
}

std::string ms(double v) { return v >= 100 ? fmt::format("{:.0f}", v) : v >= 1 ? fmt::format("{:.2f}", v) : fmt::format("{:.3f}", v); }
std::string ms(const std::optional<double>& v) { return v ? ms(*v) : "-"; }
std::string ratio(const std::optional<double>& v) { return v ? fmt::format("{:.2f}", *v) : "-"; }
std::string mib(int64_t bytes) { return fmt::format("{:.1f} MiB", static_cast<double>(bytes) / (1 << 20)); }

}  // namespace

LatencyMs latency_of(std::vector<double> ms) {
  LatencyMs l;
  l.n = static_cast<int64_t>(ms.size());
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  const auto at = [&](double q) {
    const double pos = q * static_cast<double>(ms.size() - 1);
    const auto lo = static_cast<size_t>(pos);
    const size_t hi = std::min(lo + 1, ms.size() - 1);
    return ms[lo] + (pos - static_cast<double>(lo)) * (ms[hi] - ms[lo]);
  };
  l.p50 = at(0.50), l.p95 = at(0.95), l.p99 = at(0.99), l.max = ms.back();
  double sum = 0;
  for (double v : ms) sum += v;
  l.mean = sum / static_cast<double>(ms.size());
  return l;
}

std::string to_json(const RuntimeDocument& d) {
  json j;
  j["kind"] = "partplan.runtime";
  j["schema_version"] = d.schema_version;
  j["tool"] = {{"name", "partplan"}, {"version", d.tool_version}, {"libtorch", d.libtorch}};
  j["created_utc"] = d.created_utc;
  j["command"] = d.command;
  j["plan"] = {{"path", d.plan_path}, {"sha256", d.plan_sha256}, {"decision_kind", d.decision_kind},
               {"cut_ids", d.cut_ids}, {"cut_names", d.cut_names}};
  j["model"] = {{"path", d.model_path}, {"sha256", d.model_sha256}};
  j["data"] = {{"source", d.data_source}, {"samples", d.samples}};
  j["requests"] = {{"sent", d.requests}, {"completed", d.completed}, {"concurrency", d.concurrency}};
  json workers = json::array();
  for (const auto& w : d.workers)
    workers.push_back({{"role", w.role}, {"parts", w.parts}, {"device", w.device}, {"threads", w.threads},
                       {"peak_rss_bytes", w.peak_rss_bytes},
                       {"sandbox", {{"core_dumps_off", w.core_dumps_off}, {"network", w.network}, {"seccomp", w.seccomp}}},
                       {"exit", w.exit}});
  j["workers"] = workers;
  json parts = json::array();
  for (const auto& p : d.parts)
    parts.push_back({{"name", p.name}, {"role", p.role}, {"measured", latency_json(p.measured)},
                     {"estimated_ms", opt(p.estimated_ms)}, {"ratio", opt(p.ratio)}});
  j["parts"] = parts;
  json hops = json::array();
  for (const auto& h : d.hops)
    hops.push_back({{"from", h.from}, {"to", h.to}, {"bytes_per_request", h.bytes_per_request},
                    {"measured", latency_json(h.measured)}, {"estimated_ms", opt(h.estimated_ms)}, {"ratio", opt(h.ratio)}});
  j["hops"] = hops;
  j["end_to_end"] = {{"measured", latency_json(d.end_to_end)}, {"estimated_ms", opt(d.estimated_end_to_end_ms)}};
  j["wall_seconds"] = d.wall_seconds;
  j["throughput_rps"] = d.throughput_rps;
  j["tee_slowdown"] = d.tee_slowdown;
  j["enclave_memory"] = {{"peak_rss_bytes", d.enclave_peak_rss_bytes}, {"budget_bytes", d.enclave_budget_bytes},
                         {"fits", d.enclave_fits}};
  j["faithful"] = {{"passed", d.faithful}, {"compared", d.compared}, {"max_abs_error", d.max_abs_error},
                   {"max_rel_error", d.max_rel_error}, {"top1_agreement", d.top1_agreement}, {"tolerance", d.tolerance}};
  j["failure"] = d.failure ? json{{"request", d.failure->request}, {"worker", d.failure->worker},
                                  {"message", d.failure->message}}
                           : json(nullptr);
  return j.dump(2) + "\n";
}

RuntimeDocument runtime_from_json(const std::string& text, const std::string& source) {
  RuntimeDocument d;
  try {
    const json j = config::parse_json_document(text);
    if (!j.is_object() || j.value("kind", "") != "partplan.runtime")
      throw UsageError(fmt::format("'{}' is not a runtime.json (no \"kind\": \"partplan.runtime\"): pass the file "
                                   "partplan run wrote with --out",
                                   source));
    d.schema_version = config::integer_from_json<int>(j.at("schema_version"));
    if (d.schema_version > kRuntimeSchemaVersion)
      throw UsageError(fmt::format("'{}' has runtime schema_version {}, newer than this partplan's {}: upgrade partplan",
                                   source, d.schema_version, kRuntimeSchemaVersion));
    d.tool_version = j.at("tool").at("version").get<std::string>();
    d.libtorch = j.at("tool").at("libtorch").get<std::string>();
    d.created_utc = j.at("created_utc").get<std::string>();
    d.command = j.at("command").get<std::string>();
    const auto& plan = j.at("plan");
    d.plan_path = plan.at("path").get<std::string>(), d.plan_sha256 = plan.at("sha256").get<std::string>();
    d.decision_kind = plan.at("decision_kind").get<std::string>();
    d.cut_ids = plan.at("cut_ids").get<std::vector<int>>();
    d.cut_names = plan.at("cut_names").get<std::vector<std::string>>();
    d.model_path = j.at("model").at("path").get<std::string>(), d.model_sha256 = j.at("model").at("sha256").get<std::string>();
    d.data_source = j.at("data").at("source").get<std::string>();
    d.samples = config::integer_from_json<int64_t>(j.at("data").at("samples"));
    const auto& req = j.at("requests");
    d.requests = config::integer_from_json<int64_t>(req.at("sent"));
    d.completed = config::integer_from_json<int64_t>(req.at("completed"));
    d.concurrency = config::integer_from_json<int64_t>(req.at("concurrency"));
    for (const auto& w : j.at("workers")) {
      RuntimeDocument::Worker x;
      x.role = w.at("role").get<std::string>(), x.parts = w.at("parts").get<std::vector<std::string>>();
      x.device = w.at("device").get<std::string>(), x.threads = config::integer_from_json<int>(w.at("threads"));
      x.peak_rss_bytes = config::integer_from_json<int64_t>(w.at("peak_rss_bytes"));
      const auto& s = w.at("sandbox");
      x.core_dumps_off = s.at("core_dumps_off").get<bool>();
      x.network = s.at("network").get<std::string>(), x.seccomp = s.at("seccomp").get<std::string>();
      x.exit = w.at("exit").get<std::string>();
      d.workers.push_back(x);
    }
    for (const auto& p : j.at("parts"))
      d.parts.push_back({p.at("name").get<std::string>(), p.at("role").get<std::string>(), latency_from(p.at("measured")),
                         opt_from(p, "estimated_ms"), opt_from(p, "ratio")});
    for (const auto& h : j.at("hops"))
      d.hops.push_back({h.at("from").get<std::string>(), h.at("to").get<std::string>(),
                        config::integer_from_json<int64_t>(h.at("bytes_per_request")), latency_from(h.at("measured")),
                        opt_from(h, "estimated_ms"), opt_from(h, "ratio")});
    d.end_to_end = latency_from(j.at("end_to_end").at("measured"));
    d.estimated_end_to_end_ms = opt_from(j.at("end_to_end"), "estimated_ms");
    d.wall_seconds = j.at("wall_seconds").get<double>(), d.throughput_rps = j.at("throughput_rps").get<double>();
    d.tee_slowdown = j.at("tee_slowdown").get<double>();
    const auto& mem = j.at("enclave_memory");
    d.enclave_peak_rss_bytes = config::integer_from_json<int64_t>(mem.at("peak_rss_bytes"));
    d.enclave_budget_bytes = config::integer_from_json<int64_t>(mem.at("budget_bytes"));
    d.enclave_fits = mem.at("fits").get<bool>();
    const auto& f = j.at("faithful");
    d.faithful = f.at("passed").get<bool>(), d.compared = config::integer_from_json<int64_t>(f.at("compared"));
    d.max_abs_error = f.at("max_abs_error").get<double>(), d.max_rel_error = f.at("max_rel_error").get<double>();
    d.top1_agreement = f.at("top1_agreement").get<double>(), d.tolerance = f.at("tolerance").get<double>();
    if (j.contains("failure") && !j.at("failure").is_null()) {
      const auto& x = j.at("failure");
      d.failure = RuntimeDocument::Failure{config::integer_from_json<int64_t>(x.at("request")),
                                           x.at("worker").get<std::string>(), x.at("message").get<std::string>()};
    }
  } catch (const json::exception& e) {
    throw UsageError(fmt::format("'{}' is not a valid runtime.json ({}): pass the file partplan run wrote with --out",
                                 source, first_line(e.what())));
  }
  return d;
}

std::string runtime_table(const RuntimeDocument& d) {
  std::string out = fmt::format("{} requests at concurrency {}: {} completed, {:.1f} requests/s, {:.2f} s\n",
                                d.requests, d.concurrency, d.completed, d.throughput_rps, d.wall_seconds);
  out += fmt::format("{:<22}{:>10}{:>10}{:>10}{:>14}{:>8}\n", "part / hop", "p50 ms", "p95 ms", "p99 ms",
                     "estimated ms", "ratio");
  for (const auto& p : d.parts)
    out += fmt::format("{:<22}{:>10}{:>10}{:>10}{:>14}{:>8}\n", p.name + " (" + p.role + ")", ms(p.measured.p50),
                       ms(p.measured.p95), ms(p.measured.p99), ms(p.estimated_ms), ratio(p.ratio));
  for (const auto& h : d.hops)
    out += fmt::format("{:<22}{:>10}{:>10}{:>10}{:>14}{:>8}  {} B/request\n", h.from + " -> " + h.to, ms(h.measured.p50),
                       ms(h.measured.p95), ms(h.measured.p99), ms(h.estimated_ms), ratio(h.ratio), h.bytes_per_request);
  out += fmt::format("{:<22}{:>10}{:>10}{:>10}{:>14}{:>8}\n", "end to end", ms(d.end_to_end.p50), ms(d.end_to_end.p95),
                     ms(d.end_to_end.p99), ms(d.estimated_end_to_end_ms),
                     ratio(d.estimated_end_to_end_ms && *d.estimated_end_to_end_ms > 0
                               ? std::optional<double>(d.end_to_end.p50 / *d.estimated_end_to_end_ms)
                               : std::nullopt));
  out += fmt::format("enclave worker peak RSS {}{}\n", mib(d.enclave_peak_rss_bytes),
                     d.enclave_budget_bytes > 0
                         ? fmt::format(" of a {} budget: {}", mib(d.enclave_budget_bytes), d.enclave_fits ? "fits" : "DOES NOT FIT")
                         : std::string(" (the plan sets no budget)"));
  out += fmt::format("faithful: {} ({} outputs against the unsplit model: max abs error {:.3g}, max rel error {:.3g}, "
                     "top-1 agreement {:.3f}, tolerance {:.3g})\n",
                     d.faithful ? "yes" : "NO", d.compared, d.max_abs_error, d.max_rel_error, d.top1_agreement, d.tolerance);
  if (d.failure)
    out += fmt::format("failed at request {}{}: {}\n", d.failure->request,
                       d.failure->worker.empty() ? "" : " (" + d.failure->worker + " worker)", d.failure->message);
  return out;
}

}  // namespace partplan::report
