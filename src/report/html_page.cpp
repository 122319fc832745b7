// The page around report.html and compare.html: inline style, nothing fetched.
#include "src/report/html_page.hpp"

#include <fmt/format.h>

#include "partplan/common/build_info.hpp"
#include "src/report/chart.hpp"

namespace partplan::report::html {
namespace {

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

}  // namespace

std::string page(const std::string& title, const std::string& body) {
  // The script only marks the page as loaded: the browser test reads it back, so a script
  // error (which would leave it at 0) fails the test.
  return fmt::format(
      "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"generator\" "
      "content=\"partplan {}\">\n<title>{}</title>\n<style>\n{}</style>\n</head>\n<body data-ready=\"0\">\n{}"
      "<p class=\"note\">Written by partplan {}; self-contained: it loads nothing from the network.</p>\n"
      "<script>document.body.dataset.ready = String(document.querySelectorAll('svg.chart').length);</script>\n"
      "</body>\n</html>\n",
      kVersion, chart::esc(title), kStyle, body, kVersion);
}

}  // namespace partplan::report::html
