#pragma once
// Composing melodies with a trained model, as the reference does but with the state kept:
// the network reads `delimiter_length` "/" start symbols and the primer once, then advances one step
// per generated note; generation stops at the first "/" the model chooses or after max_steps symbols.
// Without a primer, the first symbol is drawn without "/" and "_" (see BeamOptions::banned_at_start):
// a model trained on songs separated by 64 "/" finds "/" the likeliest symbol after 64 "/".
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/text_encoding.h"
#include "generate/beam_search.h"
#include "generate/constraints.h"
#include "nn/model.h"

namespace melodist {

// The longest primer accepted, in symbols (a primer is a seed, not a song collection).
inline constexpr size_t kMaxPrimerSymbols = 4096;

// The musical controls (`generate --key --meter --bars --pickup --end-on`), by constrained decoding
// (generate/constraints.h).
//  - key: primes the model with its key symbol; a model trained with `--transpose reference` is primed
//    with "K:C" / "K:Am" and its output is transposed to the key (the nearer way, -6..+5 semitones),
//    key symbol included; a model without key symbols refuses it.
//  - meter: primes the model with its meter symbol; a model without meter symbols refuses it.
//  - bars: exactly this many whole bars after a pickup of `pickup` quarters (shorter than a bar).
//  - end_on: the last note is the key's tonic (or a note of its tonic triad).
//  - fallback_meter: the bar length for a model without meter symbols (`--time-signature`).
// A primer's own key or meter symbol that contradicts key / meter is an error.
struct GenerateControls {
  std::optional<Key> key;
  std::optional<TimeSignature> meter;
  int bars = 0;                      // 0: off
  Rational pickup{0};                // quarters
  EndOn end_on = EndOn::any;
  std::optional<TimeSignature> fallback_meter;
};

struct GenerateOptions {
  // How the model's songs were encoded (formats/model_file.h model_encode_options): its step (the bar
  // length in symbols) and whether its pitches were moved to C major / A minor (GenerateControls::key).
  EncodeOptions encoding;
  std::vector<std::string> primer;  // symbols in the text encoding, no "/" (may be empty: start a song)
  BeamOptions beam;                 // steps, sampler, beam size, branch factor, seed
  int num_outputs = 1;
  int delimiter_length = kDefaultDelimiterLength;
  GenerateControls controls;
  // Candidates drawn per output (0: kDefaultBarsCandidates with --bars, else 1). With K > 1 and
  // constraints, one of the K is kept with probability proportional to its importance weight
  // (BeamResult::log_weight): sampling-importance-resampling towards the model's own distribution over
  // melodies that meet the constraints. The masks alone cut a melody wherever bar N ends; the weight
  // holds the model's probability of ending there, so the kept one more often ends as songs end.
  int candidates = 0;
};

inline constexpr int kDefaultBarsCandidates = 16;
inline constexpr int kMaxCandidates = 1024;

struct GeneratedMelody {
  std::vector<std::string> symbols;  // primer (with the key and meter symbols of the controls) + generated, no "/";
                                     // transposed to GenerateControls::key when the model's pitches are not
  size_t generated_steps = 0;        // symbols the model added
  int notes = 0;                     // note onsets in `symbols`
  bool ended = false;                // the model ended the song ("/"); false: stopped at --steps
  double log_likelihood = 0;         // nats of the generated part (closing "/" included when ended)
  bool constrained = false;          // log_likelihood is under the constrained distribution (constraints.h)
  double log_weight = 0;             // constrained: ln p(melody) / q(melody), p the tempered model, q the
                                     // constrained sampler (BeamResult::log_weight); 0 unconstrained
  int transposition = 0;             // semitones added to the model's pitches (GenerateControls::key)
  std::optional<Key> key;            // GenerateControls::key: the written key when no key symbol says it
};

// Primer symbols -> ids. Throws melodist::Error (one line) for an unknown symbol (listing the model's
// vocabulary), a "/" inside the primer, or a primer longer than kMaxPrimerSymbols.
std::vector<int> primer_ids(const Model& model, const std::vector<std::string>& primer);

// Reads a song file and encodes it as training did (the model's encoding: grid, durations, transposition).
// Throws melodist::Error naming the file when it cannot be read or encoded. A primer is encoded without
// the countdown barlines ("|3": EncodeOptions::countdown_bars); `whole_song` (scoring a song) keeps them.
std::vector<std::string> primer_from_song_file(const EncodeOptions& encoding, const std::string& path,
                                               bool whole_song = false);

std::vector<GeneratedMelody> generate_melodies(const Model& model, const GenerateOptions& options);

}  // namespace melodist
