// The CSV records reader (data::load on a .csv path: detail::load_csv_text, which load_csv
// calls on the file's text). The last byte picks the CsvOptions and the model's sample shape
// (a user's settings and model, not the file); the bytes before it are the file.
#include <ATen/ATen.h>

#include <cmath>

#include "fuzz/fuzz_common.hpp"
#include "partplan/common/error.hpp"
#include "src/data/sources.hpp"

using namespace partplan;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t pick = data[size - 1];
  data::LoadOptions o;
  o.csv.scaling = pick & 1 ? data::CsvScaling::kLogMinMax : data::CsvScaling::kMinMax;
  o.csv.nonfinite = pick & 2 ? data::NonFinite::kError : data::NonFinite::kCount;
  const char* labels[] = {"auto", "", "type", "proto"};
  o.csv.label = labels[(pick >> 2) & 3];
  const data::SampleShape shapes[] = {{}, {1, 8, 8}, {44}, {3, 4, 4}};
  o.sample_shape = shapes[(pick >> 4) & 3];
  if (pick & 64) o.max_samples = 3;
  if (pick & 128) o.csv.categorical = {"proto"};
  try {
    const auto d = data::detail::load_csv_text(std::string(fuzz::as_text(data, size - 1)), "fuzz.csv", o);
    // The contract: float32 samples in [0,1], one int64 label per sample where labelled.
    if (!d.samples.defined() || d.samples.scalar_type() != at::kFloat || d.samples.size(0) < 1)
      fuzz::contract_broken("CSV samples are not a non-empty float32 tensor");
    const float* v = d.samples.data_ptr<float>();
    for (int64_t i = 0; i < d.samples.numel(); ++i)
      if (!(v[i] >= 0.0f && v[i] <= 1.0f)) fuzz::contract_broken("a CSV feature outside [0,1] (or NaN)");
    if (d.labels.defined() && d.labels.numel() != d.samples.size(0))
      fuzz::contract_broken("CSV labels and samples differ in number");
    if (d.record_features < 1 || d.record_features > d.samples.numel() / d.samples.size(0))
      fuzz::contract_broken("CSV record_features does not fit the sample");
  } catch (const Error&) {
  }
  return 0;
}
