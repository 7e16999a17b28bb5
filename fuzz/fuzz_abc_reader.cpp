// libFuzzer target for the ABC reader and the encoder behind it (with --triplets, --countdown-bars and --final-mark, and
// the decoder of that encoding): any bytes must give tunes whose melodies
// are in range, or a melodist::Error with a one-line message naming the file, never a crash, hang or
// sanitizer report.
//   CXX=clang++ cmake -S . -B build-fuzz -DMELODIST_FUZZ=ON -DMELODIST_NATIVE=OFF
//   cmake --build build-fuzz --target fuzz_abc_reader
//   build-fuzz/fuzz/fuzz_abc_reader -max_total_time=600 -max_len=65536 tests/fixtures/abc
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/abc_reader.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace {
void check_message(std::string_view message) {
  if (message.find('\n') != std::string_view::npos || message.substr(0, 9) != "fuzz.abc:") std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  melodist::AbcBook book;
  try {
    book = melodist::split_abc_book(text, "fuzz.abc");
  } catch (const melodist::Error& e) {
    check_message(e.what());
    return 0;
  }
  for (const auto& tune : book.tunes) {
    for (int voice : {0, 2}) {
      melodist::Melody melody;
      try {
        melody = melodist::parse_abc_tune(tune, {voice}, "fuzz.abc");
      } catch (const melodist::Error& e) {
        check_message(e.what());
        continue;
      }
      for (const auto& event : melody.events) {
        if (event.pitch != melodist::kRest && (event.pitch < 0 || event.pitch > 127)) std::abort();
        if (event.duration < melodist::Rational(0)) std::abort();
      }
      melodist::EncodeOptions any;
      any.step = melodist::Rational(1, 12);
      any.barlines = true;
      melodist::EncodedSong song = melodist::encode_melody(melody, any);
      if (song.accepted && song.symbols.empty()) std::abort();
      // Triplet windows and countdown barlines at the bundled model's step: an accepted encoding decodes
      // to the melody's own notes and lengths.
      melodist::EncodeOptions windows = any;
      windows.step = melodist::Rational(1, 4);
      windows.triplets = true;
      windows.countdown_bars = 4;
      windows.final_mark = true;
      windows.durations.clear();
      windows.transpose = melodist::TransposeMode::none;
      song = melodist::encode_melody(melody, windows);
      if (!song.accepted) continue;
      const melodist::Melody back = melodist::decode_symbols(song.symbols, windows.step);
      melodist::Rational in(0), out(0);
      for (const auto& e : melody.events) in += e.duration;
      for (const auto& e : back.events) out += e.duration;
      if (!(in == out) || back.events.empty()) std::abort();
      if (std::count(song.symbols.begin(), song.symbols.end(), std::string(melodist::kFinalSymbol)) != (song.notes > 0 ? 1 : 0)) std::abort();
    }
  }
  return 0;
}
