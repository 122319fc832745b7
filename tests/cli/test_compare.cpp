// Plans read back for `compare` and the HTML pages: known answers on hand-written plans.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/run_cli.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/report/html.hpp"
#include "partplan/report/plan_document.hpp"
#include "partplan/report/png.hpp"
#include "partplan/report/report.hpp"
#include "src/report/chart.hpp"
#include "tiny_models.hpp"

using namespace partplan;
using nlohmann::json;

namespace {

// A plan of a model with 11 cut points and 1000 FLOPs; cuts at ids 0, 5, 10.
json plan_of(const std::string& model, const std::vector<double>& envelope, double threshold = 0.3) {
  json cuts = json::array();
  const int ids[] = {0, 5, 10};
  const double flops[] = {100, 500, 1000};
  for (size_t i = 0; i < envelope.size(); ++i)
    cuts.push_back(
        {{"id", ids[i]},
         {"name", "c" + std::to_string(ids[i])},
         {"front_flops", flops[i]},
         {"measured_ssim", envelope[i]},
         {"worst_attack", "cgan"},
         {"envelope_ssim", envelope[i]},
         {"verdict", envelope[i] <= threshold ? "safe" : "unsafe"},
         {"cost", {{"enclave_flops", flops[i]}, {"enclave_seconds", flops[i] * 1e-6}, {"fits_budget", true}}},
         {"attacks", json::array({{{"attack", "cgan"}, {"ssim", {{"mean", envelope[i]}}}}})}});
  return {{"kind", "partplan.plan"},
          {"model", {{"path", "models/" + model + ".pt"}, {"total_flops", 1000.0}, {"cut_count", 11}}},
          {"config", {{"threshold", threshold}, {"data", {{"source", "builtin:fashion-mnist"}}}, {"cuts", "stages"}}},
          {"decision",
           {{"kind", "binary"},
            {"threshold", threshold},
            {"reason", "r"},
            {"leakage_ssim", 0.2},
            {"cut_ids", json::array({10})},
            {"cut_name", "c10"},
            {"speedup_vs_enclave", 1.5}}},
          {"cuts", cuts}};
}

}  // namespace

TEST_CASE("the threshold crossing is interpolated on the chosen axis", "[compare]") {
  const auto p = report::read_plan(plan_of("a", {0.9, 0.5, 0.1}).dump(), "a.json");
  REQUIRE(p.cuts.size() == 3);
  CHECK(p.model_name() == "a");
  // Between c5 (x 0.5, 0.5) and c10 (x 1.0, 0.1): 0.5 + 0.5 * (0.5 - 0.3) / 0.4 = 0.75.
  CHECK(*report::threshold_crossing(p, report::Axis::kFlops) == Approx(0.75));
  CHECK(*report::threshold_crossing(p, report::Axis::kDepth) == Approx(0.75));  // ids 5 and 10 of 0..10
  CHECK(*report::threshold_crossing(p, report::Axis::kMs) == Approx(0.75e-3 * 1e3));
  const auto never = report::read_plan(plan_of("b", {0.9, 0.8, 0.7}).dump(), "b.json");
  CHECK_FALSE(report::threshold_crossing(never, report::Axis::kFlops));
  CHECK_THROWS_WITH(report::parse_axis("width"), Catch::Contains("'width'") && Catch::Contains("flops, depth, ms"));
}

TEST_CASE("plans with different settings are compared, and the differences named", "[compare]") {
  const auto a = report::read_plan(plan_of("vgg", {0.9, 0.5, 0.1}).dump(), "a.json");
  auto bj = plan_of("resnet", {0.9, 0.25, 0.1}, 0.5);
  bj["config"]["cuts"] = "all";  // differs by design: not reported
  const auto b = report::read_plan(bj.dump(), "b.json");
  const auto diff = report::plan_differences({a, b});
  REQUIRE(diff.size() == 1);
  CHECK(diff[0] == "threshold: 0.3 (vgg) vs 0.5 (resnet)");
  const auto text = report::compare_text({a, b}, report::Axis::kFlops);
  CHECK(text.find("different settings") != std::string::npos);
  CHECK(text.find("1.5x") != std::string::npos);
  const auto j = json::parse(report::compare_json({a, b}, report::Axis::kFlops));
  CHECK(j["models"][0]["threshold_crossing_x"].get<double>() == Approx(0.75));
  CHECK(j["models"][1]["chosen_x"].get<double>() == Approx(1.0));
  auto hostile = plan_of("<script>alert(1)</script>", {0.9, 0.5, 0.1});
  hostile["cuts"][0]["name"] = "c\"><img src=x onerror=alert(1)>";
  const auto h = report::read_plan(hostile.dump(), "h.json");
  const auto escaped = report::compare_html({h}, report::Axis::kFlops) + report::report_html(h, {});
  CHECK(escaped.find("<script>alert") == std::string::npos);
  CHECK(escaped.find("<img src=x") == std::string::npos);
  CHECK(escaped.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);
  const auto html = report::compare_html({a, b}, report::Axis::kFlops);
  CHECK(html.find("id=\"differences\"") != std::string::npos);
  CHECK(html.find("src=\"http") == std::string::npos);  // nothing fetched
  CHECK(html.find("href=") == std::string::npos);
}

TEST_CASE("files that are not comparable plans are refused with the file named", "[compare]") {
  CHECK_THROWS_WITH(report::read_plan("{nope", "x.json"), Catch::Contains("'x.json' is not JSON"));
  CHECK_THROWS_WITH(report::read_plan("{\"kind\": \"partplan.partition\"}", "p.json"),
                    Catch::Contains("not a partplan plan"));
  auto pre = plan_of("a", {0.9});
  pre["decision"]["kind"] = "prescreen";
  CHECK_THROWS_WITH(report::read_plan(pre.dump(), "pre.json"), Catch::Contains("pre-screen"));
  auto broken = plan_of("a", {0.9});
  broken["cuts"][0].erase("envelope_ssim");
  CHECK_THROWS_WITH(report::read_plan(broken.dump(), "b.json"), Catch::Contains("envelope_ssim"));
}

// Inputs found in the review of fuzz/fuzz_plan.cpp (scripts/fuzz.sh): each escaped as an
// nlohmann exception or converted a double with undefined behaviour, and is now a UsageError
// naming the file and the field.
TEST_CASE("plans with values of the wrong type or range are refused with the field named (fuzz regressions)",
          "[compare]") {
  using Catch::Contains;
  const auto refuses = [](const json& plan, const std::string& fragment) {
    INFO(plan.dump().substr(0, 300));
    CHECK_THROWS_AS(report::read_plan(plan.dump(), "m.json"), UsageError);
    CHECK_THROWS_WITH(report::read_plan(plan.dump(), "m.json"), Contains("'m.json'") && Contains(fragment));
  };
  REQUIRE_NOTHROW(report::read_plan(plan_of("a", {0.9}).dump(), "m.json"));
  auto p = plan_of("a", {0.9});
  p["measure"] = 5;  // j.value() threw json's type_error 302
  refuses(p, "'measure' has the wrong type");
  p = plan_of("a", {0.9});
  p["model"]["cut_count"] = 1e300;  // json::get<int64_t> of it is undefined
  refuses(p, "model: 'cut_count' has the wrong type or range (1e+300)");
  p = plan_of("a", {0.9});
  p["decision"]["cut_ids"] = {-1e300};
  refuses(p, "decision: 'cut_ids' has the wrong type or range");
  p = plan_of("a", {0.9});
  p["cuts"][0]["cost"] = 5;  // cost.value() threw json's type_error 306
  refuses(p, "cut 0 cost: not an object (5)");
  p = plan_of("a", {0.9});
  p["cuts"][0]["attacks"][0]["ssim"]["mean"] = "high";
  refuses(p, "cut 0 attack ssim: 'mean' has the wrong type");
  CHECK_THROWS_WITH(report::read_plan("{\"kind\": \"partplan.plan\", \"n\": 1e400}", "m.json"),
                    Contains("'m.json' is not JSON"));
  const std::string deep = "{\"kind\": \"partplan.plan\", \"x\": " + std::string(100000, '[') +
                           std::string(100000, ']') + "}";
  CHECK_THROWS_WITH(report::read_plan(deep, "m.json"), Contains("nested deeper than 64 levels"));
  CHECK_FALSE(report::plan_sidecar_path(deep, "m.json"));
}

TEST_CASE("record plans are read by their generic keys, and are not compared with image plans", "[compare]") {
  auto rec = plan_of("mlp", {0.9, 0.5, 0.1});
  rec["measure"] = "reidentification";
  for (auto& c : rec["cuts"]) {
    c["measured"] = c["measured_ssim"];
    c["envelope"] = c["envelope_ssim"];
    c.erase("measured_ssim");
    c.erase("envelope_ssim");
    c["attacks"][0] = {{"attack", "cgan"}, {"records", {{"reidentification", {{"mean", 0.42}}}}}};
  }
  rec["decision"]["leakage"] = 0.1;
  rec["decision"].erase("leakage_ssim");
  const auto r = report::read_plan(rec.dump(), "mlp.json");
  CHECK(r.measure_label() == "re-identification");
  CHECK(r.cuts[2].envelope == Approx(0.1));
  CHECK(r.cuts[0].attacks[0].headline().mean == Approx(0.42));  // the headline mean
  CHECK(r.decision.leakage == Approx(0.1));
  const auto img = report::read_plan(plan_of("cnn", {0.9, 0.5, 0.1}).dump(), "cnn.json");
  CHECK(img.measure_label() == "SSIM");
  const std::vector<report::PlanDocument> both{img, r};
  for (auto render : {report::compare_text, report::compare_json, report::compare_html})
    CHECK_THROWS_WITH(render(both, report::Axis::kFlops),
                      Catch::Contains("'cnn.json' measures SSIM") && Catch::Contains("'mlp.json' re-identification"));
  CHECK(json::parse(report::compare_json({r}, report::Axis::kFlops)).at("measure") == "reidentification");
}

TEST_CASE("the plan document reads version 1's *_ssim keys as the generic ones and writes only these",
          "[compare][report]") {
  auto v1 = plan_of("cnn", {0.9, 0.5, 0.1});
  v1["schema_version"] = 1;
  v1["label_floor_ssim"] = 0.12;
  v1["cuts"][0]["attacks"][0]["train"] = {{"steps_run", 40}, {"best_step", 20}, {"best_val_ssim", 0.7}};
  const auto doc = report::plan_from_json(v1.dump(), "v1.json");
  CHECK(doc.schema_version == 1);
  CHECK(*doc.label_floor == 0.12);
  CHECK(doc.decision.leakage == 0.2);
  CHECK(doc.cuts[1].measured == 0.5);
  CHECK(doc.cuts[1].envelope == 0.5);
  CHECK(doc.cuts[0].attacks[0].train.best_val == 0.7);
  CHECK(doc.cuts[0].attacks[0].train.best_step == 20);
  CHECK(doc.cuts[2].cost.enclave_flops == 1000);  // written: taken as it is
  CHECK(doc.chosen_cut() == &doc.cuts[2]);
  CHECK(doc.settings().at("threshold") == "0.3");
  // Written again, it has the generic keys only.
  auto again = doc;
  again.schema_version = report::kPlanSchemaVersion;
  const auto text = report::to_json(again);
  CHECK(text.find("_ssim\"") == std::string::npos);
  const auto j = json::parse(text);
  CHECK(j.at("label_floor") == 0.12);
  CHECK(j.at("cuts").at(1).at("envelope") == 0.5);
  CHECK(j.at("cuts").at(0).at("attacks").at(0).at("train").at("best_val") == 0.7);
  CHECK(report::to_json(report::plan_from_json(text, "v2.json")) == text);  // a fixed point
  // A pre-screen is a plan document, but not one to compare.
  auto pre = plan_of("a", {0.9});
  pre["decision"]["kind"] = "prescreen";
  CHECK_FALSE(report::plan_from_json(pre.dump(), "pre.json").trained());
  CHECK(report::is_plan_json(pre.dump()));
  CHECK_FALSE(report::is_plan_json("{\"kind\": \"partplan.partition\"}"));
  CHECK_FALSE(report::is_plan_json("{nope"));
}

TEST_CASE("base64 has the RFC 4648 answers", "[compare]") {
  auto b = [](const std::string& s) { return common::base64_encode(std::vector<uint8_t>(s.begin(), s.end())); };
  CHECK(b("") == "");
  CHECK(b("f") == "Zg==");
  CHECK(b("fo") == "Zm8=");
  CHECK(b("foobar") == "Zm9vYmFy");
  const auto back = common::base64_decode("Zm9vYmFy");
  REQUIRE(back);
  CHECK(std::string(back->begin(), back->end()) == "foobar");
  CHECK_FALSE(common::base64_decode("Zm9v*mFy"));
}

TEST_CASE("partplan compare: a table on stdout, the pages with --out, a clear error on a bad file", "[compare][cli]") {
  const auto dir = partplan::testing::temp_dir("compare");
  std::ofstream(dir + "/a.json") << plan_of("vgg", {0.9, 0.5, 0.1}).dump();
  std::ofstream(dir + "/b.json") << plan_of("resnet", {0.9, 0.25, 0.1}).dump();
  auto r = partplan::testing::run_cli({"-q", "compare", dir + "/a.json", dir + "/b.json", "--out", dir + "/cmp"});
  INFO(r.err);
  REQUIRE(r.rc == 0);
  CHECK(r.out.find("vgg") != std::string::npos);
  CHECK(r.out.find("resnet") != std::string::npos);
  std::ifstream html(dir + "/cmp/compare.html");
  CHECK(html.good());
  auto j = partplan::testing::run_cli({"-q", "compare", dir + "/a.json", "--json", "--axis", "depth"});
  REQUIRE(j.rc == 0);
  CHECK(json::parse(j.out)["axis"] == "depth");
  std::ofstream(dir + "/bad.json") << "[]";
  auto bad = partplan::testing::run_cli({"-q", "compare", dir + "/a.json", dir + "/bad.json", "--out", dir + "/cmp2"});
  CHECK(bad.rc == 2);
  CHECK(bad.err.find("bad.json") != std::string::npos);
  CHECK_FALSE(std::ifstream(dir + "/cmp2/compare.html").good());  // nothing written
}

TEST_CASE("reconstruction strips round-trip through PNG exactly, gray and RGB", "[cli][report]") {
  for (int64_t c : {1, 3}) {
    partplan::common::Image8 im;
    im.n = 3, im.c = c, im.h = 5, im.w = 4;
    for (int64_t i = 0; i < im.n * im.c * im.h * im.w; ++i) im.pixels.push_back(static_cast<uint8_t>((i * 37) % 256));
    const auto png = partplan::report::encode_png_strip(im);
    REQUIRE(png.size() > 8);
    CHECK(png[1] == 'P');
    const auto back = partplan::report::decode_png_strip(png, 3, c, 5, 4);
    CHECK(back.pixels == im.pixels);
    CHECK_THROWS_AS(partplan::report::decode_png_strip(png, 2, c, 5, 4), partplan::DataError);
  }
}

TEST_CASE("a chart is built once from the plan and drawn as SVG and as PNG with one palette", "[compare]") {
  auto j = plan_of("a", {0.9, 0.5, 0.1});
  j["label_floor"] = 0.2;
  const auto p = report::read_plan(j.dump(), "a.json");
  const auto leak = report::chart::leakage(p);
  // One series per attacker, then the envelope and the label-only guess.
  REQUIRE(leak.series.size() == 3);
  CHECK(leak.series[0].name == "cgan");
  CHECK(leak.series[1].name == "envelope");
  CHECK(leak.series[2].name == "label-only guess");
  REQUIRE(leak.series[1].points.size() == 3);
  CHECK(leak.series[1].points[1].y == 0.5);
  CHECK(leak.series[1].points[2].mark);  // c10 is the chosen cut
  CHECK_FALSE(leak.series[1].points[0].mark);
  CHECK(leak.x_max == 2);
  const auto svg = report::chart::render_svg(leak);
  CHECK(svg.find("stroke=\"#1f77b4\"") != std::string::npos);  // cgan: the first series colour
  CHECK(svg.find("stroke=\"#d62728\"") != std::string::npos);  // the envelope
  CHECK(report::chart::series_color(0).hex() == "#1f77b4");
  const auto png = report::chart::render_png(leak);
  CHECK(png.width() == 900);
  CHECK(png.height() == 430);  // rotated cut labels
  // The legend swatches: 14 x 4 pixels at the right of the plot, one row per series, in the
  // series' colours (x 708..722, y 42 + 18 i, from the shared layout).
  auto at = [&](int x, int y) {
    const auto& im = png.image();
    return std::vector<int>{im.at(y, x, 0), im.at(y, x, 1), im.at(y, x, 2)};
  };
  CHECK(at(715, 42) == std::vector<int>{0x1f, 0x77, 0xb4});
  CHECK(at(715, 60) == std::vector<int>{0xd6, 0x27, 0x28});
  CHECK(at(715, 78) == std::vector<int>{0x2c, 0xa0, 0x2c});
  // The Pareto view: safe-and-fits, over budget, unsafe; c10 (0.1) is safe at threshold 0.3.
  const auto par = report::chart::pareto(p);
  REQUIRE(par.series.size() == 3);
  CHECK(par.series[0].points.size() == 1);
  CHECK(par.series[2].points.size() == 2);
  CHECK(report::chart::render_png(par).height() == 360);
}
