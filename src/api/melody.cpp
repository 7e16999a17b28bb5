// The public Melody, and song files by extension (include/melodist/melody.h, song_file.h).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "api/impl.h"
#include "formats/midi_writer.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "melodist/song_file.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace melodist::api {

Rational step_from_double(double step, const std::string& what) {
  if (!(step > 0) || step > 64) throw Error(what + " must be a positive number of quarter notes up to 64");
  for (int64_t den = 1; den <= 960; ++den) {
    const double num = std::round(step * static_cast<double>(den));
    if (num >= 1 && std::abs(num - step * static_cast<double>(den)) < 1e-9) return Rational(static_cast<int64_t>(num), den);
  }
  throw Error(what + " " + std::to_string(step) + " is not a fraction of a quarter note with a denominator up to 960");
}

Melody melody_from_symbols(std::vector<std::string> symbols, Rational step) {
  auto impl = std::make_shared<Melody::Impl>();
  impl->events = decode_symbols(symbols, step);
  if (impl->events.events.empty()) impl->events.events.push_back({kRest, step, false, 0});  // as `generate` writes it
  if (impl->events.time_signature)  // a meter symbol ("M:6/8") in the symbols
    impl->meter = Meter{impl->events.time_signature->numerator, impl->events.time_signature->denominator};
  impl->symbols = std::move(symbols);
  impl->step = step;
  return Melody(std::move(impl));
}

Melody Melody::from_symbols(const std::vector<std::string>& symbols, double step) {
  for (size_t i = 0; i < symbols.size(); ++i)
    if (symbols[i] == kDelimiterSymbol) throw Error("symbol " + std::to_string(i + 1) + " is \"/\"; a melody holds one song");
  return melody_from_symbols(symbols, step_from_double(step, "step"));
}

Melody::Melody() : impl_(std::make_shared<Impl>()) {}
Melody::Melody(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Melody::Melody(const Melody&) = default;
Melody& Melody::operator=(const Melody&) = default;
Melody::Melody(Melody&&) noexcept = default;
Melody& Melody::operator=(Melody&&) noexcept = default;
Melody::~Melody() = default;
const Melody::Impl& Melody::impl() const { return *impl_; }

const std::vector<std::string>& Melody::symbols() const { return impl_->symbols; }
double Melody::step() const { return impl_->step.to_double(); }
std::optional<Meter> Melody::meter() const { return impl_->meter; }
double Melody::log_likelihood() const { return impl_->log_likelihood; }
size_t Melody::generated_steps() const { return impl_->generated_steps; }
bool Melody::ended() const { return impl_->ended; }

double Melody::length() const {
  Rational total;
  for (const auto& e : impl_->events.events) total = total + e.duration;
  return total.to_double();
}

std::vector<Note> Melody::notes() const {
  std::vector<Note> notes;
  Rational time;
  bool tied = false;  // the previous event was tied into this one
  for (const auto& e : impl_->events.events) {
    if (e.pitch != kRest) {
      if (tied && !notes.empty() && notes.back().pitch == e.pitch) notes.back().duration += e.duration.to_double();
      else notes.push_back({e.pitch, time.to_double(), e.duration.to_double()});
    }
    tied = e.pitch != kRest && e.tied_to_next;
    time = time + e.duration;
  }
  return notes;
}

void Melody::write(const std::string& path, const WriteOptions& options) const { write_song(path, *this, options); }

namespace {

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

std::string render_midi(const Melody::Impl& m, const WriteOptions& o, const std::string& path) {
  if (!(o.bpm > 0.0 && o.bpm <= 1000.0)) throw Error(path + ": bpm must be in (0, 1000]");
  if (o.program < 0 || o.program > 127) throw Error(path + ": program must be 0..127");
  if (o.velocity < 1 || o.velocity > 127) throw Error(path + ": velocity must be 1..127");
  MidiWriteOptions midi;
  midi.bpm = o.bpm;
  midi.program = o.program;
  midi.velocity = o.velocity;
  const std::optional<Meter> meter = o.meter ? o.meter : m.meter;
  if (meter) {
    const int n = meter->numerator, d = meter->denominator;
    if (n < 1 || n > 255 || d < 1 || d > 64 || (d & (d - 1)) != 0)
      throw Error(path + ": meter " + std::to_string(n) + "/" + std::to_string(d) + " is not N/D with N 1..255 and D a power of two up to 64");
    midi.time_signature = {n, d};
    midi.use_melody_time_signature = false;
  }
  return write_midi(m.events, midi);
}

std::string render_text(const Melody::Impl& m, const WriteOptions&, const std::string& path) {
  if (m.symbols.empty()) throw Error(path + ": the melody has no text encoding (its lengths are not on a grid of " +
                                     std::to_string(m.step.to_double()) + " quarters)");
  return join_symbols(m.symbols) + "\n";
}

// One row per written format: a new writer (src/formats/) adds its extension(s) here.
struct SongWriter {
  const char* extension;
  std::string (*render)(const Melody::Impl&, const WriteOptions&, const std::string& path);
};
constexpr SongWriter kWriters[] = {{".mid", render_midi}, {".midi", render_midi}, {".txt", render_text}};

}  // namespace

void write_song(const std::string& path, const Melody& melody, const WriteOptions& options) {
  const std::string ext = lower_extension(path);
  for (const SongWriter& w : kWriters)
    if (ext == w.extension) return write_file_atomically(path, w.render(melody.impl(), options, path));
  std::string known;
  for (const SongWriter& w : kWriters) known += (known.empty() ? "" : ", ") + std::string(w.extension);
  throw file_error(path, 0, "unknown extension \"" + ext + "\" (melodist writes " + known + ")");
}

std::vector<std::string> writable_extensions() {
  std::vector<std::string> out;
  for (const SongWriter& w : kWriters) out.push_back(w.extension);
  return out;
}

std::vector<std::string> readable_extensions() {
  std::vector<std::string> out;
  for (const char* ext : {".krn", ".mid", ".midi", ".abc", ".musicxml", ".xml", ".mxl"})
    if (is_song_file(std::string("x") + ext)) out.push_back(ext);
  return out;
}

Melody read_song(const std::string& path, const ReadOptions& options) {
  if (!std::filesystem::exists(path)) throw file_error(path, 0, "no such file");
  SongReadOptions read;
  read.midi_track = options.midi_track;
  read.midi_channel = options.midi_channel;
  read.step = step_from_double(options.step, "step");
  auto impl = std::make_shared<Melody::Impl>();
  impl->events = read_song_file(path, read);
  impl->step = read.step;
  impl->source_path = path;
  if (impl->events.time_signature) impl->meter = Meter{impl->events.time_signature->numerator, impl->events.time_signature->denominator};
  EncodeOptions encode;
  encode.step = read.step;
  encode.transpose = TransposeMode::none;
  const EncodedSong song = encode_melody(impl->events, encode);
  if (song.accepted) impl->symbols = song.symbols;
  return Melody(std::move(impl));
}

}  // namespace melodist::api
