// runtime.json and the Gramine template, with known answers: percentiles, a lossless round
// trip, a refused foreign file, the enclave size rule and the manifest's promises.
#include <catch2/catch.hpp>

#include <numeric>

#include "partplan/common/error.hpp"
#include "partplan/report/runtime_document.hpp"
#include "partplan/runtime/gramine.hpp"

using namespace partplan;

TEST_CASE("latency percentiles interpolate between order statistics", "[runtime]") {
  std::vector<double> ms(100);
  std::iota(ms.begin(), ms.end(), 1.0);  // 1..100, shuffled order does not matter
  std::reverse(ms.begin(), ms.end());
  const auto l = report::latency_of(ms);
  CHECK(l.n == 100);
  CHECK(l.p50 == Approx(50.5));
  CHECK(l.p95 == Approx(95.05));
  CHECK(l.p99 == Approx(99.01));
  CHECK(l.mean == Approx(50.5));
  CHECK(l.max == 100);
  CHECK(report::latency_of({}).n == 0);
  CHECK(report::latency_of({7.0}).p99 == 7.0);
}

TEST_CASE("runtime.json reads back as written", "[runtime]") {
  report::RuntimeDocument d;
  d.tool_version = "0.1.0", d.libtorch = "1.13.0", d.created_utc = "2026-12-04T18:00:00Z", d.command = "partplan run p";
  d.plan_path = "/p.json", d.plan_sha256 = std::string(64, 'a'), d.model_path = "/m.pt", d.model_sha256 = std::string(64, 'b');
  d.decision_kind = "ternary", d.cut_ids = {2, 9}, d.cut_names = {"pool1", "fc1"};
  d.data_source = "builtin:fashion-mnist:test", d.samples = 64, d.requests = 1000, d.concurrency = 4, d.completed = 1000;
  d.workers.push_back({"enclave", {"front", "back"}, "cpu", 1, 123456, true, "own network namespace", "allow-list", "exit 0"});
  d.parts.push_back({"front", "enclave", report::latency_of({1, 2, 3}), 1.5, 1.33});
  d.hops.push_back({"front", "middle", 12544, report::latency_of({0.1}), std::nullopt, std::nullopt});
  d.end_to_end = report::latency_of({4, 5});
  d.estimated_end_to_end_ms = 3.0;
  d.failure = report::RuntimeDocument::Failure{50, "untrusted", "killed"};
  const std::string text = report::to_json(d);
  const auto back = report::runtime_from_json(text, "r.json");
  CHECK(report::to_json(back) == text);
  CHECK(back.parts.at(0).estimated_ms == Approx(1.5));
  CHECK_FALSE(back.hops.at(0).estimated_ms);
  CHECK(back.failure->request == 50);
}

TEST_CASE("a file that is not a runtime.json is refused, naming it", "[runtime]") {
  CHECK_THROWS_WITH(report::runtime_from_json("{\"kind\": \"partplan.plan\"}", "plan.json"),
                    Catch::Contains("'plan.json' is not a runtime.json"));
  CHECK_THROWS_WITH(report::runtime_from_json("{\"kind\": \"partplan.runtime\", \"schema_version\": 1}", "r.json"),
                    Catch::Contains("'r.json' is not a valid runtime.json"));
  CHECK_THROWS_AS(report::runtime_from_json("not json", "x"), UsageError);
}

TEST_CASE("the enclave is the measured peak x 1.5, a power of two, at least 256 MiB", "[runtime][gramine]") {
  constexpr int64_t MiB = 1 << 20;
  CHECK(runtime::enclave_size_bytes(0) == 256 * MiB);
  CHECK(runtime::enclave_size_bytes(170 * MiB) == 256 * MiB);  // 255 MiB
  CHECK(runtime::enclave_size_bytes(180 * MiB) == 512 * MiB);  // 270 MiB
  CHECK(runtime::enclave_size_bytes(3000 * MiB) == 8192 * MiB);
}

TEST_CASE("the Gramine template trusts every part by hash and sets no insecure option", "[runtime][gramine]") {
  runtime::GramineSpec g;
  g.worker_exe = "/opt/partplan/bin/partplan";
  g.trusted_files = {{"/plans/front.pt", std::string(64, 'c')}, {"/plans/back.pt", std::string(64, 'd')}};
  g.peak_rss_bytes = 200 << 20;
  g.threads = 2;
  const auto m = runtime::gramine_manifest(g);
  CHECK_THAT(m, Catch::Contains("{ uri = \"file:/plans/front.pt\", sha256 = \"" + std::string(64, 'c') + "\" }"));
  CHECK_THAT(m, Catch::Contains("{ uri = \"file:/plans/back.pt\", sha256 = \"" + std::string(64, 'd') + "\" }"));
  CHECK_THAT(m, Catch::Contains("sgx.enclave_size = \"512M\""));
  CHECK_THAT(m, Catch::Contains("sgx.max_threads = 4"));
  CHECK_THAT(m, Catch::Contains("libos.entrypoint = \"/opt/partplan/bin/partplan\""));
  CHECK_THAT(m, Catch::Contains("sgx.debug = false"));
  CHECK(m.find("insecure__") == std::string::npos);
}
