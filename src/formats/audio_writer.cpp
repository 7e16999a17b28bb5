// Audio writer: FluidSynth renders, libsndfile encodes, both in memory (no temporary MIDI or audio file).
#include "formats/audio_writer.h"

#include <fluidsynth.h>
#include <ogg/ogg.h>
#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

#include "util/error.h"
#include "util/sha256.h"

namespace melodist {

namespace {

struct Synth {
  fluid_settings_t* settings = nullptr;
  fluid_synth_t* synth = nullptr;
  ~Synth() {
    if (synth) delete_fluid_synth(synth);
    if (settings) delete_fluid_settings(settings);
  }
};

void quiet_fluidsynth() {
  // FluidSynth prints its warnings to stderr; melodist reports failures itself.
  static const bool done = [] {
    for (int level : {FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG}) fluid_set_log_function(level, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

struct NoteEvent {
  int64_t sample;
  bool on;
  int pitch;
};

// Note on/off times in samples; tied events of one pitch are one held note.
std::vector<NoteEvent> note_events(const Melody& melody, double bpm, int64_t& end) {
  std::vector<NoteEvent> events;
  const double samples_per_quarter = kAudioSampleRate * 60.0 / bpm;
  Rational t(0);
  auto at = [&](Rational q) { return static_cast<int64_t>(std::llround(q.to_double() * samples_per_quarter)); };
  for (size_t i = 0; i < melody.events.size(); ++i) {
    const MelodyEvent& e = melody.events[i];
    if (e.duration < Rational(0)) throw Error("event " + std::to_string(i + 1) + " has a negative length");
    if (e.pitch == kRest || e.duration == Rational(0)) {
      t += e.duration;
      continue;
    }
    if (e.pitch < 0 || e.pitch > 127) throw Error("event " + std::to_string(i + 1) + " has a pitch outside MIDI 0..127");
    Rational length = e.duration;
    size_t j = i;
    while (melody.events[j].tied_to_next && j + 1 < melody.events.size() && melody.events[j + 1].pitch == e.pitch)
      length += melody.events[++j].duration;
    events.push_back({at(t), true, e.pitch});
    events.push_back({at(t + length), false, e.pitch});
    t += length;
    i = j;
  }
  end = at(t);
  // Offs before ons at the same sample, so a repeated pitch is struck again.
  std::stable_sort(events.begin(), events.end(),
                   [](const NoteEvent& a, const NoteEvent& b) { return a.sample < b.sample || (a.sample == b.sample && !a.on && b.on); });
  return events;
}

void check_soundfont(const std::string& path) {
  if (std::filesystem::is_regular_file(path)) return;
  if (path == kDefaultSoundfont)
    throw Error("soundfont " + path + " not found: install the Debian package " + kDefaultSoundfontPackage +
                " (apt-get install " + kDefaultSoundfontPackage + "), or give --soundfont FILE");
  throw Error("soundfont " + path + " not found (give --soundfont FILE, a General MIDI .sf2 such as those of the Debian "
              "packages timgm6mb-soundfont or fluid-soundfont-gm)");
}

// libsndfile writes through these callbacks into a string, so the file is encoded in memory.
struct MemoryFile {
  std::string bytes;
  sf_count_t pos = 0;
};
sf_count_t mem_length(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->bytes.size()); }
sf_count_t mem_seek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? f->pos : static_cast<sf_count_t>(f->bytes.size());
  f->pos = std::max<sf_count_t>(0, base + offset);
  return f->pos;
}
sf_count_t mem_read(void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::max<sf_count_t>(0, std::min<sf_count_t>(count, static_cast<sf_count_t>(f->bytes.size()) - f->pos));
  if (n > 0) std::memcpy(ptr, f->bytes.data() + f->pos, static_cast<size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t mem_write(const void* ptr, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const size_t end = static_cast<size_t>(f->pos + count);
  if (f->bytes.size() < end) f->bytes.resize(end);
  std::memcpy(f->bytes.data() + f->pos, ptr, static_cast<size_t>(count));
  f->pos += count;
  return count;
}
sf_count_t mem_tell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

// libsndfile starts every Ogg stream with a random serial number (ogg.c: ogg_stream_init with
// psf_rand_int32(), seeded from the clock) and has no command to set it, so two renders of one melody
// would differ in bytes 14..17 of each page and in the page checksums. Here the serial of every page is
// replaced by one derived from the samples, and libogg recomputes each page's CRC (ogg_page_checksum_set).
// The walk over the pages is by hand because libogg's ogg_sync reader hands out copies of the pages, not
// places in this buffer. Page layout (RFC 3533, section 6): "OggS", version, flags, granule (8), serial (4,
// little-endian, at 14), sequence (4), CRC (4, at 22), segment count n (at 26), n lacing values, the body.
void fix_ogg_serial(std::string& bytes, const std::vector<float>& samples) {
  const std::string digest = sha256_hex(std::string_view(reinterpret_cast<const char*>(samples.data()), samples.size() * sizeof(float)));
  const uint32_t serial = static_cast<uint32_t>(std::stoul(digest.substr(0, 8), nullptr, 16));
  size_t at = 0;
  while (at < bytes.size()) {
    if (bytes.size() - at < 27 || bytes.compare(at, 4, "OggS") != 0) throw Error("libsndfile wrote an Ogg stream melodist cannot walk");
    unsigned char* page = reinterpret_cast<unsigned char*>(bytes.data() + at);
    const size_t header = 27 + page[26];
    if (bytes.size() - at < header) throw Error("libsndfile wrote an Ogg stream melodist cannot walk");
    size_t body = 0;
    for (size_t i = 27; i < header; ++i) body += page[i];
    if (bytes.size() - at - header < body) throw Error("libsndfile wrote an Ogg stream melodist cannot walk");
    for (int i = 0; i < 4; ++i) page[14 + i] = static_cast<unsigned char>(serial >> (8 * i));
    ogg_page og{page, static_cast<long>(header), page + header, static_cast<long>(body)};
    ogg_page_checksum_set(&og);
    at += header + body;
  }
}

}  // namespace

std::vector<float> render_audio(const Melody& melody, const AudioOptions& options) {
  if (options.program < 0 || options.program > 127) throw Error("--program " + std::to_string(options.program) + " is out of range 0..127");
  if (options.velocity < 1 || options.velocity > 127) throw Error("velocity must be 1..127");
  if (!(options.bpm > 0) || !std::isfinite(options.bpm)) throw Error("tempo must be a positive number of beats per minute");
  int64_t end = 0;
  const std::vector<NoteEvent> events = note_events(melody, options.bpm, end);
  if (events.empty()) throw Error("the melody holds no note to play");
  check_soundfont(options.soundfont);
  quiet_fluidsynth();
  Synth s;
  s.settings = new_fluid_settings();
  if (!s.settings) throw Error("cannot start FluidSynth");
  fluid_settings_setnum(s.settings, "synth.sample-rate", kAudioSampleRate);
  fluid_settings_setint(s.settings, "synth.chorus.active", 0);
  fluid_settings_setint(s.settings, "synth.reverb.active", 1);
  fluid_settings_setint(s.settings, "synth.threadsafe-api", 0);
  fluid_settings_setint(s.settings, "synth.cpu-cores", 1);
  s.synth = new_fluid_synth(s.settings);
  if (!s.synth) throw Error("cannot start FluidSynth");
  if (fluid_synth_sfload(s.synth, options.soundfont.c_str(), 1) == FLUID_FAILED)
    throw Error("soundfont " + options.soundfont + " cannot be read by FluidSynth (is it a .sf2 file?)");
  fluid_synth_program_change(s.synth, 0, options.program);

  const int64_t total = end + static_cast<int64_t>(std::llround(kAudioTailSeconds * kAudioSampleRate));
  std::vector<float> left(static_cast<size_t>(total)), right(static_cast<size_t>(total));
  int64_t done = 0;
  auto render_to = [&](int64_t until) {
    while (done < until) {
      const int n = static_cast<int>(std::min<int64_t>(until - done, 4096));
      fluid_synth_write_float(s.synth, n, left.data() + done, 0, 1, right.data() + done, 0, 1);
      done += n;
    }
  };
  for (const NoteEvent& e : events) {
    render_to(e.sample);
    if (e.on) fluid_synth_noteon(s.synth, 0, e.pitch, options.velocity);
    else fluid_synth_noteoff(s.synth, 0, e.pitch);
  }
  render_to(total);

  float peak = 0;
  for (int64_t i = 0; i < total; ++i) peak = std::max({peak, std::fabs(left[i]), std::fabs(right[i])});
  if (!(peak > 0)) throw Error("FluidSynth rendered silence (does the soundfont hold program " + std::to_string(options.program) + "?)");
  const float gain = static_cast<float>(std::pow(10.0, kAudioPeakDbfs / 20.0) / peak);
  std::vector<float> out(static_cast<size_t>(2 * total));
  for (int64_t i = 0; i < total; ++i) out[2 * i] = left[i] * gain, out[2 * i + 1] = right[i] * gain;
  return out;
}

std::string write_audio(const Melody& melody, const AudioOptions& options, AudioFormat format) {
  const std::vector<float> samples = render_audio(melody, options);
  SF_INFO info{};
  info.samplerate = kAudioSampleRate;
  info.channels = 2;
  info.format = format == AudioFormat::wav    ? SF_FORMAT_WAV | SF_FORMAT_PCM_16
                : format == AudioFormat::flac ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16
                                              : SF_FORMAT_OGG | SF_FORMAT_VORBIS;
  MemoryFile file;
  SF_VIRTUAL_IO io{mem_length, mem_seek, mem_read, mem_write, mem_tell};
  SNDFILE* sf = sf_open_virtual(&io, SFM_WRITE, &info, &file);
  if (!sf) throw Error(std::string("libsndfile cannot encode this format: ") + sf_strerror(nullptr));
  sf_command(sf, SFC_SET_CLIPPING, nullptr, SF_TRUE);
  const sf_count_t frames = static_cast<sf_count_t>(samples.size() / 2);
  const sf_count_t wrote = sf_writef_float(sf, samples.data(), frames);
  const std::string problem = wrote == frames ? "" : sf_strerror(sf);
  sf_close(sf);
  if (!problem.empty()) throw Error("libsndfile: " + problem);
  if (format == AudioFormat::ogg) fix_ogg_serial(file.bytes, samples);
  return file.bytes;
}

}  // namespace melodist
