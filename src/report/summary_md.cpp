// summary.md, rendered from the plan document: one function per section.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "partplan/report/assess_report.hpp"
#include "src/report/cells.hpp"

namespace partplan::report {
namespace {

using namespace cells;

/// The pieces every table shares: the detail columns' titles and the Markdown rule.
struct Columns {
  std::vector<std::string> titles;
  std::string head;  ///< "PSNR dB", or the record measures joined by " | "
  explicit Columns(const PlanDocument& doc) : titles(detail_titles(doc)), head(fmt::format("{}", fmt::join(titles, " | "))) {}
  std::string rule(size_t before, size_t after) const {
    std::string out = "|";
    for (size_t i = 0; i < before + titles.size() + after; ++i) out += "---|";
    return out + "\n";
  }
};

std::string header(const PlanDocument& doc) {
  const auto& d = doc.data;
  std::string md = "# partplan assessment\n\n";
  md += fmt::format("Model `{}` (input {}), data `{}` ({} attacker-train / {} attacker-val / {} eval), device {}.\n\n",
                    doc.model.path, common::format_shape(doc.model.input_shape), d.source, d.n_train, d.n_val,
                    d.n_eval, doc.device);
  md += fmt::format("**Decision:** {}\n\n", doc.decision.reason);
  if (doc.decision.gate_failed) md += fmt::format("**Gate failed:** {}\n\n", doc.decision.gate_reason);
  if (doc.records())
    md += fmt::format(
        "Records: the headline is the share of eval records whose reconstruction is nearer to its own "
        "record than to every other eval record (chance 1/{} = {:.4f}); the threshold {:.2f} applies "
        "to it. Field measures: mean |error| over the numeric fields (a share of each field's range), "
        "the share of numeric fields within records.tolerance, and the share of categorical fields "
        "recovered exactly (docs/metrics.md).\n\n",
        d.n_eval, 1.0 / static_cast<double>(std::max<int64_t>(d.n_eval, 1)), doc.decision.threshold);
  if (doc.trained()) md += "![leakage curve](leakage.png)\n\n";
  return md;
}

/// One row per cut, with its strongest attack: a trained attacker or the floor guess.
std::string cut_table(const PlanDocument& doc, const GridPngs& grids, const Columns& cols) {
  std::string md =
      fmt::format("| id | cut | shape | strongest attack | {} mean [95% CI] | {} | envelope | verdict |\n",
                  measure_title(doc), cols.head);
  md += cols.rule(5, 2);
  for (const auto& c : doc.cuts) {
    metrics::MeanCi head, psnr;
    std::optional<metrics::RecordScores> rec;
    for (const auto& s : c.attacks)
      if (s.attack == c.worst_attack) head = s.headline(), psnr = s.psnr_db, rec = s.records;
    for (const auto& b : doc.baselines)
      if (b.name == c.worst_attack) head = b.headline(), psnr = b.psnr_db, rec = b.records;
    const std::string name = grids.count(c.id) ? fmt::format("[{}](cut-{:03d}.png)", c.name, c.id) : c.name;
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {:.3f} | {} |\n", c.id, name, common::format_shape(c.shape),
                      c.worst_attack, ci(head), fmt::join(details(rec, psnr), " | "), c.envelope, c.verdict);
  }
  return md;
}

std::string attacker_table(const PlanDocument& doc, const Columns& cols) {
  const bool records = doc.records();
  std::string md = fmt::format(
      "\n## Each attacker\n\nThe worst case at a cut is the maximum over these; *rising* means its "
      "validation {} was still climbing when its budget ran out (the slope of its last checks above "
      "budget.min_delta), so its number is a lower bound.\n\n| id | cut | attack | {} | {} mean [95% CI] | "
      "{} | steps | trend | seconds |\n",
      records ? "closeness (1 - mean |error|)" : "SSIM", records ? "records" : "images", measure_title(doc), cols.head);
  md += cols.rule(5, 3);
  for (const auto& c : doc.cuts)
    for (const auto& s : c.attacks)
      md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {:.1f} |\n", c.id, c.name, s.attack, s.images,
                        ci(s.headline()), fmt::join(details(s.records, s.psnr_db), " | "), s.train.steps_run,
                        trend(s), s.train.seconds);
  for (const auto& c : doc.cuts)
    for (const auto& n : c.notes) md += fmt::format("\nCut {} '{}': {}.\n", c.id, c.name, n);
  return md;
}

std::string cost_section(const PlanDocument& doc) {
  const auto& k = doc.cost_model;
  const auto& d = doc.decision;
  std::string md = doc.trained() ? "\n## Leakage against cost\n\n![pareto](pareto.png)\n\n" : "\n## Cost\n\n";
  md += fmt::format(
      "Times: the whole model takes {:.2f} ms natively on {}; enclave times are scaled by the TEE "
      "slowdown, {:.2f} ms for the whole model in the enclave. ",
      k.whole_model_seconds * 1e3, k.timed_on, k.all_enclave_seconds * 1e3);
  md += k.gpu_speedup_applied
            ? std::string("Untrusted times are the CPU's over the assumed GPU speed-up (cost.gpu_speedup). ")
            : fmt::format("Untrusted times were measured on {} ({:.2f} ms for the whole model); no speed-up is "
                          "assumed. ",
                          k.untrusted_timed_on, k.untrusted_whole_model_seconds * 1e3);
  if (d.speedup_vs_enclave > 0)
    md += fmt::format("The chosen split is estimated at {:.2f} ms, {:.1f}x faster.", d.latency_seconds * 1e3,
                      d.speedup_vs_enclave);
  md +=
      "\n\n| id | cut | envelope | safe | enclave MiB | fits | enclave ms | transfer ms | untrusted ms | total ms | "
      "oracle KL |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : doc.cuts)
    md += fmt::format("| {} | {} | {:.3f} | {} | {:.1f} | {} | {:.3f} | {:.3f} | {:.3f} | {:.3f} | {} |\n", c.id, c.name,
                      c.envelope, c.safe() ? "yes" : "no", c.cost.enclave_bytes / 1048576.0, c.fits_budget ? "yes" : "no",
                      c.cost.enclave_seconds * 1e3, c.cost.transfer_seconds * 1e3, c.cost.untrusted_seconds * 1e3,
                      c.latency_seconds * 1e3,
                      c.oracle.available ? fmt::format("{:.3f}", c.oracle.kl_min) : std::string("-"));
  if (doc.oracle_reference_kl)
    md += fmt::format(
        "\nOracle KL: the lowest, over channels, of KL(model(x) || model(channel as image)); a channel "
        "with no information scores about {:.3f} (KL to a uniform prediction). Lower is more input-like.\n",
        *doc.oracle_reference_kl);
  if (const auto& t = doc.ternary)
    md += fmt::format(
        "\nTernary split: the back cut '{}' (id {}) returns to the enclave. A linear probe on its "
        "features predicts the model's own label with top-1 {:.3f} (chance {:.3f}).\n",
        t->back_cut_name, t->back_cut_id, t->back_probe_accuracy.value_or(NAN), t->probe_chance.value_or(NAN));
  return md;
}

std::string baselines(const PlanDocument& doc, const Columns& cols) {
  if (doc.baselines.empty()) return {};
  std::string md = fmt::format("\nBaselines (no feature used):\n\n| guess | {} | {} | |\n", measure_title(doc), cols.head);
  md += cols.rule(2, 1);
  for (const auto& b : doc.baselines)
    md += fmt::format("| {} | {} | {} | {} |\n", b.name, ci(b.headline()), fmt::join(details(b.records, b.psnr_db), " | "),
                      b.note);
  return md;
}

std::string encoding(const PlanDocument& doc) {
  if (!doc.records()) return {};
  std::string md = "\n## How the records were encoded\n\n| column | kind | feature | encoding |\n|---|---|---|---|\n";
  for (const auto& c : doc.data.columns) {
    std::string how = "-";
    if (c.feature >= 0 && c.constant)
      how = "constant: 0";
    else if (c.kind == data::ColumnKind::kNumeric)
      how = fmt::format("{}min-max over [{:.10g}, {:.10g}]{}{}", c.log_scaled ? "log " : "", c.min, c.max,
                        c.missing ? fmt::format(", {} missing read as 0", c.missing) : "",
                        c.infinite ? fmt::format(", {} infinite", c.infinite) : "");
    else if (c.feature >= 0)
      how = fmt::format("rank of {} categories", c.categories);
    md += fmt::format("| {} | {} | {} | {} |\n", c.name, data::to_string(c.kind),
                      c.feature < 0 ? "-" : std::to_string(c.feature), how);
  }
  return md;
}

}  // namespace

std::string summary_markdown(const PlanDocument& doc, const GridPngs& grids) {
  const Columns cols(doc);
  std::string md = header(doc);
  md += cut_table(doc, grids, cols);
  md += attacker_table(doc, cols);
  md += cost_section(doc);
  md += baselines(doc, cols);
  md += encoding(doc);
  md += fmt::format(
      "\nEnvelope: leak(k) = max over every cut k' at or after k of the measured {}; a host that sees "
      "cut k can compute every later cut.\n",
      doc.records() ? "re-identification" : "SSIM");
  return md;
}

}  // namespace partplan::report
