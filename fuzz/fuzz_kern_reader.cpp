// libFuzzer target for the **kern reader and the encoder behind it (what `preprocess` and `encode` run
// on every file): any bytes must give a Melody or a one-line melodist::Error from the reader, and then,
// under each option set below, an accepted encoding or a one-line rejection reason from the encoder,
// never an exception, crash, hang or sanitizer report. (An exception out of encode_melody is what ended
// whole preprocess runs, issue 21: it is not caught here, so libFuzzer reports it as a crash.)
//   CXX=clang++ cmake -S . -B build-fuzz -DMELODIST_FUZZ=ON -DMELODIST_NATIVE=OFF
//   cmake --build build-fuzz --target fuzz_kern_reader
//   build-fuzz/fuzz/fuzz_kern_reader -max_total_time=600 -max_len=65536 CORPUS_DIR
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "formats/kern_reader.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace {

bool one_line(std::string_view s) { return !s.empty() && s.find('\n') == std::string_view::npos; }

// The command-line option sets worth reaching: the defaults, --durations any, --ties merge (a tied
// chain's sum), fine steps (a length over the step), --transpose none, the key symbol and barlines.
std::vector<melodist::EncodeOptions> option_sets() {
  using namespace melodist;
  std::vector<EncodeOptions> sets(5);
  sets[0].durations = reference_durations();                   // preprocess's defaults
  sets[1].durations = {};                                       // --durations any
  sets[2].ties = TieMode::merge;                                // --durations any --ties merge --step 1/48
  sets[2].step = Rational(1, 48);
  sets[2].transpose = TransposeMode::none;
  sets[3].durations = reference_durations();                    // --ties merge --key-symbol --barlines
  sets[3].ties = TieMode::merge;
  sets[3].key_symbol = true;
  sets[3].barlines = true;
  sets[4].ties = TieMode::merge;                                // --durations any --ties merge --step 1/12 --barlines
  sets[4].step = Rational(1, 12);
  sets[4].barlines = true;
  return sets;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<melodist::EncodeOptions> kOptionSets = option_sets();
  std::string_view text(reinterpret_cast<const char*>(data), size);
  melodist::Melody melody;
  try {
    melody = melodist::parse_kern(text, "fuzz.krn");
  } catch (const melodist::Error& e) {
    std::string_view message = e.what();
    if (!one_line(message) || message.substr(0, 9) != "fuzz.krn:") std::abort();
    return 0;
  }
  for (const auto& event : melody.events)
    if (event.pitch != melodist::kRest && (event.pitch < 0 || event.pitch > 127)) std::abort();
  for (const auto& options : kOptionSets) {
    const melodist::EncodedSong song = melodist::encode_melody(melody, options);  // must not throw
    if (song.accepted != song.reason.empty() || (!song.accepted && (!song.symbols.empty() || !one_line(song.reason))))
      std::abort();
    if (song.accepted && song.symbols.empty()) std::abort();
    if (song.accepted && song.symbols.size() < 100000) {
      melodist::Melody back = melodist::decode_symbols(song.symbols, options.step);  // its own encoding must decode
      if (back.events.empty()) std::abort();
    }
  }
  return 0;
}
