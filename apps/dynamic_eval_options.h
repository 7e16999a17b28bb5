#pragma once
// --dynamic-lr, --dynamic-segment, --dynamic-decay: the options of dynamic evaluation
// (src/evaluate/dynamic_eval.h), shared by `evaluate` and `crossval`.
#include <CLI/CLI.hpp>

#include "evaluate/dynamic_eval.h"

namespace melodist::cli {

inline void add_dynamic_eval_options(CLI::App* app, DynamicEvalOptions& o) {
  app->add_option("--dynamic-lr", o.lr,
                  "dynamic evaluation: keep learning from each song while it is scored (an SGD step of this size "
                  "after every segment; the weights are reset for every song; 0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app->add_option("--dynamic-segment", o.segment, "dynamic evaluation: input steps per update")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_option("--dynamic-decay", o.decay, "dynamic evaluation: pull towards the trained weights after each update, in [0, 1]")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app->add_option("--dynamic-iterations", o.iterations, "dynamic evaluation: SGD steps per update")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app->add_flag("--dynamic-prefix", o.whole_prefix,
                "dynamic evaluation: each update learns from the whole song so far (re-run from its start), not only "
                "the last segment");
}

}  // namespace melodist::cli
