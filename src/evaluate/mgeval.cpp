#include "evaluate/mgeval.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "util/error.h"

namespace melodist {

std::vector<std::string> mgeval_feature_names() {
  return {"pitch_count", "pitch_class_histogram", "pitch_class_transitions", "pitch_range", "mean_abs_interval",
          "note_count",  "mean_ioi",              "note_length_histogram",   "note_length_transitions",
          "in_scale_rate"};
}

namespace {

template <size_t N>
std::vector<double> normalised(const std::array<double, N>& counts) {
  double total = 0.0;
  for (double c : counts) total += c;
  std::vector<double> v(counts.begin(), counts.end());
  if (total > 0)
    for (double& x : v) x /= total;
  return v;
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(sum);
}

// Linear binning of `sample` onto the grid x0 + g*h, g = 0..G-1 (weights sum to the sample size).
std::vector<double> bin_onto_grid(const std::vector<double>& sample, double x0, double h, int G) {
  std::vector<double> weights(G, 0.0);
  for (double x : sample) {
    const double pos = (x - x0) / h;
    int g = static_cast<int>(std::floor(pos));
    g = std::clamp(g, 0, G - 2);
    const double frac = std::clamp(pos - g, 0.0, 1.0);
    weights[g] += 1.0 - frac;
    weights[g + 1] += frac;
  }
  return weights;
}

// Gaussian KDE evaluated at the grid points from binned weights: (G) densities.
std::vector<double> density_on_grid(const std::vector<double>& sample, double bandwidth, double x0, double h, int G) {
  const std::vector<double> weights = bin_onto_grid(sample, x0, h, G);
  std::vector<double> density(G, 0.0);
  const int reach = std::min(G, static_cast<int>(std::ceil(8.0 * bandwidth / h)) + 1);
  std::vector<double> kernel(reach + 1);
  const double norm = 1.0 / (static_cast<double>(sample.size()) * bandwidth * std::sqrt(2.0 * std::numbers::pi));
  for (int d = 0; d <= reach; ++d) {
    const double u = d * h / bandwidth;
    kernel[d] = norm * std::exp(-0.5 * u * u);
  }
  for (int b = 0; b < G; ++b) {
    if (weights[b] == 0.0) continue;
    const int lo = std::max(0, b - reach), hi = std::min(G - 1, b + reach);
    for (int g = lo; g <= hi; ++g) density[g] += weights[b] * kernel[std::abs(g - b)];
  }
  return density;
}

}  // namespace

std::vector<std::vector<double>> feature_vectors(const std::vector<MelodyStats>& melodies, const std::string& feature) {
  std::vector<std::vector<double>> out;
  out.reserve(melodies.size());
  for (const auto& m : melodies) {
    if (feature == "pitch_count") out.push_back({double(m.pitch_count)});
    else if (feature == "pitch_class_histogram") out.push_back(normalised(m.pitch_class_histogram));
    else if (feature == "pitch_class_transitions") out.push_back(normalised(m.pitch_class_transitions));
    else if (feature == "pitch_range") out.push_back({double(m.pitch_range)});
    else if (feature == "mean_abs_interval") out.push_back({m.mean_abs_interval});
    else if (feature == "note_count") out.push_back({double(m.note_count)});
    else if (feature == "mean_ioi") out.push_back({m.mean_ioi});
    else if (feature == "note_length_histogram") out.push_back(normalised(m.note_length_histogram));
    else if (feature == "note_length_transitions") out.push_back(normalised(m.note_length_transitions));
    else if (feature == "in_scale_rate") out.push_back({m.in_scale_rate});
    else throw Error("unknown MGEval feature \"" + feature + "\"");
  }
  return out;
}

std::vector<double> intra_set_distances(const std::vector<std::vector<double>>& set) {
  std::vector<double> d;
  d.reserve(set.size() * (set.size() - (set.empty() ? 0 : 1)) / 2);
  for (size_t i = 0; i < set.size(); ++i)
    for (size_t j = i + 1; j < set.size(); ++j) d.push_back(distance(set[i], set[j]));
  return d;
}

std::vector<double> inter_set_distances(const std::vector<std::vector<double>>& a,
                                        const std::vector<std::vector<double>>& b, bool same_set) {
  if (same_set) return intra_set_distances(a);
  std::vector<double> d;
  d.reserve(a.size() * b.size());
  for (const auto& x : a)
    for (const auto& y : b) d.push_back(distance(x, y));
  return d;
}

double scott_bandwidth(const std::vector<double>& sample) {
  const size_t n = sample.size();
  if (n < 2) return 0.0;
  double mean = 0.0;
  for (double x : sample) mean += x;
  mean /= static_cast<double>(n);
  double sq = 0.0;
  for (double x : sample) sq += (x - mean) * (x - mean);
  const double sd = std::sqrt(sq / static_cast<double>(n - 1));
  return sd * std::pow(static_cast<double>(n), -0.2);
}

double kde_density(const std::vector<double>& sample, double bandwidth, double x) {
  double sum = 0.0;
  for (double s : sample) {
    const double u = (x - s) / bandwidth;
    sum += std::exp(-0.5 * u * u);
  }
  return sum / (static_cast<double>(sample.size()) * bandwidth * std::sqrt(2.0 * std::numbers::pi));
}

DensityComparison compare_densities(const std::vector<double>& p_sample, const std::vector<double>& q_sample) {
  if (p_sample.empty() || q_sample.empty()) throw Error("MGEval: a distance sample is empty");
  const auto [p_lo, p_hi] = std::minmax_element(p_sample.begin(), p_sample.end());
  const auto [q_lo, q_hi] = std::minmax_element(q_sample.begin(), q_sample.end());
  const double lo = std::min(*p_lo, *q_lo), hi = std::max(*p_hi, *q_hi);
  const double fallback = hi > lo ? (hi - lo) / 1000.0 : 1e-3;
  double bw_p = scott_bandwidth(p_sample), bw_q = scott_bandwidth(q_sample);
  if (!(bw_p > 0)) bw_p = fallback;
  if (!(bw_q > 0)) bw_q = fallback;
  const double margin = 6.0 * std::max(bw_p, bw_q);
  const int G = kGridPoints;
  const double x0 = lo - margin, h = (hi - lo + 2 * margin) / (G - 1);
  const std::vector<double> p = density_on_grid(p_sample, bw_p, x0, h, G);
  const std::vector<double> q = density_on_grid(q_sample, bw_q, x0, h, G);
  DensityComparison r;
  for (int g = 0; g + 1 < G; ++g)
    r.overlap_area += 0.5 * h * (std::min(p[g], q[g]) + std::min(p[g + 1], q[g + 1]));
  double p_sum = 0.0, q_sum = 0.0;
  for (int g = 0; g < G; ++g) {
    p_sum += p[g] + 1e-12;
    q_sum += q[g] + 1e-12;
  }
  for (int g = 0; g < G; ++g) {
    const double pg = (p[g] + 1e-12) / p_sum, qg = (q[g] + 1e-12) / q_sum;
    r.kl_divergence += pg * std::log(pg / qg);
  }
  r.kl_divergence = std::max(0.0, r.kl_divergence);
  return r;
}

DistanceSummary summarise(const std::vector<double>& d) {
  DistanceSummary s;
  s.count = d.size();
  if (d.empty()) return s;
  for (double x : d) s.mean += x;
  s.mean /= static_cast<double>(d.size());
  double sq = 0.0;
  for (double x : d) sq += (x - s.mean) * (x - s.mean);
  s.std = std::sqrt(sq / static_cast<double>(d.size()));
  return s;
}

std::vector<FeatureComparison> compare_sets(const std::vector<MelodyStats>& a, const std::vector<MelodyStats>& b,
                                            bool same_set) {
  if (a.size() < 2 || b.size() < 2)
    throw Error("MGEval needs at least 2 melodies in each set (got " + std::to_string(a.size()) + " and " +
                std::to_string(b.size()) + ")");
  std::vector<FeatureComparison> out;
  for (const auto& feature : mgeval_feature_names()) {
    const auto fa = feature_vectors(a, feature), fb = feature_vectors(b, feature);
    const auto intra_a = intra_set_distances(fa);
    const auto intra_b = same_set ? intra_a : intra_set_distances(fb);
    const auto inter = inter_set_distances(fa, fb, same_set);
    FeatureComparison c;
    c.feature = feature;
    c.intra_a = summarise(intra_a);
    c.intra_b = summarise(intra_b);
    c.inter = summarise(inter);
    c.a_vs_inter = compare_densities(intra_a, inter);
    c.b_vs_inter = compare_densities(intra_b, inter);
    out.push_back(c);
  }
  return out;
}

nlohmann::json to_json(const std::vector<FeatureComparison>& comparisons) {
  nlohmann::json j = nlohmann::json::object();
  auto ds = [](const DistanceSummary& s) { return nlohmann::json{{"mean", s.mean}, {"std", s.std}, {"count", s.count}}; };
  for (const auto& c : comparisons)
    j[c.feature] = {{"intra_set", ds(c.intra_a)},
                    {"intra_set_against", ds(c.intra_b)},
                    {"inter_set", ds(c.inter)},
                    {"kl_divergence", c.a_vs_inter.kl_divergence},
                    {"overlap_area", c.a_vs_inter.overlap_area},
                    {"kl_divergence_against", c.b_vs_inter.kl_divergence},
                    {"overlap_area_against", c.b_vs_inter.overlap_area}};
  return j;
}

}  // namespace melodist
