// melodist plot (--metrics MODEL_DIR/metrics.csv | --melody FILE) --out picture.svg|.png
// Training curves or a piano roll, drawn with cairo (src/evaluate/plot.h).
#include <cstdio>
#include <filesystem>

#include "command.h"
#include "evaluate/melody_sources.h"
#include "evaluate/plot.h"
#include "util/error.h"

namespace {

struct PlotOptions {
  std::string metrics, melody, out;
};

void run_plot(const PlotOptions& opt) {
  using namespace melodist;
  if (opt.metrics.empty() == opt.melody.empty()) throw Error("plot: give exactly one of --metrics or --melody");
  if (!opt.metrics.empty()) {
    std::string path = opt.metrics;
    if (std::filesystem::is_directory(path)) path = (std::filesystem::path(path) / "metrics.csv").string();
    const auto epochs = read_metrics_csv(path);
    const std::string model_name = std::filesystem::path(path).parent_path().filename().string();
    plot_training_curves(epochs, "training curves: " + (model_name.empty() ? path : model_name), opt.out);
    std::fprintf(stderr, "wrote %s (%zu epochs)\n", opt.out.c_str(), epochs.size());
    return;
  }
  const auto melodies = read_melody_source(opt.melody);
  if (std::filesystem::is_directory(opt.melody) || melodies.size() > 1)
    std::fprintf(stderr, "%s holds %zu melodies; drawing the first (%s)\n", opt.melody.c_str(), melodies.size(),
                 melodies[0].name.c_str());
  plot_piano_roll(melodies[0].melody, std::filesystem::path(melodies[0].name).filename().string(), opt.out);
  std::fprintf(stderr, "wrote %s\n", opt.out.c_str());
}

void setup_plot(CLI::App& root) {
  auto opt = std::make_shared<PlotOptions>();
  auto* app = root.add_subcommand("plot", "Draw training curves (train and validation loss per epoch) or a piano roll, as SVG or PNG");
  auto* metrics = app->add_option("--metrics", opt->metrics, "A model's metrics.csv (or the model directory)");
  auto* melody = app->add_option("--melody", opt->melody, "A melody: .krn, .mid, .txt (text encoding) or a dataset folder");
  metrics->excludes(melody);
  app->add_option("--out", opt->out, "Output picture: .svg or .png")->required();
  app->callback([opt] { run_plot(*opt); });
}

melodist::cli::Command plot_command{"plot", 100, setup_plot};

}  // namespace
