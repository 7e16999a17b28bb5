#pragma once
// Meter symbols: an optional input feature of the text encoding (`preprocess --meter-symbol`). With it,
// each song that names a meter begins with ONE symbol for it, right after the key symbol when there is
// one and before any barline symbol: "K:G M:6/8 | 67 _ ...". The meter is the song's first one
// (Melody::time_signature: kern *M6/8, ABC M:, MusicXML <time>, the first MIDI time-signature event);
// a song whose file names none (a MIDI file without a time-signature event, ABC "M:none") gets no
// meter symbol. Later meter changes are not symbols: the barline symbols ("|", `--barlines`) say where
// every bar of every meter falls.
//
// Why a symbol: as for key symbols (formats/key_symbol.h), the network stays one symbol per step and
// reads the meter first; a model trained on such data can be primed with a meter (`generate --meter`).
// A meter symbol takes no time: decoding sets the melody's meter from the first one and skips the others.
// Spelling: "M:" numerator "/" denominator, decimal, no leading zeros ("M:4/4", "M:2/2", "M:12/8").
#include <optional>
#include <string>
#include <string_view>

#include "music/melody.h"

namespace melodist {

inline constexpr std::string_view kMeterSymbolPrefix = "M:";

// "M:6/8".
std::string meter_symbol(const TimeSignature& meter);
// The meter named by `symbol`, or nullopt when it is not a meter symbol (numerator and denominator
// 1..9999: the readers accept meters such as MusicXML's 2+3+2 / 8 = 7/8 and ABC's M:3/10).
std::optional<TimeSignature> parse_meter_symbol(std::string_view symbol);
// "6/8" (the form of `generate --meter`) -> the meter; nullopt when malformed.
std::optional<TimeSignature> parse_meter_text(std::string_view text);
// A command-line time signature (`--time-signature`, `--meter`): parse_meter_text, else melodist::Error
// "OPTION "TEXT" is not a time signature N/D such as 3/4 or 6/8". What a writer cannot write (MIDI: a
// denominator that is not a power of two) its writer refuses, naming the file.
TimeSignature parse_time_signature_option(std::string_view text, const std::string& option);
// The length of one bar of `meter` in quarter notes (6/8 -> 3).
Rational bar_length(const TimeSignature& meter);

}  // namespace melodist
