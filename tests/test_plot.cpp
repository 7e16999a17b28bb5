// `plot`: pictures are produced, are valid SVG / PNG, and show axes, labels and data. When Debian's
// chromium is installed (/usr/bin/chromium), the SVG is opened in headless Chromium and the
// screenshot is checked for the same things; otherwise that test skips with a message.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "evaluate/plot.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace {

using namespace melodist;
namespace fs = std::filesystem;

// Colours used by plot.cpp: notes and the train curve (31, 120, 181), validation curve (255, 128, 13).
bool near_rgb(uint32_t px, int r, int g, int b, int tolerance = 30) {
  const int pr = (px >> 16) & 255, pg = (px >> 8) & 255, pb = px & 255;
  return std::abs(pr - r) <= tolerance && std::abs(pg - g) <= tolerance && std::abs(pb - b) <= tolerance;
}
// Axes and text are drawn in (38, 38, 38) or (26, 26, 26); anti-aliased edges are lighter, so "dark" is
// any grey below 150 (the grid is 224, the black-key rows 237; the blue notes have blue 181).
bool dark(uint32_t px) { return ((px >> 16) & 255) < 150 && ((px >> 8) & 255) < 150 && (px & 255) < 150; }

size_t count_rgb(const Image& image, int r, int g, int b, int tolerance = 30) {
  size_t n = 0;
  for (uint32_t px : image.pixels) n += near_rgb(px, r, g, b, tolerance);
  return n;
}
// Dark pixels in a vertical band [x0, x1) over rows [y0, y1): the axis line and the tick labels.
size_t dark_in(const Image& image, int x0, int x1, int y0, int y1) {
  size_t n = 0;
  for (int y = std::max(0, y0); y < std::min(image.height, y1); ++y)
    for (int x = std::max(0, x0); x < std::min(image.width, x1); ++x) n += dark(image.at(x, y));
  return n;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class Plot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("melodist-test-plot-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "metrics.csv") << "epoch,train_loss,val_loss,val_accuracy\n"
                                           "1,1.20,1.10,0.60\n2,0.90,0.85,0.70\n3,0.75,0.78,0.72\n"
                                           "4,0.68,0.76,0.73\n5,0.62,0.77,0.73\n";
    // Eight notes rising C4..C5 and back: 16 quarters.
    melody_ = decode_symbols(split_symbols("60 _ _ _ 62 _ _ _ 64 _ _ _ 65 _ _ _ 67 _ _ _ 69 _ _ _ 71 _ _ _ 72 _ _ _ "
                                           "r _ _ _ 72 _ _ _ _ _ _ _ 67 _ _ _ 60 _ _ _ _ _ _ _"),
                             Rational(1, 4));
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  Melody melody_;
};

TEST_F(Plot, NiceTicks) {
  EXPECT_EQ(nice_ticks(0, 10, 5), (std::vector<double>{0, 2, 4, 6, 8, 10}));
  // (1.23 - 0.58) / 6 = 0.108 -> the next nice step is 0.2: 0.6 0.8 1.0 1.2.
  const auto t = nice_ticks(0.58, 1.23, 6);
  ASSERT_EQ(t.size(), 4u);
  for (size_t i = 0; i < t.size(); ++i) EXPECT_NEAR(t[i], 0.6 + 0.2 * i, 1e-12);
  EXPECT_EQ(nice_ticks(1, 1, 5), (std::vector<double>{1}));
}

TEST_F(Plot, ReadMetricsCsv) {
  const auto rows = read_metrics_csv((dir_ / "metrics.csv").string());
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[3].epoch, 4);
  EXPECT_NEAR(rows[3].val_loss, 0.76, 1e-12);
  EXPECT_NEAR(rows[4].train_loss, 0.62, 1e-12);
  std::ofstream(dir_ / "bad.csv") << "epoch,train_loss,val_loss\n1,0.9,0.8\n2,zero,0.7\n";
  try {
    read_metrics_csv((dir_ / "bad.csv").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.csv:3: cannot read the number \"zero\""), std::string::npos) << e.what();
  }
  std::ofstream(dir_ / "nocol.csv") << "step,loss2\n1,0.9\n";
  EXPECT_THROW(read_metrics_csv((dir_ / "nocol.csv").string()), Error);
}

TEST_F(Plot, TrainingCurvesPngShowsAxesAndBothCurves) {
  const auto out = dir_ / "curves.png";
  plot_training_curves(read_metrics_csv((dir_ / "metrics.csv").string()), "test", out.string());
  ASSERT_TRUE(fs::exists(out));
  EXPECT_EQ(slurp(out).substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const Image image = read_png(out.string());
  EXPECT_EQ(image.width, 800);
  EXPECT_EQ(image.height, 500);
  EXPECT_GT(count_rgb(image, 31, 120, 181), 300u) << "train curve";
  EXPECT_GT(count_rgb(image, 255, 128, 13), 300u) << "validation curve";
  // Left axis at x = 90 from y = 50 to 430, tick labels to its left, x labels below it.
  EXPECT_GT(dark_in(image, 89, 92, 50, 430), 300u) << "y axis line";
  EXPECT_GT(dark_in(image, 40, 86, 50, 430), 40u) << "y tick labels";
  EXPECT_GT(dark_in(image, 90, 780, 438, 480), 100u) << "x tick labels and title";
  EXPECT_GT(dark_in(image, 0, 35, 150, 350), 20u) << "y axis title";
}

TEST_F(Plot, PianoRollSvgAndPng) {
  const auto svg = dir_ / "roll.svg", png = dir_ / "roll.png";
  plot_piano_roll(melody_, "rising", svg.string());
  plot_piano_roll(melody_, "rising", png.string());
  const std::string text = slurp(svg);
  EXPECT_EQ(text.rfind("<?xml", 0), 0u);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("</svg>"), std::string::npos);
  const Image image = read_png(png.string());
  // 11 note boxes (C4 D4 E4 F4 G4 A4 B4 C5, C5 G4 C4), each at least 10 x 8 pixels of fill.
  EXPECT_GT(count_rgb(image, 31, 120, 181, 10), 11u * 80u);
  EXPECT_GT(dark_in(image, 115, 118, 50, image.height - 70), 100u) << "pitch axis line";
  EXPECT_GT(dark_in(image, 30, 110, 50, image.height - 70), 100u) << "pitch labels";
  EXPECT_GT(dark_in(image, 116, image.width, image.height - 62, image.height), 100u) << "time labels";
  EXPECT_THROW(plot_piano_roll(Melody{}, "empty", (dir_ / "empty.svg").string()), Error);
  EXPECT_THROW(plot_piano_roll(melody_, "x", (dir_ / "roll.gif").string()), Error);
  EXPECT_FALSE(fs::exists(dir_ / "roll.gif"));
}

TEST_F(Plot, ChromiumRendersTheSvg) {
  if (!fs::exists("/usr/bin/chromium")) GTEST_SKIP() << "/usr/bin/chromium not installed (Debian package chromium)";
  const auto svg = dir_ / "curves.svg", shot = dir_ / "shot.png";
  plot_training_curves(read_metrics_csv((dir_ / "metrics.csv").string()), "chromium", svg.string());
  const std::string command = "timeout 120 /usr/bin/chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
                              "--user-data-dir=" + (dir_ / "profile").string() + " --window-size=800,500 --screenshot=" +
                              shot.string() + " file://" + svg.string() + " > /dev/null 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(fs::exists(shot)) << "chromium exit status " << status;
  const Image image = read_png(shot.string());
  EXPECT_GT(count_rgb(image, 31, 120, 181), 300u) << "train curve";
  EXPECT_GT(count_rgb(image, 255, 128, 13), 300u) << "validation curve";
  EXPECT_GT(dark_in(image, 88, 93, 50, 430), 300u) << "y axis line";
  EXPECT_GT(dark_in(image, 40, 86, 50, 430), 40u) << "y tick labels";
  EXPECT_GT(dark_in(image, 90, 780, 438, 480), 100u) << "x tick labels and title";
}

// ---- the CLI ----
TEST_F(Plot, Cli) {
  const std::string bin = MELODIST_BINARY;
  const auto out = dir_ / "cli.svg";
  std::ofstream(dir_ / "song.txt") << "60 _ 62 _ 64 _ _ _\n";
  int status = std::system((bin + " plot --melody " + (dir_ / "song.txt").string() + " --out " + out.string() +
                            " > /dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::exists(out));
  status = std::system((bin + " plot --metrics " + dir_.string() + " --out " + (dir_ / "c.png").string() +
                        " > /dev/null 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(fs::exists(dir_ / "c.png"));
  status = std::system((bin + " plot --out " + (dir_ / "x.svg").string() + " > " + (dir_ / "err").string() + " 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(slurp(dir_ / "err").find("melodist: error: plot: give exactly one of --metrics or --melody"), std::string::npos);
  status = std::system((bin + " plot --melody " + (dir_ / "song.txt").string() + " --out " +
                        (dir_ / "nofolder" / "x.svg").string() + " > " + (dir_ / "err").string() + " 2>&1").c_str());
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_NE(slurp(dir_ / "err").find("nofolder"), std::string::npos) << slurp(dir_ / "err");
}

}  // namespace
