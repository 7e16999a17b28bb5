// Compose 4 bars in D major with the bundled model and write them as MIDI.
//   compose [OUT.mid [SEED]]
#include <cstdio>
#include <cstdlib>
#include <string>

#include <melodist/melodist.h>

int main(int argc, char** argv) {
  const std::string out = argc > 1 ? argv[1] : "compose.mid";
  try {
    const melodist::api::Model model = melodist::api::Model::bundled();

    melodist::api::GenerationOptions options;
    options.key = "D major";                    // primes the model with its key symbol K:D
    options.meter = melodist::api::Meter{4, 4};  // and M:4/4 (unset: the model chooses the meter)
    options.bars = 4;                            // exactly 4 bars, by constrained decoding
    options.seed = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 7;
    const melodist::api::Melody melody = model.generate(options).front();

    melody.write(out);  // the extension picks the format
    std::printf("%s: %zu notes, %.1f quarters, log-likelihood %.3f nats (melodist %s)\n", out.c_str(),
                melody.notes().size(), melody.length(), melody.log_likelihood(), melodist::api::version().c_str());
  } catch (const melodist::Error& e) {
    std::fprintf(stderr, "compose: %s\n", e.what());
    return 1;
  }
  return 0;
}
