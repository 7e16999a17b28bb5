// melodist preprocess INPUT... --out DIR: Essen **kern songs -> an encoded dataset (preprocess/preprocess.h).
#include <cstdio>
#include <memory>

#include "command.h"
#include "encoding_options.h"
#include "preprocess/preprocess.h"
#include "util/error.h"
#include "util/rational.h"

namespace {

struct PreprocessArgs {
  std::vector<std::string> inputs;
  std::string out;
  melodist::cli::EncodingArgs encoding;
  int delimiter_length = melodist::kDefaultDelimiterLength;
  int jobs = 0;
  bool strict = false;
  bool quiet = false;
  std::string exclude, include;
  int track = -1;    // MIDI input: MTrk chunk from 0, -1 automatic
  int channel = -1;  // MIDI input: 0..15, -1 automatic (non-drum)
  int part = 0;      // MusicXML: 1-based, 0 the first
  int voice = 0;     // ABC: 1-based voice (V:); MusicXML: the <voice> number; 0 the first
};

void run(const PreprocessArgs& a) {
  melodist::PreprocessOptions options;
  options.encode = melodist::cli::encode_options(a.encoding);
  options.read.step = options.encode.step;
  options.read.midi_track = a.track;
  options.read.midi_channel = a.channel;
  options.read.part = a.part;
  options.read.voice = a.voice;
  options.delimiter_length = a.delimiter_length;
  options.jobs = a.jobs;
  options.strict = a.strict;
  options.progress = !a.quiet;
  options.exclude_list = a.exclude;
  options.include_list = a.include;
  melodist::Dataset dataset = melodist::run_preprocess(a.inputs, a.out, options);
  std::printf("%s\n", melodist::summary_line(dataset).c_str());
}

void setup(CLI::App& root) {
  auto args = std::make_shared<PreprocessArgs>();
  CLI::App* app = root.add_subcommand(
      "preprocess",
      "Encode songs (**kern, MIDI, ABC: files or folders, searched recursively; each tune of an ABC file is one song) into a dataset folder: songs.txt, "
      "mapping.json, file_dataset, manifest.json (the reference's text encoding: one symbol per step)");
  app->add_option("INPUT", args->inputs, "song files or folders")->required();
  app->add_option("--out,-o", args->out, "output folder (created if missing)")->required();
  melodist::cli::add_encoding_options(app, args->encoding);
  app->add_option("--delimiter-length", args->delimiter_length, "\"/\" symbols after each song in file_dataset")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--jobs,-j", args->jobs, "threads (0: one per hardware thread); the output does not depend on it")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_flag("--strict", args->strict, "a malformed file is fatal (default: reported in the manifest and skipped)");
  app->add_flag("--quiet,-q", args->quiet, "no progress line");
  app->add_option("--exclude", args->exclude,
                  "leave out the songs named in this file (one path, or FILE.abc#X, per line; '#' comments): held-out "
                  "songs and their copies; the manifest lists them as excluded")
      ->check(CLI::ExistingFile);
  app->add_option("--include", args->include,
                  "keep only the songs named in this file (same form as --exclude): a held-out set to evaluate on")
      ->check(CLI::ExistingFile);
  app->add_option("--track", args->track,
                  "MIDI input: read this track (MTrk chunk, numbered from 0); default: the track and channel with the most notes")
      ->check(CLI::Range(0, 65535));
  app->add_option("--channel", args->channel, "MIDI input: read this channel (0..15; 9 is drums, read only when asked for)")
      ->check(CLI::Range(0, 15));
  app->add_option("--part", args->part, "MusicXML: read this part (numbered from 1 in the score's part list); default: the first")
      ->check(CLI::Range(1, 65535));
  app->add_option("--voice", args->voice,
                  "ABC: read this voice (V:, numbered from 1 in order of appearance); MusicXML: this <voice> number of the "
                  "part; default: the first voice")
      ->check(CLI::Range(1, 65535));
  app->callback([args]() { run(*args); });
}

melodist::cli::Command preprocess_command{"preprocess", 10, setup};

}  // namespace
