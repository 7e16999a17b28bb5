#include "train/augment.h"

#include <random>
#include <unordered_map>

#include "formats/key_symbol.h"
#include "train/batching.h"
#include "util/error.h"

namespace melodist {

int pitch_of_symbol(const std::string& symbol) {
  if (symbol.empty() || symbol.size() > 3) return -1;
  if (symbol.size() > 1 && symbol[0] == '0') return -1;  // not how the encoder writes a number
  int value = 0;
  for (char c : symbol) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value <= 127 ? value : -1;
}

TransposeTable make_transpose_table(const std::vector<std::string>& vocabulary, int max_shift) {
  if (max_shift < 0 || max_shift > 127)
    throw Error("--augment-transpose " + std::to_string(max_shift) + " makes no sense (0 to 127 semitones)");
  TransposeTable t;
  t.max_shift = max_shift;
  t.vocab_size = static_cast<int>(vocabulary.size());
  std::unordered_map<int, int> id_of_pitch;  // MIDI number -> id
  std::unordered_map<std::string, int> id_of_symbol;
  for (int v = 0; v < t.vocab_size; ++v) {
    if (const int p = pitch_of_symbol(vocabulary[v]); p >= 0) id_of_pitch[p] = v;
    id_of_symbol[vocabulary[v]] = v;
  }
  t.shifted.assign(static_cast<size_t>(2 * max_shift + 1) * t.vocab_size, -1);
  for (int d = -max_shift; d <= max_shift; ++d)
    for (int v = 0; v < t.vocab_size; ++v) {
      const int p = pitch_of_symbol(vocabulary[v]);
      int to = v;  // neither a pitch nor a key: stays
      if (p >= 0) {
        auto it = id_of_pitch.find(p + d);
        to = it == id_of_pitch.end() ? -1 : it->second;
      } else if (const auto key = parse_key_symbol(vocabulary[v])) {
        auto it = id_of_symbol.find(key_symbol(key->tonic_pitch_class + d, key->minor));
        to = it == id_of_symbol.end() ? -1 : it->second;
      }
      t.shifted[static_cast<size_t>(d + max_shift) * t.vocab_size + v] = to;
    }
  return t;
}

std::vector<int> allowed_shifts(const TransposeTable& table, const std::vector<int>& song) {
  std::vector<bool> used(table.vocab_size, false);
  for (int id : song) used[id] = true;
  std::vector<int> out;
  for (int d = -table.max_shift; d <= table.max_shift; ++d) {
    bool ok = true;
    for (int v = 0; v < table.vocab_size && ok; ++v) ok = !used[v] || table.shift(v, d) >= 0;
    if (ok) out.push_back(d);
  }
  return out;
}

std::vector<int> transpose_song(const TransposeTable& table, const std::vector<int>& song, int d) {
  std::vector<int> out(song.size());
  for (size_t i = 0; i < song.size(); ++i) {
    out[i] = table.shift(song[i], d);
    if (out[i] < 0) throw Error("transpose_song: a shift of " + std::to_string(d) + " leaves the vocabulary");
  }
  return out;
}

TransposeAugmenter make_transpose_augmenter(const std::vector<std::string>& vocabulary,
                                            const std::vector<std::vector<int>>& songs, int max_shift) {
  TransposeAugmenter a;
  a.table = make_transpose_table(vocabulary, max_shift);
  a.allowed.reserve(songs.size());
  for (const auto& s : songs) a.allowed.push_back(allowed_shifts(a.table, s));
  return a;
}

int epoch_shift(const TransposeAugmenter& a, uint64_t seed, int epoch, size_t index) {
  const auto& allowed = a.allowed.at(index);  // never empty: 0 is always allowed
  std::mt19937_64 rng(mix_seed(mix_seed(seed, 0xa06e0000ULL + static_cast<uint64_t>(epoch)), static_cast<uint64_t>(index)));
  return allowed[rng() % allowed.size()];
}

std::vector<std::vector<int>> augment_epoch(const TransposeAugmenter& a, const std::vector<std::vector<int>>& songs,
                                            uint64_t seed, int epoch) {
  std::vector<std::vector<int>> out;
  out.reserve(songs.size());
  for (size_t i = 0; i < songs.size(); ++i) out.push_back(transpose_song(a.table, songs[i], epoch_shift(a, seed, epoch, i)));
  return out;
}

}  // namespace melodist
