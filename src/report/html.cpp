// Plans read back, the cross-model comparison, and the self-contained HTML pages. Charts are
// plain SVG written here (no script library to inline, nothing fetched): a line chart with
// hover titles on every point, which stays readable with hundreds of cuts because labels are
// thinned and each point carries its cut's name.
#include "partplan/report/html.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/config/json_document.hpp"
#include "partplan/config/settings.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

// ---- reading ------------------------------------------------------------------------------

// Integers are range-checked (config::integer_from_json): json::get converts an
// out-of-range float with undefined behaviour.
template <class T>
T field(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key))
    throw UsageError(fmt::format("{}: no '{}': is it a plan.json from partplan assess?", where, key));
  try {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      return config::integer_from_json<T>(j.at(key));
    else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<int>>)
      return config::integers_from_json<typename T::value_type>(j.at(key));
    else
      return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw UsageError(
        fmt::format("{}: '{}' has the wrong type or range ({})", where, key, j.at(key).dump().substr(0, 40)));
  }
}

// An optional field of the object `j`: `fallback` when absent or null, else as field().
template <class T>
T field_or(const json& j, const char* key, T fallback, const std::string& where) {
  if (!j.is_object())
    throw UsageError(fmt::format("{}: not an object ({}): is it a plan.json from partplan assess?", where,
                                 j.dump().substr(0, 40)));
  return j.contains(key) && !j.at(key).is_null() ? field<T>(j, key, where) : fallback;
}

// ---- HTML and SVG --------------------------------------------------------------------------

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"};
const char* color(size_t i) { return kColors[i % (sizeof(kColors) / sizeof(kColors[0]))]; }

struct Point {
  double x = 0, y = 0;
  std::string tip;
  bool hollow = false;
  bool mark = false;  ///< drawn larger, with a ring: the chosen cut
};
struct Series {
  std::string name, color;
  std::vector<Point> points;
  double width = 2;
  bool lines = true;
};
struct Chart {
  std::string id, title, x_label, y_label = "SSIM";
  double x_min = 0, x_max = 1;
  std::optional<double> threshold;
  std::vector<std::pair<double, std::string>> x_ticks;  ///< empty: 5 numeric ticks
  bool x_labels_rotated = false;
};

std::string svg(const Chart& c, const std::vector<Series>& series) {
  const double W = 900, H = c.x_labels_rotated ? 430 : 360, L = 56, R = 200, T = 30;
  const double B = c.x_labels_rotated ? 130 : 50;
  const double pw = W - L - R, ph = H - T - B;
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  auto X = [&](double x) { return L + (x - c.x_min) / span * pw; };
  auto Y = [&](double y) { return T + (1 - std::clamp(y, 0.0, 1.0)) * ph; };
  std::string s = fmt::format(
      "<svg id=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\">\n<text x=\"{}\" y=\"18\" class=\"title\">{}</text>\n",
      esc(c.id), W, H, esc(c.title), L, esc(c.title));
  for (int t = 0; t <= 10; t += 2) {
    const double y = Y(t / 10.0);
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{:.1f}</text>\n",
        L, y, L + pw, y, L - 6, y + 4, t / 10.0);
  }
  auto ticks = c.x_ticks;
  if (ticks.empty())
    for (int t = 0; t <= 4; ++t) {
      const double v = c.x_min + span * t / 4;
      ticks.emplace_back(v, fmt::format("{:.3g}", v));
    }
  for (const auto& [v, label] : ticks) {
    const double x = X(v);
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" class=\"axis\"/>", x, T + ph,
                     T + ph + 4);
    if (c.x_labels_rotated)
      s += fmt::format(
          "<text transform=\"translate({:.1f},{:.1f}) rotate(-60)\" class=\"tick\" "
          "text-anchor=\"end\">{}</text>\n",
          x + 3, T + ph + 10, esc(label));
    else
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", x,
                       T + ph + 18, esc(label));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>\n", L, T, pw, ph);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"label\" text-anchor=\"middle\">{}</text>\n", L + pw / 2,
                   H - 8, esc(c.x_label));
  s += fmt::format(
      "<text transform=\"translate(14,{:.1f}) rotate(-90)\" class=\"label\" "
      "text-anchor=\"middle\">{}</text>\n",
      T + ph / 2, esc(c.y_label));
  if (c.threshold)
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"threshold\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\">threshold {:.2f}</text>\n",
        L, Y(*c.threshold), L + pw, Y(*c.threshold), L + pw + 6, Y(*c.threshold) + 4, *c.threshold);
  for (size_t i = 0; i < series.size(); ++i) {
    const auto& sr = series[i];
    s += fmt::format("<g class=\"series\" data-name=\"{}\">", esc(sr.name));
    if (sr.lines && sr.points.size() > 1) {
      std::string pts;
      for (const auto& p : sr.points) pts += fmt::format("{:.1f},{:.1f} ", X(p.x), Y(p.y));
      s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"/>", pts, sr.color,
                       sr.width);
    }
    const double r = sr.points.size() > 150 ? 2 : 3.5;
    for (const auto& p : sr.points) {
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1.5\">"
          "<title>{}</title></circle>",
          X(p.x), Y(p.y), p.mark ? r + 3 : r, p.hollow ? "white" : sr.color, sr.color, esc(p.tip));
      if (p.mark)
        s += fmt::format(
            "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"none\" stroke=\"#222\" "
            "stroke-width=\"1.5\"/>",
            X(p.x), Y(p.y), r + 6);
    }
    s += "</g>\n";
    s += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"4\" fill=\"{}\"/><text x=\"{:.1f}\" "
        "y=\"{:.1f}\" class=\"tick\">{}</text>\n",
        L + pw + 8, T + 10 + 18.0 * static_cast<double>(i), sr.color, L + pw + 26,
        T + 15 + 18.0 * static_cast<double>(i), esc(sr.name.substr(0, 28)));
  }
  return s + "</svg>\n";
}

const char* kStyle =
    R"(body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1100px;color:#222;padding:0 12px}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em}
.decision{font-size:1.15em;padding:12px 16px;border-left:6px solid #2ca02c;background:#f3faf3}
.decision.none{border-color:#d62728;background:#fdf3f3}.gate{color:#d62728;font-weight:bold}
.note{color:#555;font-size:.92em}.warn{border-left:6px solid #ff7f0e;background:#fff7ee;padding:8px 14px}
table{border-collapse:collapse;font-size:.9em;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}tr.chosen{background:#eef8ee;font-weight:bold}
.chart{width:100%;height:auto;max-width:900px}.chart .grid{stroke:#eee}.chart .frame{fill:none;stroke:#888}
.chart .axis{stroke:#888}.chart .tick{font-size:11px;fill:#444}.chart .label{font-size:12px;fill:#222}
.chart .title{font-size:13px;font-weight:bold}.chart .threshold{stroke:#555;stroke-dasharray:6 4;stroke-width:1.5}
details{margin:4px 0}summary{cursor:pointer}img.grid{max-width:100%;image-rendering:pixelated}
)";

std::string page(const std::string& title, const std::string& body) {
  // The script only marks the page as loaded: the browser test reads it back, so a script
  // error (which would leave it at 0) fails the test.
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"generator\" "
      "content=\"partplan {}\">\n<title>{}</title>\n<style>\n{}</style>\n</head>\n<body data-ready=\"0\">\n{}"
      "<p class=\"note\">Written by partplan {}; self-contained: it loads nothing from the network.</p>\n"
      "<script>document.body.dataset.ready = String(document.querySelectorAll('svg.chart').length);</script>\n"
      "</body>\n</html>\n",
      kVersion, esc(title), kStyle, body, kVersion);
}

std::string model_label(const PlanView& p) { return p.model_name.empty() ? p.source : p.model_name; }

/// Each plan's label: its model's name, with the plan file's name where models repeat.
std::vector<std::string> labels(const std::vector<PlanView>& plans) {
  std::vector<std::string> out;
  for (const auto& p : plans) {
    const auto n =
        std::count_if(plans.begin(), plans.end(), [&](const PlanView& q) { return model_label(q) == model_label(p); });
    out.push_back(n > 1 ? model_label(p) + " [" + std::filesystem::path(p.source).filename().string() + "]"
                        : model_label(p));
  }
  return out;
}

const PlanView::Cut* chosen_cut(const PlanView& p) {
  for (const auto& c : p.cuts)
    if (p.chosen_id && c.id == *p.chosen_id) return &c;
  return nullptr;
}

}  // namespace

PlanView read_plan(const std::string& text, const std::string& source) {
  json j;
  try {
    j = config::parse_json_document(text);
  } catch (const json::exception& e) {
    throw UsageError(fmt::format("'{}' is not JSON ({}): give a plan.json written by partplan assess", source,
                                 first_line(e.what())));
  }
  if (!j.is_object() || field_or<std::string>(j, "kind", "", "'" + source + "'") != "partplan.plan")
    throw UsageError(
        fmt::format("'{}' is not a partplan plan (no \"kind\": \"partplan.plan\"): give a plan.json "
                    "written by partplan assess",
                    source));
  const std::string where = "'" + source + "'";
  PlanView p;
  p.source = source;
  p.measure = field_or<std::string>(j, "measure", pipeline::kMeasureSsim, where);
  // Generic keys (measured, envelope, leakage, label_floor): schema_version 2 writes only these;
  // version 1 wrote *_ssim copies for images, and plans from before records wrote *_ssim only.
  auto number = [&](const json& o, const char* key, const char* old_key, const std::string& w) {
    return o.contains(key) ? field<double>(o, key, w) : field<double>(o, old_key, w);
  };
  const auto& m = field<json>(j, "model", where);
  p.model_path = field<std::string>(m, "path", where + " model");
  p.model_name = std::filesystem::path(p.model_path).stem().string();
  p.model_sha256 = field_or<std::string>(m, "sha256", "", where + " model");
  p.input_shape = field_or(m, "input_shape", std::vector<int64_t>{}, where + " model");
  p.total_flops = field<double>(m, "total_flops", where + " model");
  p.cut_count = field<int64_t>(m, "cut_count", where + " model");
  const auto& d = field<json>(j, "decision", where);
  p.decision_kind = field<std::string>(d, "kind", where + " decision");
  if (p.decision_kind == "prescreen")
    throw UsageError(
        fmt::format("{} is an oracle pre-screen: it has no measured leakage to compare; assess with a "
                    "trained attacker",
                    where));
  p.threshold = field<double>(d, "threshold", where + " decision");
  p.reason = field<std::string>(d, "reason", where + " decision");
  p.leakage = number(d, "leakage", "leakage_ssim", where + " decision");
  p.latency_seconds = field_or(d, "latency_seconds", 0.0, where + " decision");
  p.speedup = field_or(d, "speedup_vs_enclave", 0.0, where + " decision");
  p.gate_failed = field_or(d, "gate_failed", false, where + " decision");
  p.gate_reason = field_or<std::string>(d, "gate_reason", "", where + " decision");
  const auto ids = field_or(d, "cut_ids", std::vector<int>{}, where + " decision");
  if (!ids.empty()) {
    p.chosen_id = ids.front();
    p.chosen_name = field_or<std::string>(d, "cut_name", "", where + " decision");
  }
  if (j.contains("cost_model"))
    p.all_enclave_seconds = field_or(j["cost_model"], "all_enclave_seconds", 0.0, where + " cost_model");
  for (const char* key : {"label_floor", "label_floor_ssim"})
    if (!p.label_floor && j.contains(key) && j[key].is_number()) p.label_floor = j[key].get<double>();
  if (j.contains("config") && j["config"].is_object())
    for (auto& [k, v] : config::Settings::parse(j["config"].dump(), source).leaves()) p.settings[k] = v;
  if (j.contains("data")) p.data_description = field_or<std::string>(j["data"], "description", "", where + " data");
  if (j.contains("ternary") && j["ternary"].is_object() && j["ternary"].contains("back_cut"))
    p.back_cut_name = field_or<std::string>(j["ternary"]["back_cut"], "name", "", where + " ternary");
  for (const auto& c : field<json>(j, "cuts", where)) {
    PlanView::Cut cut;
    cut.id = field<int>(c, "id", where + " cut");
    const std::string cw = fmt::format("{} cut {}", where, cut.id);
    cut.name = field<std::string>(c, "name", cw);
    cut.front_flops = field<double>(c, "front_flops", cw);
    cut.measured = number(c, "measured", "measured_ssim", cw);
    cut.worst_attack = field_or<std::string>(c, "worst_attack", "", cw);
    cut.envelope = number(c, "envelope", "envelope_ssim", cw);
    cut.verdict = field<std::string>(c, "verdict", cw);
    const auto& cost = field<json>(c, "cost", cw);
    const std::string costw = cw + " cost";
    cut.enclave_flops = field_or(cost, "enclave_flops", cut.front_flops, costw);
    cut.enclave_bytes = field_or(cost, "enclave_bytes", 0.0, costw);
    cut.enclave_seconds = field_or(cost, "enclave_seconds", 0.0, costw);
    cut.latency_seconds = field_or(cost, "latency_seconds", 0.0, costw);
    cut.fits = field_or(cost, "fits_budget", true, costw);
    for (const auto& a : field<json>(c, "attacks", cw)) {
      PlanView::Attack at;
      at.name = field<std::string>(a, "attack", cw + " attack");
      const std::string aw = cw + " attack";
      at.headline = a.contains("records")
                    ? field_or(field<json>(field<json>(a, "records", aw), "reidentification", aw), "mean", 0.0, aw)
                    : field_or(field<json>(a, "ssim", aw), "mean", 0.0, aw);
      if (a.contains("train")) at.still_improving = field_or(a["train"], "still_improving", false, aw);
      cut.attacks.push_back(at);
    }
    p.cuts.push_back(std::move(cut));
  }
  if (p.cuts.empty()) throw UsageError(where + " has no cuts");
  return p;
}

Axis parse_axis(const std::string& name) {
  if (name == "flops") return Axis::kFlops;
  if (name == "depth") return Axis::kDepth;
  if (name == "ms") return Axis::kMs;
  throw UsageError("--axis '" + name + "' is not known; valid: flops, depth, ms");
}

std::string axis_label(Axis a) {
  switch (a) {
    case Axis::kFlops:
      return "share of the model's FLOPs in the enclave";
    case Axis::kDepth:
      return "share of the model's cut points before the cut";
    case Axis::kMs:
      return "estimated enclave time per inference (ms, cost model)";
  }
  return "";
}

double axis_value(const PlanView& p, const PlanView::Cut& c, Axis a) {
  switch (a) {
    case Axis::kFlops:
      return p.total_flops > 0 ? c.enclave_flops / p.total_flops : 0;
    case Axis::kDepth:
      return p.cut_count > 1 ? static_cast<double>(c.id) / static_cast<double>(p.cut_count - 1) : 0;
    case Axis::kMs:
      return c.enclave_seconds * 1e3;
  }
  return 0;
}

std::optional<double> threshold_crossing(const PlanView& p, Axis a) {
  for (size_t i = 0; i < p.cuts.size(); ++i) {
    if (p.cuts[i].envelope > p.threshold) continue;
    const double x = axis_value(p, p.cuts[i], a);
    if (i == 0) return x;
    const double x0 = axis_value(p, p.cuts[i - 1], a), y0 = p.cuts[i - 1].envelope, y1 = p.cuts[i].envelope;
    return y0 == y1 ? x : x0 + (x - x0) * (y0 - p.threshold) / (y0 - y1);
  }
  return std::nullopt;
}

std::vector<std::string> plan_differences(const std::vector<PlanView>& plans) {
  std::vector<std::string> out;
  if (plans.size() < 2) return out;
  std::map<std::string, bool> keys;
  for (const auto& p : plans)
    for (const auto& [k, v] : p.settings) keys[k] = true;
  const auto label = labels(plans);
  for (const auto& [k, unused] : keys) {
    if (k == "cuts" || k == "device" || k == "back_cut") continue;  // per model or machine by design
    std::vector<std::string> values;
    for (const auto& p : plans) {
      auto it = p.settings.find(k);
      values.push_back(it == p.settings.end() ? std::string("(unset)") : it->second);
    }
    if (std::all_of(values.begin(), values.end(), [&](const std::string& v) { return v == values.front(); })) continue;
    std::string line = k + ":";
    for (size_t i = 0; i < plans.size(); ++i) line += fmt::format("{} {} ({})", i ? " vs" : "", values[i], label[i]);
    out.push_back(line);
  }
  return out;
}

/// SSIM and re-identification are different scales: one comparison holds one of them.
void require_one_measure(const std::vector<PlanView>& plans) {
  for (const auto& p : plans)
    if (p.measure != plans.front().measure)
      throw UsageError(fmt::format("'{}' measures {} and '{}' {}: compare plans of one data kind (images or records)",
                                   plans.front().source, plans.front().measure_label(), p.source, p.measure_label()));
}

std::string compare_text(const std::vector<PlanView>& plans, Axis axis) {
  if (plans.empty()) throw UsageError("compare needs at least one plan");
  require_one_measure(plans);
  const auto label = labels(plans);
  size_t width = 5;
  for (const auto& l : label) width = std::max(width, l.size());
  std::string out = fmt::format("{:<{}} {:>6} {:>9} {:<20} {:>9} {:>11} {:>9} {:>14}\n", "model", width, "cuts",
                                "threshold", "chosen cut", "envelope", "enclave ms", "speed-up", "crosses at");
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const auto* c = chosen_cut(p);
    const auto cross = threshold_crossing(p, axis);
    out += fmt::format("{:<{}} {:>6} {:>9.2f} {:<20} {:>9.3f} {:>11} {:>9} {:>14}\n", label[i], width, p.cuts.size(),
                       p.threshold, c ? c->name.substr(0, 20) : std::string("none"), p.leakage,
                       c ? fmt::format("{:.3f}", c->enclave_seconds * 1e3) : std::string("-"),
                       p.speedup > 0 ? fmt::format("{:.1f}x", p.speedup) : std::string("-"),
                       cross ? fmt::format("{:.3f}", *cross) : std::string("never"));
  }
  out +=
      fmt::format("x-axis: {}; 'crosses at' is where the envelope first falls to the threshold.\n", axis_label(axis));
  const auto diff = plan_differences(plans);
  if (!diff.empty()) {
    out += "These plans were made with different settings; compare them with care:\n";
    for (const auto& d : diff) out += "  " + d + "\n";
  }
  return out;
}

std::string compare_json(const std::vector<PlanView>& plans, Axis axis) {
  if (plans.empty()) throw UsageError("compare needs at least one plan");
  require_one_measure(plans);
  json j;
  j["kind"] = "partplan.compare";
  j["measure"] = plans.front().measure;
  j["schema_version"] = 2;  // 2: no *_ssim copies of envelope and leakage
  j["axis"] = axis == Axis::kFlops ? "flops" : axis == Axis::kDepth ? "depth" : "ms";
  j["axis_label"] = axis_label(axis);
  j["differences"] = plan_differences(plans);
  j["models"] = json::array();
  const auto label = labels(plans);
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const auto* c = chosen_cut(p);
    const auto cross = threshold_crossing(p, axis);
    json cuts = json::array();
    for (const auto& cut : p.cuts) {
      cuts.push_back({{"id", cut.id},
                      {"name", cut.name},
                      {"x", axis_value(p, cut, axis)},
                      {"envelope", cut.envelope},
                      {"verdict", cut.verdict}});
    }
    j["models"].push_back({{"label", label[i]},
                           {"plan", p.source},
                           {"model", p.model_path},
                           {"threshold", p.threshold},
                           {"decision", p.decision_kind},
                           {"chosen_cut", c ? json(c->name) : json(nullptr)},
                           {"chosen_x", c ? json(axis_value(p, *c, axis)) : json(nullptr)},
                           {"leakage", p.leakage},
                           {"enclave_ms", c ? json(c->enclave_seconds * 1e3) : json(nullptr)},
                           {"speedup_vs_enclave", p.speedup > 0 ? json(p.speedup) : json(nullptr)},
                           {"threshold_crossing_x", cross ? json(*cross) : json(nullptr)},
                           {"cuts", cuts}});
  }
  return j.dump(2) + "\n";
}

std::string compare_html(const std::vector<PlanView>& plans, Axis axis) {
  if (plans.empty()) throw UsageError("compare needs at least one plan");
  Chart chart;
  chart.id = "compare-curve";
  chart.title = "Leakage envelope against " + axis_label(axis);
  chart.x_label = axis_label(axis);
  require_one_measure(plans);
  chart.y_label = "envelope " + plans.front().measure_label();
  double xmax = 0;
  std::vector<Series> series;
  std::optional<double> common_threshold = plans.front().threshold;
  const auto label = labels(plans);
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    if (p.threshold != plans.front().threshold) common_threshold.reset();
    Series s{label[i], color(i), {}, 2, true};
    for (const auto& c : p.cuts) {
      const double x = axis_value(p, c, axis);
      xmax = std::max(xmax, x);
      s.points.push_back({x, c.envelope,
                          fmt::format("{}: cut {} '{}', x {:.3g}, envelope {:.3f} ({})", label[i], c.id, c.name, x,
                                      c.envelope, c.verdict),
                          false, p.chosen_id && *p.chosen_id == c.id});
    }
    series.push_back(std::move(s));
  }
  chart.x_max = axis == Axis::kMs ? std::max(xmax * 1.05, 1e-9) : 1.0;
  chart.threshold = common_threshold;
  std::string body = "<h1>partplan: leakage across models</h1>\n";
  const auto diff = plan_differences(plans);
  if (!diff.empty()) {
    body +=
        "<div class=\"warn\" id=\"differences\"><b>These plans were made with different settings</b>; compare "
        "them with care:<ul>";
    for (const auto& d : diff) body += "<li>" + esc(d) + "</li>";
    body += "</ul></div>\n";
  }
  body += svg(chart, series);
  body += "<p class=\"note\">A ringed point is the model's chosen cut; hover a point for its cut and verdict.";
  if (!common_threshold) body += " The thresholds differ: see the table.";
  body +=
      "</p>\n<table id=\"compare-table\"><tr><th>model</th><th>plan</th><th>cuts</th><th>threshold</th><th>chosen "
      "cut</th><th>envelope</th><th>x</th><th>enclave ms</th><th>speed-up vs all in enclave</th><th>crosses the "
      "threshold at x</th></tr>\n";
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const auto* c = chosen_cut(p);
    const auto cross = threshold_crossing(p, axis);
    body += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{:.3f}</td><td>{}</td><td>{}</td><td>{}"
        "</td><td>{}</td></tr>\n",
        esc(label[i]), esc(p.source), p.cuts.size(), p.threshold, c ? esc(c->name) : std::string("none"), p.leakage,
        c ? fmt::format("{:.3f}", axis_value(p, *c, axis)) : std::string("-"),
        c ? fmt::format("{:.3f}", c->enclave_seconds * 1e3) : std::string("-"),
        p.speedup > 0 ? fmt::format("{:.1f}x", p.speedup) : std::string("-"),
        cross ? fmt::format("{:.3f}", *cross) : std::string("never"));
  }
  body += "</table>\n";
  for (size_t i = 0; i < plans.size(); ++i)
    body += fmt::format("<p><b>{}</b>: {}</p>\n", esc(label[i]), esc(plans[i].reason));
  return page("partplan compare", body);
}

std::string report_html(const PlanView& p, const std::map<int, std::vector<uint8_t>>& grids) {
  std::string body = fmt::format("<h1>partplan assessment: {}</h1>\n", esc(model_label(p)));
  body += fmt::format("<p class=\"decision{}\" id=\"decision\">{}</p>\n", p.chosen_id ? "" : " none", esc(p.reason));
  if (p.gate_failed) body += fmt::format("<p class=\"gate\">Gate failed: {}</p>\n", esc(p.gate_reason));
  if (!p.back_cut_name.empty())
    body += fmt::format(
        "<p id=\"ternary\">Ternary split: enclave | untrusted | enclave. The back cut '{}' returns to "
        "the enclave, so the host sees the middle part only; the curve covers the cuts up to it.</p>\n",
        esc(p.back_cut_name));
  body += fmt::format("<p class=\"note\">Model <code>{}</code> (input {}), data: {}. Plan: <code>{}</code>.</p>\n",
                      esc(p.model_path), esc(fmt::format("{}", fmt::join(p.input_shape, "x"))), esc(p.data_description),
                      esc(p.source));
  // The leakage curve: one line per attacker, the envelope, the threshold; x = cut order.
  Chart curve;
  curve.id = "leakage-curve";
  curve.title = p.measure_label() + " by cut, shallow to deep (hollow: attacker still improving)";
  curve.y_label = p.measure_label();
  curve.x_label = "cut (depth order)";
  curve.x_max = std::max<double>(1, static_cast<double>(p.cuts.size() - 1));
  curve.threshold = p.threshold;
  curve.x_labels_rotated = true;
  const size_t every = std::max<size_t>(1, (p.cuts.size() + 39) / 40);  // at most ~40 labels
  for (size_t i = 0; i < p.cuts.size(); i += every)
    curve.x_ticks.emplace_back(static_cast<double>(i),
                               fmt::format("{} {}", p.cuts[i].id, p.cuts[i].name).substr(0, 24));
  std::vector<std::string> names;
  for (const auto& c : p.cuts)
    for (const auto& a : c.attacks)
      if (std::find(names.begin(), names.end(), a.name) == names.end()) names.push_back(a.name);
  std::vector<Series> series;
  for (size_t n = 0; n < names.size(); ++n) {
    Series s{names[n], color(n), {}, 1.5, true};
    for (size_t i = 0; i < p.cuts.size(); ++i)
      for (const auto& a : p.cuts[i].attacks)
        if (a.name == names[n])
          s.points.push_back({static_cast<double>(i), a.headline,
                              fmt::format("cut {} '{}': {} {} {:.3f}{}", p.cuts[i].id, p.cuts[i].name, a.name,
                                          p.measure_label(), a.headline, a.still_improving ? " (still improving)" : ""),
                              a.still_improving, false});
    series.push_back(std::move(s));
  }
  Series env{"envelope", "#d62728", {}, 2.5, true};
  for (size_t i = 0; i < p.cuts.size(); ++i) {
    const auto& c = p.cuts[i];
    env.points.push_back({static_cast<double>(i), c.envelope,
                          fmt::format("cut {} '{}': envelope {:.3f}, {}", c.id, c.name, c.envelope, c.verdict), false,
                          p.chosen_id && *p.chosen_id == c.id});
  }
  series.push_back(std::move(env));
  if (p.label_floor) {
    Series floor{"label-only guess", "#2ca02c", {}, 1, true};
    floor.points.push_back({0, *p.label_floor, fmt::format("label-only guess {:.3f}", *p.label_floor)});
    floor.points.push_back({curve.x_max, *p.label_floor, fmt::format("label-only guess {:.3f}", *p.label_floor)});
    series.push_back(std::move(floor));
  }
  body += "<h2>Leakage curve</h2>\n" + svg(curve, series);
  // Pareto: envelope against enclave time.
  Chart pareto;
  pareto.id = "pareto";
  pareto.title = "Envelope " + p.measure_label() + " against enclave cost (ringed: chosen)";
  pareto.x_label = "estimated enclave time per inference (ms)";
  pareto.y_label = "envelope " + p.measure_label();
  pareto.threshold = p.threshold;
  double tmax = 1e-9;
  for (const auto& c : p.cuts) tmax = std::max(tmax, c.enclave_seconds * 1e3);
  pareto.x_max = tmax * 1.05;
  Series safe{"safe, fits", "#1f77b4", {}, 0, false}, over{"safe, over budget", "#ff7f0e", {}, 0, false},
      unsafe{"unsafe", "#999999", {}, 0, false};
  for (const auto& c : p.cuts) {
    Point pt{c.enclave_seconds * 1e3, c.envelope,
             fmt::format("cut {} '{}': {:.3f} ms, envelope {:.3f}, {}", c.id, c.name, c.enclave_seconds * 1e3,
                         c.envelope, c.verdict),
             false, p.chosen_id && *p.chosen_id == c.id};
    (c.verdict == "unsafe" ? unsafe : c.fits ? safe : over).points.push_back(pt);
  }
  body += "<h2>Leakage against cost</h2>\n" + svg(pareto, {safe, over, unsafe});
  // The cost table.
  body += "<h2>Cuts</h2>\n<table id=\"cut-table\"><tr><th>id</th><th>cut</th><th>strongest attack</th><th>measured " +
          esc(p.measure_label()) +
          "</th><th>envelope</th><th>verdict</th><th>enclave MiB</th><th>fits</th><th>enclave ms</th><th>total "
          "ms</th></tr>\n";
  for (const auto& c : p.cuts)
    body += fmt::format(
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}</td><td>{}</td><td>{:.1f}</td><td>{}</td>"
        "<td>{:.3f}</td><td>{:.3f}</td></tr>\n",
        p.chosen_id && *p.chosen_id == c.id ? " class=\"chosen\"" : "", c.id, esc(c.name), esc(c.worst_attack),
        c.measured, c.envelope, esc(c.verdict), c.enclave_bytes / 1048576.0, c.fits ? "yes" : "no",
        c.enclave_seconds * 1e3, c.latency_seconds * 1e3);
  body += "</table>\n";
  // Reconstruction grids, one per cut, folded except the chosen cut's and the first.
  if (!grids.empty())
    body +=
        "<h2>Reconstructions</h2>\n<p class=\"note\">Eval originals (top) and the strongest attacker's "
        "reconstructions (bottom).</p>\n";
  for (size_t i = 0; i < p.cuts.size(); ++i) {
    const auto& c = p.cuts[i];
    auto it = grids.find(c.id);
    if (it == grids.end()) continue;
    const bool open = i == 0 || (p.chosen_id && *p.chosen_id == c.id);
    body += fmt::format(
        "<details class=\"grid\" id=\"grid-{}\"{}><summary>cut {} '{}': {} SSIM {:.3f}, {}</summary>"
        "<img class=\"grid\" alt=\"reconstructions at cut {}\" src=\"data:image/png;base64,{}\"></details>\n",
        c.id, open ? " open" : "", c.id, esc(c.name), esc(c.worst_attack), c.measured, esc(c.verdict), c.id,
        common::base64_encode(it->second));
  }
  return page("partplan assessment: " + model_label(p), body);
}

}  // namespace partplan::report
