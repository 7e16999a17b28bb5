#pragma once
// The reference's text encoding (the "generating melodies with RNN-LSTM" recipe):
// one symbol per step (default a 16th note = 1/4 quarter): the MIDI number at a note's first step,
// "r" at a rest's first step, "_" at every further step of the same note or rest. Songs are joined
// with `delimiter_length` "/" symbols. Symbols are separated by single spaces.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "music/melody.h"
#include "nn/model.h"  // kDelimiterSymbol, kDefaultDelimiterLength
#include "util/rational.h"

namespace melodist {

inline constexpr const char* kHoldSymbol = "_";
inline constexpr const char* kRestSymbol = "r";
inline constexpr const char* kBarSymbol = "|";  // a barline (`--barlines`): takes no time
// The barlines that open the song's last bars (`--countdown-bars N`): "|3" opens the third bar from the end,
// "|1" the last one. They take no time, like "|", and tell the network that the end is near and where: the
// song ends when the bar "|1" opens is over. (The network cannot count the bars of a whole song; a
// decoder asked for N bars then forces the countdown where it falls, and one left to end the song
// itself ends it only after "|1", so every ending is one the network saw coming.)
inline constexpr int kMaxCountdownBars = 16;
// A triplet window (`--triplets`): "(3:1" says that the next three timed symbols ("r", "_", a MIDI number)
// share one quarter (each a third of it), "(3:1/2" one eighth, as ABC's "(3" does. The window is a whole
// number of steps (1, 2, 4 or 8) and so the grid stays whole around it.
inline constexpr const char* kTripletPrefix = "(3:";
// The final note's mark (`--final-mark`): "$" goes before the step (or triplet window) at which the song's
// last note starts and takes no time. It tells the network, before it chooses that note, that the melody
// closes on it (the countdown says which bar is the last, not which note); a decoder then draws "$" only
// in the last bar and no note after the one it marks.
inline constexpr const char* kFinalSymbol = "$";
inline constexpr const char* kLengthPrefix = ":";  // EncodeOptions::per_note: ":6" a length of 6 steps
inline constexpr int kMaxTripletQuarters = 8;

enum class TransposeMode { reference, none };  // reference: major -> C, minor -> A
enum class TieMode { reattack, merge };         // reattack: every tied part is its own note (reference)

struct EncodeOptions {
  Rational step{1, 4};                 // quarter notes per symbol
  // Allowed note/rest lengths in quarters for KERN songs (the reference's rule); empty = any whole number
  // of steps. Songs from MIDI, ABC and MusicXML (Melody::source_format) accept any whole number of steps
  // whatever this says: long notes and rests are what real melodies have.
  std::vector<Rational> durations;
  TransposeMode transpose = TransposeMode::reference;
  TieMode ties = TieMode::reattack;
  bool key_symbol = false;             // start the song with its key symbol, "K:G" (formats/key_symbol.h)
  // Then its meter symbol, "M:6/8" (formats/meter_symbol.h), when the song names a meter; before any "|".
  bool meter_symbol = false;
  // Put "|" before the step at which each of the melody's barlines falls (kern "=" records, ABC and
  // MusicXML bar lines, MIDI bars from the time-signature events; an input that tells the network the
  // position in the bar, as the file does; a hold continues across it).
  bool barlines = false;
  // With barlines: the last min(countdown_bars, barlines) barlines are "|N" .. "|1" (kBarSymbol plus the
  // number of bars left), 0 = none. A primer is a song's beginning, so primers are encoded without.
  int countdown_bars = 0;
  // Notes that start between the steps in a window of 8, 4, 2 or 1 steps whose onsets all fall on its
  // thirds are written as that window's triplet symbol and three units (the largest window that fits, no
  // barline inside); without, such songs are refused as today. Songs without triplets encode the same.
  bool triplets = false;
  // "$" (kFinalSymbol) before the step or window at which the last note starts.
  bool final_mark = false;
  // With key_symbol and countdown_bars: the key symbol again right after the first countdown line, so
  // the network is reminded of the key where the closing bars begin (a long song's start is far back).
  bool countdown_key = false;
  // One symbol per note, its MIDI number: no holds, rests, barlines, key or meter symbols (IDyOM's chromatic
  // pitch sequence, for a like-for-like comparison). The length filter still applies, so a pitch-only
  // dataset holds the same songs and the same notes as the step encoding with the same options.
  bool pitch_only = false;
  // One symbol per note or rest (its MIDI number or "r") followed by its length in steps (":6",
  // kLengthPrefix), with the key and meter symbols and "|" (before the note or rest at whose start a
  // barline falls) as in the step encoding: what the step encoding says, in about a quarter of the
  // symbols (a note lasts 6 to 12 steps of 1/12 in the Essen songs), so a network reads a whole song in a
  // few dozen steps. For prediction and evaluation (generate refuses such models: see
  // check_generate_encoding); not with --triplets, --countdown-bars, --final-mark or --pitch-only.
  bool per_note = false;
};

// The reference's allowed lengths: 1/4, 1/2, 3/4, 1, 3/2, 2, 3, 4 quarter notes.
std::vector<Rational> reference_durations();

struct EncodedSong {
  bool accepted = false;
  std::string reason;                  // why rejected, e.g. "note of 1/3 quarter at line 17"
  // Rejected as bad input rather than filtered: a length beyond exact arithmetic (a tied chain with
  // --ties merge, or a length over the step), reason "duration too large or too finely divided at line 4".
  bool malformed = false;
  std::vector<std::string> symbols;    // the encoding (empty when rejected)
  Key key;                             // the key used for transposition
  KeySource key_source = KeySource::designation;
  int transposition = 0;               // semitones added to every pitch
  int notes = 0;                       // number of note onsets in the encoding
};

// Filters, transposes and encodes one melody. Never throws melodist::Error: a melody that the encoder
// cannot represent, lengths that overflow its exact arithmetic included, is returned with
// accepted = false and a reason.
EncodedSong encode_melody(const Melody& melody, const EncodeOptions& options);

// Throws melodist::Error for options that contradict each other (--pitch-only with an input symbol).
void check_encode_options(const EncodeOptions& options);
// Throws melodist::Error for a model whose encoding generate cannot turn back into a melody (pitch_only,
// per_note: prediction models for evaluate and crossval).
void check_generate_encoding(const EncodeOptions& options);

// The window in quarters of a triplet symbol ("(3:1/2" -> 1/2), nullopt for any other symbol.
std::optional<Rational> triplet_window(std::string_view s);
std::string triplet_symbol(const Rational& window);
// The steps of a length symbol (EncodeOptions::per_note: ":6" -> 6, at least 1), nullopt for any other symbol.
std::optional<int64_t> length_steps(std::string_view s);
std::string length_symbol(int64_t steps);
// -1 when `s` is no barline symbol, 0 for "|", N for "|N" (1 <= N <= kMaxCountdownBars).
int bar_countdown(std::string_view s);
// "|N" for N >= 1, "|" for 0.
std::string bar_symbol(int countdown);

// Splits encoded text on whitespace into symbols (no validation).
std::vector<std::string> split_symbols(std::string_view text);
// Joins symbols with single spaces (no trailing space).
std::string join_symbols(const std::vector<std::string>& symbols);

// Turns symbols back into a melody (notes and rests with lengths in quarters, no ties).
// Leading "_" (holding nothing) and "/" delimiters end or are refused: throws melodist::Error naming
// the offending symbol and its position for anything that is not a MIDI number 0..127, "r", "_", "/",
// "(3:W" (the next three timed symbols take W / 3 quarters each), "$" (takes no time), "|" or "|N" (a barline: takes no time, a hold continues across it; its time goes to melody.barlines), a key
// symbol (formats/key_symbol.h: it takes no time; the first one sets melody.key) or a meter symbol
// (formats/meter_symbol.h: it takes no time; the first one sets melody.time_signature).
// Decoding stops at the first "/" after a note (the reference's end of song).
Melody decode_symbols(const std::vector<std::string>& symbols, Rational step = Rational(1, 4));

// The command-line forms that preprocess, encode and decode share:
// "1/4,1/2,0.75" -> lengths, "any" -> empty (every whole number of steps); throws "--durations: ...".
std::vector<Rational> parse_durations_option(const std::string& text);
// "1/4" or "0.25" -> a positive step; throws "--step: ..." / "--step must be positive".
Rational parse_step_option(const std::string& text);

}  // namespace melodist
