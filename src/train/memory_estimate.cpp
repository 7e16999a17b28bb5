#include "train/memory_estimate.h"

#include <string>

#include "util/error.h"
#include "util/progress.h"
#include "util/system_memory.h"

namespace melodist {

double estimate_training_bytes(const TrainingShapes& s) {
  const double V = s.config.vocab_size, H = s.config.hidden_size, L = s.config.num_layers;
  const double P = static_cast<double>(parameter_count(s.config));
  const double TB = static_cast<double>(s.seq_len) * s.batch, workers = s.threads;
  // (P) copies: params, Adam m and v, the best model (4); the average and the model made from it (2);
  // the checkpoint while it is serialised (its tensors copied, then the bytes: 8); per worker a
  // gradient and the validation's step state with its packed weights (about 3).
  const double parameter_floats = P * (4.0 + (s.ema ? 2.0 : 0.0) + 8.0) + P * workers * (1.0 + 3.0);
  // Per worker: w_h_mask and w_h_dropped (L, H, 4H), dw_h_scratch (H, 4H), packed w_h and w_h^T (2 x H x 4H).
  const double scratch_floats = workers * (2.0 * L + 1.0 + 2.0) * H * 4.0 * H;
  // (T, B, ...) over all workers: per layer gates 4H + c, tanh_c, h, mask, y (5H); probs and dlogits (2V);
  // dy, dh (2H) and dgates (4H); plus (B, H) states, negligible.
  const double activation_floats = TB * (L * 9.0 * H + 2.0 * V + 6.0 * H);
  const double program_bytes = 96e6;  // binary, libraries, OpenBLAS buffers, dataset, validation state
  return 4.0 * (parameter_floats + scratch_floats + activation_floats) + program_bytes;
}

void check_training_memory(const TrainingShapes& s) {
  const double need = estimate_training_bytes(s);
  const auto available = available_memory_bytes();
  // 15% of what is available stays in reserve: the estimate is within about 10% of the measured peak
  // (tests/test_memory_estimate.cpp), and other processes and the page cache need room too.
  if (!available || need <= 0.85 * *available) return;
  throw Error("--hidden " + std::to_string(s.config.hidden_size) + " --layers " + std::to_string(s.config.num_layers) + " --batch " +
              std::to_string(s.batch) + " --seq-len " + std::to_string(s.seq_len) + " with " + std::to_string(s.config.vocab_size) +
              " symbols and " + std::to_string(s.threads) + " thread(s) needs about " + format_bytes(need) + "; " +
              format_bytes(*available) + " available, of which melodist uses at most 85% (use a smaller --hidden, --batch or --seq-len, or fewer --threads)");
}

}  // namespace melodist
