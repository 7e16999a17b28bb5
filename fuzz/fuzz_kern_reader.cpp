// libFuzzer target for the **kern reader and the encoder behind it: any bytes must give a Melody or a
// melodist::Error with a one-line message, never a crash, hang or sanitizer report.
//   CXX=clang++ cmake -S . -B build-fuzz -DMELODIST_FUZZ=ON -DMELODIST_NATIVE=OFF
//   cmake --build build-fuzz --target fuzz_kern_reader
//   build-fuzz/fuzz/fuzz_kern_reader -max_total_time=600 -max_len=65536 tests/fixtures/kern
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/kern_reader.h"
#include "formats/text_encoding.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  melodist::Melody melody;
  try {
    melody = melodist::parse_kern(text, "fuzz.krn");
  } catch (const melodist::Error& e) {
    std::string_view message = e.what();
    if (message.find('\n') != std::string_view::npos || message.substr(0, 9) != "fuzz.krn:") std::abort();
    return 0;
  }
  for (const auto& event : melody.events)
    if (event.pitch != melodist::kRest && (event.pitch < 0 || event.pitch > 127)) std::abort();
  melodist::EncodeOptions reference;
  reference.durations = melodist::reference_durations();
  melodist::EncodeOptions any;
  any.ties = melodist::TieMode::merge;
  any.step = melodist::Rational(1, 48);
  for (const auto& options : {reference, any}) {
    melodist::EncodedSong song = melodist::encode_melody(melody, options);
    if (song.accepted && song.symbols.size() < 100000) {
      melodist::Melody back = melodist::decode_symbols(song.symbols, options.step);
      if (back.events.empty()) std::abort();
    }
  }
  return 0;
}
