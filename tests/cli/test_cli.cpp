#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/run_cli.hpp"
#include "partplan/common/error.hpp"
#include "src/cli/progress.hpp"
#include "tiny_models.hpp"

namespace fs = std::filesystem;
using partplan::testing::temp_dir;

namespace {

using partplan::testing::CliResult;
CliResult run(const std::vector<std::string>& args) { return partplan::testing::run_cli(args); }

// One `error: ...` line on stderr.
bool one_error_line(const std::string& err) { return err.rfind("error: ", 0) == 0 && err.find('\n') == err.size() - 1; }

struct Models {
  std::string dir = temp_dir("cli");
  std::string tiny = dir + "/tiny.pt";
  Models() { partplan::testing::save_tiny_net(tiny); }
};

}  // namespace

TEST_CASE("--help and --version", "[cli]") {
  auto h = run({"--help"});
  CHECK(h.rc == 0);
  CHECK(h.out.find("inspect") != std::string::npos);
  CHECK(h.out.find("Exit codes") != std::string::npos);
  auto sh = run({"split", "--help"});
  CHECK(sh.rc == 0);
  CHECK(sh.out.find("--cuts") != std::string::npos);
  auto v = run({"--version"});
  CHECK(v.rc == 0);
  CHECK(v.out.find("partplan 0.") == 0);
  CHECK(v.out.find("LibTorch") != std::string::npos);
}

TEST_CASE("usage errors exit 2 with one line", "[cli]") {
  for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                {"frobnicate"},
                                                                {"inspect"},
                                                                {"inspect", "x.pt", "--bogus"},
                                                                {"split", "x.pt", "--out", "d"},
                                                                {"verify", "p.json", "--samples", "0"}}) {
    auto r = run(args);
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(one_error_line(r.err));
    CHECK(r.out.empty());
  }
}

TEST_CASE("a wrong command or option is named, with the valid ones, and points at the right --help", "[cli]") {
  const std::string commands = "the commands are assess, inspect, split, verify, metrics, compare, merge, run";
  struct Case {
    std::vector<std::string> args;
    std::string expect;
  };
  for (const auto& c : std::vector<Case>{
           {{"frobnicate"}, "error: unknown command 'frobnicate': " + commands + " (run 'partplan --help')"},
           {{"frobnicate", "--help"}, "error: unknown command 'frobnicate': " + commands},
           {{"-q", "--threads", "2", "frobnicate"}, "error: unknown command 'frobnicate'"},
           {{"--bogus"}, "error: unknown option '--bogus': before a command the options are "},
           {{}, "error: a command is required: one of assess, inspect, split, verify, metrics, compare, merge, run"},
           {{"inspect"}, "(run 'partplan inspect --help')"},
           {{"split", "x.pt"}, "(run 'partplan split --help')"},
           {{"inspect", "x.pt", "--bogus"}, "error: unknown option '--bogus' for 'inspect'; the options of 'inspect' are "},
           {{"inspect", "x.pt", "--bogus=3"}, "error: unknown option '--bogus' for 'inspect'"},
       }) {
    const auto r = run(c.args);
    INFO(r.err);
    CHECK(r.rc == 2);
    CHECK(r.out.empty());
    CHECK(one_error_line(r.err));
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
  // The options listed are the command's own, and a global option (--threads) is among the top level's.
  CHECK(run({"inspect", "x.pt", "--bogus"}).err.find("--input-shape") != std::string::npos);
  CHECK(run({"--bogus"}).err.find("--threads") != std::string::npos);
}

TEST_CASE("inspect prints a table, or JSON", "[cli]") {
  Models m;
  auto t = run({"-q", "inspect", m.tiny, "--cuts", "all"});
  CHECK(t.rc == 0);
  CHECK(t.out.find("head:flatten") != std::string::npos);
  CHECK(t.err.empty());
  auto late = run({"inspect", m.tiny, "--cuts", "all", "-q"});  // global flags after the command
  CHECK(late.rc == 0);
  CHECK(late.err.empty());
  auto j = run({"-q", "inspect", m.tiny, "--json"});
  CHECK(j.rc == 0);
  CHECK(j.out.find("\"schema_version\": 1") != std::string::npos);
  CHECK(j.out.find("\"name\": \"res\"") != std::string::npos);
  CHECK(j.out.find("head:flatten") == std::string::npos);  // blocks only by default
}

TEST_CASE("bad model files: missing, not TorchScript, truncated, unsupported signature", "[cli]") {
  Models m;
  { std::ofstream(m.dir + "/text.pt") << "hello"; }
  {
    std::ifstream in(m.tiny, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    std::ofstream(m.dir + "/trunc.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  }
  partplan::testing::save_two_input(m.dir + "/two.pt");
  partplan::testing::save_tuple_output(m.dir + "/tuple.pt");

  struct Case {
    std::string file, expect;
  };
  for (const auto& c : std::vector<Case>{{m.dir + "/missing.pt", "not found"},
                                         {m.dir + "/text.pt", "not a TorchScript archive"},
                                         {m.dir + "/trunc.pt", "cannot load"},
                                         {m.dir + "/two.pt", "takes 2 inputs"},
                                         {m.dir + "/tuple.pt", "single tensor output"}}) {
    auto r = run({"inspect", c.file});
    INFO(c.file << ": " << r.err);
    CHECK(r.rc == 1);
    CHECK(one_error_line(r.err));
    CHECK(r.err.find(c.expect) != std::string::npos);
    CHECK(r.err.find(c.file) != std::string::npos);
  }
}

TEST_CASE("unknown cut lists the valid ones, and a rejected input shape asks for the right one", "[cli]") {
  Models m;
  auto r = run({"-q", "split", m.tiny, "--cuts", "layer9", "--out", m.dir + "/o"});
  CHECK(r.rc == 2);
  CHECK(one_error_line(r.err));
  CHECK(r.err.find("cut 'layer9' not found; valid: stem") != std::string::npos);
  CHECK_FALSE(fs::exists(m.dir + "/o"));  // nothing left behind

  auto s = run({"-q", "inspect", m.tiny, "--input-shape", "1,3,8,8"});
  CHECK(s.rc == 2);
  CHECK(one_error_line(s.err));
  CHECK(s.err.find("rejects input shape 1x3x8x8") != std::string::npos);

  auto bad = run({"-q", "inspect", m.tiny, "--input-shape", "1,two,8"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("'two'") != std::string::npos);
}

TEST_CASE("an unwritable output directory is refused before any work", "[cli]") {
  Models m;
  { std::ofstream(m.dir + "/afile") << "x"; }
  auto r = run({"-q", "split", m.tiny, "--cuts", "res", "--out", m.dir + "/afile/out"});
  CHECK(r.rc == 1);
  CHECK(one_error_line(r.err));
  CHECK(r.err.find("afile/out") != std::string::npos);
}

TEST_CASE("split + verify end to end, tampering exits 4, and an existing split needs --force", "[cli]") {
  Models m;
  const std::string out = m.dir + "/split";
  auto s = run({"-q", "split", m.tiny, "--cuts", "stem,res", "--out", out});
  REQUIRE(s.rc == 0);
  CHECK(s.out.find("ternary split") != std::string::npos);
  CHECK(fs::exists(out + "/front.pt"));
  CHECK(fs::exists(out + "/middle.pt"));
  CHECK(fs::exists(out + "/back.pt"));

  auto v = run({"-q", "verify", out + "/partition.json", "--json"});
  CHECK(v.rc == 0);
  CHECK(v.out.find("\"passed\": true") != std::string::npos);
  auto vdir = run({"-q", "verify", out});  // the directory works too
  CHECK(vdir.rc == 0);

  auto again = run({"-q", "split", m.tiny, "--cuts", "body", "--out", out});
  CHECK(again.rc == 2);
  CHECK(again.err.find("--force") != std::string::npos);
  CHECK(run({"-q", "split", m.tiny, "--cuts", "body", "--out", out, "--force"}).rc == 0);

  { std::ofstream(out + "/front.pt", std::ios::app) << "tamper"; }
  auto t = run({"-q", "verify", out + "/partition.json"});
  CHECK(t.rc == 4);
  CHECK(one_error_line(t.err));
  CHECK(t.err.find("front.pt") != std::string::npos);
}

TEST_CASE("the per-phase time table: seconds, share of the total, and the total", "[cli]") {
  using partplan::pipeline::Phase;
  const std::vector<partplan::pipeline::PhaseTime> phases{{Phase::kData, 1.3}, {Phase::kTrain, 90}, {Phase::kScore, 8.7}};
  CHECK(partplan::cli::phase_table(phases, 125) ==
        "time per phase:\n"
        "  data           1.3 s   1%\n"
        "  train         90.0 s  72%\n"
        "  score          8.7 s   7%\n"
        "  total        125.0 s (2m05s)\n");
  CHECK(partplan::cli::phase_table({}, 3).empty());
}
