// The writers against independent readers, over 200 melodies of the bundled model (seeds fixed) and the
// accepted erk songs (skipped without ../shared; every 5th, or all with MELODIST_FULL_SWEEP=1):
//   ABC       abc2midi converts without warnings to the same notes (pitch, onset, length); abcm2ps typesets
//             without errors or warnings
//   MusicXML  xmllint validates against the XSD in fixtures/musicxml-xsd; MuseScore 3 (one batch job)
//             reads .musicxml and .mxl to the same notes and the same number of measures
//   kern      melodist's kern reader gives back the same notes, meter, key and the encoding; barlines
//             every bar from the pickup
//   MIDI      midi2abc bars it as melodist's ABC does (notes starting in each bar); MuseScore imports it
//             with the same number of measures
//   audio     sox reads the .wav of every 8th generated melody / 40th erk song: length = melody + tail
//             within 50 ms, peak within 1 dB of -1 dBFS, not silent
// Notes are compared after rounding onset and end to 1/48 quarter: abc2midi starts notes one tick late
// and both it and MuseScore end them one tick early (480 ticks per quarter); melodist's grid is 1/12 or
// coarser, so a real difference is never rounded away.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "formats/abc_writer.h"
#include "formats/audio_writer.h"
#include "formats/kern_reader.h"
#include "formats/kern_writer.h"
#include "formats/midi_writer.h"
#include "formats/model_file.h"
#include "formats/musicxml_writer.h"
#include "formats/song_writer.h"
#include "formats/text_encoding.h"
#include "generate/generator.h"
#include "music/score.h"
#include "nn/model.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Shell {
  int status;
  std::string out;
};
Shell shell(const std::string& cmd) {
  const fs::path o = fs::temp_directory_path() / ("melodist_oracle_" + std::to_string(::getpid()) + ".txt");
  const int raw = std::system((cmd + " >" + quote(o.string()) + " 2>&1").c_str());
  Shell r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(o.string())};
  fs::remove(o);
  return r;
}
bool have(const std::string& cmd) { return shell(cmd).status == 0; }

const std::string kTools = MELODIST_SOURCE_DIR "/tests/tools/";
const std::string kXsd = MELODIST_FIXTURES_DIR "/musicxml-xsd/musicxml.xsd";

int64_t round48(double quarters) { return static_cast<int64_t>(std::llround(quarters * 48)); }

// "onset:end:pitch" per note, in 48ths of a quarter, tied parts merged, rests and grace notes left out.
std::vector<std::string> expected_notes(const Melody& m) {
  std::vector<std::string> out;
  Rational t(0);
  for (size_t i = 0; i < m.events.size(); ++i) {
    const MelodyEvent& e = m.events[i];
    if (e.pitch == kRest || e.duration == Rational(0)) {
      t += e.duration;
      continue;
    }
    Rational length = e.duration;
    size_t j = i;
    while (m.events[j].tied_to_next && j + 1 < m.events.size() && m.events[j + 1].pitch == e.pitch) length += m.events[++j].duration;
    out.push_back(std::to_string(round48(t.to_double())) + ":" + std::to_string(round48((t + length).to_double())) + ":" +
                  std::to_string(e.pitch));
    t += length;
    i = j;
  }
  return out;
}

// tests/tools/midi_notes.py output -> file -> notes in the same form, shifted so the file's time 0 is
// `offset` quarters before the melody's start (a pickup rest in front).
std::map<std::string, std::vector<std::string>> read_notes(const std::string& listing) {
  std::map<std::string, std::vector<std::string>> out;
  std::istringstream in(listing);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::vector<std::string>& notes = out[line.substr(0, tab)];
    std::istringstream items(line.substr(tab + 1));
    std::string item;
    while (items >> item) {
      const size_t a = item.find(':'), b = item.find(':', a + 1);
      if (a == std::string::npos || b == std::string::npos) {
        notes.push_back(item);
        continue;
      }
      const double on = parse_rational(item.substr(0, a)).to_double(), length = parse_rational(item.substr(a + 1, b - a - 1)).to_double();
      notes.push_back(std::to_string(round48(on)) + ":" + std::to_string(round48(on + length)) + ":" + item.substr(b + 1));
    }
  }
  return out;
}

// Shifts every note of a reader's list so its first note starts where the expected first note does (a
// reader's time 0 is the start of its first bar, not the melody's first note).
std::vector<std::string> aligned(std::vector<std::string> got, const std::vector<std::string>& want) {
  if (got.empty() || want.empty()) return got;
  const int64_t shift = std::stoll(want[0]) - std::stoll(got[0]);
  for (std::string& n : got) {
    const size_t a = n.find(':'), b = n.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    n = std::to_string(std::stoll(n.substr(0, a)) + shift) + ":" + std::to_string(std::stoll(n.substr(a + 1, b - a - 1)) + shift) +
        n.substr(b);
  }
  return got;
}

std::map<std::string, std::string> read_bars(const std::string& listing) {
  std::map<std::string, std::string> out;
  std::istringstream in(listing);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab != std::string::npos) out[line.substr(0, tab)] = line.substr(tab + 1);
  }
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : " ") + x;
  return s.size() > 300 ? s.substr(0, 300) + "..." : s;
}

std::string args_of(const std::vector<std::string>& files) {
  std::string s;
  for (const auto& f : files) s += " " + quote(f);
  return s;
}

// One command per 200 files (the argument list of one command is bounded).
Shell batched(const std::string& prefix, const std::vector<std::string>& files, const std::string& suffix = "") {
  Shell all{0, ""};
  for (size_t i = 0; i < files.size(); i += 200) {
    const std::vector<std::string> part(files.begin() + static_cast<std::ptrdiff_t>(i),
                                        files.begin() + static_cast<std::ptrdiff_t>(std::min(files.size(), i + 200)));
    const Shell r = shell(prefix + args_of(part) + suffix);
    all.status = std::max(all.status, r.status);
    all.out += r.out;
  }
  return all;
}

struct Sweep {
  fs::path dir;
  std::vector<std::string> failures;
  int checked = 0;
  void fail(const std::string& what) {
    if (failures.size() < 60) failures.push_back(what);
  }
};

// A rest that crosses a barline is two rests in notation (rests have no ties): "r _ r _" -> "r _ _ _".
std::vector<std::string> rests_merged(std::vector<std::string> symbols) {
  bool in_rest = false;
  for (std::string& x : symbols) {
    if (x == kRestSymbol && in_rest) x = kHoldSymbol;
    else if (x != kHoldSymbol && x != kBarSymbol) in_rest = x == kRestSymbol;
  }
  return symbols;
}

// kern: melodist's reader gives back the notes, meter and key; barlines fall every bar from the pickup.
void check_kern(const Melody& m, const std::string& name, Sweep& s) {
  const std::string text = write_kern(m, {}, name);
  Melody back;
  try {
    back = parse_kern(text, name + ".krn");
  } catch (const Error& e) {
    s.fail(name + ".krn: " + e.what());
    return;
  }
  const Score score = lay_out(m);
  if (expected_notes(back) != expected_notes(m)) s.fail(name + ".krn: notes differ after the round trip");
  if (!back.time_signature || back.time_signature->numerator != score.meter.numerator ||
      back.time_signature->denominator != score.meter.denominator)
    s.fail(name + ".krn: meter differs");
  if (!back.key || back.key->tonic_pitch_class != score.key.tonic_pitch_class || back.key->minor != score.key.minor)
    s.fail(name + ".krn: key differs");
  std::vector<Rational> bars;
  Rational total(0);
  for (const MelodyEvent& e : m.events) total += e.duration;
  const Rational first = score.pickup > Rational(0) ? score.pickup : score.bar_length;
  for (Rational t = first; t < total; t += score.bar_length) bars.push_back(t);
  if (back.barlines != bars) s.fail(name + ".krn: barlines are not every bar from the pickup");
  EncodeOptions merged;
  merged.durations = {};
  merged.ties = TieMode::merge;
  merged.transpose = TransposeMode::none;
  const EncodedSong a = encode_melody(m, merged), b = encode_melody(back, merged);
  if (rests_merged(a.symbols) != rests_merged(b.symbols)) s.fail(name + ".krn: the encoding differs after the round trip");
}

// Audio: the .wav of every `every`-th melody, read back by sox (an independent decoder), lasts the melody
// (at its tempo, else 120 bpm) plus the reverb tail within 50 ms, is not silent, and peaks within 1 dB of
// the target. (The pitch of single notes: tests/test_writers.cpp, an FFT of the samples.)
void check_audio(const std::vector<Melody>& melodies, const std::string& label, int every, Sweep& s) {
  if (!fs::exists(kDefaultSoundfont) || !have("command -v sox")) {
    s.fail("SKIP audio: sox or the soundfont is missing (apt-get install sox " + std::string(kDefaultSoundfontPackage) + ")");
    return;
  }
  for (size_t i = 0; i < melodies.size(); i += static_cast<size_t>(every)) {
    const Melody& m = melodies[i];
    const std::string wav = (s.dir / (label + std::to_string(i) + ".wav")).string();
    write_song_file(wav, m, {});
    Rational quarters(0);
    for (const MelodyEvent& e : m.events) quarters += e.duration;
    const double want = quarters.to_double() * 60.0 / m.tempo_bpm.value_or(120.0) + kAudioTailSeconds;
    const Shell r = shell("sox " + quote(wav) + " -n stat");
    auto value = [&](const std::string& label_text) {
      const size_t at = r.out.find(label_text);
      return at == std::string::npos ? std::nan("") : std::stod(r.out.substr(r.out.find(':', at) + 1));
    };
    const double length = value("Length (seconds)");
    const double peak_db = 20 * std::log10(std::max(value("Maximum amplitude"), -value("Minimum amplitude")));
    if (r.status != 0 || !(std::abs(length - want) <= 0.05))
      s.fail(wav + ": sox reads " + std::to_string(length) + " s, the melody and tail last " + std::to_string(want) + " s");
    if (!(std::abs(peak_db - kAudioPeakDbfs) <= 1.0)) s.fail(wav + ": peak " + std::to_string(peak_db) + " dBFS");
    if (!(value("RMS     amplitude") > 0.001)) s.fail(wav + ": silent");
    fs::remove(wav);
  }
}

void sweep(const std::vector<Melody>& melodies, const std::string& label, int musescore_every, Sweep& s) {
  check_audio(melodies, label, 2 * musescore_every, s);
  const bool abc = have("command -v abc2midi && command -v abcm2ps && command -v midi2abc");
  const bool mido = have("/usr/bin/python3 -c 'import mido'");
  const bool xmllint = have("command -v xmllint");
  const bool musescore = have("command -v mscore3");
  std::vector<std::string> abc_files, xml_files, mid_files, m2a_files;
  std::vector<std::vector<std::string>> want(melodies.size());
  std::vector<size_t> measures(melodies.size()), sounding_measures(melodies.size());
  for (size_t i = 0; i < melodies.size(); ++i) {
    const std::string base = (s.dir / (label + std::to_string(i))).string();
    const Melody& m = melodies[i];
    want[i] = expected_notes(m);
    const Score score = lay_out(m);
    measures[i] = score.measures.size();
    // MIDI has no trailing silence that a reader sees: bars of rests only at the end are not imported.
    sounding_measures[i] = measures[i];
    while (sounding_measures[i] > 1 && std::all_of(score.measures[sounding_measures[i] - 1].notes.begin(),
                                                   score.measures[sounding_measures[i] - 1].notes.end(),
                                                   [](const WrittenNote& n) { return n.pitch == kRest; }))
      --sounding_measures[i];
    write_file_atomically(base + ".abc", write_abc_tune(m, {}, 1, label));
    write_file_atomically(base + ".musicxml", write_musicxml(m, {}, label));
    write_file_atomically(base + ".mxl", write_mxl(m, {}, label));
    write_file_atomically(base + ".mid", write_midi(m));
    abc_files.push_back(base + ".abc");
    xml_files.push_back(base + ".musicxml");
    mid_files.push_back(base + ".mid");
    check_kern(m, base, s);
    ++s.checked;
  }
  if (abc && mido) {
    std::vector<std::string> abc_mids;
    for (const std::string& f : abc_files) {
      const Shell r = shell("abc2midi " + quote(f) + " -o " + quote(f + ".mid"));
      if (r.status != 0 || r.out.find("arning") != std::string::npos || r.out.find("rror") != std::string::npos)
        s.fail(f + ": abc2midi: " + r.out.substr(0, 300));
      abc_mids.push_back(f + ".mid");
      const Shell m2a = shell("midi2abc -f " + quote(f.substr(0, f.size() - 4) + ".mid") + " -o " + quote(f + ".m2a.abc"));
      if (m2a.status != 0) s.fail(f + ": midi2abc: " + m2a.out.substr(0, 200));
      m2a_files.push_back(f + ".m2a.abc");
    }
    const Shell ps = batched("abcm2ps", abc_files, " -O " + quote((s.dir / (label + ".ps")).string()));
    // Every error and warning counts except "Line underfull": a line of four long bars (3/2, 6/4) that
    // does not reach the page width, a layout note, not a reading problem.
    std::istringstream ps_lines(ps.out);
    for (std::string line; std::getline(ps_lines, line);)
      if ((line.find("rror") != std::string::npos || line.find("arning") != std::string::npos) &&
          line.find("Line underfull") == std::string::npos)
        s.fail("abcm2ps: " + line);
    if (ps.status != 0) s.fail("abcm2ps exits " + std::to_string(ps.status));
    auto got = read_notes(batched("/usr/bin/python3 " + kTools + "midi_notes.py", abc_mids).out);
    std::vector<std::string> both = abc_files;
    both.insert(both.end(), m2a_files.begin(), m2a_files.end());
    auto bars = read_bars(batched("/usr/bin/python3 " + kTools + "abc_bars.py", both).out);
    for (size_t i = 0; i < melodies.size(); ++i) {
      const auto g = aligned(got[abc_mids[i]], want[i]);
      if (g != want[i]) s.fail(abc_files[i] + ": abc2midi reads " + join(g) + "\n  melodist meant " + join(want[i]));
      if (bars[abc_files[i]].empty() || bars[abc_files[i]] != bars[m2a_files[i]])
        s.fail(mid_files[i] + ": midi2abc bars \"" + bars[m2a_files[i]] + "\", melodist's ABC \"" + bars[abc_files[i]] + "\"");
    }
  } else {
    s.fail("SKIP abc2midi/abcm2ps/midi2abc or mido missing (apt-get install abcmidi abcm2ps python3-mido)");
  }
  if (xmllint) {
    const Shell r = batched("xmllint --noout --schema " + quote(kXsd), xml_files);
    size_t valid = 0;
    for (size_t at = r.out.find(" validates"); at != std::string::npos; at = r.out.find(" validates", at + 1)) ++valid;
    if (r.status != 0 || valid != xml_files.size()) s.fail("xmllint: " + r.out.substr(0, 600));
  }
  if (musescore && mido && musescore_every > 0) {
    // One MuseScore process for the whole sample: a job file of {in, out: [mid, mscx]}.
    nlohmann::json job = nlohmann::json::array();
    std::vector<size_t> sample;
    for (size_t i = 0; i < melodies.size(); i += static_cast<size_t>(musescore_every)) sample.push_back(i);
    for (size_t i : sample)
      for (const char* ext : {".musicxml", ".mxl", ".mid"}) {
        const std::string in = xml_files[i].substr(0, xml_files[i].size() - 9) + ext;
        job.push_back({{"in", in}, {"out", {in + ".ms.mid", in + ".ms.mscx"}}});
      }
    write_file_atomically((s.dir / "job.json").string(), job.dump());
    const fs::path runtime = s.dir / "xdg";
    fs::create_directories(runtime);
    fs::permissions(runtime, fs::perms::owner_all);
    shell("QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=" + quote(runtime.string()) + " mscore3 -j " + quote((s.dir / "job.json").string()));
    std::vector<std::string> ms_mids;
    for (const auto& entry : job) ms_mids.push_back(entry["out"][0].get<std::string>());
    auto got = read_notes(batched("/usr/bin/python3 " + kTools + "midi_notes.py", ms_mids).out);
    const std::regex measure_tag("<Measure[ >]");
    for (size_t k = 0; k < job.size(); ++k) {
      const size_t i = sample[k / 3];
      const std::string in = job[k]["in"].get<std::string>();
      const std::string mscx = job[k]["out"][1].get<std::string>();
      if (!fs::exists(mscx)) {
        s.fail(in + ": MuseScore wrote nothing");
        continue;
      }
      const std::string text = read_file(mscx);
      const auto count = static_cast<size_t>(std::distance(std::sregex_iterator(text.begin(), text.end(), measure_tag), std::sregex_iterator()));
      // MIDI import: a pickup melody starts after a rest that fills its first bar, still one measure.
      const size_t expected = k % 3 == 2 ? sounding_measures[i] : measures[i];
      if (count != expected) s.fail(in + ": MuseScore reads " + std::to_string(count) + " measures, melodist wrote " + std::to_string(expected));
      if (k % 3 == 2) continue;  // the MIDI's notes are mido's business (test_midi_writer)
      const auto g = aligned(got[ms_mids[k]], want[i]);
      if (g != want[i]) s.fail(in + ": MuseScore reads " + join(g) + "\n  melodist meant " + join(want[i]));
    }
  }
}

class WriterOracles : public ::testing::Test {
 protected:
  Sweep s;
  void SetUp() override {
    s.dir = fs::temp_directory_path() / ("melodist_writer_oracles_" + std::to_string(::getpid()) + "_" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(s.dir);
    fs::create_directories(s.dir);
  }
  void TearDown() override { fs::remove_all(s.dir); }
  void report() {
    for (const std::string& f : s.failures) ADD_FAILURE() << f;
    std::printf("checked %d melodies\n", s.checked);
  }
};

// The committed schema is MusicXML 4.0's and xmllint enforces it: melodist's document validates, the same
// document with an element only 4.0 defines (<concert-score/> in <defaults>) still validates, and one with
// a zero <duration> (positive-divisions) or an element 4.0 does not define does not.
TEST(WriterOraclesXsd, TheSchemaIsMusicXml40AndRejectsWhatItShould) {
  if (shell("command -v xmllint").status != 0) GTEST_SKIP() << "xmllint is missing (apt-get install libxml2-utils)";
  ASSERT_NE(read_file(kXsd).find("This file defines the MusicXML 4.0 XSD"), std::string::npos) << kXsd;
  const Melody m = read_kern_file(MELODIST_FIXTURES_DIR "/writers/pickup_3-4.krn");
  const std::string doc = write_musicxml(m, {}, "xsd check");
  ASSERT_NE(doc.find("<score-partwise version=\"4.0\">"), std::string::npos);
  ASSERT_NE(doc.find("DTD MusicXML 4.0 Partwise"), std::string::npos);
  const fs::path dir = fs::temp_directory_path() / ("melodist_xsd_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto validates = [&](const std::string& name, const std::string& text) {
    write_file_atomically((dir / name).string(), text);
    return shell("xmllint --noout --schema " + quote(kXsd) + " " + quote((dir / name).string())).status == 0;
  };
  auto replaced = [&](const std::string& from, const std::string& to) {
    std::string d = doc;
    const size_t at = d.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return at == std::string::npos ? d : d.replace(at, from.size(), to);
  };
  EXPECT_TRUE(validates("melodist.musicxml", doc));
  EXPECT_TRUE(validates("concert.musicxml", replaced("<part-list>", "<defaults><concert-score /></defaults><part-list>")));
  const size_t value = doc.find("<duration>") + 10;
  EXPECT_FALSE(validates("zero.musicxml", doc.substr(0, value) + "0" + doc.substr(doc.find('<', value))));
  EXPECT_FALSE(validates("unknown.musicxml", replaced("<part-list>", "<not-musicxml /><part-list>")));
  fs::remove_all(dir);
}

TEST_F(WriterOracles, TwoHundredGeneratedMelodies) {
  if (!fs::exists(bundled_model_dir())) GTEST_SKIP() << "the bundled model is missing";
  const Model model = load_model(bundled_model_dir());
  GenerateOptions options;
  options.num_outputs = 200;
  options.beam.seed = 2026;
  options.beam.max_steps = 256;
  std::vector<Melody> melodies;
  for (const GeneratedMelody& g : generate_melodies(model, options)) {
    Melody m = decode_symbols(g.symbols, Rational(1, 4));
    if (m.events.empty()) continue;
    melodies.push_back(std::move(m));
  }
  // Meters and pickups the bundled model does not know: every 4th melody in 3/4 with a one-beat pickup,
  // every 4th in 6/8 with an eighth pickup (the barlines a primer file or barline symbols give).
  for (size_t i = 0; i < melodies.size(); ++i) {
    if (i % 4 == 1) melodies[i].time_signature = TimeSignature{3, 4}, melodies[i].barlines = {Rational(1)};
    if (i % 4 == 2) melodies[i].time_signature = TimeSignature{6, 8}, melodies[i].barlines = {Rational(1, 2)};
  }
  ASSERT_GE(melodies.size(), 195u);
  sweep(melodies, "gen", 4, s);  // MuseScore: every 4th melody, as .musicxml, .mxl and .mid
  report();
}

TEST_F(WriterOracles, EveryAcceptedErkSong) {
  const fs::path erk = fs::path(MELODIST_SHARED_DIR) / "data/essen/deutschl/erk";
  if (!fs::is_directory(erk)) GTEST_SKIP() << "no Essen erk collection under " << erk;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(erk))
    if (entry.path().extension() == ".krn") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  EncodeOptions reference;
  reference.durations = reference_durations();
  std::vector<Melody> melodies;
  for (const fs::path& f : files) {
    Melody m;
    try {
      m = read_kern_file(f.string());
    } catch (const Error&) {
      continue;
    }
    if (encode_melody(m, reference).accepted) melodies.push_back(std::move(m));
  }
  ASSERT_GT(melodies.size(), 1000u);
  // Every song takes ~3 minutes (two processes per song); by default every 5th song, all of them with
  // MELODIST_FULL_SWEEP=1.
  const char* full = std::getenv("MELODIST_FULL_SWEEP");
  if (!(full && std::string(full) == "1")) {
    std::vector<Melody> every_fifth;
    for (size_t i = 0; i < melodies.size(); i += 5) every_fifth.push_back(std::move(melodies[i]));
    melodies = std::move(every_fifth);
  }
  sweep(melodies, "erk", 20, s);  // MuseScore: every 20th song of those
  report();
}

}  // namespace
