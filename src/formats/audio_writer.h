#pragma once
// Audio writer: the melody rendered offline, in memory, by FluidSynth (libfluidsynth) with a General MIDI
// soundfont, then encoded by libsndfile: .wav (16-bit PCM), .flac (16-bit), .ogg (Vorbis).
// 44.1 kHz stereo; the notes from t = 0 (no pickup rest), then kAudioTailSeconds of reverb tail; the whole
// file scaled so its peak is kAudioPeakDbfs.
#include <string>
#include <vector>

#include "music/melody.h"

namespace melodist {

inline constexpr const char* kDefaultSoundfont = "/usr/share/sounds/sf2/TimGM6mb.sf2";  // timgm6mb-soundfont
inline constexpr const char* kDefaultSoundfontPackage = "timgm6mb-soundfont";
inline constexpr int kAudioSampleRate = 44100;
inline constexpr double kAudioTailSeconds = 1.5;
inline constexpr double kAudioPeakDbfs = -1.0;

enum class AudioFormat { wav, flac, ogg };

struct AudioOptions {
  std::string soundfont = kDefaultSoundfont;
  int program = 0;       // General MIDI program 0..127 (73 flute, 110 fiddle)
  double bpm = 120.0;    // quarter notes per minute
  int velocity = 80;
};

// Samples, interleaved stereo float, peak-normalised (the audio before encoding). Throws melodist::Error
// for a missing or unreadable soundfont (naming the Debian package for the default one), a program out of
// range, or a melody with nothing to play.
std::vector<float> render_audio(const Melody& melody, const AudioOptions& options);
// The encoded file.
std::string write_audio(const Melody& melody, const AudioOptions& options, AudioFormat format);

}  // namespace melodist
