#pragma once
// Pictures for `melodist plot`, drawn with cairo: SVG when the output path ends in .svg, PNG when it
// ends in .png (anything else is an error). Files are written atomically.
//   * training curves: train and validation loss (nats per step) per epoch from a model's metrics.csv,
//     with axes, tick labels, axis titles, a legend, and the best validation epoch marked;
//   * piano roll: one rectangle per note (time in quarter notes across, MIDI pitch up, C's labelled
//     with their octave, black-key rows shaded, bar lines from the time signature when known).
#include <cstdint>
#include <string>
#include <vector>

#include "music/melody.h"

namespace melodist {

// One row of metrics.csv as plot reads it. NaN where the file has no value.
struct EpochLosses {
  double epoch;
  double train_loss;
  double val_loss;
};

// Reads metrics.csv: a header row naming the columns, then one row per epoch. The epoch column is
// "epoch"; the train loss is the first of "train_loss", "train_loss_nats", "loss"; the validation loss
// the first of "val_loss", "val_loss_nats", "validation_loss". Throws melodist::Error "path:line: ..."
// for a missing file, missing columns, or an unreadable number.
std::vector<EpochLosses> read_metrics_csv(const std::string& path);

// `title` is drawn above the plot. Throws melodist::Error when there is nothing to draw.
void plot_training_curves(const std::vector<EpochLosses>& epochs, const std::string& title, const std::string& out_path);
void plot_piano_roll(const Melody& melody, const std::string& title, const std::string& out_path);

// A PNG read back (for tests and scripts that check pictures): (height, width) pixels, 0xAARRGGBB,
// premultiplied alpha as cairo keeps it. Throws melodist::Error naming the file.
struct Image {
  int width = 0, height = 0;
  std::vector<uint32_t> pixels;
  uint32_t at(int x, int y) const { return pixels[static_cast<size_t>(y) * width + x]; }
};
Image read_png(const std::string& path);

// "Nice" tick positions (1, 2, 5 times a power of ten) covering [lo, hi], about `target` of them.
std::vector<double> nice_ticks(double lo, double hi, int target = 6);

}  // namespace melodist
