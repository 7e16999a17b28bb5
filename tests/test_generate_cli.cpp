// End-to-end: `melodist generate` and `melodist score` run as a user runs them (MELODIST_BINARY), with
// a tiny model saved here with save_model. Bad inputs: one line on stderr, exit 1, nothing written.
// The bundled model: 100 melodies at temperature 0.8 end or stop cleanly and python3-mido reads them.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "formats/model_file.h"
#include "formats/text_encoding.h"
#include "nn/song_score.h"
#include "nn/model.h"
#include "util/atomic_file.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

struct CliRun {
  int status;
  std::string out, err;
};

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class GenerateCli : public ::testing::Test {
 protected:
  fs::path dir;
  fs::path model_dir;

  void SetUp() override {
    dir = fs::temp_directory_path() / ("melodist_gen_cli_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir);
    fs::create_directories(dir / "out");
    model_dir = dir / "model";
    ModelConfig c;
    c.vocab_size = 8;
    c.hidden_size = 16;
    Model m = make_model(c, {"/", "_", "r", "60", "62", "64", "65", "67"}, 21);
    save_model({m}, model_dir.string());
  }
  void TearDown() override { fs::remove_all(dir); }

  CliRun run(const std::string& args) {
    const fs::path o = dir / "stdout.txt", e = dir / "stderr.txt";
    const std::string cmd = std::string(quote(MELODIST_BINARY)) + " " + args + " >" + quote(o.string()) + " 2>" + quote(e.string());
    const int raw = std::system(cmd.c_str());
    CliRun r{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_file(o.string()), read_file(e.string())};
    return r;
  }
  std::string m() { return "--model " + quote(model_dir.string()); }
  std::string out(const std::string& name) { return quote((dir / "out" / name).string()); }
  size_t files_in_out() { return static_cast<size_t>(std::distance(fs::directory_iterator(dir / "out"), fs::directory_iterator())); }

  void expect_one_line_error(const std::string& args, const std::string& needle) {
    CliRun r = run(args);
    EXPECT_EQ(r.status, 1) << args << "\n" << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << args << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("melodist: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(needle), std::string::npos) << "expected \"" << needle << "\" in: " << r.err;
    EXPECT_EQ(files_in_out(), 0u) << args << " wrote a file";
  }
};

}  // namespace

TEST_F(GenerateCli, SameSeedSameBytes) {
  CliRun a = run("generate " + m() + " --steps 80 --seed 17 --out " + out("a.mid"));
  ASSERT_EQ(a.status, 0) << a.err;
  CliRun b = run("generate " + m() + " --steps 80 --seed 17 --out " + out("b.mid"));
  ASSERT_EQ(b.status, 0) << b.err;
  CliRun c = run("generate " + m() + " --steps 80 --seed 18 --out " + out("c.mid"));
  ASSERT_EQ(c.status, 0) << c.err;
  const std::string A = read_file((dir / "out/a.mid").string());
  EXPECT_EQ(A.substr(0, 4), "MThd");
  EXPECT_EQ(A, read_file((dir / "out/b.mid").string()));
  EXPECT_NE(A, read_file((dir / "out/c.mid").string()));
  EXPECT_NE(a.out.find("log-likelihood"), std::string::npos) << a.out;
}

// `--model NAME` names a bundled model; a bare name that is no bundled model lists where it was looked for.
TEST_F(GenerateCli, ModelByBundledName) {
  if (!fs::exists(fs::path(bundled_model_dir()) / kModelFileName)) GTEST_SKIP() << "no bundled model at " << bundled_model_dir();
  CliRun a = run("generate --steps 40 --seed 5 --out " + out("default.mid"));
  ASSERT_EQ(a.status, 0) << a.err;
  CliRun b = run("generate --model essen-german --steps 40 --seed 5 --out " + out("named.mid"));
  ASSERT_EQ(b.status, 0) << b.err;
  EXPECT_EQ(read_file((dir / "out/default.mid").string()), read_file((dir / "out/named.mid").string()));
  CliRun c = run("generate --model no-such-model --steps 40 --out " + out("none.mid"));
  EXPECT_EQ(c.status, 1);
  EXPECT_NE(c.err.find("the bundled model no-such-model is not installed (searched "), std::string::npos) << c.err;
  EXPECT_EQ(std::count(c.err.begin(), c.err.end(), '\n'), 1) << c.err;
  EXPECT_FALSE(fs::exists(dir / "out/none.mid"));
}

TEST_F(GenerateCli, NumOutputsTextAndPrimer) {
  CliRun r = run("generate " + m() + " --steps 40 -n 3 --seed 2 --temperature 0.8 --top-k 4 --top-p 0.9 --primer '60 _ 62 _' --out " +
              out("song.txt"));
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* name : {"song-001.txt", "song-002.txt", "song-003.txt"}) {
    const std::string text = read_file((dir / "out" / name).string());
    EXPECT_EQ(text.rfind("60 _ 62 _", 0), 0u) << name << ": " << text;
    std::istringstream in(text);
    std::string sym;
    size_t n = 0;
    while (in >> sym) {
      EXPECT_NE(sym, "/");
      ++n;
    }
    EXPECT_LE(n, 44u);
  }
  EXPECT_EQ(files_in_out(), 3u);
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 3) << r.out;  // one log line per output
  // Beam search and greedy run too.
  EXPECT_EQ(run("generate " + m() + " --steps 30 --beam-size 3 --branch-factor 2 --out " + out("beam.mid")).status, 0);
  EXPECT_EQ(run("generate " + m() + " --steps 30 --temperature 0 --out " + out("greedy.mid")).status, 0);
}

// A model trained on `preprocess --key-symbol` data: a primer file is encoded with its key symbol first,
// and a key symbol in the melody becomes the MIDI file's key signature (read back by midicsv).
TEST_F(GenerateCli, KeySymbolModelPrimesWithTheKeyAndWritesItsSignature) {
  ModelConfig c;
  c.vocab_size = 9;
  c.hidden_size = 16;
  Model km = make_model(c, {"/", "_", "r", "65", "67", "71", "74", "K:F", "K:G"}, 5);
  const nlohmann::json preprocessing = {{"step", "1/4"}, {"durations", "any"}, {"transpose", "none"}, {"key_symbol", true}};
  const fs::path key_model = dir / "key-model";
  save_model({km, {{"preprocessing", preprocessing}}}, key_model.string());
  const std::string mk = "--model " + quote(key_model.string());
  const std::string krn = std::string(MELODIST_FIXTURES_DIR) + "/kern/key-G-major.krn";  // g b dd g, *G:
  CliRun r = run("generate " + mk + " --steps 5 --seed 3 --primer-file " + quote(krn) + " --out " + out("g.txt"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(read_file((dir / "out/g.txt").string()).rfind("K:G 67 _ _ _ 71 _ _ _ 74 _ _ _ 67 _ _ _ _ _ _ _", 0), 0u);
  r = run("generate " + mk + " --steps 4 --seed 3 --primer 'K:F 65 _' --out " + out("f.mid"));
  ASSERT_EQ(r.status, 0) << r.err;
  const fs::path csv = dir / "f.csv";
  ASSERT_EQ(std::system(("midicsv " + out("f.mid") + " > " + quote(csv.string())).c_str()), 0);
  // Key_signature, sharps/flats, major/minor: F major has one flat.
  EXPECT_NE(read_file(csv.string()).find("Key_signature, -1, \"major\""), std::string::npos) << read_file(csv.string());
}

// Issue 15: a melody without meter/key symbols takes the primer file's meter, key and tempo, else
// --time-signature, else 4/4 and the estimated key. --key (issue 16, one policy for the CLI, the library and
// the server): this model has no key symbols and, having no preprocessing record, reads songs moved to
// C major / A minor (--transpose reference), so its output is moved to the key and written in it; a model
// of written pitches without key symbols refuses. The primer's notes (C E G C) alone estimate
// as C major; its designation (*a:) says A minor, and that is what is written. --bpm overrides its *MM.
TEST_F(GenerateCli, PrimerFileGivesMeterKeyAndTempoElseOptions) {
  const fs::path primer = dir / "primer.krn";
  write_file_atomically(primer.string(), "**kern\n*M3/4\n*a:\n*MM84\n4c\n4e\n4g\n=\n2.c\n*-\n");
  CliRun r = run("generate " + m() + " --steps 6 --seed 2 --primer-file " + quote(primer.string()) + " --out " + out("p.abc"));
  ASSERT_EQ(r.status, 0) << r.err;
  std::string abc = read_file((dir / "out/p.abc").string());
  EXPECT_NE(abc.find("\nM:3/4\n"), std::string::npos) << abc;
  EXPECT_NE(abc.find("\nQ:1/4=84\n"), std::string::npos) << abc;
  EXPECT_NE(abc.find("\nK:Am\n"), std::string::npos) << abc;
  r = run("generate " + m() + " --steps 6 --seed 2 --bpm 90 --time-signature 6/8 --primer-file " + quote(primer.string()) +
          " --out " + out("q.abc"));
  ASSERT_EQ(r.status, 0) << r.err;
  abc = read_file((dir / "out/q.abc").string());
  EXPECT_NE(abc.find("\nM:3/4\n"), std::string::npos) << abc;  // the primer's meter and key win over the options
  EXPECT_NE(abc.find("\nK:Am\n"), std::string::npos) << abc;
  EXPECT_NE(abc.find("\nQ:1/4=90\n"), std::string::npos) << abc;  // --bpm given: it wins
  r = run("generate " + m() + " --steps 6 --seed 2 --time-signature 6/8 --out " + out("o.abc"));
  ASSERT_EQ(r.status, 0) << r.err;
  abc = read_file((dir / "out/o.abc").string());
  EXPECT_NE(abc.find("\nM:6/8\n"), std::string::npos) << abc;
  EXPECT_NE(abc.find("\nQ:1/4=120\n"), std::string::npos) << abc;
  fs::remove_all(dir / "out");
  fs::create_directories(dir / "out");
  expect_one_line_error("generate " + m() + " --steps 6 --key H --out " + out("x.abc"), "--key \"H\" is not a key such as D, Em, Bb or F#m");
  r = run("generate " + m() + " --steps 6 --seed 2 --key G --out " + out("k.abc"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = run("generate " + m() + " --steps 6 --seed 2 --out " + out("c.txt"));
  ASSERT_EQ(r.status, 0) << r.err;
  r = run("generate " + m() + " --steps 6 --seed 2 --key G --out " + out("g.txt"));
  ASSERT_EQ(r.status, 0) << r.err;
  // The same melody a fifth lower (C major to G major: the nearer octave, -5 semitones), no key symbol.
  std::vector<std::string> c_major = split_symbols(read_file((dir / "out/c.txt").string()));
  for (std::string& s : c_major)
    if (s.find_first_not_of("0123456789") == std::string::npos) s = std::to_string(std::stoi(s) - 5);
  EXPECT_EQ(join_symbols(c_major), join_symbols(split_symbols(read_file((dir / "out/g.txt").string()))));
  abc = read_file((dir / "out/k.abc").string());
  EXPECT_NE(abc.find("\nK:G\n"), std::string::npos) << abc;
  fs::remove_all(dir / "out");
  fs::create_directories(dir / "out");
  Model written = make_model(ModelConfig{.vocab_size = 8, .hidden_size = 16}, {"/", "_", "r", "60", "62", "64", "65", "67"}, 21);
  const nlohmann::json preprocessing = {{"step", "1/4"}, {"durations", "any"}, {"transpose", "none"}};
  save_model({written, {{"preprocessing", preprocessing}}}, (dir / "written").string());
  expect_one_line_error("generate --model " + quote((dir / "written").string()) + " --steps 6 --key G --out " + out("x.abc"),
                        "the model has no key symbols; train one on data made with `melodist preprocess --key-symbol`");
}

TEST_F(GenerateCli, BadInputsOneLineExitOneNothingWritten) {
  const std::string base = "generate " + m() + " --steps 20 --out " + out("x.mid");
  expect_one_line_error(base + " --primer '60 _ 61'", "not in the model's vocabulary: / _ r 60 62 64 65 67");
  expect_one_line_error(base + " --primer ''", "--primer is empty");
  std::string longp;
  for (int i = 0; i < 5000; ++i) longp += "_ ";
  expect_one_line_error(base + " --primer '60 " + longp + "'", "at most");
  expect_one_line_error(base + " --temperature -0.5", "--temperature");
  expect_one_line_error(base + " --top-p 0", "--top-p");
  expect_one_line_error(base + " --top-p 1.5", "--top-p");
  expect_one_line_error(base + " --cadence-temperature 0.3", "--cadence-temperature needs --bars or a model with countdown barlines");
  expect_one_line_error(base + " --cadence-temperature inf --bars 1", "--cadence-temperature must be finite");
  expect_one_line_error(base + " --cadence-temperature 0.3 --cadence-bars 0 --bars 1", "--cadence-bars must be 1 or more");
  expect_one_line_error(base + " --rhythm-temperature nan", "--rhythm-temperature must be finite");
  expect_one_line_error("generate --model " + quote((dir / "nothing").string()) + " --out " + out("x.mid"), "no model here");
  // A foreign file where the model should be.
  fs::create_directories(dir / "foreign");
  {
    std::ofstream f(dir / "foreign" / "model.safetensors");
    f << "this is not a model";
  }
  expect_one_line_error("generate --model " + quote((dir / "foreign").string()) + " --out " + out("x.mid"), "model.safetensors");
  expect_one_line_error("generate " + m() + " --out " + quote((dir / "missing" / "x.mid").string()), "does not exist");
  expect_one_line_error("generate " + m() + " --out " + out("x.xyz"), "unknown extension");
  EXPECT_FALSE(fs::exists(dir / "missing"));
}

TEST_F(GenerateCli, ScoreJsonMatchesTheLibrary) {
  CliRun r = run("score " + m() + " --text '60 _ 62 _ r 64 /' --per-step --json");
  ASSERT_EQ(r.status, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  for (const char* key : {"total_nats", "nats_per_step", "steps", "per_step"}) EXPECT_TRUE(j.contains(key)) << key;
  ASSERT_EQ(j["steps"].get<int>(), 7);  // six symbols and the closing "/"
  ASSERT_EQ(j["per_step"].size(), 7u);
  EXPECT_EQ(j["per_step"][6]["symbol"], "/");
  EXPECT_EQ(j["per_step"][0]["symbol"], "60");
  Model model = load_model(model_dir.string());
  SongScore s = score_song(model, {3, 1, 4, 1, 2, 5}, true);
  EXPECT_NEAR(j["total_nats"].get<double>(), s.total_nats(), 1e-9);
  EXPECT_NEAR(j["nats_per_step"].get<double>(), s.total_nats() / 7.0, 1e-9);
  for (int t = 0; t < 7; ++t) EXPECT_NEAR(j["per_step"][t]["nats"].get<double>(), s.nats[t], 1e-9);
  // Without the closing "/" the end is not scored; without --per-step no array.
  CliRun r2 = run("score " + m() + " --text '60 _ 62 _ r 64' --json");
  ASSERT_EQ(r2.status, 0) << r2.err;
  nlohmann::json j2 = nlohmann::json::parse(r2.out);
  EXPECT_EQ(j2["steps"].get<int>(), 6);
  EXPECT_FALSE(j2.contains("per_step"));
  // A text file works like --text.
  write_file_atomically((dir / "song.txt").string(), "60 _ 62 _ r 64 /\n");
  CliRun r3 = run("score " + m() + " --json " + quote((dir / "song.txt").string()));
  ASSERT_EQ(r3.status, 0) << r3.err;
  EXPECT_NEAR(nlohmann::json::parse(r3.out)["total_nats"].get<double>(), s.total_nats(), 1e-9);
  expect_one_line_error("score " + m() + " --text '60 _ 99'", "not in the model's vocabulary");
}

TEST(BundledModel, HundredMelodiesAtTemperature08AreValidMidi) {
  const std::string model = bundled_model_dir();
  if (!fs::exists(fs::path(model) / kModelFileName)) GTEST_SKIP() << "no bundled model at " << model;
  if (std::system("/usr/bin/python3 -c 'import mido' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3-mido is not installed";
  const fs::path dir = fs::temp_directory_path() / ("melodist_bundled_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string cmd = std::string(MELODIST_BINARY) + " generate --temperature 0.8 --num-outputs 100 --seed 1 --out " +
                          (dir / "m.mid").string() + " > " + (dir / "log.txt").string() + " 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << read_file((dir / "log.txt").string());
  const std::string log = read_file((dir / "log.txt").string());
  size_t ended = 0, stopped = 0, pos = 0;
  while ((pos = log.find("ended by the model", pos)) != std::string::npos) ++ended, ++pos;
  pos = 0;
  while ((pos = log.find("stopped at --steps", pos)) != std::string::npos) ++stopped, ++pos;
  EXPECT_EQ(ended + stopped, 100u) << log;
  std::printf("bundled model, 100 melodies at T 0.8: %zu ended by the model, %zu stopped at --steps 500\n", ended, stopped);
  const std::string check = "/usr/bin/python3 " + std::string(MELODIST_SOURCE_DIR) + "/tools/check_midi_mido.py " + dir.string() +
                            " > " + (dir / "mido.txt").string() + " 2>&1";
  const int status = std::system(check.c_str());
  const std::string report = read_file((dir / "mido.txt").string());
  std::printf("%s", report.c_str());
  EXPECT_EQ(status, 0) << report;
  EXPECT_NE(report.find("100 files read"), std::string::npos) << report;
  fs::remove_all(dir);
}
