#pragma once
// The assessment's phases, in the order pipeline::assess runs them. Each is a function of the
// read-only Context (through Samples once the data is loaded) and the typed results of the
// phases before it, so a phase cannot run before what it needs exists:
//
//   select_cuts    Context                                   -> CutSelection
//   load_data      Context, AttackPlan                       -> LoadedData
//   calibrate      Samples, CutSelection, AttackPlan, to_train   -> Calibration  (time_plan.hpp)
//   stats_pass     Samples, CutSelection                     -> Statistics   (attacker-train)
//   reference_pass Samples, Statistics?                      -> Reference    (eval)
//   oracle_phase   Samples, CutSelection, Reference          -> OracleScore per cut
//   train_phase    Samples, CutSelection, Statistics, ...    -> TrainedCut groups, as they stop
//   score_cuts     Samples, ..., TrainedCut group            -> CutAssessment per cut (+ white-box)
//   probe_phase    Samples, CutSelection, Statistics, Reference -> ProbeResult (ternary)
//   cost_phase     Context, CutSelection, cuts               -> CostResult
//
// Internal to src/pipeline (torch types).

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "partplan/attacks/attacker.hpp"
#include "partplan/data/dataset.hpp"
#include "partplan/data/splits.hpp"
#include "src/pipeline/phases/context.hpp"
#include "partplan/pipeline/time_plan.hpp"
#include "src/pipeline/phases/modality.hpp"

namespace partplan::pipeline::phases {

// ---- cuts ------------------------------------------------------------------------------------

struct CutSelection {
  std::vector<model::CutPoint> candidates;  ///< every candidate cut, depth order
  std::vector<model::CutPoint> cuts;        ///< the ones this run assesses (its shard's), depth order
  std::optional<model::CutPoint> back_cut;  ///< ternary: where the enclave takes over again
};

/// The cuts options.cuts selects; a ternary split keeps those up to the back cut (and the
/// back cut itself); a shard keeps its own (assign_shards). Throws UsageError for a
/// selection without cuts, a ternary model without a back cut, a bad or empty shard.
CutSelection select_cuts(const Context& ctx);

/// Which attackers the options name.
struct AttackPlan {
  std::vector<std::string> trained;  ///< the learned ones, in settings order
  bool whitebox = false;             ///< "whitebox" is among the attacks
  /// false for an oracle-only pre-screen.
  bool any() const { return !trained.empty() || whitebox; }
};
AttackPlan attack_plan(const AssessOptions& o);

// ---- data ------------------------------------------------------------------------------------

struct LoadedData {
  data::Dataset ds;
  data::Splits splits;  ///< a pre-screen has only eval
  std::unique_ptr<Modality> modality;
  int64_t batch = 0;        ///< attacker training batch
  bool augment = false;     ///< attacker-train batches are randomly cropped and flipped
  bool classifier = false;  ///< the model's output is [N, K>1]
  int64_t n_train() const { return static_cast<int64_t>(splits.attacker_train.size()); }
  int64_t n_val() const { return static_cast<int64_t>(splits.attacker_val.size()); }
  int64_t n_eval() const { return static_cast<int64_t>(splits.eval.size()); }
};

/// Loads options.data.source (a pre-screen only the oracle's eval images), splits it, picks
/// the modality and the batch, and asks the model once whether it is a classifier. Throws
/// UsageError, DataError.
LoadedData load_data(const Context& ctx, const AttackPlan& attacks);

/// How the phases draw samples: the loaded data seen through the context.
class Samples {
 public:
  Samples(const Context& ctx, const LoadedData& data) : ctx(ctx), data(data) {}
  /// Samples `idx` in [0,1] on the device as the attackers see them: images [n,C,H,W],
  /// records [n,F]. Gathered on the host, copied pinned and non-blocking to a GPU (the
  /// training steps use their own batches instead).
  at::Tensor unit(const std::vector<int64_t>& idx) const;
  /// To the model's input: laid out by the modality, then normalised.
  at::Tensor input(const at::Tensor& unit) const;
  /// Samples per inference batch when extracting cuts `ids` (bounded by kPassBytes, at most 256).
  int64_t pass_batch(const std::vector<int>& ids) const;
  const Modality& modality() const { return *data.modality; }

  const Context& ctx;
  const LoadedData& data;
};

// ---- calibrate -------------------------------------------------------------------------------

/// The rates the ETA and --time-budget work from (time_plan.hpp).
struct Calibration {
  double forward = 0;           ///< the model's forward per image, to every cut in `to_train` and the output
  std::vector<CutRates> cuts;   ///< per cut in `to_train`, in its order
};
/// Times, on the first attacker-train batch, the forward, and per cut in `to_train` one training
/// step and one reconstruction of throwaway attackers (standardised on that batch alone) and
/// one white-box iteration where the white-box attacker will run (score.cpp's rule). Each is
/// run once untimed first. torch's global CPU generator is left as it was. Seconds in all:
/// a few training steps.
Calibration calibrate(const Samples& s, const CutSelection& sel, const AttackPlan& attacks,
                      const std::vector<size_t>& to_train);

/// The work of this run as its options ask (time_plan.hpp), with the calibration's rates.
Workload workload_of(const Samples& s, const CutSelection& sel, const AttackPlan& attacks, const Calibration& cal);
/// The ETA's plan of every phase after the calibration: items per cut of sel.cuts for the
/// oracle and the white-box attacker, the reference pass then one per cut for scoring.
void plan_eta(const CutSelection& sel, const std::vector<size_t>& to_train, const Workload& w, EtaModel& eta);
/// --time-budget: fits `w` to rt.budget_seconds with `spent` seconds gone (fit_budget), says
/// on stderr what it reduced, sets rt.step_limit, rt.report and o's white-box images and
/// iterations. Returns the fitted workload.
Workload fit_to_budget(const Context& ctx, AssessOptions& o, RunTime& rt, Workload w, double spent);

/// Whether the white-box attacker runs at `cut` (one of sel.candidates) beside the learned
/// attackers, and if not, the note saying why. It is skipped where the front costs more than
/// whitebox.max_front_gflops per image, and past the first candidate where the candidates'
/// front GFLOPs summed up to and including `cut` pass whitebox.max_total_gflops. The sum runs
/// over the whole selection, not a shard's, so every shard of a run makes the same choice.
/// Alone (no learned attacker) it runs everywhere.
std::optional<std::string> whitebox_skip_note(const AssessOptions& o, const AttackPlan& attacks,
                                              const CutSelection& sel, const model::CutPoint& cut);

// ---- stats -----------------------------------------------------------------------------------

/// One pass over attacker-train with every cut and the output.
struct Statistics {
  std::vector<attacks::FeatureStats> feature_stats;    ///< per cut: the attackers' standardiser
  std::vector<attacks::LinearInverse> linear_inverse;  ///< per cut; empty for non-spatial cuts
  at::Tensor mean_sample;                              ///< [1, ...] on the device
  at::Tensor prototypes;                               ///< [K, ...] by predicted class; undefined for non-classifiers
  at::Tensor train_pred;                               ///< [n_train] the model's labels (classifiers)
};
Statistics stats_pass(const Samples& s, const CutSelection& cuts);

// ---- reference -------------------------------------------------------------------------------

/// One pass over eval.
struct Reference {
  at::Tensor eval_logits;    ///< [n_eval, K] on the device
  at::Tensor eval_pool;      ///< [n_eval, F] the re-identification pool (records), else undefined
  common::Image8 originals;  ///< the first report.grid_images eval images
  std::vector<Baseline> baselines;
  std::optional<double> label_floor;          ///< the label-prototype's headline mean
  std::optional<double> oracle_reference_kl;  ///< mean KL(p || uniform), image classifiers
};
/// The model's predictions on eval, the originals for the grids and the baselines. `stats`
/// is null in an oracle pre-screen (no attacker-train pass): then only the baselines that need
/// no statistics (the blank image) are scored, and the log says which were left out.
Reference reference_pass(const Samples& s, const Statistics* stats);

// ---- oracle ----------------------------------------------------------------------------------

std::vector<OracleScore> oracle_phase(const Samples& s, const CutSelection& cuts, const Reference& ref);

// ---- train and score -------------------------------------------------------------------------

/// One cut's attackers once they all stopped, their best weights restored.
struct TrainedCut {
  size_t index = 0;  ///< into CutSelection::cuts
  std::vector<std::unique_ptr<attacks::Attacker>> attackers;
  std::vector<attacks::TrainStats> stats;  ///< per attacker
};
/// The spec of learned attacker number `attacker` at `cut` (its seed from the run's seed, the
/// cut and the attacker).
attacks::AttackerSpec attacker_spec(const Samples& s, const model::CutPoint& cut, attacks::FeatureStats stats,
                                    attacks::LinearInverse linear_inverse, size_t attacker);

/// Called with each group of cuts whose attackers stopped at the same step, before the next.
using OnTrained = std::function<void(std::vector<TrainedCut>&)>;

/// Lockstep training of the cuts `to_train` (indices into cuts.cuts): each step draws one batch,
/// runs the model once for every cut still training and steps each of its attackers. On a
/// GPU a step never waits for the device. Returns the host synchronisations counted in the
/// steps (model::SyncCounter), or -1 when not counted (CPU, nothing to train).
int64_t train_phase(const Samples& s, const CutSelection& cuts, const Statistics& stats, const AttackPlan& attacks,
                    const std::vector<size_t>& to_train, const OnTrained& on_trained);

/// Scores a group of trained cuts on eval (one forward for all of them), then runs the
/// white-box attacker at each (when the attacks name it and the front is cheap enough).
std::vector<CutAssessment> score_cuts(const Samples& s, const CutSelection& cuts, const Statistics& stats,
                                      const Reference& ref, const AttackPlan& attacks, std::vector<TrainedCut>& group,
                                      const std::vector<OracleScore>& oracle);

// ---- probe -----------------------------------------------------------------------------------

struct ProbeResult {
  std::vector<double> accuracy;      ///< per cut of CutSelection::cuts
  std::optional<double> back;        ///< at the back cut
  double chance = 0;                 ///< frequency of the most common predicted class on eval
};
/// Ternary classifiers: a linear probe on each cut's features. It holds attacker-train and
/// eval features, bounded by limits.feature_memory_mib (UsageError above it).
ProbeResult probe_phase(const Samples& s, const CutSelection& cuts, const Statistics& stats, const Reference& ref);

// ---- cost ------------------------------------------------------------------------------------

struct CostResult {
  double whole_model_seconds = 0;            ///< native CPU, batch 1
  double untrusted_whole_model_seconds = 0;  ///< on untrusted_timed_on
  std::string timed_on, untrusted_timed_on;
  bool gpu_speedup_applied = true;
  double all_enclave_seconds = 0;
  std::vector<CutCost> costs;  ///< per cut of `assessed`
};
/// Enclave times are CPU times (the enclave is a CPU), from a CPU copy of the model whatever
/// the run's device; the untrusted part is timed on the run's GPU when it has one.
CostResult cost_phase(const Context& ctx, const CutSelection& cuts, const std::vector<model::CutPoint>& assessed);

}  // namespace partplan::pipeline::phases
