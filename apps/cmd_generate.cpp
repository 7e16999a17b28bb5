// melodist generate: compose melodies with a model (generate/generator.h), written as text or any song file
// melodist writes (formats/song_writer.h), by --out's extension.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "command.h"
#include "formats/abc_writer.h"
#include "formats/key_symbol.h"
#include "formats/meter_symbol.h"
#include "formats/model_file.h"
#include "formats/song_writer.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "generate/generator.h"
#include "nn/model.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace {

struct GenerateArgs {
  std::string model;
  std::string primer;
  std::string primer_file;
  int steps = 500;
  double temperature = 1.0;
  double cadence_temperature = -1;  // --cadence-temperature; negative: --temperature
  double rhythm_temperature = -1;   // --rhythm-temperature; negative: --temperature
  int cadence_bars = 3;
  int top_k = 0;
  double top_p = 1.0;
  int beam_size = 1;
  int branch_factor = 1;
  int candidates = 0;     // --candidates K; 0: 16 with --bars, else 1
  int num_outputs = 1;
  uint64_t seed = 1;
  double bpm = 120.0;
  std::string time_signature;  // empty: 4/4, or the primer file's
  std::string out = "melody.mid";
  int program = 0;
  std::string soundfont = melodist::kDefaultSoundfont;
  bool split = false;  // .abc with --num-outputs: one file per tune instead of one tune book
  bool primer_given = false;
  bool bpm_given = false;
  std::string key;        // --key D, Em, Bb, F#m
  std::string meter;      // --meter 6/8
  int bars = -1;          // --bars N; -1: not given
  std::string pickup;     // --pickup 1/8 (of a whole note)
  bool end_on_tonic = false;
  std::string end_on;     // --end-on tonic|triad
};

// --key, --meter, --bars, --pickup, --end-on -> the controls; every malformed value a one-line error.
melodist::GenerateControls parse_controls(const GenerateArgs& a) {
  melodist::GenerateControls c;
  if (!a.key.empty()) {
    c.key = melodist::parse_key_name(a.key);
    if (!c.key) throw melodist::Error("--key \"" + a.key + "\" is not a key such as D, Em, Bb or F#m");
  }
  if (!a.meter.empty()) {
    c.meter = melodist::parse_time_signature_option(a.meter, "--meter");
  }
  if (a.bars == 0 || a.bars < -1) throw melodist::Error("--bars must be 1 or more");
  c.bars = a.bars > 0 ? a.bars : 0;
  if (!a.pickup.empty()) {
    melodist::Rational whole;
    try {
      whole = melodist::parse_rational(a.pickup);
    } catch (const melodist::Error& e) {
      throw melodist::Error("--pickup: " + std::string(e.what()));
    }
    c.pickup = whole * melodist::Rational(4);  // a fraction of a whole note -> quarters
  }
  if (a.end_on_tonic && !a.end_on.empty() && a.end_on != "tonic") throw melodist::Error("give --end-on-tonic or --end-on triad, not both");
  if (a.end_on_tonic || a.end_on == "tonic") c.end_on = melodist::EndOn::tonic;
  if (a.end_on == "triad") c.end_on = melodist::EndOn::triad;
  return c;
}

// The bar lines of --bars for a melody without barline symbols: the pickup, then every bar.
std::vector<melodist::Rational> bar_starts(const melodist::GenerateControls& c, const melodist::TimeSignature& meter) {
  std::vector<melodist::Rational> out;
  const melodist::Rational bar = melodist::bar_length(meter);
  for (int k = c.pickup > melodist::Rational(0) ? 0 : 1; k < c.bars; ++k) out.push_back(c.pickup + bar * melodist::Rational(k));
  return out;
}

enum class OutputKind { song, text, abc_book };

OutputKind output_kind(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".txt") return OutputKind::text;
  if (melodist::is_written_song_file(path)) return ext == ".abc" ? OutputKind::abc_book : OutputKind::song;
  throw melodist::Error("--out " + path + ": unknown extension; melodist writes " + melodist::written_extensions() +
                        ", and .txt for the text encoding");
}

// melody.mid, N = 3 -> melody-001.mid, melody-002.mid, melody-003.mid
std::vector<std::string> output_paths(const std::string& out, int n) {
  if (n == 1) return {out};
  namespace fs = std::filesystem;
  const fs::path p(out);
  std::vector<std::string> paths;
  for (int i = 1; i <= n; ++i) {
    char num[16];
    std::snprintf(num, sizeof num, "-%03d", i);
    paths.push_back((p.parent_path() / (p.stem().string() + num + p.extension().string())).string());
  }
  return paths;
}

void run(const GenerateArgs& a) {
  namespace fs = std::filesystem;
  // Everything is checked before anything is computed or written.
  melodist::GenerateOptions options;
  options.beam.sampler.temperature = a.temperature;
  options.beam.sampler.top_k = a.top_k;
  options.beam.sampler.top_p = a.top_p;
  options.beam.sampler.rhythm_temperature = a.rhythm_temperature;
  melodist::validate_sampler_options(options.beam.sampler);
  options.beam.cadence_temperature = a.cadence_temperature;
  options.beam.cadence_bars = a.cadence_bars;
  if (a.steps < 0 || a.steps > melodist::kMaxGenerateSteps)
    throw melodist::Error("--steps must be from 0 to " + std::to_string(melodist::kMaxGenerateSteps));
  if (a.num_outputs < 1 || a.num_outputs > 100000) throw melodist::Error("--num-outputs must be between 1 and 100000");
  if (a.beam_size < 1 || a.beam_size > 1024) throw melodist::Error("--beam-size must be between 1 and 1024");
  if (a.branch_factor < 1 || a.branch_factor > 1024) throw melodist::Error("--branch-factor must be between 1 and 1024");
  if (!(a.bpm > 0.0 && a.bpm <= 1000.0)) throw melodist::Error("--bpm must be in (0, 1000]");
  if (!a.primer.empty() && !a.primer_file.empty()) throw melodist::Error("give --primer or --primer-file, not both");
  options.beam.max_steps = a.steps;
  options.beam.beam_size = a.beam_size;
  options.beam.branch_factor = a.branch_factor;
  options.beam.seed = a.seed;
  options.num_outputs = a.num_outputs;
  options.candidates = a.candidates;
  options.controls = parse_controls(a);

  const bool to_stdout = a.out == "-";
  OutputKind kind = to_stdout ? OutputKind::text : output_kind(a.out);
  if (kind == OutputKind::abc_book && (a.num_outputs == 1 || a.split)) kind = OutputKind::song;
  if (to_stdout && a.num_outputs != 1) throw melodist::Error("--out - (standard output) takes one melody; give a file name for --num-outputs");
  const std::vector<std::string> paths = to_stdout ? std::vector<std::string>{"-"}
                                         : kind == OutputKind::abc_book ? std::vector<std::string>{a.out}
                                                                        : output_paths(a.out, a.num_outputs);
  if (!to_stdout) {
    fs::path parent = fs::path(a.out).parent_path();
    if (!parent.empty() && !fs::is_directory(parent)) throw melodist::Error("--out " + a.out + ": the folder " + parent.string() + " does not exist");
    if (fs::is_directory(a.out)) throw melodist::Error("--out " + a.out + " is a folder; give a file name such as melody.mid");
  }
  std::optional<melodist::TimeSignature> time_signature;
  if (!a.time_signature.empty()) time_signature = melodist::parse_time_signature_option(a.time_signature, "--time-signature");
  options.controls.fallback_meter = time_signature.value_or(melodist::TimeSignature{4, 4});
  if (a.program < 0 || a.program > 127) throw melodist::Error("--program must be 0..127");
  std::optional<melodist::Melody> primer_song;  // the primer file's meter, barlines, key and tempo
  melodist::EncodedSong primer_encoding;        // its encoding: the transposition the key moves by

  const std::string model_dir = melodist::resolve_model_dir(a.model);
  melodist::ModelFile file = melodist::load_model_file(model_dir);
  const melodist::Model& model = file.model;
  options.encoding = melodist::model_encode_options(file);

  if (a.primer_given) {
    options.primer = melodist::split_symbols(a.primer);
    if (options.primer.empty()) throw melodist::Error("--primer is empty; give at least one symbol, e.g. --primer \"60 _ 62 _\"");
  } else if (!a.primer_file.empty()) {
    options.primer = melodist::primer_from_song_file(options.encoding, a.primer_file);
    if (options.primer.empty()) throw melodist::file_error(a.primer_file, 0, "the song is empty and cannot be a primer");
    melodist::SongReadOptions read;
    read.step = options.encoding.step;
    primer_song = melodist::read_song_file(a.primer_file, read);
    melodist::EncodeOptions primer_options = options.encoding;
    primer_options.countdown_bars = 0, primer_options.final_mark = false, primer_options.countdown_key = false;
    primer_encoding = melodist::encode_melody(*primer_song, primer_options);
  }
  melodist::primer_ids(model, options.primer);  // unknown symbols, "/" and length: before any work
  const melodist::Rational step = options.encoding.step;
  melodist::decode_symbols(options.primer, step);  // a primer that does not decode fails now

  const std::vector<melodist::GeneratedMelody> melodies = melodist::generate_melodies(model, options);

  // Render every output before writing any, so an error leaves nothing half-done. Meter and key are the
  // melody's own (its symbols, or --key/--meter), else the primer file's, else --time-signature and 4/4
  // and the estimated key; the bars are the melody's barline symbols, else the primer file's (its pickup
  // is kept), else those of --bars. Tempo: --bpm when given, else the primer file's, else 120.
  melodist::SongWriteOptions song;
  if (a.bpm_given || !primer_song || !primer_song->tempo_bpm) song.notation.bpm = a.bpm;
  song.notation.time_signature = time_signature;
  song.program = a.program;
  song.soundfont = a.soundfont;
  const std::string model_name = fs::path(model_dir).lexically_normal().filename().string();
  std::vector<melodist::Melody> decoded;
  std::vector<std::string> titles;
  for (size_t i = 0; i < melodies.size(); ++i) {
    melodist::Melody melody = melodist::decode_symbols(melodies[i].symbols, step);
    if (melody.events.empty()) melody.events.push_back({melodist::kRest, step, false, 0});  // an empty song is one rest
    if (!melody.key) melody.key = melodies[i].key;  // --key for a model without key symbols: its output was moved there
    if (primer_song) melodist::adopt_primer_notation(melody, *primer_song, primer_encoding);
    if (primer_song && melody.barlines.empty()) melody.barlines = primer_song->barlines;
    if (melody.barlines.empty() && options.controls.bars > 0)  // a model without "|": the bars of --bars
      melody.barlines = bar_starts(options.controls, melody.time_signature.value_or(options.controls.fallback_meter.value()));
    decoded.push_back(std::move(melody));
    titles.push_back(model_name + " seed " + std::to_string(a.seed) +
                     (melodies.size() > 1 ? " melody " + std::to_string(i + 1) : std::string()));
  }
  std::vector<std::string> bytes;
  try {
    if (kind == OutputKind::abc_book) {
      std::vector<melodist::AbcBookTune> tunes;
      for (size_t i = 0; i < decoded.size(); ++i) tunes.push_back({&decoded[i], titles[i]});
      bytes.push_back(melodist::write_abc_book(tunes, song.notation));
    }
    for (size_t i = 0; i < melodies.size() && kind != OutputKind::abc_book; ++i) {
      if (kind == OutputKind::text) {
        bytes.push_back(melodist::join_symbols(melodies[i].symbols) + "\n");
      } else {
        song.title = titles[i];
        bytes.push_back(melodist::song_bytes(paths[i], decoded[i], song));
      }
    }
  } catch (const melodist::Error& e) {
    throw melodist::Error("--out " + a.out + ": " + e.what());
  }
  FILE* log = to_stdout ? stderr : stdout;
  if (kind == OutputKind::abc_book) melodist::write_file_atomically(paths[0], bytes[0]);
  for (size_t i = 0; i < melodies.size(); ++i) {
    if (to_stdout) std::fwrite(bytes[i].data(), 1, bytes[i].size(), stdout);
    else if (kind != OutputKind::abc_book) melodist::write_file_atomically(paths[i], bytes[i]);
    const auto& m = melodies[i];
    const double per_step = m.generated_steps + (m.ended ? 1 : 0) > 0 ? m.log_likelihood / double(m.generated_steps + (m.ended ? 1 : 0)) : 0.0;
    const std::string& shown = kind == OutputKind::abc_book ? paths[0] : paths[i];
    std::fprintf(log, "%s: %zu steps (%zu generated), %d notes, log-likelihood %.3f nats (%.3f per step)%s, %s\n", shown.c_str(),
                 m.symbols.size(), m.generated_steps, m.notes, m.log_likelihood, per_step,
                 m.constrained ? " under the constrained distribution" : "",
                 m.ended ? (options.controls.bars > 0 ? "ended after the bars asked for" : "ended by the model") : "stopped at --steps");
  }
}

void setup(CLI::App& root) {
  auto args = std::make_shared<GenerateArgs>();
  CLI::App* app = root.add_subcommand(
      "generate",
      "Compose melodies: the model reads 64 \"/\" start symbols and the primer, then adds one symbol per step until it "
      "chooses \"/\" (end of song) or --steps is reached");
  app->add_option("--model,-m", args->model, "model folder, or a bundled model's name (default: the bundled essen-german)");
  CLI::Option* primer = app->add_option("--primer", args->primer, "start of the melody in the text encoding, e.g. \"67 _ 67 _ 67 _ _ 65 64 _\"");
  app->add_option("--primer-file", args->primer_file, "start of the melody from a .krn or .mid song, preprocessed as for training");
  app->add_option("--steps", args->steps, "symbols to generate at most, up to 1,000,000 (a symbol is a 16th note by default); progress is shown when it takes over a second")->capture_default_str();
  app->add_option("--temperature,-t", args->temperature, "probabilities raised to 1/T and renormalised; 0 = greedy")->capture_default_str();
  app->add_option("--cadence-temperature", args->cadence_temperature,
                  "the temperature of the melody's last --cadence-bars bars (a model with countdown barlines, or --bars); default --temperature");
  app->add_option("--cadence-bars", args->cadence_bars, "the bars --cadence-temperature applies to")->capture_default_str();
  app->add_option("--rhythm-temperature", args->rhythm_temperature,
                  "the temperature of each step's choice between holding the note and something new (1: the model's own "
                  "rhythm); --temperature and --cadence-temperature then temper only what comes; default --temperature");
  app->add_option("--top-k", args->top_k, "sample only among the K most likely symbols (0 = off)")->capture_default_str();
  app->add_option("--top-p", args->top_p, "nucleus sampling: the most likely symbols holding probability P, in (0, 1]")->capture_default_str();
  app->add_option("--beam-size", args->beam_size, "beams kept (Magenta-style beam search; 1 = plain sampling)")->capture_default_str();
  app->add_option("--branch-factor", args->branch_factor, "sampled continuations per beam and step")->capture_default_str();
  app->add_option("--candidates", args->candidates,
                  "melodies drawn per output under the controls, one kept with probability proportional to the model's "
                  "probability of the constraints being met (importance resampling: with --bars, of ending at bar N); "
                  "0: 16 with --bars, else 1")
      ->capture_default_str();
  app->add_option("--num-outputs,-n", args->num_outputs, "melodies to write (run as one batch): NAME-001.EXT, NAME-002.EXT, ...")
      ->capture_default_str();
  app->add_option("--seed", args->seed, "random seed; the same seed gives the same files")->check(melodist::cli::seed_range())->capture_default_str();
  CLI::Option* bpm = app->add_option("--bpm", args->bpm, "tempo of the output file (quarter notes per minute); default the primer file's, else 120")
                         ->capture_default_str();
  app->add_option("--time-signature", args->time_signature,
                  "meter written when the melody has none of its own (a meter symbol, the primer file's); default 4/4; also the "
                  "bar length of --bars for a model without meter symbols");
  app->add_option("--key", args->key,
                  "compose in this key (D, Em, Bb, F#m, D major, kern f#): the model is primed with its key symbol (a model "
                  "trained with --transpose reference is primed in C / Am, or not at all when it has no key symbols, and its "
                  "output transposed); a model of written pitches needs `preprocess --key-symbol` data");
  app->add_option("--meter", args->meter, "compose in this meter (6/8): the model is primed with its meter symbol; needs a model trained "
                  "on `preprocess --meter-symbol` data");
  app->add_option("--bars", args->bars,
                  "exactly N whole bars (plus --pickup) by constrained decoding: \"|\" forced where a bar is full and "
                  "forbidden elsewhere, the end forced after bar N");
  app->add_option("--pickup", args->pickup, "with --bars: an upbeat of this length before bar 1, as a fraction of a whole note (1/8 = an eighth)");
  app->add_flag("--end-on-tonic", args->end_on_tonic, "the last note is the key's tonic (--end-on tonic)");
  app->add_option("--end-on", args->end_on, "the last note is the tonic, or a note of the tonic triad; it may start anywhere in the last bar")
      ->check(CLI::IsMember({"tonic", "triad"}));
  app->add_option("--program", args->program, "General MIDI program for .mid and audio (0 piano, 73 flute, 110 fiddle)")->capture_default_str();
  app->add_option("--soundfont", args->soundfont, "General MIDI soundfont for .wav/.flac/.ogg")->capture_default_str();
  app->add_flag("--split", args->split, ".abc with --num-outputs: one file per tune (NAME-001.abc ...) instead of one tune book");
  app->add_option("--out,-o", args->out,
                  "output file by extension: .mid/.midi, .abc, .musicxml, .mxl, .krn, .wav, .flac, .ogg, or .txt (text "
                  "encoding); - prints the encoding")
      ->capture_default_str();
  app->callback([args, primer, bpm] {
    args->primer_given = primer->count() > 0;
    args->bpm_given = bpm->count() > 0;
    run(*args);
  });
}

melodist::cli::Command generate_command{"generate", 50, setup};

}  // namespace
