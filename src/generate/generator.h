#pragma once
// Composing melodies with a trained model, as the reference does but with the state kept:
// the network reads `delimiter_length` "/" start symbols and the primer once, then advances one step
// per generated note; generation stops at the first "/" the model chooses or after max_steps symbols.
// Without a primer, the first symbol is drawn without "/" and "_" (see BeamOptions::banned_at_start):
// a model trained on songs separated by 64 "/" finds "/" the likeliest symbol after 64 "/".
#include <cstdint>
#include <string>
#include <vector>

#include "formats/text_encoding.h"
#include "generate/beam_search.h"
#include "nn/model.h"

namespace melodist {

// The longest primer accepted, in symbols (a primer is a seed, not a song collection).
inline constexpr size_t kMaxPrimerSymbols = 4096;

struct GenerateOptions {
  std::vector<std::string> primer;  // symbols in the text encoding, no "/" (may be empty: start a song)
  BeamOptions beam;                 // steps, sampler, beam size, branch factor, seed
  int num_outputs = 1;
  int delimiter_length = kDefaultDelimiterLength;
};

struct GeneratedMelody {
  std::vector<std::string> symbols;  // primer + generated symbols, no "/"
  size_t generated_steps = 0;        // symbols the model added
  int notes = 0;                     // note onsets in `symbols`
  bool ended = false;                // the model ended the song ("/"); false: stopped at --steps
  double log_likelihood = 0;         // nats of the generated part (closing "/" included when ended)
};

// Primer symbols -> ids. Throws melodist::Error (one line) for an unknown symbol (listing the model's
// vocabulary), a "/" inside the primer, or a primer longer than kMaxPrimerSymbols.
std::vector<int> primer_ids(const Model& model, const std::vector<std::string>& primer);

// The preprocessing options the model was trained with (model.metadata["preprocessing"], as
// `melodist preprocess` writes them in manifest.json "options"); the reference's options when absent.
EncodeOptions model_encode_options(const Model& model);

// Reads a .krn/.mid song and encodes it as training did (same grid, durations, transposition).
// Throws melodist::Error naming the file when it cannot be read or encoded.
std::vector<std::string> primer_from_song_file(const Model& model, const std::string& path);

std::vector<GeneratedMelody> generate_melodies(const Model& model, const GenerateOptions& options);

}  // namespace melodist
