// libFuzzer target for the Standard MIDI File reader: any bytes must give a melody or a melodist::Error,
// never a crash, hang, leak or sanitizer report. The last byte, when present, picks the part options
// (track, channel, grid) so that extraction paths beyond the default are reached too.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "formats/midi_reader.h"
#include "formats/midi_writer.h"
#include "formats/text_encoding.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const melodist::MidiFile file = melodist::parse_midi(bytes, "fuzz.mid");
    melodist::MidiExtractOptions options;
    if (size > 0) {
      const uint8_t knob = data[size - 1];
      options.track = (knob & 0x80) ? (knob & 0x03) : -1;
      options.channel = (knob & 0x40) ? (knob & 0x0F) : -1;
      static const melodist::Rational kSteps[] = {{1, 4}, {1, 3}, {1, 8}, {1, 2}};
      options.step = kSteps[(knob >> 4) & 0x03];
    }
    const melodist::Melody melody = melodist::extract_melody(file, options, "fuzz.mid");
    // What was read must encode and write back without surprises.
    melodist::EncodeOptions encode;
    encode.step = options.step;
    (void)melodist::encode_melody(melody, encode);
    (void)melodist::write_midi(melody);
  } catch (const melodist::Error&) {
  }
  return 0;
}
