#include "train/run_folder.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "formats/model_file.h"
#include "train/train.h"
#include "util/error.h"
#include "util/folder_lock.h"

namespace melodist {

namespace fs = std::filesystem;

void check_options(const TrainOptions& o) {
  auto bad = [](const std::string& m) { throw Error(m); };
  if (o.seq_len < 1 || o.seq_len > 100000) bad("--seq-len " + std::to_string(o.seq_len) + " makes no sense (1 to 100000 steps)");
  if (o.batch < 1 || o.batch > 100000) bad("--batch " + std::to_string(o.batch) + " makes no sense (1 to 100000 windows)");
  if (static_cast<int64_t>(o.seq_len) * o.batch > 50'000'000) bad("--seq-len x --batch is too large for memory");
  if (o.hidden < 1 || o.hidden > 8192) bad("--hidden " + std::to_string(o.hidden) + " makes no sense (1 to 8192)");
  if (o.layers < 1 || o.layers > 16) bad("--layers " + std::to_string(o.layers) + " makes no sense (1 to 16)");
  if (!(o.dropout >= 0 && o.dropout < 1)) bad("--dropout must be in [0, 1)");
  if (!(o.weight_drop >= 0 && o.weight_drop < 1)) bad("--weight-drop must be in [0, 1)");
  if (!(o.lr > 0 && std::isfinite(o.lr))) bad("--lr must be a positive number");
  if (!(o.ema >= 0 && o.ema < 1)) bad("--ema must be in [0, 1) (0: off)");
  if (o.lr_schedule != "constant" && o.lr_schedule != "cosine") bad("unknown --lr-schedule \"" + o.lr_schedule + "\" (use constant or cosine)");
  if (!std::isfinite(o.clip)) bad("--clip must be a number (0 = no clipping)");
  if (o.epochs < 1) bad("--epochs must be at least 1");
  if (o.add_symbols && o.init_model_dir.empty()) bad("--add-symbols adds symbols to the --init model: give --init");
  if (!(o.time_limit >= 0)) bad("--time-limit must be >= 0 seconds");
  if (o.patience < 0) bad("--patience must be >= 0");
  if (o.data_dir.empty() ? false : o.val_every < 2) bad("--val-every must be at least 2");
  if (o.threads < 0 || o.threads > 256) bad("--threads must be between 0 (every core) and 256");
  if (!(o.closing_weight > 0 && o.closing_weight <= 100)) bad("--closing-weight must be in (0, 100] (1: the plain likelihood)");
  if (o.closing_weight != 1 && !(o.objective == Objective::all && o.windows == WindowMode::songs))
    bad("--closing-weight weights each song's closing bar: it needs --objective all --windows songs");
  if (o.augment_transpose < 0 || o.augment_transpose > 127)
    bad("--augment-transpose " + std::to_string(o.augment_transpose) + " makes no sense (0 = off, up to 127 semitones)");
}

nlohmann::json fixed_options(const TrainOptions& o, const nlohmann::json& init_info) {
  nlohmann::json j = {{"hidden", o.hidden},   {"layers", o.layers},     {"dropout", o.dropout},
                      {"seq_len", o.seq_len}, {"batch", o.batch},       {"lr", o.lr},
                      {"clip", o.clip},       {"val_every", o.val_every}, {"seed", o.seed},
                      {"objective", to_string(o.objective)}, {"windows", to_string(o.windows)}, {"lr_schedule", o.lr_schedule}};
  if (!init_info.is_null()) j["init"] = init_info;
  if (o.augment_transpose != 0) j["augment_transpose"] = o.augment_transpose;
  if (o.ema != 0) j["ema"] = o.ema;
  if (o.weight_drop != 0) j["weight_drop"] = o.weight_drop;
  if (o.closing_weight != 1) j["closing_weight"] = o.closing_weight;
  return j;
}

void check_out_dir(const std::string& dir, bool resume, bool fine_tune_in_place) {
  if (dir.empty()) return;
  if (fs::exists(dir) && !fs::is_directory(dir)) throw file_error(dir, 0, "exists and is not a folder (--out names the model folder)");
  if (!fs::exists(dir)) {
    if (resume) throw file_error(dir, 0, "no such model folder to resume");
    return;
  }
  bool has_ours = false;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.find(".tmp-") != std::string::npos || name == kLockFileName) continue;
    if (name == kModelFileName || name == "mapping.json" || name == kMetricsFileName || name == kCheckpointFileName) {
      has_ours = true;
      continue;
    }
    throw file_error(dir, 0, "holds \"" + name + "\", which is not a melodist model file; choose an empty or new folder for --out");
  }
  const std::string model_path = (fs::path(dir) / kModelFileName).string();
  if (fs::exists(model_path)) load_model(model_path);  // throws for a foreign or corrupted model file
  if (has_ours && !resume && !fine_tune_in_place)
    throw file_error(dir, 0, "already holds a model or checkpoint; pass --resume to continue that run, or choose another folder");
  if (resume && !fs::exists(fs::path(dir) / kCheckpointFileName))
    throw file_error((fs::path(dir) / kCheckpointFileName).string(), 0, "no checkpoint to resume from");
}

std::string metrics_csv(const std::vector<EpochMetrics>& history) {
  std::string out = std::string(kMetricsHeader) + "\n";
  char line[512];
  for (const auto& m : history) {
    std::snprintf(line, sizeof line, "%d,%lld,%d,%.6f,%.6f,%.6f,%.6f,%.1f,%.2f\n", m.epoch, static_cast<long long>(m.step),
                  m.partial ? 1 : 0, m.train_loss, m.val_loss, m.val_accuracy, std::exp(m.val_loss), m.tokens_per_second,
                  m.elapsed);
    out += line;
  }
  return out;
}

}  // namespace melodist
