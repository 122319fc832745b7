// The charts drawn as PNGs (the report directory's leakage.png and pareto.png), in the layout
// and palette of their SVG (chart.cpp), on imaging::Canvas.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "partplan/imaging/image.hpp"
#include "src/report/chart.hpp"

namespace partplan::report::chart {
namespace {

constexpr imaging::Rgb kWhite{255, 255, 255}, kInk{34, 34, 34}, kTick{68, 68, 68}, kGrid{238, 238, 238},
    kAxis{136, 136, 136}, kThreshold{85, 85, 85};
constexpr double kTickScale = 0.38, kLabelScale = 0.42;

int px(double v) { return static_cast<int>(std::lround(v)); }

/// `text` turned a quarter to the left (reading upwards), its end at `end` (x = the left
/// edge of the rotated strip, y = where the text ends, i.e. the strip's top).
void vertical_text(imaging::Canvas& m, const std::string& text, imaging::Point end, int max_len, double scale,
                   imaging::Rgb color) {
  const auto size = imaging::Canvas::text_size(text, scale);
  const int w = std::max(1, std::min(size.width + 4, max_len)), h = size.height + size.baseline + 4;
  imaging::Canvas strip(w, h, kWhite);
  strip.text(text, {std::max(0, w - size.width - 2), size.height + 2}, scale, color);  // right-aligned
  const auto rotated = imaging::rotate90_ccw(strip.image());
  if (end.x >= 0 && end.y >= 0 && end.x + rotated.width <= m.width() && end.y + rotated.height <= m.height())
    m.paste(rotated, end);
}

void axes(imaging::Canvas& m, const Chart& c, double L, double T, double pw, double ph) {
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  auto X = [&](double x) { return px(L + (x - c.x_min) / span * pw); };
  auto Y = [&](double y) { return px(T + (1 - std::clamp(y, 0.0, 1.0)) * ph); };
  for (int t = 0; t <= 10; t += 2) {
    const int y = Y(t / 10.0);
    m.line({px(L), y}, {px(L + pw), y}, kGrid);
    const auto label = fmt::format("{:.1f}", t / 10.0);
    m.text(label, {px(L) - 6 - imaging::Canvas::text_size(label, kTickScale).width, y + 4}, kTickScale, kTick);
  }
  const int base = px(T + ph);
  auto ticks = c.x_ticks;
  if (ticks.empty())
    for (int t = 0; t <= 4; ++t) ticks.emplace_back(c.x_min + span * t / 4, fmt::format("{:.3g}", c.x_min + span * t / 4));
  for (const auto& [v, label] : ticks) {
    const int x = X(v);
    m.line({x, base}, {x, base + 4}, kAxis);
    if (c.x_labels_rotated)
      vertical_text(m, label, {x - 7, base + 8}, 120, kTickScale, kTick);
    else
      m.text(label, {x - imaging::Canvas::text_size(label, kTickScale).width / 2, base + 18}, kTickScale, kTick);
  }
  m.rectangle({px(L), px(T)}, {px(L + pw), base}, kAxis);
  const auto xs = imaging::Canvas::text_size(c.x_label, kLabelScale);
  m.text(c.x_label, {px(L + pw / 2) - xs.width / 2, m.height() - 8}, kLabelScale, kInk);
  const auto ys = imaging::Canvas::text_size(c.y_label, kLabelScale);
  vertical_text(m, c.y_label, {2, px(T + ph / 2) - ys.width / 2}, px(ph), kLabelScale, kInk);
  if (c.threshold) {
    const int y = Y(*c.threshold);
    for (int x = px(L); x < px(L + pw); x += 10) m.line({x, y}, {std::min(x + 6, px(L + pw)), y}, kThreshold, 2);
    m.text(fmt::format("threshold {:.2f}", *c.threshold), {px(L + pw) + 6, y + 4}, kTickScale, kTick);
  }
}

}  // namespace

imaging::Canvas render_png(const Chart& c) {
  const bool rotated = c.x_labels_rotated;
  const double W = 900, H = rotated ? 430 : 360, L = 56, R = 200, T = 30, B = rotated ? 130 : 50;
  const double pw = W - L - R, ph = H - T - B;
  const double span = c.x_max > c.x_min ? c.x_max - c.x_min : 1;
  auto X = [&](double x) { return px(L + (x - c.x_min) / span * pw); };
  auto Y = [&](double y) { return px(T + (1 - std::clamp(y, 0.0, 1.0)) * ph); };
  imaging::Canvas m(px(W), px(H), kWhite);
  m.text(c.title, {px(L), 18}, 0.45, kInk);
  axes(m, c, L, T, pw, ph);
  for (size_t i = 0; i < c.series.size(); ++i) {
    const auto& sr = c.series[i];
    const auto color = sr.color.rgb();
    const int thickness = std::max(1, px(sr.width));
    if (sr.lines)
      for (size_t k = 1; k < sr.points.size(); ++k)
        m.line({X(sr.points[k - 1].x), Y(sr.points[k - 1].y)}, {X(sr.points[k].x), Y(sr.points[k].y)}, color,
               thickness, /*antialiased=*/true);
    const int r = sr.points.size() > 150 ? 2 : 4;
    for (const auto& p : sr.points) {
      const imaging::Point at{X(p.x), Y(p.y)};
      const int radius = p.mark ? r + 3 : r;
      m.circle(at, radius, p.hollow ? kWhite : color, /*filled=*/true, /*antialiased=*/true);
      m.circle(at, radius, color, /*filled=*/false, /*antialiased=*/true);
      if (p.mark) m.circle(at, r + 6, kInk, /*filled=*/false, /*antialiased=*/true);
    }
    const int ly = px(T + 12 + 18.0 * static_cast<double>(i));
    m.line({px(L + pw + 8), ly}, {px(L + pw + 22), ly}, color, 4);
    m.text(sr.name.substr(0, 28), {px(L + pw + 26), ly + 4}, kTickScale, kTick);
  }
  return m;
}

}  // namespace partplan::report::chart
