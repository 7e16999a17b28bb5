#pragma once
// The encoding options that `preprocess` and `encode` share (same names, help, defaults and checks), so
// the two commands cannot drift apart: one struct, one setup, one conversion.
#include <CLI/CLI.hpp>
#include <string>

#include "formats/text_encoding.h"

namespace melodist::cli {

// The four options parsed from text; the flags and counts are bound straight to EncodeOptions' fields.
struct EncodingArgs {
  std::string step = "1/4";
  std::string durations = "1/4,1/2,3/4,1,3/2,2,3,4";
  std::string transpose = "reference";
  std::string ties = "reattack";
  EncodeOptions symbols;  // key_symbol ... per_note as given; step, durations, transpose, ties set from the text
};

inline void add_encoding_options(CLI::App* app, EncodingArgs& a) {
  app->add_option("--step", a.step, "quarter notes per symbol (fraction or decimal); also the MIDI quantization grid")
      ->capture_default_str();
  app->add_option("--durations", a.durations,
                  "kern songs: allowed note/rest lengths in quarters, comma-separated, or \"any\" (every whole number of steps); "
                  "MIDI songs accept every whole number of steps whatever this says")
      ->capture_default_str();
  app->add_option("--transpose", a.transpose, "reference: major keys to C, minor to A; none: written pitches")
      ->check(CLI::IsMember({"reference", "none"}))
      ->capture_default_str();
  app->add_option("--ties", a.ties, "reattack: every tied part is its own note (reference); merge: one held note")
      ->check(CLI::IsMember({"reattack", "merge"}))
      ->capture_default_str();
  app->add_flag("--key-symbol", a.symbols.key_symbol,
                "start each song with its key symbol (\"K:G\", \"K:Em\"): the key as an input the model reads first");
  app->add_flag("--meter-symbol", a.symbols.meter_symbol,
                "then the song's meter symbol (\"M:6/8\"), when its file names a meter: the meter as an input");
  app->add_flag("--barlines", a.symbols.barlines,
                "put \"|\" where each barline falls (kern, ABC and MusicXML bar lines; MIDI bars from the time-signature "
                "events): it takes no time; the position in the bar as an input");
  app->add_option("--countdown-bars", a.symbols.countdown_bars,
                  "with --barlines: the barlines that open the song's last N bars are \"|N\" .. \"|1\" (the end as an "
                  "input the model sees coming; generate then ends songs only after \"|1\" and forces the countdown with --bars)")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  app->add_flag("--triplets", a.symbols.triplets,
                "write notes that start between the steps, in a window of 1, 2, 4 or 8 steps whose onsets fall on its thirds, "
                "as \"(3:W\" (W the window in quarters) and three units; songs without triplets encode the same");
  app->add_flag("--final-mark", a.symbols.final_mark,
                "put \"$\" before the step (or triplet window) at which the song's last note starts: it takes no time; the "
                "network knows which note closes the melody before it chooses it (generate draws \"$\" in the last bar only)");
  app->add_flag("--countdown-key", a.symbols.countdown_key,
                "with --key-symbol and --countdown-bars: the key symbol again right after the first countdown line (the "
                "network is reminded of the key where the closing bars begin; generate forces it there)");
  app->add_flag("--pitch-only", a.symbols.pitch_only,
                "one symbol per note, its MIDI number: no holds, rests or input symbols (the chromatic pitch sequence "
                "IDyOM predicts; the length filter still applies, so the songs and notes are those of the step encoding)");
  app->add_flag("--per-note", a.symbols.per_note,
                "one symbol per note or rest (its MIDI number or r) followed by its length in steps (\":6\"); key, meter "
                "and barline symbols as in the step encoding: the same information in about a quarter of the symbols "
                "(for evaluate and crossval; generate refuses such models)");
}

// Parsed and checked (check_encode_options): throws melodist::Error with the option's name.
inline EncodeOptions encode_options(const EncodingArgs& a) {
  EncodeOptions o = a.symbols;
  o.step = parse_step_option(a.step);
  o.durations = parse_durations_option(a.durations);
  o.transpose = a.transpose == "none" ? TransposeMode::none : TransposeMode::reference;
  o.ties = a.ties == "merge" ? TieMode::merge : TieMode::reattack;
  check_encode_options(o);
  return o;
}

}  // namespace melodist::cli
