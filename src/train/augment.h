#pragma once
// Transposition augmentation (`train --augment-transpose N`), for corpora kept at their written pitch
// (`preprocess --transpose none`): each epoch every TRAINING song is shifted by d semitones, d drawn
// uniformly from the offsets in [-N, N] that keep every pitch of the song inside the vocabulary (0 is
// always one of them). Validation and held-out songs are never shifted.
//
// Pitch symbols are the MIDI-number symbols of the text encoding ("0" .. "127", written as
// std::to_string writes them); "r", "_", "/" and any other symbol stay as they are. The shift of a
// pitch symbol is the symbol of the shifted MIDI number, when the vocabulary holds it. A key symbol
// ("K:G", formats/key_symbol.h; `preprocess --key-symbol`) moves with the pitches: "K:G" shifted by +2 is
// "K:A", so the network is told the key of every transposed copy.
//
// The offset of song i in epoch e comes from mt19937_64(mix_seed(mix_seed(seed, 0xa06e0000 + e), i))
// (batching.h's mix_seed): the same seed gives the same songs on every machine, a resumed run the same
// ones, and an epoch's songs do not depend on the other songs or on the batch order.
#include <cstdint>
#include <string>
#include <vector>

namespace melodist {

// MIDI number of a pitch symbol, -1 for every other symbol.
int pitch_of_symbol(const std::string& symbol);

struct TransposeTable {
  int max_shift = 0;                 // N
  int vocab_size = 0;                // V
  std::vector<int> shifted;          // (2N+1, V): row d + N: id of symbol v shifted by d, -1 when absent
  int shift(int id, int d) const { return shifted[static_cast<size_t>(d + max_shift) * vocab_size + id]; }
};

// Throws melodist::Error for N outside [0, 127].
TransposeTable make_transpose_table(const std::vector<std::string>& vocabulary, int max_shift);

// The offsets in [-N, N], ascending, that keep every symbol of `song` (ids) inside the vocabulary.
std::vector<int> allowed_shifts(const TransposeTable& table, const std::vector<int>& song);

// `song` shifted by d (which must be allowed).
std::vector<int> transpose_song(const TransposeTable& table, const std::vector<int>& song, int d);

// The training songs of one epoch, with the allowed offsets of each song computed once.
struct TransposeAugmenter {
  TransposeTable table;
  std::vector<std::vector<int>> allowed;  // per song, allowed_shifts
};
TransposeAugmenter make_transpose_augmenter(const std::vector<std::string>& vocabulary,
                                            const std::vector<std::vector<int>>& songs, int max_shift);
// The offset drawn for song `index` in `epoch` (0-based), and every song of the epoch shifted by its own.
int epoch_shift(const TransposeAugmenter& augmenter, uint64_t seed, int epoch, size_t index);
std::vector<std::vector<int>> augment_epoch(const TransposeAugmenter& augmenter,
                                            const std::vector<std::vector<int>>& songs, uint64_t seed, int epoch);

}  // namespace melodist
