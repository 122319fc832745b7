// plan.json, summary.md and the reconstruction grids (the charts are chart.hpp's, drawn from
// the plan as written). Field names are a contract: docs/plan-json.md and
// docs/schemas/plan.schema.json change with them.
#include "partplan/report/assess_report.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <ctime>
#include <nlohmann/json.hpp>

#include "partplan/common/build_info.hpp"
#include "partplan/common/error.hpp"
#include "partplan/common/fs.hpp"
#include "partplan/imaging/canvas.hpp"
#include "partplan/report/html.hpp"
#include "partplan/report/json_io.hpp"
#include "src/report/chart.hpp"

using nlohmann::json;

namespace partplan::report {
namespace {

json or_null(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

/// The headline measure, as a column and axis title.
std::string measure_title(const pipeline::AssessResult& r) { return r.records() ? "re-identified" : "SSIM"; }

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

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

/// "rising" while an attacker's val SSIM was still climbing at the end of its budget, "flat"
/// once it had levelled off, "-" for the white-box attacker (an optimisation per image).
std::string trend(const pipeline::AttackScore& s) {
  if (s.train.val_curve.empty() && !s.train.still_improving) return "-";
  return s.train.still_improving ? "rising" : "flat";
}

std::string md_ci(const metrics::MeanCi& c) { return fmt::format("{:.3f} [{:.3f}, {:.3f}]", c.mean, c.low, c.high); }

std::string mean_or_dash(const std::optional<metrics::MeanCi>& c) {
  return c ? fmt::format("{:.3f}", c->mean) : std::string("-");
}

/// The columns after the headline: PSNR for images; numeric error, share within tolerance and
/// categorical accuracy for records.
std::vector<std::string> detail_cells(const std::optional<metrics::RecordScores>& rec, const metrics::MeanCi& psnr) {
  if (!rec) return {fmt::format("{:.1f}", psnr.mean)};
  return {mean_or_dash(rec->numeric_error), mean_or_dash(rec->numeric_within), mean_or_dash(rec->categorical_accuracy)};
}

std::vector<std::string> detail_titles(const pipeline::AssessResult& r) {
  if (!r.records()) return {"PSNR dB"};
  return {"num. error", "num. within tol.", "cat. accuracy"};
}

}  // namespace

std::string plan_json(const PlanContext& ctx) {
  const auto& r = *ctx.result;
  const auto& m = *ctx.model;
  json j;
  j["schema_version"] = kPlanSchemaVersion;
  j["kind"] = "partplan.plan";
  j["tool"] = tool_json();
  j["created_utc"] = utc_now();
  j["device"] = r.device;
  j["measure"] = r.measure;
  j["command"] = ctx.command_line;
  j["model"] = {{"path", m.path},
                {"sha256", m.sha256},
                {"input_shape", m.input_shape},
                {"output_shape", m.output_shape},
                {"total_flops", m.total_flops},
                {"total_param_bytes", m.total_param_bytes},
                {"cut_count", m.cuts.size()}};
  j["seed"] = ctx.seed;
  j["config"] = json::parse(ctx.effective_config_json);
  j["data"] = {{"source", ctx.data_source},
               {"description", r.data_description},
               {"size", r.data_size},
               {"splits", {{"attacker_train", r.n_train}, {"attacker_val", r.n_val}, {"eval", r.n_eval}}},
               {"batch_size", std::max<int64_t>(r.batch_size, 1)},
               {"augmented", r.augmented},
               {"notes", r.data_notes}};
  const bool records = r.records();
  if (records) {
    json cols = json::array();
    for (const auto& c : r.record_columns) {
      json col{{"name", c.name}, {"kind", data::to_string(c.kind)}, {"feature", c.feature < 0 ? json(nullptr) : json(c.feature)}};
      if (c.feature >= 0) {
        col["constant"] = c.constant;
        if (c.kind == data::ColumnKind::kNumeric)
          col.update({{"min", c.min},
                      {"max", c.max},
                      {"log_scaled", c.log_scaled},
                      {"missing", c.missing},
                      {"infinite", c.infinite}});
        else
          col["categories"] = c.categories;
      }
      cols.push_back(col);
    }
    j["data"]["columns"] = cols;
  }
  j["baselines"] = json::array();
  for (const auto& b : r.baselines) {
    json bj{{"name", b.name}, {"note", b.note}};
    if (b.records)
      bj["records"] = records_json(*b.records);
    else
      bj.update({{"ssim", ci_json(b.ssim)}, {"psnr_db", ci_json(b.psnr_db)}});
    j["baselines"].push_back(bj);
  }
  j["label_floor"] = r.label_floor ? json(*r.label_floor) : json(nullptr);
  j["cuts"] = json::array();
  for (const auto& c : r.cuts) {
    const auto& v = verdict_of(ctx, c.cut.id);
    json attacks = json::array();
    for (const auto& s : c.scores) attacks.push_back(attack_json(s, /*with_curve=*/false));
    j["cuts"].push_back({{"id", c.cut.id},
                         {"name", c.cut.name},
                         {"scope", c.cut.scope},
                         {"op", c.cut.op},
                         {"shape", c.cut.shape},
                         {"is_block", c.cut.is_block},
                         {"activation_bytes", c.cut.activation_bytes},
                         {"front_flops", c.cut.front_flops},
                         {"front_param_bytes", c.cut.front_param_bytes},
                         {"front_peak_activation_bytes", c.cut.front_peak_activation_bytes},
                         {"attacks", attacks},
                         {"oracle",
                          {{"available", c.oracle.available},
                           {"kl_min", c.oracle.available ? json(c.oracle.kl_min) : json(nullptr)},
                           {"channel", c.oracle.available ? json(c.oracle.channel) : json(nullptr)},
                           {"channels_tested", c.oracle.channels_tested},
                           {"note", c.oracle.note}}},
                         {"cost",
                          {{"enclave_flops", c.cost.enclave_flops},
                           {"enclave_param_bytes", c.cost.enclave_param_bytes},
                           {"enclave_peak_activation_bytes", c.cost.enclave_peak_activation_bytes},
                           {"enclave_bytes", c.cost.enclave_bytes},
                           {"boundary_bytes", c.cost.boundary_bytes},
                           {"enclave_seconds", c.cost.enclave_seconds},
                           {"untrusted_seconds", c.cost.untrusted_seconds},
                           {"transfer_seconds", c.cost.transfer_seconds},
                           {"latency_seconds", v.latency_seconds},
                           {"fits_budget", v.fits},
                           {"profiled", c.cost.profiled}}},
                         {"probe_accuracy", or_null(c.probe_accuracy)},
                         {"measured", v.measured},
                         {"worst_attack", v.measured_by},
                         {"envelope", v.envelope},
                         {"envelope_from", v.envelope_from},
                         {"notes", c.notes},
                         {"verdict", plan::verdict_text(v)},
                         {"lower_bound", v.lower_bound},
                         {"still_improving", v.still_improving}});
  }
  const auto& d = ctx.plan->decision;
  json cut_ids = json::array();
  if (d.cut_id) {
    cut_ids.push_back(*d.cut_id);
    if (r.back_cut && r.back_cut->id != *d.cut_id) cut_ids.push_back(r.back_cut->id);
  }
  j["oracle_reference_kl"] = or_null(r.oracle_reference_kl);
  j["cost_model"] = {{"timed_on", r.timed_on},
                     {"whole_model_seconds", r.whole_model_seconds},
                     {"untrusted_timed_on", r.untrusted_timed_on},
                     {"untrusted_whole_model_seconds", r.untrusted_whole_model_seconds},
                     {"gpu_speedup_applied", r.gpu_speedup_applied},
                     {"all_enclave_seconds", r.all_enclave_seconds},
                     {"enclave_memory_bytes", ctx.plan_policy_memory_bytes}};
  if (r.ternary && r.back_cut) {
    std::optional<double> front_probe;
    for (const auto& c : r.cuts)
      if (d.cut_id && c.cut.id == *d.cut_id) front_probe = c.probe_accuracy;
    j["ternary"] = {{"back_cut", {{"id", r.back_cut->id}, {"name", r.back_cut->name}}},
                    {"back_probe_accuracy", or_null(r.back_probe_accuracy)},
                    {"front_probe_accuracy", or_null(front_probe)},
                    {"probe_chance", or_null(r.probe_chance)}};
  } else {
    j["ternary"] = nullptr;
  }
  j["decision"] = {{"kind", d.kind},
                   {"cut_ids", cut_ids},
                   {"latency_seconds", d.latency_seconds},
                   {"speedup_vs_enclave", d.speedup_vs_enclave},
                   {"cut_name", d.cut_id ? json(d.cut_name) : json(nullptr)},
                   {"threshold", d.threshold},
                   {"leakage", d.leakage},
                   {"reason", d.reason},
                   {"fail_above", ctx.fail_above ? json(*ctx.fail_above) : json(nullptr)},
                   {"gate_failed", d.gate_failed},
                   {"gate_reason", d.gate_reason}};
  j["partitions"] = json::array();
  if (ctx.exported) {
    for (const auto& p : ctx.exported->parts)
      j["partitions"].push_back({{"name", p.name},
                                 {"role", p.role},
                                 {"file", (ctx.export_dir.empty() ? p.file : ctx.export_dir + "/" + p.file)},
                                 {"sha256", p.sha256},
                                 {"bytes", p.bytes},
                                 {"input_shape", p.input_shape},
                                 {"output_shape", p.output_shape}});
  }
  if (ctx.verification) {
    const auto& v = *ctx.verification;
    j["verification"] = {{"samples", v.samples},
                         {"max_abs_error", v.max_abs_error},
                         {"max_rel_error", v.max_rel_error},
                         {"bit_exact", v.bit_exact},
                         {"passed", v.passed}};
  } else {
    j["verification"] = nullptr;
  }
  j["seconds"] = r.seconds;
  j["phase_seconds"] = json::array();
  for (const auto& p : r.phase_seconds)
    j["phase_seconds"].push_back({{"phase", pipeline::to_string(p.phase)}, {"seconds", p.seconds}});
  return j.dump(2) + "\n";
}

void write_report_dir(const PlanContext& ctx, const std::string& dir, const std::string& plan_text) {
  common::StagedDir staged(dir);
  const auto& r = *ctx.result;
  std::map<int, std::vector<uint8_t>> grids;  // PNG bytes, embedded in report.html too
  for (const auto& c : r.cuts) {
    if (r.eval_originals.empty() || c.reconstructions.empty()) continue;
    const auto m = grid(r.eval_originals, c.reconstructions,
                        fmt::format("cut {} '{}': {} SSIM {:.3f}", c.cut.id, c.cut.name, c.worst_attack, c.leak));
    try {
      grids[c.cut.id] = m.encode_png();
    } catch (const Error& e) {
      throw IoError(fmt::format("cannot encode the grid of cut {}: {}", c.cut.id, e.what()));
    }
    common::write_file_atomic(staged.add(fmt::format("cut-{:03d}.png", c.cut.id)),
                              std::string(grids[c.cut.id].begin(), grids[c.cut.id].end()));
  }
  // The page and the charts' PNGs, all from the plan as written: each chart is built once
  // (chart.hpp) and drawn as SVG in the page and as a PNG here. A pre-screen has no leakage
  // to draw: summary.md only.
  if (r.trained) {
    const PlanView view = read_plan(plan_text, ctx.plan_path);
    common::write_file_atomic(staged.add("report.html"), report_html(view, grids));
    write_png(staged.add("leakage.png"), chart::render_png(chart::leakage(view)));
    write_png(staged.add("pareto.png"), chart::render_png(chart::pareto(view)));
  }

  const auto& d = ctx.plan->decision;
  std::string md = "# partplan assessment\n\n";
  md += fmt::format("Model `{}` (input {}), data `{}` ({} attacker-train / {} attacker-val / {} eval), device {}.\n\n",
                    ctx.model->path, common::format_shape(ctx.model->input_shape), ctx.data_source, r.n_train, r.n_val,
                    r.n_eval, r.device);
  md += fmt::format("**Decision:** {}\n\n", d.reason);
  if (d.gate_failed) md += fmt::format("**Gate failed:** {}\n\n", d.gate_reason);
  const bool records = r.records();
  const auto titles = detail_titles(r);
  const std::string detail_head = fmt::format("{}", fmt::join(titles, " | "));
  auto rule = [&](size_t before, size_t after) {
    std::string out = "|";
    for (size_t i = 0; i < before + titles.size() + after; ++i) out += "---|";
    return out + "\n";
  };
  if (records)
    md += fmt::format(
        "Records: the headline is the share of eval records whose reconstruction is nearer to its own "
        "record than to every other eval record (chance 1/{} = {:.4f}); the threshold {:.2f} applies "
        "to it. Field measures: mean |error| over the numeric fields (a share of each field's range), "
        "the share of numeric fields within records.tolerance, and the share of categorical fields "
        "recovered exactly (docs/metrics.md).\n\n",
        r.n_eval, 1.0 / static_cast<double>(std::max<int64_t>(r.n_eval, 1)), d.threshold);
  if (r.trained) md += "![leakage curve](leakage.png)\n\n";
  md += fmt::format("| id | cut | shape | strongest attack | {} mean [95% CI] | {} | envelope | verdict |\n",
                    measure_title(r), detail_head);
  md += rule(5, 2);
  for (const auto& c : r.cuts) {
    const auto& v = verdict_of(ctx, c.cut.id);
    // The strongest attack is a trained attacker or the floor guess (a baseline).
    metrics::MeanCi head = c.leak_ci, psnr;
    std::optional<metrics::RecordScores> rec;
    for (const auto& s : c.scores)
      if (s.attack == v.measured_by) psnr = s.psnr_db, rec = s.records;
    for (const auto& b : r.baselines)
      if (b.name == v.measured_by) head = b.headline(), psnr = b.psnr_db, rec = b.records;
    const std::string name =
        c.reconstructions.empty() ? c.cut.name : fmt::format("[{}](cut-{:03d}.png)", c.cut.name, c.cut.id);
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {:.3f} | {} |\n", c.cut.id, name,
                      common::format_shape(c.cut.shape), v.measured_by, md_ci(head),
                      fmt::join(detail_cells(rec, psnr), " | "), v.envelope, plan::verdict_text(v));
  }
  md += fmt::format(
      "\n## Each attacker\n\nThe worst case at a cut is the maximum over these; *rising* means its "
      "validation {} was still climbing when its budget ran out (the slope of its last checks above "
      "budget.min_delta), so its number is a lower bound.\n\n| id | cut | attack | {} | {} mean [95% CI] | "
      "{} | steps | trend | seconds |\n",
      records ? "closeness (1 - mean |error|)" : "SSIM", records ? "records" : "images", measure_title(r), detail_head);
  md += rule(5, 3);
  for (const auto& c : r.cuts)
    for (const auto& s : c.scores)
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {:.1f} |\n", c.cut.id, c.cut.name, s.attack,
                        s.images, md_ci(s.headline()), fmt::join(detail_cells(s.records, s.psnr_db), " | "),
                        s.train.steps_run, trend(s), s.train.seconds);
  for (const auto& c : r.cuts)
    for (const auto& n : c.notes) md += fmt::format("\nCut {} '{}': {}.\n", c.cut.id, c.cut.name, n);
  md += r.trained ? "\n## Leakage against cost\n\n![pareto](pareto.png)\n\n" : "\n## Cost\n\n";
  md += fmt::format(
      "Times: the whole model takes {:.2f} ms natively on {}; enclave times are scaled by the TEE "
      "slowdown, {:.2f} ms for the whole model in the enclave. ",
      r.whole_model_seconds * 1e3, r.timed_on, r.all_enclave_seconds * 1e3);
  md += r.gpu_speedup_applied
            ? fmt::format("Untrusted times are the CPU's over the assumed GPU speed-up (cost.gpu_speedup). ")
            : fmt::format("Untrusted times were measured on {} ({:.2f} ms for the whole model); no speed-up is "
                          "assumed. ",
                          r.untrusted_timed_on, r.untrusted_whole_model_seconds * 1e3);
  if (d.speedup_vs_enclave > 0)
    md += fmt::format("The chosen split is estimated at {:.2f} ms, {:.1f}x faster.", d.latency_seconds * 1e3,
                      d.speedup_vs_enclave);
  md +=
      "\n\n| id | cut | envelope | safe | enclave MiB | fits | enclave ms | transfer ms | untrusted ms | total ms | "
      "oracle KL |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : r.cuts) {
    const auto& v = verdict_of(ctx, c.cut.id);
    md += fmt::format("| {} | {} | {:.3f} | {} | {:.1f} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} |\n", c.cut.id,
                      c.cut.name, v.envelope, v.safe ? "yes" : "no", c.cost.enclave_bytes / 1048576.0,
                      v.fits ? "yes" : "no", c.cost.enclave_seconds * 1e3, c.cost.transfer_seconds * 1e3,
                      c.cost.untrusted_seconds * 1e3, v.latency_seconds * 1e3,
                      c.oracle.available ? fmt::format("{:.3f}", c.oracle.kl_min) : std::string("-"));
  }
  if (r.oracle_reference_kl)
    md += fmt::format(
        "\nOracle KL: the lowest, over channels, of KL(model(x) || model(channel as image)); a channel "
        "with no information scores about {:.3f} (KL to a uniform prediction). Lower is more input-like.\n",
        *r.oracle_reference_kl);
  if (r.ternary && r.back_cut) {
    md += fmt::format(
        "\nTernary split: the back cut '{}' (id {}) returns to the enclave. A linear probe on its "
        "features predicts the model's own label with top-1 {:.3f} (chance {:.3f}).\n",
        r.back_cut->name, r.back_cut->id, r.back_probe_accuracy.value_or(NAN), r.probe_chance.value_or(NAN));
  }
  if (!r.baselines.empty()) {
    md += fmt::format("\nBaselines (no feature used):\n\n| guess | {} | {} | |\n", measure_title(r), detail_head);
    md += rule(2, 1);
    for (const auto& b : r.baselines)
      md += fmt::format("| {} | {} | {} | {} |\n", b.name, md_ci(b.headline()),
                        fmt::join(detail_cells(b.records, b.psnr_db), " | "), b.note);
  }
  if (records) {
    md += "\n## How the records were encoded\n\n| column | kind | feature | encoding |\n|---|---|---|---|\n";
    for (const auto& c : r.record_columns) {
      std::string how = "-";
      if (c.feature >= 0 && c.constant)
        how = "constant: 0";
      else if (c.kind == data::ColumnKind::kNumeric)
        how = fmt::format("{}min-max over [{:.10g}, {:.10g}]{}{}", c.log_scaled ? "log " : "", c.min, c.max,
                          c.missing ? fmt::format(", {} missing read as 0", c.missing) : "",
                          c.infinite ? fmt::format(", {} infinite", c.infinite) : "");
      else if (c.feature >= 0)
        how = fmt::format("rank of {} categories", c.categories);
      md +=
          fmt::format("| {} | {} | {} | {} |\n", c.name, data::to_string(c.kind), c.feature < 0 ? "-" : std::to_string(c.feature), how);
    }
  }
  md += fmt::format(
      "\nEnvelope: leak(k) = max over every cut k' at or after k of the measured {}; a host that sees "
      "cut k can compute every later cut.\n",
      records ? "re-identification" : "SSIM");
  common::write_file_atomic(staged.add("summary.md"), md);
  staged.commit();
}

std::string assess_text(const PlanContext& ctx) {
  const auto& r = *ctx.result;
  std::string details;
  for (const auto& t : detail_titles(r)) details += fmt::format(" {:>8}", t.substr(0, 8));
  std::string out = fmt::format("{:>4}  {:<20} {:<16} {:<8} {:>22}{} {:>6} {:>9}  {}\n", "id", "cut", "shape", "attack",
                                measure_title(r) + " mean [95% CI]", details, "trend", "envelope", "verdict");
  auto cells = [](const std::vector<std::string>& v) {
    std::string o;
    for (const auto& x : v) o += fmt::format(" {:>8}", x);
    return o;
  };
  for (const auto& c : r.cuts) {
    const auto& v = verdict_of(ctx, c.cut.id);
    for (const auto& s : c.scores)
      out += fmt::format("{:>4}  {:<20} {:<16} {:<8} {:>22}{} {:>6} {:>9.3f}  {}\n", c.cut.id, c.cut.name.substr(0, 20),
                         common::format_shape(c.cut.shape), s.attack, md_ci(s.headline()),
                         cells(detail_cells(s.records, s.psnr_db)), trend(s), v.envelope, plan::verdict_text(v));
  }
  std::vector<std::string> rising;
  for (const auto& c : r.cuts)
    for (const auto& s : c.scores)
      if (s.train.still_improving) rising.push_back(s.attack + "@" + c.cut.name);
  if (!rising.empty())
    out += fmt::format("      still improving when the budget ran out (a lower bound; raise budget.steps): {}\n",
                       fmt::join(rising, ", "));
  for (const auto& b : r.baselines)
    out += fmt::format("      baseline {:<16} {} {}{}\n", b.name, measure_title(r), md_ci(b.headline()),
                       cells(detail_cells(b.records, b.psnr_db)));
  out += "\n  id  cut                  oracle KL  enclave MiB  fits  est. ms";
  out += r.ternary ? "  probe top-1\n" : "\n";
  for (const auto& c : r.cuts) {
    const auto& v = verdict_of(ctx, c.cut.id);
    out += fmt::format("{:>4}  {:<20} {:>9}  {:>11.1f}  {:>4}  {:>7.3f}", c.cut.id, c.cut.name.substr(0, 20),
                       c.oracle.available ? fmt::format("{:.3f}", c.oracle.kl_min) : std::string("-"),
                       c.cost.enclave_bytes / 1048576.0, v.fits ? "yes" : "no", v.latency_seconds * 1e3);
    out +=
        r.ternary ? fmt::format("  {:>11}\n", c.probe_accuracy ? fmt::format("{:.3f}", *c.probe_accuracy) : "-") : "\n";
  }
  if (r.oracle_reference_kl)
    out += fmt::format("      oracle reference (KL to a uniform prediction) {:.3f}\n", *r.oracle_reference_kl);
  if (r.ternary && r.back_cut)
    out += fmt::format(
        "ternary: back cut '{}' (id {}) in the enclave; linear probe top-1 there {:.3f}, chance {:.3f}\n",
        r.back_cut->name, r.back_cut->id, r.back_probe_accuracy.value_or(NAN), r.probe_chance.value_or(NAN));
  out += "\n" + ctx.plan->decision.reason + "\n";
  if (ctx.plan->decision.gate_failed) out += "GATE FAILED: " + ctx.plan->decision.gate_reason + "\n";
  return out;
}

}  // namespace partplan::report
