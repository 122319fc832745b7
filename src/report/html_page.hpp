#pragma once
// What report.html and compare.html share: the page around a body (style, generator, the
// ready marker the browser test reads), and how a plan is named. Internal to src/report.

#include <string>

#include "partplan/report/html.hpp"

namespace partplan::report::html {

/// A self-contained page: `body` with the style inline; loads nothing from the network.
std::string page(const std::string& title, const std::string& body);

/// The plan's model name, or its file when the plan names no model.
inline std::string model_label(const PlanDocument& p) { return p.model_name().empty() ? p.source : p.model_name(); }

}  // namespace partplan::report::html
