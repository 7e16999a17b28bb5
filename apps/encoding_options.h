#pragma once
// The encoding options that `preprocess` and `encode` share (same names, help and checks), so the two
// commands cannot drift apart. The values are parsed by parse_step_option / parse_durations_option.
#include <CLI/CLI.hpp>
#include <string>

namespace melodist::cli {

inline void add_encoding_options(CLI::App* app, std::string& step, std::string& durations, std::string& transpose,
                                 std::string& ties, bool& key_symbol, bool& meter_symbol, bool& barlines,
                                 int& countdown_bars, bool& triplets, bool& pitch_only) {
  app->add_option("--step", step, "quarter notes per symbol (fraction or decimal); also the MIDI quantization grid")
      ->capture_default_str();
  app->add_option("--durations", durations,
                  "kern songs: allowed note/rest lengths in quarters, comma-separated, or \"any\" (every whole number of steps); "
                  "MIDI songs accept every whole number of steps whatever this says")
      ->capture_default_str();
  app->add_option("--transpose", transpose, "reference: major keys to C, minor to A; none: written pitches")
      ->check(CLI::IsMember({"reference", "none"}))
      ->capture_default_str();
  app->add_option("--ties", ties, "reattack: every tied part is its own note (reference); merge: one held note")
      ->check(CLI::IsMember({"reattack", "merge"}))
      ->capture_default_str();
  app->add_flag("--key-symbol", key_symbol,
                "start each song with its key symbol (\"K:G\", \"K:Em\"): the key as an input the model reads first");
  app->add_flag("--meter-symbol", meter_symbol,
                "then the song's meter symbol (\"M:6/8\"), when its file names a meter: the meter as an input");
  app->add_flag("--barlines", barlines,
                "put \"|\" where each barline falls (kern, ABC and MusicXML bar lines; MIDI bars from the time-signature "
                "events): it takes no time; the position in the bar as an input");
  app->add_option("--countdown-bars", countdown_bars,
                  "with --barlines: the barlines that open the song's last N bars are \"|N\" .. \"|1\" (the end as an "
                  "input the model sees coming; generate then ends songs only after \"|1\" and forces the countdown with --bars)")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
  app->add_flag("--triplets", triplets,
                "write notes that start between the steps, in a window of 1, 2, 4 or 8 steps whose onsets fall on its thirds, "
                "as \"(3:W\" (W the window in quarters) and three units; songs without triplets encode the same");
  app->add_flag("--pitch-only", pitch_only,
                "one symbol per note, its MIDI number: no holds, rests or input symbols (the chromatic pitch sequence "
                "IDyOM predicts; the length filter still applies, so the songs and notes are those of the step encoding)");
}

}  // namespace melodist::cli
