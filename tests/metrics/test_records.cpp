// Record measures: known answers for re-identification, field errors, category recovery and
// the mean-record guess.
#include <ATen/ATen.h>
#include <catch2/catch.hpp>

#include "partplan/common/error.hpp"
#include "partplan/metrics/records.hpp"

namespace pm = partplan::metrics;

namespace {

// Two numeric fields, one categorical field with 5 categories (codes k/4), one constant field.
std::vector<pm::RecordField> fields() {
  return {{"bytes", false, 0, false}, {"port", false, 0, false}, {"proto", true, 5, false}, {"flag", false, 0, true}};
}

at::Tensor pool() {
  return at::tensor(std::vector<float>{0.0f, 0.1f, 0.00f, 0.0f,  //
                                       0.5f, 0.5f, 0.25f, 0.0f,  //
                                       1.0f, 0.9f, 1.00f, 0.0f,  //
                                       0.2f, 0.7f, 0.75f, 0.0f})
      .view({4, 4});
}

}  // namespace

TEST_CASE("re-identification: own record strictly nearest, against the whole pool", "[metrics][records]") {
  const auto p = pool();
  const std::vector<int64_t> all{0, 1, 2, 3};
  CHECK(pm::reidentified(p, p, all).sum().item<double>() == 4);  // perfect reconstructions
  // Each reconstruction is the next record: nobody is re-identified.
  CHECK(pm::reidentified(p.roll(1, 0), p, all).sum().item<double>() == 0);
  // A constant guess is nearest to one record only: the one it is closest to.
  const auto guess = at::full({4, 4}, 0.45f);
  const auto hits = pm::reidentified(guess, p, all);
  CHECK(hits.sum().item<double>() == 1);
  CHECK(hits[1].item<double>() == 1);
  // A subset scored against the whole pool: record 2 alone, slightly off, still nearest.
  CHECK(pm::reidentified(p.narrow(0, 2, 1) - 0.05, p, {2}).item<double>() == 1);
  // A tie is not a re-identification (strictly nearer).
  const auto twins = at::cat({p.narrow(0, 0, 1), p.narrow(0, 0, 1)}, 0);
  CHECK(pm::reidentified(twins, twins, {0, 1}).sum().item<double>() == 0);
  CHECK_THROWS_AS(pm::reidentified(p, p, {0, 1, 2, 9}), partplan::DataError);
}

TEST_CASE("field measures: numeric error and tolerance, exact categories, constants left out", "[metrics][records]") {
  const auto orig = pool();
  auto rec = orig.clone();
  rec.select(1, 0).add_(0.04);  // numeric within 0.05: error 0.04 (clamped at 1 for the third record)
  rec.select(1, 1).add_(0.2);   // numeric off by 0.2 (clamped at 1 for the third record: 0.1)
  rec.select(1, 2).add_(0.1);   // categorical: 0.1 * 4 = 0.4 categories: rounds back to the same code
  rec.select(1, 3).fill_(1.0);  // the constant field: ignored
  const auto m = pm::record_measures(rec, orig, fields(), 0.05);
  // record 0: (0.04 + 0.2) / 2 = 0.12, within: 1 of 2; record 2: (0 + 0.1) / 2 = 0.05, within 1 of 2.
  CHECK(m.numeric_error[0].item<double>() == Approx(0.12).margin(1e-6));
  CHECK(m.numeric_error[2].item<double>() == Approx(0.05).margin(1e-6));
  CHECK(m.numeric_within[0].item<double>() == Approx(0.5));
  CHECK(m.numeric_within[2].item<double>() == Approx(0.5));
  CHECK(m.categorical_accuracy.sum().item<double>() == 4);
  rec.select(1, 2).add_(0.1);  // now 0.2 off: 0.8 of a category, rounds to the next code
  CHECK(pm::record_measures(rec, orig, fields(), 0.05).categorical_accuracy.sum().item<double>() ==
        1);  // the third clamps at 1
  const auto s = pm::record_scores(orig, orig, {0, 1, 2, 3}, fields(), 0.05);
  CHECK(s.reidentification.mean == 1);
  CHECK(s.numeric_error->mean == 0);
  CHECK(s.categorical_accuracy->mean == 1);
  // No categorical field: that measure is absent.
  auto numeric_only = fields();
  numeric_only[2].categorical = false;
  CHECK_FALSE(pm::record_scores(orig, orig, {0, 1, 2, 3}, numeric_only, 0.05).categorical_accuracy);
  CHECK_THROWS_AS(pm::record_measures(rec.narrow(1, 0, 3), orig, fields(), 0.05), partplan::DataError);
}

TEST_CASE("the mean record takes the mean of numeric fields and the most common category", "[metrics][records]") {
  const auto p = at::cat({pool(), pool().narrow(0, 3, 1)}, 0);  // record 3 twice: its category is the mode
  const auto proto = pm::record_prototype(p, fields());
  CHECK(proto[0].item<double>() == Approx((0.0 + 0.5 + 1.0 + 0.2 + 0.2) / 5));
  CHECK(proto[2].item<double>() == Approx(0.75));
  CHECK(pm::record_closeness(p, p).min().item<double>() == Approx(1));
}

TEST_CASE("re-identification shares carry the Wilson interval, inside [0,1] even at 0 or n", "[metrics][records]") {
  // Known answers (Wilson score interval, z = 1.95996).
  const auto all = pm::share_ci(10, 10);
  CHECK(all.mean == 1);
  CHECK(all.low == Approx(0.7225).margin(1e-4));
  CHECK(all.high == 1);
  const auto none = pm::share_ci(0, 10);
  CHECK(none.low == 0);
  CHECK(none.high == Approx(0.2775).margin(1e-4));
  const auto half = pm::share_ci(5, 10);
  CHECK(half.low == Approx(0.2366).margin(1e-4));
  CHECK(half.high == Approx(0.7634).margin(1e-4));
  CHECK_THROWS_AS(pm::share_ci(3, 2), std::invalid_argument);
  // record_scores uses it: perfect reconstructions of 4 records are not certain.
  const auto s = pm::record_scores(pool(), pool(), {0, 1, 2, 3}, fields(), 0.05);
  CHECK(s.reidentification.mean == 1);
  CHECK(s.reidentification.low < 0.6);
  CHECK(s.reidentification.high == 1);
}
