// report.html: the decision in one sentence, the leakage curve and the Pareto view (the
// charts of chart.hpp, as SVG), the cut table and each cut's reconstruction grid, all inline.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "partplan/common/strings.hpp"
#include "partplan/report/html.hpp"
#include "src/report/chart.hpp"
#include "src/report/html_page.hpp"

namespace partplan::report {
namespace {

using chart::esc;

/// The decision, the gate, the ternary note and where the plan came from.
std::string header(const PlanDocument& p) {
  std::string body = fmt::format("<h1>partplan assessment: {}</h1>\n", esc(html::model_label(p)));
  body += fmt::format("<p class=\"decision{}\" id=\"decision\">{}</p>\n", p.chosen_id() ? "" : " none", esc(p.decision.reason));
  if (p.decision.gate_failed) body += fmt::format("<p class=\"gate\">Gate failed: {}</p>\n", esc(p.decision.gate_reason));
  if (p.ternary && !p.ternary->back_cut_name.empty())
    body += fmt::format(
        "<p id=\"ternary\">Ternary split: enclave | untrusted | enclave. The back cut '{}' returns to "
        "the enclave, so the host sees the middle part only; the curve covers the cuts up to it.</p>\n",
        esc(p.ternary->back_cut_name));
  body += fmt::format("<p class=\"note\">Model <code>{}</code> (input {}), data: {}. Plan: <code>{}</code>.</p>\n",
                      esc(p.model.path), esc(fmt::format("{}", fmt::join(p.model.input_shape, "x"))), esc(p.data.description),
                      esc(p.source));
  return body;
}

std::string cut_table(const PlanDocument& p) {
  std::string body =
      "<h2>Cuts</h2>\n<table id=\"cut-table\"><tr><th>id</th><th>cut</th><th>strongest attack</th><th>measured " +
      esc(p.measure_label()) +
      "</th><th>envelope</th><th>verdict</th><th>enclave MiB</th><th>fits</th><th>enclave ms</th><th>total "
      "ms</th></tr>\n";
  for (const auto& c : p.cuts)
    body += fmt::format(
        "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{:.3f}</td><td>{:.3f}</td><td>{}</td><td>{:.1f}</td><td>{}</td>"
        "<td>{:.3f}</td><td>{:.3f}</td></tr>\n",
        p.is_chosen(c) ? " class=\"chosen\"" : "", c.id, esc(c.name), esc(c.worst_attack), c.measured, c.envelope,
        esc(c.verdict), c.cost.enclave_bytes / 1048576.0, c.fits_budget ? "yes" : "no", c.cost.enclave_seconds * 1e3,
        c.latency_seconds * 1e3);
  return body + "</table>\n";
}

/// One grid per cut, folded except the chosen cut's and the first.
std::string grid_sections(const PlanDocument& p, const std::map<int, std::vector<uint8_t>>& grids) {
  if (grids.empty()) return {};
  std::string body =
      "<h2>Reconstructions</h2>\n<p class=\"note\">Eval originals (top) and the strongest attacker's "
      "reconstructions (bottom).</p>\n";
  for (size_t i = 0; i < p.cuts.size(); ++i) {
    const auto& c = p.cuts[i];
    auto it = grids.find(c.id);
    if (it == grids.end()) continue;
    const bool open = i == 0 || p.is_chosen(c);
    body += fmt::format(
        "<details class=\"grid\" id=\"grid-{}\"{}><summary>cut {} '{}': {} SSIM {:.3f}, {}</summary>"
        "<img class=\"grid\" alt=\"reconstructions at cut {}\" src=\"data:image/png;base64,{}\"></details>\n",
        c.id, open ? " open" : "", c.id, esc(c.name), esc(c.worst_attack), c.measured, esc(c.verdict), c.id,
        common::base64_encode(it->second));
  }
  return body;
}

}  // namespace

std::string report_html(const PlanDocument& p, const std::map<int, std::vector<uint8_t>>& grids) {
  std::string body = header(p);
  body += "<h2>Leakage curve</h2>\n" + chart::render_svg(chart::leakage(p));
  body += "<h2>Leakage against cost</h2>\n" + chart::render_svg(chart::pareto(p));
  body += cut_table(p);
  body += grid_sections(p, grids);
  return html::page("partplan assessment: " + html::model_label(p), body);
}

}  // namespace partplan::report
