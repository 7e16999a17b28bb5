// Every model folder under models/ is a bundled model (installed to share/melodist/models, named by
// `--model NAME`): a few MB at most, its metadata names the corpus, the licence, the held-out list (a
// file in the folder, paths relative to ../shared/data) and the command that trained it, and it honours
// the controls: 10 melodies per model with --key, --meter, --bars 4 and --end-on-tonic, read back.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "formats/key_symbol.h"
#include "formats/model_file.h"
#include "formats/text_encoding.h"
#include "generate/generator.h"

using namespace melodist;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> bundled_models() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(fs::path(MELODIST_SOURCE_DIR) / "models"))
    if (e.is_directory()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(BundledModels, EachNamesCorpusLicenceHeldOutAndCommand) {
  const std::vector<fs::path> models = bundled_models();
  ASSERT_FALSE(models.empty());
  for (const fs::path& dir : models) {
    SCOPED_TRACE(dir.string());
    EXPECT_LE(fs::file_size(dir / "model.safetensors"), 8u << 20);
    const ModelFile f = load_model_file(dir.string());
    const nlohmann::json& about = f.metadata.at("about");
    EXPECT_FALSE(about.at("corpus").get<std::string>().empty());
    EXPECT_NE(about.at("licence").get<std::string>().find("LICENSE"), std::string::npos);  // names the licence file
    EXPECT_EQ(about.at("heldout").get<std::string>(), "models/" + dir.filename().string() + "/heldout.txt");
    std::ifstream heldout(dir / "heldout.txt");
    std::string first;
    ASSERT_TRUE(std::getline(heldout, first));
    EXPECT_FALSE(fs::path(first).is_absolute()) << first;
    EXPECT_NE(f.metadata.at("command").get<std::string>().find(" train "), std::string::npos);
  }
}

TEST(BundledModels, EachHonoursKeyMeterBarsAndTonic) {
  for (const fs::path& dir : bundled_models()) {
    SCOPED_TRACE(dir.string());
    const ModelFile f = load_model_file(dir.string());
    GenerateOptions o;
    o.encoding = model_encode_options(f);
    o.num_outputs = 10;
    o.beam.seed = 3;
    o.controls.key = parse_key_name("D");
    o.controls.meter = TimeSignature{3, 4};
    o.controls.bars = 4;
    o.controls.end_on = EndOn::tonic;
    for (const GeneratedMelody& g : generate_melodies(f.model, o)) {
      SCOPED_TRACE(join_symbols(g.symbols));
      ASSERT_GE(g.symbols.size(), 2u);
      EXPECT_EQ(g.symbols[0], "K:D");
      EXPECT_EQ(g.symbols[1], "M:3/4");
      const Melody m = decode_symbols(g.symbols, o.encoding.step);
      Rational length(0);
      int last = -1;
      for (const auto& e : m.events) length += e.duration, last = e.pitch >= 0 ? e.pitch : last;
      EXPECT_EQ(length, Rational(12));  // 4 bars of 3 quarters
      std::vector<Rational> inner;  // the bar lines inside the melody (a leading "|" at 0 may start it)
      for (const Rational& b : m.barlines)
        if (b > Rational(0)) inner.push_back(b);
      EXPECT_EQ(inner, (std::vector<Rational>{Rational(3), Rational(6), Rational(9)}));
      EXPECT_EQ(last % 12, 2);  // D
    }
  }
}

}  // namespace
