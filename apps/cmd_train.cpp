// melodist train --data DATASET_DIR --out MODEL_DIR [...]: trains the LSTM on a dataset written by
// `melodist preprocess` (train/train.h). Prints progress and one line per epoch; MODEL_DIR receives the
// best model (model.safetensors + mapping.json), metrics.csv and checkpoint.safetensors. --init MODEL_DIR
// fine-tunes an existing model (its weights, network shape and recurrent activation) instead of a random init.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "command.h"
#include "train/train.h"
#include "util/error.h"
#if MELODIST_MPI
#include "cluster/mpi_communicator.h"
#endif

namespace {

struct TrainArgs {
  melodist::TrainOptions options;
  std::string objective = "all";
  std::string windows = "songs";
  CLI::Option* hidden = nullptr;
  CLI::Option* layers = nullptr;
  std::vector<std::string> about;  // KEY=VALUE
  std::string reduction = "ordered";
  double mpi_timeout = 300;
};

// Started by mpirun/srun with more than one rank (the launchers' environment).
[[maybe_unused]] bool several_mpi_ranks() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* n = std::getenv(v); n && std::atoi(n) > 1) return true;
  return false;
}

// The command line as typed (Linux: /proc/self/cmdline), recorded in the model's metadata.
std::string command_line() {
  std::string raw;
  if (FILE* f = std::fopen("/proc/self/cmdline", "rb")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) raw.append(buf, n);
    std::fclose(f);
  }
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    std::string arg = raw.substr(start, end - start);
    if (first) arg = "melodist";  // not the build path
    // Quoted as a POSIX shell reads it back when it holds anything but plain characters.
    if (arg.empty() || arg.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:@%") != std::string::npos) {
      std::string quoted = "'";
      for (char c : arg) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
      arg = quoted + "'";
    }
    out += (out.empty() ? "" : " ") + arg;
    first = false;
    start = end + 1;
  }
  return out;
}

void run_train(TrainArgs& a) {
  a.options.objective = melodist::parse_objective(a.objective);
  a.options.windows = melodist::parse_window_mode(a.windows);
  a.options.command_line = command_line();
  for (const std::string& kv : a.about) {
    const size_t eq = kv.find('=');
    if (eq == 0 || eq == std::string::npos) throw melodist::Error("--about " + kv + ": expected KEY=VALUE");
    a.options.about.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
  }
  // With --init (or --resume) the network's shape comes from the model (or the checkpoint) unless given.
  if (!a.options.init_model_dir.empty() || a.options.resume) {
    if (a.hidden->count() == 0) a.options.hidden = 0;
    if (a.layers->count() == 0) a.options.layers = 0;
  }
#if MELODIST_MPI
  std::unique_ptr<melodist::Communicator> comm;
  if (melodist::launched_by_mpi()) {
    if (!(a.mpi_timeout >= 0)) throw melodist::Error("--mpi-timeout must be >= 0 seconds (0: none)");
    comm = melodist::make_mpi_communicator(melodist::parse_reduction(a.reduction), a.mpi_timeout);
    a.options.communicator = comm.get();
  }
  if (comm && comm->size() > 1) {
    // An error on one rank ends every rank (the others would wait for it forever).
    try {
      auto r = melodist::train_model(a.options);
      if (comm->rank() == 0)
        std::fprintf(stderr, "stopped after epoch %d (%s): best val loss %.4f nats/step at epoch %d; model in %s\n", r.epochs_run,
                     r.stop_reason.c_str(), r.best_val_loss, r.best_epoch, a.options.out_dir.c_str());
      return;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "melodist: error: rank %d of %d: %s\n", comm->rank(), comm->size(), e.what());
      melodist::abort_mpi_job(1);
    }
  }
#else
  if (several_mpi_ranks())
    throw melodist::Error("this melodist was built without MPI (configure with -DMELODIST_MPI=ON and libopenmpi-dev installed); "
                          "run it without mpirun, or with one rank");
#endif
  auto r = melodist::train_model(a.options);
  std::fprintf(stderr, "stopped after epoch %d (%s): best val loss %.4f nats/step at epoch %d; model in %s\n", r.epochs_run,
               r.stop_reason.c_str(), r.best_val_loss, r.best_epoch, a.options.out_dir.c_str());
}

void setup_train(CLI::App& root) {
  auto args = std::make_shared<TrainArgs>();
  auto* app = root.add_subcommand("train", "train the LSTM on a preprocessed dataset; keeps the best model by validation loss");
  auto& o = args->options;
  app->add_option("--data", o.data_dir, "dataset folder written by `melodist preprocess`")->required();
  app->add_option("--out", o.out_dir, "model folder to write (model.safetensors, mapping.json, metrics.csv, checkpoint)")->required();
  args->hidden = app->add_option("--hidden", o.hidden, "LSTM units per layer (with --init: the model's)")->capture_default_str();
  args->layers = app->add_option("--layers", o.layers, "stacked LSTM layers (with --init: the model's)")->capture_default_str();
  app->add_option("--dropout", o.dropout, "dropout rate on each LSTM output")->capture_default_str();
  app->add_option("--weight-drop", o.weight_drop, "DropConnect on each recurrent matrix in training (AWD-LSTM weight drop; one mask per step, 0: off)")->capture_default_str();
  app->add_option("--seq-len", o.seq_len, "steps per training window (truncated backpropagation length)")->capture_default_str();
  app->add_option("--batch", o.batch, "windows per batch")->capture_default_str();
  app->add_option("--lr", o.lr, "Adam learning rate")->capture_default_str();
  app->add_option("--lr-schedule", o.lr_schedule, "constant, or cosine: decay to lr/10 over --epochs")->capture_default_str();
  app->add_option("--clip", o.clip, "clip gradients to this global norm (0: off)")->capture_default_str();
  app->add_option("--ema", o.ema, "average the weights over steps with this decay (e.g. 0.999) and validate and save the average; 0: off")->capture_default_str();
  app->add_option("--epochs", o.epochs, "passes over the training songs")->capture_default_str();
  app->add_option("--time-limit", o.time_limit, "stop after the step that crosses this many seconds (0: none)")->capture_default_str();
  app->add_option("--patience", o.patience, "stop after N epochs without a better validation loss (0: never)")->capture_default_str();
  app->add_option("--val-every", o.val_every, "every N-th song of songs.txt is a validation song")->capture_default_str();
  app->add_option("--seed", o.seed, "random seed (initial weights, batch order, dropout)")->check(melodist::cli::seed_range())->capture_default_str();
  app->add_option("--threads", o.threads, "worker threads (0: every core)")->capture_default_str();
  app->add_flag("--resume", o.resume, "continue the run checkpointed in --out");
  app->add_option("--init", o.init_model_dir,
                  "start from this model's weights (e.g. from import-keras, or pretrained on a larger corpus) instead of a "
                  "random init; hidden size, layers and recurrent activation come from it; its vocabulary must hold every "
                  "symbol of the dataset's: the same symbols are reordered to the dataset's, more are kept (the run trains "
                  "over the model's vocabulary)");
  app->add_flag("--add-symbols", o.add_symbols,
                "with --init: the dataset's symbols the model lacks (an input symbol the model was not trained with, such as "
                "\"$\" of --final-mark) are added with fresh weights from --seed; the model's own keep theirs");
  app->add_option("--closing-weight", o.closing_weight,
                  "loss weight of each song's closing bar (from its last barline to the end, the cadence; 1: the plain "
                  "likelihood; needs barline symbols)")
      ->capture_default_str();
  app->add_option("--augment-transpose", o.augment_transpose,
                  "each epoch, shift every training song by a random offset in [-N, N] semitones that keeps its pitches "
                  "(and key symbol) in the vocabulary (0: off; for datasets preprocessed with --transpose none); validation songs are never shifted")
      ->capture_default_str();
  app->add_option("--about", args->about,
                  "KEY=VALUE, repeatable: a fact stored in the model's metadata \"about\" (corpus=..., licence=...), shown by "
                  "`melodist serve`");
  app->add_option("--objective", args->objective,
                  "all: predict every next symbol of each window; last: only the symbol after it (the reference)")
      ->capture_default_str();
  app->add_option("--windows", args->windows,
                  "songs: each song from the start state validation uses, state carried within it; shuffled: "
                  "independent zero-state windows of the joined songs; stateful: lanes of the joined songs, state carried")
      ->capture_default_str();
  app->add_option("--reduction", args->reduction,
                  "under mpirun: ordered (the ranks' gradients added in rank order: -np N with --threads 1 gives the bits of one "
                  "process with --threads N) or mpi (MPI_Allreduce's order: faster at many ranks, differs in the last bits)")
      ->capture_default_str();
  app->add_option("--mpi-timeout", args->mpi_timeout,
                  "under mpirun: stop when a step's exchange with the other ranks waits longer than this many seconds (0: never)")
      ->capture_default_str();
  app->callback([args]() { run_train(*args); });
}

melodist::cli::Command train_command{"train", 40, setup_train};

}  // namespace
