// End to end: the built `melodist encode` and `melodist decode` (MELODIST_BINARY): exit status, standard
// output, the one-line error on standard error, and the files written (read back with the MIDI reader).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "formats/midi_reader.h"
#include "util/atomic_file.h"

using namespace melodist;

namespace {

const std::string kMidi = std::string(MELODIST_FIXTURES_DIR) + "/midi/";

struct Result {
  int status = -1;
  std::string out, err;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("melodist_cli_midi_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  // Runs `melodist ARGS` with `input` on standard input.
  Result melodist(const std::string& args, const std::string& input = "") {
    write_file_atomically(path("stdin"), input);
    const std::string command = std::string("'") + MELODIST_BINARY + "' " + args + " <'" + path("stdin") + "' >'" +
                                path("stdout") + "' 2>'" + path("stderr") + "'";
    Result r;
    const int raw = std::system(command.c_str());
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = read_file(path("stdout"));
    r.err = read_file(path("stderr"));
    return r;
  }
  std::filesystem::path dir_;
};

}  // namespace

TEST_F(Cli, EncodeMidiWithKeySignatureTransposesToC) {
  // abc_simple.mid is in G major (key signature): every pitch moves by -7; written out by hand.
  Result r = melodist("encode '" + kMidi + "abc_simple.mid'");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "60 _ _ _ 62 _ 64 _ 65 _ _ _ 67 _ _ _ _ _ _ _ r _ _ _ 69 _ _ 67 65 64 62 60 59 _ _ _ 60 _ _ _ _ _ _ _ _ _ _ _\n");
  EXPECT_EQ(r.err, "");
}

TEST_F(Cli, EncodeOptionsReachTheMidiReader) {
  Result r = melodist("encode '" + kMidi + "abc_two_voices.mid' --transpose none --track 2");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "50 _ _ _ _ _ _ _ 57 _ _ _ _ _ _ _ 50 _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ 50 _ _ _ _ _ _ _ _ _ _ _ _ _ _ _\n");
  r = melodist("encode '" + kMidi + "drums_only.mid' --channel 9 --transpose none --step 1/2 --info");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "36 _ 38 _ 36 _ 38 _\n");
  EXPECT_NE(r.err.find("(estimate)"), std::string::npos) << r.err;
  // --durations is kern's rule (issue 14): a MIDI song with 1/2-quarter notes is accepted under --durations 1,2,3.
  r = melodist("encode '" + kMidi + "abc_simple.mid' --durations 1,2,3");
  EXPECT_EQ(r.status, 0) << r.err;
}

TEST_F(Cli, EncodeKernFile) {
  write_file_atomically(path("song.krn"), "**kern\n*M4/4\n*e:\n4e\n8f#\n8g\n2b\n=\n4r\n4.e\n8d#\n2e\n*-\n");
  Result r = melodist("encode '" + path("song.krn") + "'");  // E minor: +5
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "69 _ _ _ 71 _ 72 _ 76 _ _ _ _ _ _ _ r _ _ _ 69 _ _ _ _ _ 68 _ 69 _ _ _ _ _ _ _\n");
}

TEST_F(Cli, EncodeMalformedMidiIsOneLineError) {
  Result r = melodist("encode '" + kMidi + "bad_vlq_5_bytes.mid'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: " + kMidi + "bad_vlq_5_bytes.mid: byte 22: variable-length number longer than 4 bytes in track 0\n");
  r = melodist("encode '" + kMidi + "smpte.mid'");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("SMPTE time division"), std::string::npos) << r.err;
  r = melodist("encode '" + path("song.mp3") + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: " + path("song.mp3") + ": not a song file (melodist reads .krn, .mid, .midi, .kar, .abc, .musicxml, .xml and .mxl; FILE.abc#X is tune X)\n");
}

TEST_F(Cli, DecodeStdinWritesTheNotes) {
  Result r = melodist("decode - --out '" + path("m.mid") + "'", "60 _ _ _ r _ 62 _ _ _ _ _ _ _ 64\n");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "");
  MidiFile f = parse_midi(read_file(path("m.mid")), "m.mid");
  EXPECT_EQ(f.format, 1);
  EXPECT_EQ(f.ticks_per_quarter, 480);
  ASSERT_EQ(f.notes.size(), 3u);
  EXPECT_EQ(f.notes[0].pitch, 60);
  EXPECT_EQ(f.notes[0].start, 0);
  EXPECT_EQ(f.notes[0].end, 480);
  EXPECT_EQ(f.notes[1].pitch, 62);
  EXPECT_EQ(f.notes[1].start, 720);
  EXPECT_EQ(f.notes[1].end, 1680);
  EXPECT_EQ(f.notes[2].start, 1680);
  EXPECT_EQ(f.notes[2].end, 1800);
  EXPECT_NEAR(*f.tempo_bpm, 120.0, 1e-9);
  EXPECT_EQ(f.time_signature->numerator, 4);
  EXPECT_EQ(f.time_signature->denominator, 4);
  EXPECT_EQ(*f.key_fifths, 0);  // --key auto: C major or A minor
}

TEST_F(Cli, DecodeOptions) {
  write_file_atomically(path("songs.txt"), "60 _ 62 _\n67 _ _ _ 65 _ 64 _ _ _ _ _\n");
  Result r = melodist("decode '" + path("songs.txt") + "' --song 2 --out '" + path("o.mid") +
                      "' --bpm 90 --program 40 --time-signature 3/4 --step 1/8 --key G");
  ASSERT_EQ(r.status, 0) << r.err;
  MidiFile f = parse_midi(read_file(path("o.mid")), "o.mid");
  ASSERT_EQ(f.notes.size(), 3u);
  EXPECT_EQ(f.notes[0].pitch, 67);
  EXPECT_EQ(f.notes[0].end, 240);  // 4 steps of 1/8 quarter = 1/2 quarter
  EXPECT_EQ(f.notes[1].start, 240);
  EXPECT_EQ(f.notes[1].end, 360);  // 2 steps
  EXPECT_EQ(f.notes[2].start, 360);
  EXPECT_EQ(f.notes[2].end, 720);  // 6 steps
  EXPECT_NEAR(*f.tempo_bpm, 90.0, 1e-3);
  EXPECT_EQ(f.time_signature->numerator, 3);
  EXPECT_EQ(*f.key_fifths, 1);
  EXPECT_FALSE(*f.key_minor);
  // file_dataset style: songs separated by "/" delimiters.
  r = melodist("decode - --song 2 --out '" + path("p.mid") + "'", "60 _ / / / 72 _ _ _ / / /");
  ASSERT_EQ(r.status, 0) << r.err;
  f = parse_midi(read_file(path("p.mid")), "p.mid");
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_EQ(f.notes[0].pitch, 72);
  EXPECT_EQ(f.notes[0].end, 480);
}

TEST_F(Cli, EncodeDecodeEncodeIsStable) {
  Result a = melodist("encode '" + kMidi + "sysex_meta.mid'");
  ASSERT_EQ(a.status, 0) << a.err;
  Result d = melodist("decode - --out '" + path("again.mid") + "'", a.out);
  ASSERT_EQ(d.status, 0) << d.err;
  Result b = melodist("encode '" + path("again.mid") + "'");
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
}

TEST_F(Cli, DecodeErrorsWriteNothing) {
  const std::string missing = path("nowhere") + "/x.mid";
  Result r = melodist("decode - --out '" + missing + "'", "60 _ _ _");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: " + missing + ": output folder \"" + path("nowhere") + "\" does not exist\n");
  EXPECT_FALSE(std::filesystem::exists(path("nowhere")));
  r = melodist("decode - --out '" + path("bad.mid") + "'", "60 _ x _");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: <stdin>:1: symbol \"x\" at position 3 is not a MIDI number 0..127, \"r\", \"_\", \"/\", \"|\" (or \"|3\"), \"(3:1\", \"$\", a key symbol such as \"K:G\" or a meter symbol such as \"M:6/8\"\n");
  r = melodist("decode - --out '" + path("bad.mid") + "'", "\n\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: <stdin>: no song in the input (expected symbols such as \"60 _ _ _ r _ 62\")\n");
  r = melodist("decode - --out '" + path("bad.mid") + "'", "r _ _ _");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: <stdin>:1: the song holds no note\n");
  r = melodist("decode - --out '" + path("bad.mid") + "' --time-signature 3/5", "60 _");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: " + path("bad.mid") +
                       ": time signature 3/5 cannot be written to MIDI (numerator 1..255, denominator a power of two up to 256)\n");
  EXPECT_FALSE(std::filesystem::exists(path("bad.mid")));
  r = melodist("decode '" + path("absent.txt") + "' --out '" + path("bad.mid") + "'");
  EXPECT_EQ(r.status, 1);
  EXPECT_EQ(r.err, "melodist: error: " + path("absent.txt") + ": cannot open: No such file or directory\n");
}

TEST_F(Cli, PreprocessReadsMidiWithTrackOption) {
  // preprocess passes --track / --channel to the MIDI reader; the bass of multitrack.mid, written pitches.
  Result r = melodist("preprocess '" + kMidi + "multitrack.mid' --out '" + path("ds") + "' --quiet --track 1 --transpose none");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(path("ds") + "/songs.txt"),
            "40 _ _ _ _ _ _ _ 47 _ _ _ _ _ _ _ 40 _ _ _ _ _ _ _ 52 _ _ _ _ _ _ _\n");
  r = melodist("preprocess '" + kMidi + "drums_only.mid' --out '" + path("ds2") + "' --quiet --channel 9 --transpose none");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file(path("ds2") + "/songs.txt"), "36 _ _ _ 38 _ _ _ 36 _ _ _ 38 _ _ _\n");
}
