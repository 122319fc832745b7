// The cross-model comparison of plans: as a table, as JSON, and as compare.html.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "partplan/common/error.hpp"
#include "partplan/report/html.hpp"
#include "src/report/chart.hpp"
#include "src/report/html_page.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

using chart::esc;
using html::model_label;

/// Each plan's label: its model's name, with the plan file's name where models repeat.
std::vector<std::string> labels(const std::vector<PlanDocument>& plans) {
  std::vector<std::string> out;
  for (const auto& p : plans) {
    const auto n =
        std::count_if(plans.begin(), plans.end(), [&](const PlanDocument& q) { return model_label(q) == model_label(p); });
    out.push_back(n > 1 ? model_label(p) + " [" + std::filesystem::path(p.source).filename().string() + "]"
                        : model_label(p));
  }
  return out;
}

/// "1.5x", or "-" when the plan has no speed-up.
std::string speedup(const PlanDocument& p) {
  const double x = p.decision.speedup_vs_enclave;
  return x > 0 ? fmt::format("{:.1f}x", x) : std::string("-");
}

/// SSIM and re-identification are different scales: one comparison holds one of them.
void require_one_measure(const std::vector<PlanDocument>& plans) {
  for (const auto& p : plans)
    if (p.measure != plans.front().measure)
      throw UsageError(fmt::format("'{}' measures {} and '{}' {}: compare plans of one data kind (images or records)",
                                   plans.front().source, plans.front().measure_label(), p.source, p.measure_label()));
}

}  // namespace

PlanDocument read_plan(const std::string& text, const std::string& source) {
  auto doc = plan_from_json(text, source);
  if (!doc.trained())
    throw UsageError(
        fmt::format("'{}' is an oracle pre-screen: it has no measured leakage to compare; assess with a "
                    "trained attacker",
                    source));
  return doc;
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

double axis_value(const PlanDocument& p, const PlanDocument::Cut& c, Axis a) {
  switch (a) {
    case Axis::kFlops:
      return p.model.total_flops > 0 ? c.cost.enclave_flops / p.model.total_flops : 0;
    case Axis::kDepth:
      return p.model.cut_count > 1 ? static_cast<double>(c.id) / static_cast<double>(p.model.cut_count - 1) : 0;
    case Axis::kMs:
      return c.cost.enclave_seconds * 1e3;
  }
  return 0;
}

std::optional<double> threshold_crossing(const PlanDocument& p, Axis a) {
  const double threshold = p.decision.threshold;
  for (size_t i = 0; i < p.cuts.size(); ++i) {
    if (p.cuts[i].envelope > threshold) continue;
    const double x = axis_value(p, p.cuts[i], a);
    if (i == 0) return x;
    const double x0 = axis_value(p, p.cuts[i - 1], a), y0 = p.cuts[i - 1].envelope, y1 = p.cuts[i].envelope;
    return y0 == y1 ? x : x0 + (x - x0) * (y0 - threshold) / (y0 - y1);
  }
  return std::nullopt;
}

std::vector<std::string> plan_differences(const std::vector<PlanDocument>& plans) {
  std::vector<std::string> out;
  if (plans.size() < 2) return out;
  std::vector<std::map<std::string, std::string>> settings;
  std::map<std::string, bool> keys;
  for (const auto& p : plans) {
    settings.push_back(p.settings());
    for (const auto& [k, v] : settings.back()) keys[k] = true;
  }
  const auto label = labels(plans);
  for (const auto& [k, unused] : keys) {
    if (k == "cuts" || k == "device" || k == "back_cut") continue;  // per model or machine by design
    std::vector<std::string> values;
    for (const auto& s : settings) {
      auto it = s.find(k);
      values.push_back(it == s.end() ? std::string("(unset)") : it->second);
    }
    if (std::all_of(values.begin(), values.end(), [&](const std::string& v) { return v == values.front(); })) continue;
    std::string line = k + ":";
    for (size_t i = 0; i < plans.size(); ++i) line += fmt::format("{} {} ({})", i ? " vs" : "", values[i], label[i]);
    out.push_back(line);
  }
  return out;
}


std::string compare_text(const std::vector<PlanDocument>& plans, Axis axis) {
  if (plans.empty()) throw UsageError("compare needs at least one plan");
  require_one_measure(plans);
  const auto label = labels(plans);
  size_t width = 5;
  for (const auto& l : label) width = std::max(width, l.size());
  std::string out = fmt::format("{:<{}} {:>6} {:>9} {:<20} {:>9} {:>11} {:>9} {:>14}\n", "model", width, "cuts",
                                "threshold", "chosen cut", "envelope", "enclave ms", "speed-up", "crosses at");
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const auto* c = p.chosen_cut();
    const auto cross = threshold_crossing(p, axis);
    out += fmt::format("{:<{}} {:>6} {:>9.2f} {:<20} {:>9.3f} {:>11} {:>9} {:>14}\n", label[i], width, p.cuts.size(),
                       p.decision.threshold, c ? c->name.substr(0, 20) : std::string("none"), p.decision.leakage,
                       c ? fmt::format("{:.3f}", c->cost.enclave_seconds * 1e3) : std::string("-"),
                       speedup(p),
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

std::string compare_json(const std::vector<PlanDocument>& plans, Axis axis) {
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
    const auto* c = p.chosen_cut();
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
                           {"model", p.model.path},
                           {"threshold", p.decision.threshold},
                           {"decision", p.decision.kind},
                           {"chosen_cut", c ? json(c->name) : json(nullptr)},
                           {"chosen_x", c ? json(axis_value(p, *c, axis)) : json(nullptr)},
                           {"leakage", p.decision.leakage},
                           {"enclave_ms", c ? json(c->cost.enclave_seconds * 1e3) : json(nullptr)},
                           {"speedup_vs_enclave", p.decision.speedup_vs_enclave > 0 ? json(p.decision.speedup_vs_enclave) : json(nullptr)},
                           {"threshold_crossing_x", cross ? json(*cross) : json(nullptr)},
                           {"cuts", cuts}});
  }
  return j.dump(2) + "\n";
}

std::string compare_html(const std::vector<PlanDocument>& plans, Axis axis) {
  if (plans.empty()) throw UsageError("compare needs at least one plan");
  require_one_measure(plans);
  const auto label = labels(plans);
  const auto figure = chart::comparison(plans, label, axis);
  std::string body = "<h1>partplan: leakage across models</h1>\n";
  const auto diff = plan_differences(plans);
  if (!diff.empty()) {
    body +=
        "<div class=\"warn\" id=\"differences\"><b>These plans were made with different settings</b>; compare "
        "them with care:<ul>";
    for (const auto& d : diff) body += "<li>" + esc(d) + "</li>";
    body += "</ul></div>\n";
  }
  body += chart::render_svg(figure);
  body += "<p class=\"note\">A ringed point is the model's chosen cut; hover a point for its cut and verdict.";
  if (!figure.threshold) body += " The thresholds differ: see the table.";
  body +=
      "</p>\n<table id=\"compare-table\"><tr><th>model</th><th>plan</th><th>cuts</th><th>threshold</th><th>chosen "
      "cut</th><th>envelope</th><th>x</th><th>enclave ms</th><th>speed-up vs all in enclave</th><th>crosses the "
      "threshold at x</th></tr>\n";
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    const auto* c = p.chosen_cut();
    const auto cross = threshold_crossing(p, axis);
    body += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td><td>{}</td><td>{:.3f}</td><td>{}</td><td>{}</td><td>{}"
        "</td><td>{}</td></tr>\n",
        esc(label[i]), esc(p.source), p.cuts.size(), p.decision.threshold, c ? esc(c->name) : std::string("none"), p.decision.leakage,
        c ? fmt::format("{:.3f}", axis_value(p, *c, axis)) : std::string("-"),
        c ? fmt::format("{:.3f}", c->cost.enclave_seconds * 1e3) : std::string("-"), speedup(p),
        cross ? fmt::format("{:.3f}", *cross) : std::string("never"));
  }
  body += "</table>\n";
  for (size_t i = 0; i < plans.size(); ++i)
    body += fmt::format("<p><b>{}</b>: {}</p>\n", esc(label[i]), esc(plans[i].decision.reason));
  return html::page("partplan compare", body);
}

}  // namespace partplan::report
