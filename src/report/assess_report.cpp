// An assessment as a plan document, the reconstruction grids, the report directory and the
// stdout table. The keys of plan.json are plan_document.cpp's; summary.md is summary_md.cpp's.
#include "partplan/report/assess_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/common/strings.hpp"
#include "partplan/imaging/canvas.hpp"
#include "partplan/report/html.hpp"
#include "src/report/cells.hpp"
#include "src/report/chart.hpp"

namespace partplan::report {
namespace {

const plan::CutVerdict& verdict_of(const PlanContext& ctx, int id) {
  for (const auto& v : ctx.plan->verdicts)
    if (v.id == id) return v;
  throw Error(fmt::format("internal: no verdict for cut {}", id));
}

// ---- images -------------------------------------------------------------------------------

// Image i of a batch as an RGB image (gray replicated).
imaging::ImageU8 rgb_of(const common::Image8& im, int64_t i) {
  const int64_t plane = im.h * im.w;
  imaging::ImageU8 m(static_cast<int>(im.h), static_cast<int>(im.w), 3);
  for (int64_t y = 0; y < im.h; ++y)
    for (int64_t x = 0; x < im.w; ++x) {
      const auto base = static_cast<size_t>(i * im.c * plane + y * im.w + x);
      const uint8_t r = im.pixels[base];
      m.at(static_cast<int>(y), static_cast<int>(x), 0) = r;
      m.at(static_cast<int>(y), static_cast<int>(x), 1) = im.c == 3 ? im.pixels[base + static_cast<size_t>(plane)] : r;
      m.at(static_cast<int>(y), static_cast<int>(x), 2) = im.c == 3 ? im.pixels[base + static_cast<size_t>(2 * plane)] : r;
    }
  return m;
}

constexpr imaging::Rgb kWhite{255, 255, 255};

void put(imaging::Canvas& m, const std::string& text, imaging::Point at, double scale = 0.5,
         imaging::Rgb color = {20, 20, 20}) {
  m.text(text, at, scale, color);
}

imaging::Canvas grid(const common::Image8& originals, const common::Image8& recs, const std::string& title) {
  const int64_t n = std::min(originals.n, recs.n);
  const int cell = static_cast<int>(std::max<int64_t>(96, originals.h));
  const int pad = 4, top = 28, left = 110;
  imaging::Canvas canvas(left + static_cast<int>(n) * (cell + pad) + pad, top + 2 * (cell + pad) + pad, kWhite);
  put(canvas, title, {6, 19});
  put(canvas, "original", {6, top + cell / 2 + 5});
  put(canvas, "rebuilt", {6, top + cell + pad + cell / 2 + 5});
  for (int64_t i = 0; i < n; ++i) {
    for (int row = 0; row < 2; ++row) {
      const auto big = imaging::resize(rgb_of(row == 0 ? originals : recs, i), cell, cell, imaging::Interpolation::kNearest);
      canvas.paste(big, {left + static_cast<int>(i) * (cell + pad), top + row * (cell + pad)});
    }
  }
  return canvas;
}

void write_png(const std::string& path, const imaging::Canvas& m) {
  const auto png = m.encode_png();
  common::write_file_atomic(path, std::string(png.begin(), png.end()));
}

}  // namespace

namespace {

PlanDocument::Cut cut_document(const PlanContext& ctx, const pipeline::CutAssessment& c) {
  const auto& v = verdict_of(ctx, c.cut.id);
  PlanDocument::Cut d;
  d.id = c.cut.id;
  d.name = c.cut.name;
  d.scope = c.cut.scope;
  d.op = c.cut.op;
  d.shape = c.cut.shape;
  d.is_block = c.cut.is_block;
  d.activation_bytes = c.cut.activation_bytes;
  d.front_flops = c.cut.front_flops;
  d.front_param_bytes = c.cut.front_param_bytes;
  d.front_peak_activation_bytes = c.cut.front_peak_activation_bytes;
  d.attacks = c.scores;
  for (auto& a : d.attacks) a.train.val_curve.clear();  // the run store keeps the curves
  d.oracle = c.oracle;
  d.cost = c.cost;
  d.latency_seconds = v.latency_seconds;
  d.fits_budget = v.fits;
  d.probe_accuracy = c.probe_accuracy;
  d.measured = v.measured;
  d.worst_attack = v.measured_by;
  d.envelope = v.envelope;
  d.envelope_from = v.envelope_from;
  d.notes = c.notes;
  d.verdict = plan::verdict_text(v);
  d.lower_bound = v.lower_bound;
  d.still_improving = v.still_improving;
  return d;
}

PlanDocument::Data data_document(const PlanContext& ctx) {
  const auto& r = *ctx.result;
  PlanDocument::Data d;
  d.source = ctx.data_source;
  d.description = r.data_description;
  d.size = r.data_size;
  d.n_train = r.n_train;
  d.n_val = r.n_val;
  d.n_eval = r.n_eval;
  d.batch_size = std::max<int64_t>(r.batch_size, 1);
  d.augmented = r.augmented;
  d.notes = r.data_notes;
  if (r.records()) d.columns = r.record_columns;
  return d;
}

PlanDocument::Decision decision_document(const PlanContext& ctx) {
  const auto& r = *ctx.result;
  const auto& d = ctx.plan->decision;
  PlanDocument::Decision out;
  out.kind = d.kind;
  if (d.cut_id) {
    out.cut_ids.push_back(*d.cut_id);
    if (r.back_cut && r.back_cut->id != *d.cut_id) out.cut_ids.push_back(r.back_cut->id);
  }
  out.cut_name = d.cut_name;
  out.latency_seconds = d.latency_seconds;
  out.speedup_vs_enclave = d.speedup_vs_enclave;
  out.threshold = d.threshold;
  out.leakage = d.leakage;
  out.reason = d.reason;
  out.fail_above = ctx.fail_above;
  out.gate_failed = d.gate_failed;
  out.gate_reason = d.gate_reason;
  return out;
}

std::optional<PlanDocument::Ternary> ternary_document(const PlanContext& ctx) {
  const auto& r = *ctx.result;
  if (!r.ternary || !r.back_cut) return std::nullopt;
  const auto& chosen = ctx.plan->decision.cut_id;
  PlanDocument::Ternary t;
  t.back_cut_id = r.back_cut->id;
  t.back_cut_name = r.back_cut->name;
  t.back_probe_accuracy = r.back_probe_accuracy;
  for (const auto& c : r.cuts)
    if (chosen && c.cut.id == *chosen) t.front_probe_accuracy = c.probe_accuracy;
  t.probe_chance = r.probe_chance;
  return t;
}

void export_document(const PlanContext& ctx, PlanDocument& doc) {
  if (ctx.exported)
    for (const auto& p : ctx.exported->parts)
      doc.partitions.push_back({p.name, p.role, ctx.export_dir.empty() ? p.file : ctx.export_dir + "/" + p.file,
                                p.sha256, p.bytes, p.input_shape, p.output_shape});
  if (const auto& v = ctx.verification)
    doc.verification = PlanDocument::Verification{v->samples, v->max_abs_error, v->max_rel_error, v->bit_exact, v->passed};
}

}  // namespace

PlanDocument plan_document(const PlanContext& ctx) {
  const auto& r = *ctx.result;
  const auto& m = *ctx.model;
  PlanDocument doc;
  doc.source = ctx.plan_path;
  doc.tool = {"partplan", kVersion, model::torch_version()};
  doc.created_utc = common::utc_now();
  doc.device = r.device;
  doc.measure = r.measure;
  doc.command = ctx.command_line;
  doc.model = {m.path, m.sha256, m.input_shape, m.output_shape, m.total_flops, m.total_param_bytes,
               static_cast<int64_t>(m.cuts.size())};
  doc.seed = ctx.seed;
  doc.config_json = ctx.effective_config_json;
  doc.data = data_document(ctx);
  doc.baselines = r.baselines;
  doc.label_floor = r.label_floor;
  for (const auto& c : r.cuts) doc.cuts.push_back(cut_document(ctx, c));
  doc.oracle_reference_kl = r.oracle_reference_kl;
  doc.cost_model = {r.timed_on,           r.whole_model_seconds, r.untrusted_timed_on, r.untrusted_whole_model_seconds,
                    r.gpu_speedup_applied, r.all_enclave_seconds, ctx.plan_policy_memory_bytes};
  doc.ternary = ternary_document(ctx);
  doc.decision = decision_document(ctx);
  export_document(ctx, doc);
  doc.seconds = r.seconds;
  doc.phase_seconds = r.phase_seconds;
  doc.estimated_seconds = r.estimated_seconds;
  doc.time_budget = r.time_budget;
  return doc;
}

GridPngs reconstruction_grids(const pipeline::AssessResult& r) {
  GridPngs grids;
  for (const auto& c : r.cuts) {
    if (r.eval_originals.empty() || c.reconstructions.empty()) continue;
    const auto m = grid(r.eval_originals, c.reconstructions,
                        fmt::format("cut {} '{}': {} SSIM {:.3f}", c.cut.id, c.cut.name, c.worst_attack, c.leak));
    try {
      grids[c.cut.id] = m.encode_png();
    } catch (const Error& e) {
      throw IoError(fmt::format("cannot encode the grid of cut {}: {}", c.cut.id, e.what()));
    }
  }
  return grids;
}

void write_report_dir(const PlanDocument& doc, const GridPngs& grids, const std::string& dir) {
  common::StagedDir staged(dir);
  for (const auto& [id, png] : grids)
    common::write_file_atomic(staged.add(fmt::format("cut-{:03d}.png", id)), std::string(png.begin(), png.end()));
  // Each chart is built once (chart.hpp) and drawn as SVG in the page and as a PNG here.
  if (doc.trained()) {
    common::write_file_atomic(staged.add("report.html"), report_html(doc, grids));
    write_png(staged.add("leakage.png"), chart::render_png(chart::leakage(doc)));
    write_png(staged.add("pareto.png"), chart::render_png(chart::pareto(doc)));
  }
  common::write_file_atomic(staged.add("summary.md"), summary_markdown(doc, grids));
  staged.commit();
}

std::string assess_text(const PlanDocument& doc) {
  using namespace cells;
  std::string titles;
  for (const auto& t : detail_titles(doc)) titles += fmt::format(" {:>8}", t.substr(0, 8));
  std::string out = fmt::format("{:>4}  {:<20} {:<16} {:<8} {:>22}{} {:>6} {:>9}  {}\n", "id", "cut", "shape", "attack",
                                measure_title(doc) + " mean [95% CI]", titles, "trend", "envelope", "verdict");
  auto row = [](const std::vector<std::string>& v) {
    std::string o;
    for (const auto& x : v) o += fmt::format(" {:>8}", x);
    return o;
  };
  std::vector<std::string> rising, cut_short;
  for (const auto& c : doc.cuts)
    for (const auto& s : c.attacks) {
      if (s.train.cut_short) cut_short.push_back(s.attack + "@" + c.name);
      out += fmt::format("{:>4}  {:<20} {:<16} {:<8} {:>22}{} {:>6} {:>9.3f}  {}\n", c.id, c.name.substr(0, 20),
                         common::format_shape(c.shape), s.attack, ci(s.headline()), row(details(s.records, s.psnr_db)),
                         trend(s), c.envelope, c.verdict);
      if (s.train.still_improving) rising.push_back(s.attack + "@" + c.name);
    }
  if (!rising.empty())
    out += fmt::format("      still improving when the budget ran out (a lower bound; raise budget.steps): {}\n",
                       fmt::join(rising, ", "));
  if (!cut_short.empty())
    out += fmt::format("      cut short by the time budget (a lower bound; raise --time-budget): {}\n",
                       fmt::join(cut_short, ", "));
  for (const auto& b : doc.baselines)
    out += fmt::format("      baseline {:<16} {} {}{}\n", b.name, measure_title(doc), ci(b.headline()),
                       row(details(b.records, b.psnr_db)));
  const bool ternary = doc.ternary.has_value();
  out += "\n  id  cut                  oracle KL  enclave MiB  fits  est. ms";
  out += ternary ? "  probe top-1\n" : "\n";
  for (const auto& c : doc.cuts) {
    out += fmt::format("{:>4}  {:<20} {:>9}  {:>11.1f}  {:>4}  {:>7.3f}", c.id, c.name.substr(0, 20),
                       c.oracle.available ? fmt::format("{:.3f}", c.oracle.kl_min) : std::string("-"),
                       c.cost.enclave_bytes / 1048576.0, c.fits_budget ? "yes" : "no", c.latency_seconds * 1e3);
    out += ternary ? fmt::format("  {:>11}\n", number_or_dash(c.probe_accuracy)) : "\n";
  }
  if (doc.oracle_reference_kl)
    out += fmt::format("      oracle reference (KL to a uniform prediction) {:.3f}\n", *doc.oracle_reference_kl);
  if (const auto& t = doc.ternary)
    out += fmt::format(
        "ternary: back cut '{}' (id {}) in the enclave; linear probe top-1 there {:.3f}, chance {:.3f}\n",
        t->back_cut_name, t->back_cut_id, t->back_probe_accuracy.value_or(NAN), t->probe_chance.value_or(NAN));
  out += "\n" + doc.decision.reason + "\n";
  if (doc.decision.gate_failed) out += "GATE FAILED: " + doc.decision.gate_reason + "\n";
  return out;
}

}  // namespace partplan::report
