#pragma once
// The report's charts as data, built once from a plan (PlanDocument) and rendered twice: as inline
// SVG for report.html and compare.html (render_svg) and as a PNG for the report directory
// (render_png), with one layout and one palette. Internal to src/report; torch-free.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "partplan/imaging/canvas.hpp"
#include "partplan/report/html.hpp"

namespace partplan::report::chart {

/// The palette, for both renderers.
struct Color {
  uint8_t r = 0, g = 0, b = 0;
  std::string hex() const;  ///< "#1f77b4"
  imaging::Rgb rgb() const { return {r, g, b}; }
};
/// The i-th series colour (cycling), and the fixed ones.
Color series_color(size_t i);
inline constexpr Color kEnvelope{0xd6, 0x27, 0x28};
inline constexpr Color kFloor{0x2c, 0xa0, 0x2c};
inline constexpr Color kSafe{0x1f, 0x77, 0xb4};
inline constexpr Color kOverBudget{0xff, 0x7f, 0x0e};
inline constexpr Color kUnsafe{0x99, 0x99, 0x99};

struct Point {
  double x = 0, y = 0;  ///< y in [0, 1] (drawn clamped)
  std::string tip;      ///< the SVG hover title
  bool hollow = false;  ///< a lower bound: the attacker was still improving
  bool mark = false;    ///< drawn larger, with a ring: the chosen cut
};
struct Series {
  std::string name;
  Color color;
  std::vector<Point> points;
  double width = 2;   ///< line width in SVG units (pixels in the PNG, rounded, at least 1)
  bool lines = true;  ///< false: points only (a scatter)
};
struct Chart {
  std::string id, title, x_label, y_label = "SSIM";
  double x_min = 0, x_max = 1;
  std::optional<double> threshold;
  std::vector<std::pair<double, std::string>> x_ticks;  ///< empty: 5 numeric ticks
  bool x_labels_rotated = false;
  std::vector<Series> series;
};

/// The leakage curve of one plan: a line per attacker (hollow points: still improving), the
/// envelope (the chosen cut ringed), the label-only guess and the threshold; x = cut order.
Chart leakage(const PlanDocument& plan);
/// Envelope against the estimated enclave time, one point per cut: safe and fitting, safe
/// but over the memory budget, unsafe.
Chart pareto(const PlanDocument& plan);
/// Each plan's envelope against `axis`, one line per plan (`labels`: one per plan), the
/// chosen cuts ringed; the threshold when the plans share one.
Chart comparison(const std::vector<PlanDocument>& plans, const std::vector<std::string>& labels, Axis axis);

/// The chart as an inline <svg> element (class "chart", id chart.id).
std::string render_svg(const Chart& chart);
/// The chart drawn on a canvas of the same layout (900 x 360 pixels, 430 with rotated labels).
imaging::Canvas render_png(const Chart& chart);

/// HTML-escaped text (& < > ").
std::string esc(const std::string& text);

}  // namespace partplan::report::chart
