#pragma once
// Key symbols: an optional input feature of the text encoding (`preprocess --key-symbol`). With it, each
// song begins with ONE symbol naming its key, written the way ABC notation writes keys: "K:G" (G major),
// "K:Em" (E minor), "K:Bb", "K:F#m". The key is the one the encoder uses (the file's first key
// designation, else the estimated key), after transposition, so a `--transpose reference` song always
// starts with "K:C" or "K:Am".
//
// Why a symbol and not a separate input: the network, its file format, training, scoring and generation
// stay one-symbol-per-step; the LSTM reads the key as its first input after the "/" delimiters and keeps
// it in its state, and a model trained on such data samples a key first and then a melody in it.
// Together with `train --augment-transpose` (which moves the key symbol with the pitches, train/augment.h)
// the network sees each song in several keys AND is told which, the input that IDyOM's tonic-relative
// viewpoints (cpintfref) take from the same key designation.
//
// Spelling is canonical by pitch class, one name per key whatever the file wrote (a kern *C#: song gets
// "K:Db"): majors C Db D Eb E F F# G Ab A Bb B, minors Cm C#m Dm Ebm Em Fm F#m Gm G#m Am Bbm Bm.
// parse_key_symbol accepts any letter with an optional '#' or 'b', so "K:Gb" and "K:D#m" read too.
// A key symbol takes no time: decoding sets the melody's key from the first one and skips the others.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "music/melody.h"

namespace melodist {

inline constexpr std::string_view kKeySymbolPrefix = "K:";

// The canonical key symbol of a tonic pitch class (any integer, taken modulo 12) and mode.
std::string key_symbol(int tonic_pitch_class, bool minor);
// The key named by `symbol`, or nullopt when it is not a key symbol (no spelling is kept).
std::optional<Key> parse_key_symbol(std::string_view symbol);
// A key as a musician names it, the one parser of every --key and "key" field (generate, decode, convert,
// the library's GenerationOptions, the server): the key symbol's form without "K:" ("D", "Em", "Bb",
// "F#m"); a tonic and a mode word ("D major", "e minor", "Bb minor", "B- major"); or kern spelling, the
// case giving the mode ("C", "a", "B-", "f#"). The spelling is kept, kern style ("B-", "f#"), so a writer
// prints the signature asked for (C# major: 7 sharps; Db major: 5 flats). nullopt when it is none of these.
std::optional<Key> parse_key_name(std::string_view text);
// The 24 canonical key symbols, majors then minors, each by ascending tonic pitch class from C: the
// order in which mapping.json lists them.
std::vector<std::string> all_key_symbols();

}  // namespace melodist
