#pragma once
// Data settings of an assessment (docs/config.md, `data.*`; docs/data.md). The defaults are
// the quick preset; visit() lists every key once. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

#include "partplan/data/splits.hpp"

namespace partplan::data {

struct DataOptions {
  std::string source = "builtin:fashion-mnist";  ///< docs/data.md
  int64_t attacker_train = 3000;     ///< cap on attacker-train samples; 0 = no cap
  int64_t attacker_val = 200;        ///< cap on attacker-val samples (early stopping)
  int64_t eval = 500;                ///< cap on eval samples (the scores)
  double attacker_val_fraction = 0.1;  ///< share of a set smaller than the caps
  double eval_fraction = 0.2;
  int64_t crops_per_image = 1;       ///< image folders: samples per file (LoadOptions::crops_per_image)
  bool augment = true;               ///< image folders: random resized crops and flips for attacker-train
  double pixel_min = 0.0;            ///< model input value of a black pixel
  double pixel_max = 1.0;            ///< model input value of a white pixel
  std::vector<double> mean, std;     ///< per-channel normalisation; empty = ImageNet's for 3 channels

  SplitPolicy split_policy() const {
    return {attacker_train, attacker_val, eval, attacker_val_fraction, eval_fraction};
  }
};

template <class V>
void visit(DataOptions& o, V&& v) {
  v("source", o.source);
  v("attacker_train", o.attacker_train, 0, int64_t{1} << 40);
  v("attacker_val", o.attacker_val, 0, int64_t{1} << 40);
  v("eval", o.eval, 0, int64_t{1} << 40);
  v("attacker_val_fraction", o.attacker_val_fraction, 0.0, 0.5);
  v("eval_fraction", o.eval_fraction, 0.01, 0.5);
  v("crops_per_image", o.crops_per_image, 1, 4096);
  v("augment", o.augment);
  v("pixel_min", o.pixel_min);
  v("pixel_max", o.pixel_max);
  v("mean", o.mean);
  v("std", o.std);
}

}  // namespace partplan::data
