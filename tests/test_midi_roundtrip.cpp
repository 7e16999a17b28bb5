// Round trip over the erk collection: kern -> encoding -> MIDI -> encoding must give the same encoding, for
// every accepted song, with the reference settings and with --transpose none --ties merge.
// The MIDI file carries the key of the encoding's frame as its key signature: after reference transposition
// that is C major or A minor (no sharps or flats), with `none` the song's own key.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "formats/kern_reader.h"
#include "formats/midi_reader.h"
#include "formats/midi_writer.h"
#include "formats/text_encoding.h"
#include "util/error.h"

using namespace melodist;

namespace {

std::vector<std::string> erk_files() {
  std::vector<std::string> files;
  const std::filesystem::path dir = std::filesystem::path(MELODIST_SHARED_DIR) / "data/essen/deutschl/erk";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".krn") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

void round_trip(const EncodeOptions& options, bool reference_frame) {
  const std::vector<std::string> files = erk_files();
  if (files.empty()) GTEST_SKIP() << "no Essen erk collection under " MELODIST_SHARED_DIR "/data/essen/deutschl/erk";
  size_t accepted = 0, same = 0, steps = 0, bytes = 0;
  for (const std::string& path : files) {
    Melody kern;
    try {
      kern = read_kern_file(path);
    } catch (const Error&) {
      continue;  // unreadable kern files are the kern reader's business
    }
    const EncodedSong first = encode_melody(kern, options);
    if (!first.accepted) continue;
    ++accepted;
    Melody decoded = decode_symbols(first.symbols, options.step);
    if (reference_frame) {
      Key frame;
      frame.minor = first.key.minor;
      frame.tonic_pitch_class = frame.minor ? 9 : 0;
      frame.spelling = frame.minor ? "a" : "C";
      decoded.key = frame;
    } else {
      decoded.key = first.key;
    }
    decoded.time_signature = kern.time_signature;
    const std::string midi = write_midi(decoded);
    bytes += midi.size();
    const Melody back = extract_melody(parse_midi(midi, path + ".mid"), MidiExtractOptions{-1, -1, options.step}, path + ".mid");
    const EncodedSong second = encode_melody(back, options);
    ASSERT_TRUE(second.accepted) << path << ": " << second.reason;
    EXPECT_EQ(second.key_source, KeySource::designation) << path;
    EXPECT_EQ(second.key.minor, first.key.minor) << path;
    if (second.symbols == first.symbols) {
      ++same;
    } else {
      ADD_FAILURE() << path << "\n first:  " << join_symbols(first.symbols) << "\n second: " << join_symbols(second.symbols);
    }
    steps += first.symbols.size();
  }
  std::printf("round trip: %zu of %zu accepted erk songs give the same encoding (%zu steps, %zu MIDI bytes)\n", same,
              accepted, steps, bytes);
  EXPECT_GT(accepted, 1600u);  // issue 2: 1,683 accepted
  EXPECT_EQ(same, accepted);
}

}  // namespace

TEST(MidiRoundTrip, ErkReferenceEncoding) {
  EncodeOptions options;
  options.durations = reference_durations();
  round_trip(options, true);
}

TEST(MidiRoundTrip, ErkWrittenPitchesMergedTies) {
  EncodeOptions options;
  options.durations = reference_durations();
  options.transpose = TransposeMode::none;
  options.ties = TieMode::merge;
  round_trip(options, false);
}
