// partplan metrics A B: the options, a call to pipeline::score_image_pairs, and the output
// (a table or JSON, rendered by report/metrics_report) on stdout; progress on stderr.
#include "partplan/pipeline/image_pairs.hpp"
#include "partplan/report/metrics_report.hpp"
#include "src/cli/commands.hpp"

namespace partplan::cli {
namespace {

struct MetricsOptions {
  std::string a;
  std::string b;
  bool json = false;
  bool resize = false;
};

int run_metrics(const MetricsOptions& o, Io& io) {
  const auto summary = pipeline::score_image_pairs(o.a, o.b, o.resize);
  io.out << (o.json ? report::metrics_json(summary) : report::metrics_text(summary));
  return 0;
}

}  // namespace

void setup_metrics(CLI::App& app, Dispatch& dispatch) {
  auto opt = std::make_shared<MetricsOptions>();
  auto* sub = app.add_subcommand(
      "metrics",
      "SSIM and PSNR of two images, or of two folders paired by file name (without extension): per pair, "
      "then the mean with a 95% confidence interval. SSIM: 11x11 Gaussian window, sigma 1.5, valid region, "
      "as scikit-image; PSNR capped at 100 dB for identical images (docs/metrics.md).");
  sub->add_option("A", opt->a, "reference image file or folder")->required();
  sub->add_option("B", opt->b, "compared image file or folder (e.g. reconstructions)")->required();
  sub->add_flag("--json", opt->json, "JSON on stdout instead of the table");
  sub->add_flag("--resize", opt->resize,
                "resize each B image to its A image's size and channels instead of refusing a mismatch");
  sub->callback([opt, &dispatch]() { dispatch = [opt](Io& io) { return run_metrics(*opt, io); }; });
}

}  // namespace partplan::cli
