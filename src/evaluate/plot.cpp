#include "evaluate/plot.h"

#include <cairo-svg.h>
#include <cairo.h>

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

cairo_status_t append_bytes(void* closure, const unsigned char* data, unsigned int length) {
  static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
  return CAIRO_STATUS_SUCCESS;
}

// cairo and fontconfig keep font caches for the life of the process; LeakSanitizer (the ASan CI build)
// reports them as leaks. At exit, after the last picture, hand them back: cairo's static data, then
// fontconfig's (FcFini, looked up at run time because melodist does not link fontconfig itself).
void release_font_caches() {
  cairo_debug_reset_static_data();
  if (auto fini = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "FcFini"))) fini();
}
void release_font_caches_at_exit() {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(release_font_caches); });
}

// A drawing surface for one picture; finish() writes the file.
struct Canvas {
  std::string path;
  bool svg = false;
  double width, height;
  std::string bytes;
  cairo_surface_t* surface = nullptr;
  cairo_t* cr = nullptr;

  Canvas(const std::string& out_path, double w, double h) : path(out_path), width(w), height(h) {
    release_font_caches_at_exit();
    const std::string ext = lower_extension(out_path);
    if (ext == ".svg") {
      svg = true;
      surface = cairo_svg_surface_create_for_stream(append_bytes, &bytes, w, h);
      cairo_svg_surface_set_document_unit(surface, CAIRO_SVG_UNIT_PX);  // width="800px": 1 unit = 1 pixel
    } else if (ext == ".png") {
      surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(w), static_cast<int>(h));
    } else {
      throw file_error(out_path, 0, "unknown picture type (the output must end in .svg or .png)");
    }
    cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  }
  ~Canvas() {
    if (cr) cairo_destroy(cr);
    if (surface) cairo_surface_destroy(surface);
  }
  void finish() {
    cairo_destroy(cr);
    cr = nullptr;
    if (svg) {
      cairo_surface_finish(surface);
    } else {
      cairo_surface_flush(surface);
      cairo_surface_write_to_png_stream(surface, append_bytes, &bytes);
    }
    const cairo_status_t status = cairo_surface_status(surface);
    if (status != CAIRO_STATUS_SUCCESS) throw file_error(path, 0, std::string("cairo: ") + cairo_status_to_string(status));
    write_file_atomically(path, bytes);
  }
};

enum class Align { left, center, right };

void text(cairo_t* cr, const std::string& s, double x, double y, Align align, double size, bool bold = false,
          double angle = 0.0) {
  cairo_save(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL,
                         bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, s.c_str(), &ext);
  cairo_translate(cr, x, y);
  cairo_rotate(cr, angle);
  const double dx = align == Align::left ? 0 : align == Align::center ? -ext.width / 2 - ext.x_bearing
                                                                       : -ext.width - ext.x_bearing;
  cairo_move_to(cr, dx, size * 0.35);  // y is the vertical middle of the text
  cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
  cairo_show_text(cr, s.c_str());
  cairo_restore(cr);
}

std::string format_tick(double v, double step) {
  char buffer[32];
  const int decimals = step >= 1 ? 0 : std::min(6, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, std::abs(v) < step * 1e-9 ? 0.0 : v);
  return buffer;
}

// The plot area inside a canvas and the data ranges it shows.
struct Frame {
  double left, top, right, bottom;  // pixels
  double x0, x1, y0, y1;            // data
  double px(double x) const { return left + (x - x0) / (x1 - x0) * (right - left); }
  double py(double y) const { return bottom - (y - y0) / (y1 - y0) * (bottom - top); }
};

void draw_frame(cairo_t* cr, const Frame& f) {
  cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
  cairo_set_line_width(cr, 1.2);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_stroke(cr);
}

void draw_x_axis(cairo_t* cr, const Frame& f, const std::vector<double>& ticks, const std::string& title, bool grid) {
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : 1;
  for (double t : ticks) {
    const double x = f.px(t);
    if (grid) {
      cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
      cairo_set_line_width(cr, 0.8);
      cairo_move_to(cr, x, f.top);
      cairo_line_to(cr, x, f.bottom);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1.0);
    cairo_move_to(cr, x, f.bottom);
    cairo_line_to(cr, x, f.bottom + 5);
    cairo_stroke(cr);
    text(cr, format_tick(t, step), x, f.bottom + 16, Align::center, 12);
  }
  text(cr, title, (f.left + f.right) / 2, f.bottom + 40, Align::center, 14);
}

void draw_y_axis(cairo_t* cr, const Frame& f, const std::vector<std::pair<double, std::string>>& ticks,
                 const std::string& title, bool grid, double title_offset) {
  for (const auto& [t, label] : ticks) {
    const double y = f.py(t);
    if (grid) {
      cairo_set_source_rgb(cr, 0.88, 0.88, 0.88);
      cairo_set_line_width(cr, 0.8);
      cairo_move_to(cr, f.left, y);
      cairo_line_to(cr, f.right, y);
      cairo_stroke(cr);
    }
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1.0);
    cairo_move_to(cr, f.left - 5, y);
    cairo_line_to(cr, f.left, y);
    cairo_stroke(cr);
    text(cr, label, f.left - 8, y, Align::right, 12);
  }
  text(cr, title, f.left - title_offset, (f.top + f.bottom) / 2, Align::center, 14, false, -M_PI / 2);
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    while (!cell.empty() && cell.front() == ' ') cell.erase(cell.begin());
    cells.push_back(cell);
  }
  return cells;
}

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(1, target);
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push_back(t);
  return ticks;
}

std::vector<EpochLosses> read_metrics_csv(const std::string& path) {
  std::istringstream in(read_file(path));
  std::string line;
  int number = 0;
  if (!std::getline(in, line)) throw file_error(path, 0, "empty file (expected a header row)");
  ++number;
  const auto header = split_csv_line(line);
  auto find = [&](std::initializer_list<const char*> names) {
    for (const char* name : names)
      for (size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return static_cast<int>(i);
    return -1;
  };
  const int epoch_col = find({"epoch"});
  const int train_col = find({"train_loss", "train_loss_nats", "loss"});
  const int val_col = find({"val_loss", "val_loss_nats", "validation_loss"});
  if (epoch_col < 0) throw file_error(path, 1, "no \"epoch\" column in the header");
  if (train_col < 0 && val_col < 0) throw file_error(path, 1, "no \"train_loss\" or \"val_loss\" column in the header");
  std::vector<EpochLosses> rows;
  auto number_at = [&](const std::vector<std::string>& cells, int col) {
    if (col < 0 || col >= static_cast<int>(cells.size()) || cells[col].empty() || cells[col] == "nan") return kNan;
    try {
      size_t used = 0;
      const double v = std::stod(cells[col], &used);
      if (used != cells[col].size()) throw std::invalid_argument("trailing");
      return v;
    } catch (const std::exception&) {
      throw file_error(path, number, "cannot read the number \"" + cells[col] + "\" in column \"" + header[col] + "\"");
    }
  };
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    const auto cells = split_csv_line(line);
    EpochLosses row{number_at(cells, epoch_col), number_at(cells, train_col), number_at(cells, val_col)};
    if (std::isnan(row.epoch)) throw file_error(path, number, "no epoch number");
    rows.push_back(row);
  }
  if (rows.empty()) throw file_error(path, 0, "holds no epoch (only a header)");
  return rows;
}

void plot_training_curves(const std::vector<EpochLosses>& epochs, const std::string& title, const std::string& out_path) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  int best = -1;
  for (size_t i = 0; i < epochs.size(); ++i) {
    const auto& e = epochs[i];
    x0 = std::min(x0, e.epoch);
    x1 = std::max(x1, e.epoch);
    for (double v : {e.train_loss, e.val_loss})
      if (std::isfinite(v)) y0 = std::min(y0, v), y1 = std::max(y1, v);
    if (std::isfinite(e.val_loss) && (best < 0 || e.val_loss < epochs[best].val_loss)) best = static_cast<int>(i);
  }
  if (!std::isfinite(y0)) throw file_error(out_path, 0, "no loss values to plot");
  if (x1 <= x0) x0 -= 0.5, x1 += 0.5;
  const double pad = y1 > y0 ? 0.06 * (y1 - y0) : 0.05 * std::max(1e-3, std::abs(y0));
  y0 -= pad, y1 += pad;
  // Epochs are whole numbers: ticks at least 1 apart.
  auto xticks = nice_ticks(x0, x1, 8);
  if (xticks.size() > 1 && xticks[1] - xticks[0] < 1) xticks = nice_ticks(x0, x1, static_cast<int>(x1 - x0));
  const auto yticks_raw = nice_ticks(y0, y1, 6);
  Canvas canvas(out_path, 800, 500);
  cairo_t* cr = canvas.cr;
  Frame f{90, 50, 780, 430, x0, x1, y0, y1};
  std::vector<std::pair<double, std::string>> yticks;
  const double ystep = yticks_raw.size() > 1 ? yticks_raw[1] - yticks_raw[0] : 1;
  for (double t : yticks_raw) yticks.push_back({t, format_tick(t, ystep)});
  draw_x_axis(cr, f, xticks, "epoch", true);
  draw_y_axis(cr, f, yticks, "loss (nats per step)", true, 62);
  text(cr, title, (f.left + f.right) / 2, 24, Align::center, 16, true);
  struct Series {
    double EpochLosses::*field;
    double r, g, b;
    const char* label;
  };
  const Series series[] = {{&EpochLosses::train_loss, 0.12, 0.47, 0.71, "train loss"},
                           {&EpochLosses::val_loss, 1.0, 0.50, 0.05, "validation loss"}};
  cairo_save(cr);
  cairo_rectangle(cr, f.left, f.top, f.right - f.left, f.bottom - f.top);
  cairo_clip(cr);
  for (const auto& s : series) {
    cairo_set_source_rgb(cr, s.r, s.g, s.b);
    cairo_set_line_width(cr, 2.0);
    bool drawing = false;
    for (const auto& e : epochs) {
      const double v = e.*(s.field);
      if (!std::isfinite(v)) {
        drawing = false;
        continue;
      }
      if (drawing) cairo_line_to(cr, f.px(e.epoch), f.py(v));
      else cairo_move_to(cr, f.px(e.epoch), f.py(v));
      drawing = true;
    }
    cairo_stroke(cr);
    for (const auto& e : epochs) {
      const double v = e.*(s.field);
      if (!std::isfinite(v)) continue;
      cairo_new_sub_path(cr);
      cairo_arc(cr, f.px(e.epoch), f.py(v), 3.0, 0, 2 * M_PI);
      cairo_fill(cr);
    }
  }
  if (best >= 0) {  // the kept model: best validation loss
    cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
    cairo_set_line_width(cr, 1.5);
    cairo_new_path(cr);
    cairo_arc(cr, f.px(epochs[best].epoch), f.py(epochs[best].val_loss), 7.0, 0, 2 * M_PI);
    cairo_stroke(cr);
  }
  cairo_restore(cr);
  draw_frame(cr, f);
  // Legend, top right inside the plot.
  const double lx = f.right - 200, ly = f.top + 12;
  cairo_set_source_rgba(cr, 1, 1, 1, 0.9);
  cairo_rectangle(cr, lx, ly, 188, best >= 0 ? 70 : 48);
  cairo_fill_preserve(cr);
  cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
  cairo_set_line_width(cr, 1);
  cairo_stroke(cr);
  for (int i = 0; i < 2; ++i) {
    const double y = ly + 14 + 22 * i;
    cairo_set_source_rgb(cr, series[i].r, series[i].g, series[i].b);
    cairo_set_line_width(cr, 2.0);
    cairo_move_to(cr, lx + 10, y);
    cairo_line_to(cr, lx + 40, y);
    cairo_stroke(cr);
    text(cr, series[i].label, lx + 48, y, Align::left, 13);
  }
  if (best >= 0) {
    const double y = ly + 58;
    cairo_set_source_rgb(cr, 0.8, 0.1, 0.1);
    cairo_set_line_width(cr, 1.5);
    cairo_new_path(cr);
    cairo_arc(cr, lx + 25, y, 6.0, 0, 2 * M_PI);
    cairo_stroke(cr);
    char label[64];
    std::snprintf(label, sizeof label, "best val %.4f", epochs[best].val_loss);
    text(cr, label, lx + 48, y, Align::left, 13);
  }
  canvas.finish();
}

void plot_piano_roll(const Melody& melody, const std::string& title, const std::string& out_path) {
  struct Box {
    double start, length;
    int pitch;
  };
  std::vector<Box> notes;
  double time = 0.0;
  bool tie = false;
  for (const auto& e : melody.events) {
    const double length = e.duration.to_double();
    if (e.pitch != kRest && length > 0) {
      if (tie && !notes.empty() && notes.back().pitch == e.pitch) notes.back().length += length;
      else notes.push_back({time, length, e.pitch});
    }
    tie = e.pitch != kRest && e.tied_to_next;
    time += length;
  }
  if (notes.empty()) throw file_error(out_path, 0, "the melody has no notes to draw");
  int low = 127, high = 0;
  for (const auto& n : notes) low = std::min(low, n.pitch), high = std::max(high, n.pitch);
  low = std::max(0, low - 2);
  high = std::min(127, high + 2);
  const double total = std::max(time, 1.0);
  const double width = std::clamp(140.0 + total * 28.0, 600.0, 2400.0);
  const double height = std::clamp(150.0 + (high - low + 1) * 14.0, 360.0, 1200.0);
  Canvas canvas(out_path, width, height);
  cairo_t* cr = canvas.cr;
  Frame f{116, 50, width - 20, height - 70, 0.0, total, low - 0.5, high + 0.5};
  // Black-key rows shaded (pitch classes 1 3 6 8 10).
  for (int p = low; p <= high; ++p) {
    const int pc = p % 12;
    if (pc == 1 || pc == 3 || pc == 6 || pc == 8 || pc == 10) {
      cairo_set_source_rgb(cr, 0.93, 0.93, 0.95);
      cairo_rectangle(cr, f.left, f.py(p + 0.5), f.right - f.left, f.py(p - 0.5) - f.py(p + 0.5));
      cairo_fill(cr);
    }
  }
  // Bar lines from the time signature.
  if (melody.time_signature && melody.time_signature->denominator > 0) {
    const double bar = 4.0 * melody.time_signature->numerator / melody.time_signature->denominator;
    cairo_set_source_rgb(cr, 0.75, 0.75, 0.8);
    cairo_set_line_width(cr, 1.0);
    for (double t = bar; t < total - 1e-9 && total / bar < 400; t += bar) {
      cairo_move_to(cr, f.px(t), f.top);
      cairo_line_to(cr, f.px(t), f.bottom);
      cairo_stroke(cr);
    }
  }
  static const char* names[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  std::vector<std::pair<double, std::string>> yticks;
  const int label_every = high - low > 24 ? 12 : 1;
  for (int p = low; p <= high; ++p) {
    const bool is_c = p % 12 == 0;
    if (label_every == 1 ? (is_c || p == low + 2 || p == high - 2 || (p % 12 != 1 && p % 12 != 3 && p % 12 != 6 &&
                                                                       p % 12 != 8 && p % 12 != 10))
                         : is_c)
      yticks.push_back({static_cast<double>(p), std::string(names[p % 12]) + std::to_string(p / 12 - 1) + " (" +
                                                    std::to_string(p) + ")"});
  }
  const auto xticks = nice_ticks(0.0, total, static_cast<int>(std::clamp(total / 2, 4.0, 16.0)));
  draw_x_axis(cr, f, xticks, "time (quarter notes)", true);
  draw_y_axis(cr, f, yticks, "pitch (MIDI)", false, 96);
  text(cr, title, (f.left + f.right) / 2, 24, Align::center, 16, true);
  for (const auto& n : notes) {
    const double x = f.px(n.start), w = std::max(1.5, f.px(n.start + n.length) - x - 1.0);
    const double y = f.py(n.pitch + 0.42), h = f.py(n.pitch - 0.42) - y;
    cairo_set_source_rgb(cr, 0.12, 0.47, 0.71);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.05, 0.25, 0.45);
    cairo_set_line_width(cr, 1.0);
    cairo_stroke(cr);
  }
  draw_frame(cr, f);
  canvas.finish();
}

Image read_png(const std::string& path) {
  release_font_caches_at_exit();
  cairo_surface_t* surface = cairo_image_surface_create_from_png(path.c_str());
  if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
    const std::string why = cairo_status_to_string(cairo_surface_status(surface));
    cairo_surface_destroy(surface);
    throw file_error(path, 0, "cannot read PNG: " + why);
  }
  Image image;
  image.width = cairo_image_surface_get_width(surface);
  image.height = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  const unsigned char* data = cairo_image_surface_get_data(surface);
  const cairo_format_t format = cairo_image_surface_get_format(surface);
  image.pixels.resize(static_cast<size_t>(image.width) * image.height);
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x) {
      uint32_t px = 0;
      if (format == CAIRO_FORMAT_ARGB32 || format == CAIRO_FORMAT_RGB24) {
        px = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride)[x];
        if (format == CAIRO_FORMAT_RGB24) px |= 0xff000000u;
      }
      image.pixels[static_cast<size_t>(y) * image.width + x] = px;
    }
  cairo_surface_destroy(surface);
  return image;
}

}  // namespace melodist
