// melodist score: the log-likelihood of one melody under a model, computed exactly as validation loss
// (generate/song_score.h: 64 "/" start symbols, the melody's symbols scored, plus the closing "/" when
// the text ends with one; a .krn/.mid song is a whole song, so its end is scored too).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "command.h"
#include "formats/model_file.h"
#include "formats/song_file.h"
#include "formats/text_encoding.h"
#include "generate/generator.h"
#include "nn/song_score.h"
#include "nn/model.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace {

struct ScoreArgs {
  std::string model;
  std::string text;
  std::string file;
  bool text_given = false;
  bool per_step = false;
  bool json = false;
};

void run(const ScoreArgs& a) {
  namespace fs = std::filesystem;
  if (a.text_given == !a.file.empty()) throw melodist::Error("give the melody either with --text \"...\" or as FILE, not both or neither");
  if (!a.file.empty() && !fs::exists(a.file)) throw melodist::file_error(a.file, 0, "no such file");
  const std::string model_dir = melodist::resolve_model_dir(a.model);
  const melodist::ModelFile file = melodist::load_model_file(model_dir);
  const melodist::Model& model = file.model;

  std::vector<std::string> symbols;
  bool score_end = false;
  const std::string source = a.text_given ? std::string("--text") : a.file;
  if (!a.text_given && melodist::is_song_file(a.file)) {
    symbols = melodist::primer_from_song_file(melodist::model_encode_options(file), a.file, true);
    score_end = true;  // a song file holds a whole song: its end is part of it
  } else {
    symbols = melodist::split_symbols(a.text_given ? a.text : melodist::read_file(a.file));
    size_t begin = 0, end = symbols.size();
    while (begin < end && symbols[begin] == melodist::kDelimiterSymbol) ++begin;  // start symbols are implied
    while (end > begin && symbols[end - 1] == melodist::kDelimiterSymbol) --end, score_end = true;
    symbols = std::vector<std::string>(symbols.begin() + begin, symbols.begin() + end);
    for (size_t i = 0; i < symbols.size(); ++i)
      if (symbols[i] == melodist::kDelimiterSymbol)
        throw melodist::Error(source + ": \"/\" inside the melody (symbol " + std::to_string(begin + i + 1) + "); score takes one melody");
  }
  if (symbols.empty() && !score_end) throw melodist::Error(source + ": no symbols to score");
  const std::vector<int> ids = melodist::melody_ids(model, symbols, source);
  const melodist::SongScore s = melodist::score_song(model, ids, score_end);
  const double total = s.total_nats();
  const double per = total / static_cast<double>(s.steps());
  if (a.json) {
    nlohmann::ordered_json j;
    j["total_nats"] = total;
    j["nats_per_step"] = per;
    j["steps"] = s.steps();
    if (a.per_step) {
      j["per_step"] = nlohmann::ordered_json::array();
      for (size_t t = 0; t < s.steps(); ++t) j["per_step"].push_back({{"symbol", model.vocabulary[s.targets[t]]}, {"nats", s.nats[t]}});
    }
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  if (a.per_step) {
    std::printf("%6s  %-6s  %9s\n", "step", "symbol", "nats");
    for (size_t t = 0; t < s.steps(); ++t) std::printf("%6zu  %-6s  %9.4f\n", t + 1, model.vocabulary[s.targets[t]].c_str(), s.nats[t]);
  }
  std::printf("%.4f nats total, %.4f nats per step over %zu steps (perplexity %.3f)%s\n", total, per, s.steps(), std::exp(per),
              score_end ? ", end of song included" : "");
}

void setup(CLI::App& root) {
  auto args = std::make_shared<ScoreArgs>();
  CLI::App* app = root.add_subcommand(
      "score", "Log-likelihood of a melody under a model, exactly as validation loss: 64 \"/\" start symbols, then every "
               "symbol of the melody (and a final \"/\" when the text ends with one) scored in nats");
  app->add_option("--model,-m", args->model, "model folder, or a bundled model's name (default: the bundled essen-german)");
  CLI::Option* text = app->add_option("--text", args->text, "the melody in the text encoding");
  app->add_option("FILE", args->file, "a text file with the encoding, or a .krn/.mid song (preprocessed as for training)");
  app->add_flag("--per-step", args->per_step, "also print the nats of every step");
  app->add_flag("--json", args->json, "print a JSON object: total_nats, nats_per_step, steps (and per_step)");
  app->callback([args, text] {
    args->text_given = text->count() > 0;
    run(*args);
  });
}

melodist::cli::Command score_command{"score", 60, setup};

}  // namespace
