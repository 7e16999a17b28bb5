// libFuzzer target for the MusicXML reader (XML and, for input starting with "PK", .mxl archives): any
// bytes must give a Melody or a one-line melodist::Error naming the file, never a crash, hang,
// unbounded memory or sanitizer report.
//   CXX=clang++ CC=clang cmake -S . -B build-fuzz -DMELODIST_FUZZ=ON -DMELODIST_NATIVE=OFF
//   cmake --build build-fuzz --target fuzz_musicxml_reader
//   build-fuzz/fuzz/fuzz_musicxml_reader -max_total_time=600 -max_len=65536 tests/fixtures/musicxml
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "formats/musicxml_reader.h"
#include "formats/text_encoding.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  melodist::Melody melody;
  try {
    melody = melodist::read_musicxml_bytes(bytes, "fuzz.musicxml", {});
  } catch (const melodist::Error& e) {
    std::string_view message = e.what();
    if (message.find('\n') != std::string_view::npos || message.substr(0, 13) != "fuzz.musicxml") std::abort();
    return 0;
  }
  for (const auto& event : melody.events) {
    if (event.pitch != melodist::kRest && (event.pitch < 0 || event.pitch > 127)) std::abort();
    if (!(event.duration > melodist::Rational(0))) std::abort();  // grace notes are dropped, gaps are rests
  }
  melodist::EncodeOptions any;
  any.step = melodist::Rational(1, 48);
  melodist::EncodedSong song = melodist::encode_melody(melody, any);
  if (song.accepted && song.symbols.empty()) std::abort();
  return 0;
}
