#pragma once
// melodist::api::Melody: one monophonic melody, composed by a model or read from a song file.
//
// A melody has two faces:
//   symbols()  the text encoding the models read and write: one symbol per step (a 16th note for the
//              bundled model): a MIDI number where a note starts, "r" where a rest starts, "_" where
//              the previous note or rest goes on. Example: {"67", "_", "67", "_", "r", "_"}.
//   notes()    the sounding notes, pitch (MIDI 0..127), onset and duration in quarter notes.
// Both are computed from the same events; a melody read from a file that the text encoding cannot
// hold (a triplet on a 16th grid) has notes() but empty symbols().
//
// Copying a Melody is cheap (the events are shared, immutable).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "melodist/export.h"

namespace melodist::api {

struct Note {
  int pitch = 60;         // MIDI note number 0..127
  double onset = 0;       // quarter notes from the start
  double duration = 0;    // quarter notes
};

struct Meter {
  int numerator = 4;
  int denominator = 4;    // a power of two
};

// How write() renders a melody; fields a format does not have are ignored (the text encoding has no
// tempo). New formats read the fields that apply to them.
struct WriteOptions {
  double bpm = 120.0;                 // MIDI tempo, (0, 1000]
  std::optional<Meter> meter;         // MIDI time signature; default: the melody's own, else 4/4
  int program = 0;                    // General MIDI program 0..127
  int velocity = 80;                  // 1..127
};

class MELODIST_API Melody {
 public:
  // A melody from text-encoding symbols (no "/"); step = quarter notes per symbol (1/4 for the
  // bundled model). Throws melodist::Error naming the first symbol that is not a MIDI number, "r" or "_".
  static Melody from_symbols(const std::vector<std::string>& symbols, double step = 0.25);

  Melody();
  Melody(const Melody&);
  Melody& operator=(const Melody&);
  Melody(Melody&&) noexcept;
  Melody& operator=(Melody&&) noexcept;
  ~Melody();

  const std::vector<std::string>& symbols() const;  // empty when the encoding cannot hold it
  std::vector<Note> notes() const;                   // tied notes merged, rests left out
  double step() const;                               // quarter notes per symbol
  double length() const;                             // quarter notes, rests included
  std::optional<Meter> meter() const;                // the file's first time signature, if any

  // Composed melodies only (0 / false otherwise):
  double log_likelihood() const;     // nats of the composed part under the model ("/" included when ended)
  size_t generated_steps() const;    // symbols the model added after the primer
  bool ended() const;                // the model chose the end of the song (not cut at max_steps)

  // Writes the melody; the format follows the extension (see write_song in song_file.h).
  void write(const std::string& path, const WriteOptions& options = {}) const;

  struct Impl;  // private: the library's own melody type and encoding
  explicit Melody(std::shared_ptr<const Impl> impl);
  const Impl& impl() const;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace melodist::api
