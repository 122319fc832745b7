// The charts built from plans, and their SVG rendering: a line chart with hover titles on
// every point, which stays readable with hundreds of cuts because labels are thinned and each
// point carries its cut's name. No script library to inline, nothing fetched.
#include "src/report/chart.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace partplan::report::chart {

std::string Color::hex() const { return fmt::format("#{:02x}{:02x}{:02x}", r, g, b); }

Color series_color(size_t i) {
  static constexpr Color kCycle[] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0x94, 0x67, 0xbd},
                                     {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x17, 0xbe, 0xcf}, {0x7f, 0x7f, 0x7f}};
  return kCycle[i % (sizeof(kCycle) / sizeof(kCycle[0]))];
}

std::string esc(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

namespace {

/// One series per attacker, in the order they first appear.
std::vector<Series> attacker_series(const PlanDocument& p) {
  std::vector<std::string> names;
  for (const auto& c : p.cuts)
    for (const auto& a : c.attacks)
      if (std::find(names.begin(), names.end(), a.attack) == names.end()) names.push_back(a.attack);
  std::vector<Series> series;
  for (size_t n = 0; n < names.size(); ++n) {
    Series s{names[n], series_color(n), {}, 1.5, true};
    for (size_t i = 0; i < p.cuts.size(); ++i)
      for (const auto& a : p.cuts[i].attacks)
        if (a.attack == names[n])
          s.points.push_back({static_cast<double>(i), a.headline().mean,
                              fmt::format("cut {} '{}': {} {} {:.3f}{}", p.cuts[i].id, p.cuts[i].name, a.attack,
                                          p.measure_label(), a.headline().mean,
                                          a.train.still_improving ? " (still improving)" : ""),
                              a.train.still_improving, false});
    series.push_back(std::move(s));
  }
  return series;
}

}  // namespace

Chart leakage(const PlanDocument& p) {
  Chart curve;
  curve.id = "leakage-curve";
  curve.title = p.measure_label() + " by cut, shallow to deep (hollow: attacker still improving)";
  curve.y_label = p.measure_label();
  curve.x_label = "cut (depth order)";
  curve.x_max = std::max<double>(1, static_cast<double>(p.cuts.size()) - 1);
  curve.threshold = p.decision.threshold;
  curve.x_labels_rotated = true;
  const size_t every = std::max<size_t>(1, (p.cuts.size() + 39) / 40);  // at most ~40 labels
  for (size_t i = 0; i < p.cuts.size(); i += every)
    curve.x_ticks.emplace_back(static_cast<double>(i),
                               fmt::format("{} {}", p.cuts[i].id, p.cuts[i].name).substr(0, 24));
  curve.series = attacker_series(p);
  Series env{"envelope", kEnvelope, {}, 2.5, true};
  for (size_t i = 0; i < p.cuts.size(); ++i) {
    const auto& c = p.cuts[i];
    env.points.push_back({static_cast<double>(i), c.envelope,
                          fmt::format("cut {} '{}': envelope {:.3f}, {}", c.id, c.name, c.envelope, c.verdict), false,
                          p.is_chosen(c)});
  }
  curve.series.push_back(std::move(env));
  if (p.label_floor) {
    Series floor{"label-only guess", kFloor, {}, 1, true};
    const auto tip = fmt::format("label-only guess {:.3f}", *p.label_floor);
    floor.points.push_back({0, *p.label_floor, tip});
    floor.points.push_back({curve.x_max, *p.label_floor, tip});
    curve.series.push_back(std::move(floor));
  }
  return curve;
}

Chart pareto(const PlanDocument& p) {
  Chart chart;
  chart.id = "pareto";
  chart.title = "Envelope " + p.measure_label() + " against enclave cost (ringed: chosen)";
  chart.x_label = "estimated enclave time per inference (ms)";
  chart.y_label = "envelope " + p.measure_label();
  chart.threshold = p.decision.threshold;
  double tmax = 1e-9;
  for (const auto& c : p.cuts) tmax = std::max(tmax, c.cost.enclave_seconds * 1e3);
  chart.x_max = tmax * 1.05;
  Series safe{"safe, fits", kSafe, {}, 0, false}, over{"safe, over budget", kOverBudget, {}, 0, false},
      unsafe{"unsafe", kUnsafe, {}, 0, false};
  for (const auto& c : p.cuts) {
    Point pt{c.cost.enclave_seconds * 1e3, c.envelope,
             fmt::format("cut {} '{}': {:.3f} ms, envelope {:.3f}, {}", c.id, c.name, c.cost.enclave_seconds * 1e3,
                         c.envelope, c.verdict),
             false, p.is_chosen(c)};
    (c.verdict == "unsafe" ? unsafe : c.fits_budget ? safe : over).points.push_back(pt);
  }
  chart.series = {safe, over, unsafe};
  return chart;
}

Chart comparison(const std::vector<PlanDocument>& plans, const std::vector<std::string>& labels, Axis axis) {
  Chart chart;
  chart.id = "compare-curve";
  chart.title = "Leakage envelope against " + axis_label(axis);
  chart.x_label = axis_label(axis);
  chart.y_label = "envelope " + plans.front().measure_label();
  double xmax = 0;
  std::optional<double> common_threshold = plans.front().decision.threshold;
  for (size_t i = 0; i < plans.size(); ++i) {
    const auto& p = plans[i];
    if (p.decision.threshold != plans.front().decision.threshold) common_threshold.reset();
    Series s{labels[i], series_color(i), {}, 2, true};
    for (const auto& c : p.cuts) {
      const double x = axis_value(p, c, axis);
      xmax = std::max(xmax, x);
      s.points.push_back({x, c.envelope,
                          fmt::format("{}: cut {} '{}', x {:.3g}, envelope {:.3f} ({})", labels[i], c.id, c.name, x,
                                      c.envelope, c.verdict),
                          false, p.is_chosen(c)});
    }
    chart.series.push_back(std::move(s));
  }
  chart.x_max = axis == Axis::kMs ? std::max(xmax * 1.05, 1e-9) : 1.0;
  chart.threshold = common_threshold;
  return chart;
}

namespace {

/// The plot area, shared by both renderers.
struct Frame {
  double W, H, L, R, T, B;
  double pw() const { return W - L - R; }
  double ph() const { return H - T - B; }
};
Frame frame_of(const Chart& c) {
  return c.x_labels_rotated ? Frame{900, 430, 56, 200, 30, 130} : Frame{900, 360, 56, 200, 30, 50};
}
std::vector<std::pair<double, std::string>> ticks_of(const Chart& c) {
  auto ticks = c.x_ticks;
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  if (ticks.empty())
    for (int t = 0; t <= 4; ++t) {
      const double v = c.x_min + span * t / 4;
      ticks.emplace_back(v, fmt::format("{:.3g}", v));
    }
  return ticks;
}

/// Axes, grid, ticks, labels and the threshold, in SVG.
std::string svg_axes(const Chart& c, const Frame& f) {
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  auto X = [&](double x) { return f.L + (x - c.x_min) / span * f.pw(); };
  auto Y = [&](double y) { return f.T + (1 - std::clamp(y, 0.0, 1.0)) * f.ph(); };
  std::string s;
  for (int t = 0; t <= 10; t += 2) {
    const double y = Y(t / 10.0);
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"grid\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{:.1f}</text>\n",
        f.L, y, f.L + f.pw(), y, f.L - 6, y + 4, t / 10.0);
  }
  const double base = f.T + f.ph();
  for (const auto& [v, label] : ticks_of(c)) {
    const double x = X(v);
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" class=\"axis\"/>", x, base,
                     base + 4);
    if (c.x_labels_rotated)
      s += fmt::format(
          "<text transform=\"translate({:.1f},{:.1f}) rotate(-60)\" class=\"tick\" "
          "text-anchor=\"end\">{}</text>\n",
          x + 3, base + 10, esc(label));
    else
      s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", x,
                       base + 18, esc(label));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>\n", f.L, f.T, f.pw(), f.ph());
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"label\" text-anchor=\"middle\">{}</text>\n",
                   f.L + f.pw() / 2, f.H - 8, esc(c.x_label));
  s += fmt::format(
      "<text transform=\"translate(14,{:.1f}) rotate(-90)\" class=\"label\" "
      "text-anchor=\"middle\">{}</text>\n",
      f.T + f.ph() / 2, esc(c.y_label));
  if (c.threshold)
    s += fmt::format(
        "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" class=\"threshold\"/>"
        "<text x=\"{:.1f}\" y=\"{:.1f}\" class=\"tick\">threshold {:.2f}</text>\n",
        f.L, Y(*c.threshold), f.L + f.pw(), Y(*c.threshold), f.L + f.pw() + 6, Y(*c.threshold) + 4, *c.threshold);
  return s;
}

}  // namespace

std::string render_svg(const Chart& c) {
  const Frame f = frame_of(c);
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  auto X = [&](double x) { return f.L + (x - c.x_min) / span * f.pw(); };
  auto Y = [&](double y) { return f.T + (1 - std::clamp(y, 0.0, 1.0)) * f.ph(); };
  std::string s = fmt::format(
      "<svg id=\"{}\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" role=\"img\" "
      "aria-label=\"{}\">\n<text x=\"{}\" y=\"18\" class=\"title\">{}</text>\n",
      esc(c.id), f.W, f.H, esc(c.title), f.L, esc(c.title));
  s += svg_axes(c, f);
  for (size_t i = 0; i < c.series.size(); ++i) {
    const auto& sr = c.series[i];
    const auto color = sr.color.hex();
    s += fmt::format("<g class=\"series\" data-name=\"{}\">", esc(sr.name));
    if (sr.lines && sr.points.size() > 1) {
      std::string pts;
      for (const auto& p : sr.points) pts += fmt::format("{:.1f},{:.1f} ", X(p.x), Y(p.y));
      s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"/>", pts, color,
                       sr.width);
    }
    const double r = sr.points.size() > 150 ? 2 : 3.5;
    for (const auto& p : sr.points) {
      s += fmt::format(
          "<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"1.5\">"
          "<title>{}</title></circle>",
          X(p.x), Y(p.y), p.mark ? r + 3 : r, p.hollow ? "white" : color, color, esc(p.tip));
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
        f.L + f.pw() + 8, f.T + 10 + 18.0 * static_cast<double>(i), color, f.L + f.pw() + 26,
        f.T + 15 + 18.0 * static_cast<double>(i), esc(sr.name.substr(0, 28)));
  }
  return s + "</svg>\n";
}

}  // namespace partplan::report::chart
