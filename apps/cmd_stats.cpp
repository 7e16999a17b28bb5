// melodist stats (DATASET_DIR | MIDI/kern/text files...) [--against DATASET_DIR] [--json]
// Musical statistics of melodies and of the set (src/evaluate/melody_stats.h) and, with --against,
// Yang & Lerch's MGEval comparison of the two sets (src/evaluate/mgeval.h).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "command.h"
#include "evaluate/melody_sources.h"
#include "evaluate/melody_stats.h"
#include "evaluate/mgeval.h"
#include "util/error.h"

namespace {

struct StatsOptions {
  std::vector<std::string> inputs;
  std::string against;
  bool json = false;
};

std::vector<melodist::MelodyStats> stats_of(const std::vector<melodist::NamedMelody>& melodies) {
  std::vector<melodist::MelodyStats> out;
  out.reserve(melodies.size());
  for (const auto& m : melodies) out.push_back(melodist::melody_stats(m.melody, m.name));
  return out;
}

bool same_inputs(const std::vector<std::string>& a, const std::string& b) {
  std::error_code e1, e2;
  return a.size() == 1 && std::filesystem::equivalent(a[0], b, e1) && !e1 && !e2;
}

void print_set(const char* title, const melodist::SetStats& s) {
  std::printf("%s: %zu melodies\n", title, s.melodies);
  auto line = [](const char* name, const melodist::MeanStd& v) {
    std::printf("  %-20s %8.3f +- %.3f\n", name, v.mean, v.std);
  };
  line("note count", s.note_count);
  line("pitch count", s.pitch_count);
  line("pitch range", s.pitch_range);
  line("mean |interval|", s.mean_abs_interval);
  line("mean IOI (quarters)", s.mean_ioi);
  line("in-scale rate", s.in_scale_rate);
  line("ends on the tonic", s.ends_on_tonic);
  line("2nd half in key", s.second_half_in_key);
  static const char* pcs[12] = {"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"};
  double total = 0;
  for (double c : s.pitch_class_histogram) total += c;
  std::printf("  pitch classes       ");
  for (int i = 0; i < 12; ++i) std::printf(" %s %.1f%%", pcs[i], total > 0 ? 100 * s.pitch_class_histogram[i] / total : 0.0);
  std::printf("\n  note lengths (q)    ");
  total = 0;
  for (double c : s.note_length_histogram) total += c;
  for (int i = 0; i < melodist::kNoteLengthClasses; ++i)
    std::printf(" %s %.1f%%", melodist::note_length_class_names()[i],
                total > 0 ? 100 * s.note_length_histogram[i] / total : 0.0);
  std::printf("\n");
}

void run_stats(const StatsOptions& opt) {
  using namespace melodist;
  const auto melodies = read_melody_sources(opt.inputs);
  const auto stats = stats_of(melodies);
  const SetStats set = set_stats(stats);
  std::vector<MelodyStats> against_stats;
  SetStats against_set;
  std::vector<FeatureComparison> comparison;
  if (!opt.against.empty()) {
    against_stats = stats_of(read_melody_source(opt.against));
    against_set = set_stats(against_stats);
    comparison = compare_sets(stats, against_stats, same_inputs(opt.inputs, opt.against));
  }
  if (opt.json) {
    nlohmann::json j;
    j["melodies"] = nlohmann::json::array();
    for (const auto& s : stats) j["melodies"].push_back(to_json(s));
    j["set"] = to_json(set);
    if (!opt.against.empty()) {
      j["against"] = {{"source", opt.against}, {"set", to_json(against_set)}};
      j["mgeval"] = to_json(comparison);
    }
    std::cout << j.dump(2) << "\n";
    return;
  }
  if (stats.size() <= 50) {
    std::printf("%-40s %6s %7s %6s %9s %7s %9s  %s\n", "melody", "notes", "pitches", "range", "|interval|", "IOI",
                "in-scale", "key");
    for (const auto& s : stats) {
      std::string name = s.name.size() > 40 ? "..." + s.name.substr(s.name.size() - 37) : s.name;
      std::printf("%-40s %6d %7d %6d %9.3f %7.3f %9.3f  %s\n", name.c_str(), s.note_count, s.pitch_count,
                  s.pitch_range, s.mean_abs_interval, s.mean_ioi, s.in_scale_rate, s.key.name().c_str());
    }
  }
  print_set("set", set);
  if (opt.against.empty()) return;
  print_set(("against " + opt.against).c_str(), against_set);
  std::printf("MGEval (Yang & Lerch 2018): distances within the set (A), within --against (B) and between them;\n"
              "KL divergence and overlapping area of each intra-set density against the inter-set density\n");
  std::printf("%-24s %17s %17s %17s %8s %8s %8s %8s\n", "feature", "intra A", "intra B", "inter", "KL A", "OA A",
              "KL B", "OA B");
  for (const auto& c : comparison)
    std::printf("%-24s %8.3f+-%-7.3f %8.3f+-%-7.3f %8.3f+-%-7.3f %8.4f %8.4f %8.4f %8.4f\n", c.feature.c_str(),
                c.intra_a.mean, c.intra_a.std, c.intra_b.mean, c.intra_b.std, c.inter.mean, c.inter.std,
                c.a_vs_inter.kl_divergence, c.a_vs_inter.overlap_area, c.b_vs_inter.kl_divergence,
                c.b_vs_inter.overlap_area);
}

void setup_stats(CLI::App& root) {
  auto opt = std::make_shared<StatsOptions>();
  auto* app = root.add_subcommand("stats", "Musical statistics of melodies; with --against, MGEval set comparison");
  app->add_option("inputs", opt->inputs, "A dataset folder, or .krn/.mid/.txt files (a .txt holds one melody per line)")
      ->required();
  app->add_option("--against", opt->against, "A dataset folder (or one .krn/.mid/.txt file) to compare with");
  app->add_flag("--json", opt->json, "Print one JSON object");
  app->callback([opt] { run_stats(*opt); });
}

melodist::cli::Command stats_command{"stats", 90, setup_stats};

}  // namespace
