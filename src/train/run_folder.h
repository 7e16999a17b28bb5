#pragma once
// The rules of a training run's options and of its model folder (--out).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/checkpoint.h"

namespace melodist {

struct TrainOptions;

// Throws melodist::Error with one line for an option that makes no sense.
void check_options(const TrainOptions& o);

// The hyperparameters a resumed run must share with the checkpoint; "init" ({"path", "source"}) only
// for a run started from --init and "augment_transpose" only when on (so checkpoints of other runs keep
// their options).
nlohmann::json fixed_options(const TrainOptions& o, const nlohmann::json& init_info);

// MODEL_DIR may hold only what training writes (and temporaries of interrupted atomic writes).
void check_out_dir(const std::string& dir, bool resume, bool fine_tune_in_place);

// metrics.csv: kMetricsHeader, then one row per epoch.
std::string metrics_csv(const std::vector<EpochMetrics>& history);

}  // namespace melodist
