#pragma once
// Yang & Lerch's MGEval set comparison ("On the evaluation of generative models in music", Neural
// Computing and Applications 2018), for the features of evaluate/melody_stats.h.
//
// For each feature every melody gives a vector (a scalar feature is a vector of 1; histograms and
// transition matrices are divided by their total so that song length does not dominate). Then:
//   intra-set distances of set A: Euclidean distance of every unordered pair {i, j}, i != j, of A;
//   inter-set distances: every pair (a in A, b in B); when A and B are the SAME set (same_set = true),
//   pairs of a melody with itself are left out, so the inter-set distances are the intra-set ones.
// Each distance sample is smoothed with a Gaussian kernel density estimate (bandwidth by Scott's rule,
// std (ddof 1) * n^(-1/5), as scipy.stats.gaussian_kde; a sample with zero spread gets 1/1000 of the
// compared samples' range, or 1e-3 when that is zero too). Two densities are compared on one grid of
// kGridPoints points spanning both samples +- 6 bandwidths:
//   overlap_area(P, Q) = integral of min(p, q) (trapezoid rule);        1 for identical samples.
//   kl_divergence(P || Q) = sum_g P_g ln(P_g / Q_g) over the grid, P_g and Q_g being the densities at
//     the grid points normalised to sum 1 (+1e-12 each, renormalised), as scipy.stats.entropy does with
//     MGEval's sampled densities;                                          0 for identical samples.
// Large samples: distances are binned linearly onto the grid before the kernel sum (exact for the
// kernel sum up to the grid spacing, which is far below the bandwidth). Following the paper, the
// reported pair for each set is (intra-set of that set) versus (inter-set): similar sets give
// overlap near 1 and KL near 0.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "evaluate/melody_stats.h"

namespace melodist {

inline constexpr int kGridPoints = 2048;

// The compared features, in report order: pitch_count, pitch_class_histogram,
// pitch_class_transitions, pitch_range, mean_abs_interval, note_count, mean_ioi,
// note_length_histogram, note_length_transitions, in_scale_rate.
std::vector<std::string> mgeval_feature_names();
// One vector per melody; throws melodist::Error on an unknown name.
std::vector<std::vector<double>> feature_vectors(const std::vector<MelodyStats>& melodies, const std::string& feature);

std::vector<double> intra_set_distances(const std::vector<std::vector<double>>& set);
std::vector<double> inter_set_distances(const std::vector<std::vector<double>>& a,
                                        const std::vector<std::vector<double>>& b, bool same_set);

// Scott's-rule bandwidth of a sample (0 when it has < 2 values or no spread).
double scott_bandwidth(const std::vector<double>& sample);
// Density of the Gaussian KDE with the given bandwidth at x (direct sum, for tests and small samples).
double kde_density(const std::vector<double>& sample, double bandwidth, double x);

struct DensityComparison {
  double kl_divergence = 0.0;  // KL(P || Q), nats
  double overlap_area = 0.0;
};
// Both samples must be non-empty (throws melodist::Error otherwise).
DensityComparison compare_densities(const std::vector<double>& p_sample, const std::vector<double>& q_sample);

struct DistanceSummary {
  double mean = 0.0, std = 0.0;
  size_t count = 0;
};
DistanceSummary summarise(const std::vector<double>& distances);

struct FeatureComparison {
  std::string feature;
  DistanceSummary intra_a, intra_b, inter;
  DensityComparison a_vs_inter;  // intra-set of A vs inter-set
  DensityComparison b_vs_inter;  // intra-set of B vs inter-set
};

// Each set needs at least 2 melodies (throws melodist::Error otherwise).
std::vector<FeatureComparison> compare_sets(const std::vector<MelodyStats>& a, const std::vector<MelodyStats>& b,
                                            bool same_set);
nlohmann::json to_json(const std::vector<FeatureComparison>& comparisons);

}  // namespace melodist
