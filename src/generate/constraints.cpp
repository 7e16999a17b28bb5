// Constrained decoding (see constraints.h). Shapes: V symbols; a state is the ConstraintState struct.
#include "generate/constraints.h"

#include <algorithm>
#include <limits>

#include "formats/key_symbol.h"
#include "formats/meter_symbol.h"
#include "formats/text_encoding.h"
#include "util/error.h"

namespace melodist {

int64_t bar_steps_of(const TimeSignature& meter, Rational step) {
  if (meter.numerator < 1 || meter.denominator < 1) return 0;
  const Rational steps = bar_length(meter) / step;
  return steps.den == 1 ? steps.num : 0;
}

Constraints::Constraints(const Model& model, const ConstraintOptions& options) : options_(options) {
  symbols_.resize(model.vocabulary.size());
  for (size_t v = 0; v < model.vocabulary.size(); ++v) {
    const std::string& s = model.vocabulary[v];
    Symbol& y = symbols_[v];
    if (s == kHoldSymbol) y.kind = hold;
    else if (s == kRestSymbol) y.kind = rest;
    else if (const int k = bar_countdown(s); k >= 0) y.kind = bar, y.countdown = k, has_bar_ = true, countdown_ = std::max(countdown_, k);
    else if (s == kDelimiterSymbol) y.kind = end;
    else if (s == kFinalSymbol) y.kind = mark, has_final_ = true;
    else if (const auto w = triplet_window(s)) {
      // Only the windows notation writes (music/score.cpp write_triplet: an eighth, a quarter or a half).
      const Rational steps = *w / options.step;
      const bool written = *w == Rational(1, 2) || *w == Rational(1) || *w == Rational(2);
      y.kind = tuplet, y.bar_steps = steps.den == 1 && written ? steps.num : 0;
    } else if (const auto k = parse_key_symbol(s)) y.kind = key, y.tonic = k->tonic_pitch_class, y.minor = k->minor, has_keys_ = true;
    else if (const auto m = parse_meter_symbol(s)) {
      y.kind = meter, y.bar_steps = bar_steps_of(*m, options.step), has_meters_ = true;
      longest_bar_steps_ = std::max(longest_bar_steps_, y.bar_steps);
    } else if (!s.empty() && s.size() <= 3 && s.find_first_not_of("0123456789") == std::string::npos && std::stoi(s) <= 127) {
      y.kind = pitch, y.pitch = std::stoi(s);
    }
  }
  has_countdown_.assign(static_cast<size_t>(countdown_) + 1, 0);
  for (const Symbol& y : symbols_)
    if (y.kind == bar) has_countdown_[static_cast<size_t>(y.countdown)] = 1;
  for (Symbol& y : symbols_)
    if (y.kind == key) {
      ConstraintState in_key;
      in_key.key_tonic = y.tonic, in_key.key_minor = y.minor;
      y.can_end = can_end(in_key);
    }
  if (options.fallback_meter) {
    fallback_bar_steps_ = bar_steps_of(*options.fallback_meter, options.step);
    longest_bar_steps_ = std::max(longest_bar_steps_, fallback_bar_steps_);
  }
  if (options.bars < 0) throw Error("--bars must be 1 or more");
  if (options.bars > 0 && !has_meters_ && fallback_bar_steps_ == 0)
    throw Error("--bars needs the bar length: the model has no meter symbols and the meter is not a whole number of steps");
  if (options.end_on != EndOn::any && !has_keys_)
    throw Error("--end-on needs the key, and the model has no key symbols; train one on `melodist preprocess --key-symbol` data");
  inert_ = options.bars == 0 && options.end_on == EndOn::any && !has_bar_ && !has_keys_ && !has_meters_ && !has_final_;
}

ConstraintState Constraints::after(const std::vector<int>& symbols) const {
  ConstraintState s;
  for (int id : symbols) advance(s, id);
  return s;
}

void Constraints::advance(ConstraintState& s, int id) const {
  if (id < 0 || id >= static_cast<int>(symbols_.size())) return;
  const Symbol& y = symbols_[static_cast<size_t>(id)];
  auto tick = [&s] {  // one step, or one unit of a triplet window (its three units end on its last step)
    s.after_window = false;
    if (s.units_left == 0) return void(++s.time);
    --s.units_left;
    s.time = s.window_start + s.window_steps * (3 - s.units_left) / 3;
    s.after_window = s.units_left == 0;
    if (s.after_window && s.final_window) s.final_window = false, s.final_stage = 2;
  };
  switch (y.kind) {
    case pitch:
      if (s.final_stage == 1 && s.units_left == 0) s.final_stage = 2;
      tick(), s.started = true, s.last_pitch = y.pitch, s.rest_after_note = false;
      break;
    case rest: tick(), s.started = true, s.rest_after_note = s.last_pitch >= 0; break;
    case hold: if (s.started) tick(); break;
    case tuplet: s.units_left = 3, s.window_start = s.time, s.window_steps = y.bar_steps, s.final_window = s.final_stage == 1; break;
    case mark: if (s.final_stage == 0) s.final_stage = 1; break;
    case bar:
      s.key_due = options_.restate_key && has_keys_ && y.countdown > 0 && s.bars_left == 0 && s.key_tonic >= 0;
      s.first_bar = s.last_bar < 0 ? s.time : s.first_bar, s.last_bar = s.time, s.bars_left = y.countdown;
      break;
    case key: if (s.key_tonic < 0) s.key_tonic = y.tonic, s.key_minor = y.minor; s.key_due = false; break;
    case meter: if (!s.meter_seen) s.meter_seen = true, s.bar_steps = y.bar_steps; break;
    default: break;
  }
}

bool Constraints::in_end_set(const ConstraintState& s, int p) const {
  if (p < 0 || s.key_tonic < 0) return false;
  const int degree = ((p - s.key_tonic) % 12 + 12) % 12;
  if (options_.end_on == EndOn::tonic) return degree == 0;
  return degree == 0 || degree == 7 || degree == (s.key_minor ? 3 : 4);
}

bool Constraints::bar_ok(const ConstraintState& s, const Symbol& y, int bars_to_go, bool first) const {
  if (y.kind != bar) return false;
  if (countdown_ == 0) return true;
  if (options_.bars > 0) {
    const bool counted = bars_to_go >= 1 && bars_to_go <= countdown_ && has_countdown_[static_cast<size_t>(bars_to_go)];
    return y.countdown == (counted ? bars_to_go : 0);
  }
  if (s.bars_left > 1) return y.countdown == s.bars_left - 1;
  if (s.bars_left == 1) return false;  // the last bar is over: the end comes next
  return y.countdown == 0 || y.countdown == countdown_ || first;
}

bool Constraints::last_step_ok(const ConstraintState& s, const Symbol& y) const {
  const bool settled = in_end_set(s, s.last_pitch);
  return (y.kind == pitch && in_end_set(s, y.pitch)) || (settled && (y.kind == hold || y.kind == rest));
}

int64_t Constraints::bar_origin(const ConstraintState& s) const {
  const int64_t t = s.time, L = bar_steps(s);
  if (options_.bars > 0 && L > 0) {
    const int64_t P = options_.pickup_steps;
    return t < P ? P - L : P + (t - P) / L * L;
  }
  return s.last_bar >= 0 ? s.last_bar : kNoOrigin;
}

int64_t Constraints::window_limit(const ConstraintState& s) const {
  const int64_t t = s.time, L = bar_steps(s);
  // The last step stays free for the rule of the last step, or for the "$" forced there.
  const bool last_step_rule = this->last_step_rule() || (has_final_ && s.final_stage == 0);
  if (options_.bars > 0 && L > 0) {
    const int64_t P = options_.pickup_steps, E = P + options_.bars * L;
    const int64_t next = t < P ? P : P + ((t - P) / L + 1) * L;  // the next line, or the end
    return std::min(next, last_step_rule ? E - 1 : E);
  }
  const int64_t M = s.bar_steps;
  if (!has_bar_ || M <= 0) return std::numeric_limits<int64_t>::max();
  const int64_t next = s.last_bar < 0 ? M : s.last_bar + M;
  return countdown_ > 0 && s.bars_left == 1 && last_step_rule ? next - 1 : next;
}

bool Constraints::can_end(const ConstraintState& s) const {
  if (options_.end_on == EndOn::any) return true;
  for (const Symbol& y : symbols_)
    if (y.kind == pitch && in_end_set(s, y.pitch)) return true;
  return false;
}

int64_t Constraints::end_time(const ConstraintState& s) const {
  const int64_t L = bar_steps(s);
  if (options_.bars <= 0 || L <= 0) return -1;
  return options_.pickup_steps + options_.bars * L;
}

int64_t Constraints::needed_steps(const ConstraintState& primed) const {
  if (options_.bars <= 0) return 0;
  int64_t unseen = longest_bar_steps_;  // the longest bar the header may still choose
  if (options_.meter_id >= 0) unseen = symbols_[static_cast<size_t>(options_.meter_id)].bar_steps;
  else if (options_.max_bar_steps > 0) unseen = std::min(unseen, options_.max_bar_steps);
  const int64_t L = primed.bar_steps > 0 ? primed.bar_steps : primed.meter_seen || !has_meters_ ? fallback_bar_steps_ : unseen;
  const int64_t header = (!primed.started && has_keys_ && primed.key_tonic < 0) + (!primed.started && has_meters_ && !primed.meter_seen);
  const int64_t lines = has_bar_ ? options_.bars - (options_.pickup_steps == 0 ? 1 : 0) : 0;
  const int64_t mark = has_final_ && primed.final_stage == 0 ? 1 : 0;  // "$"
  const int64_t restated = options_.restate_key && countdown_ > 0 && primed.bars_left == 0 ? 1 : 0;  // the key again
  return header + options_.pickup_steps + options_.bars * L - primed.time + lines + mark + restated;
}

void Constraints::allowed(const ConstraintState& s, std::vector<char>& out) const {
  const size_t V = symbols_.size();
  if (inert_) return out.assign(V, 1);
  if (s.units_left > 0)  // inside a triplet window: its three units, the first an onset (notation's rule; after "$", a note)
    return allow_only(out, [&](const Symbol& y) {
      return y.kind == pitch || (y.kind == rest && !(s.final_window && s.units_left == 3)) || (y.kind == hold && s.units_left < 3);
    });
  allowed_here(s, out);
  apply_final_mark(s, out);
  if (s.after_window) {  // no note goes on past a window (notation writes whole notes in it)
    std::vector<char> kept = out;
    for (size_t v = 0; v < V; ++v)
      if (symbols_[v].kind == hold) kept[v] = 0;
    if (std::find(kept.begin(), kept.end(), 1) != kept.end()) out.swap(kept);
  }
}

int64_t Constraints::bars_to_end(const ConstraintState& s) const {
  if (const int64_t E = end_time(s); E >= 0) {
    const int64_t L = bar_steps(s);
    return s.time < E ? (E - s.time + L - 1) / L : 0;
  }
  return countdown_ > 0 ? s.bars_left : 0;
}

bool Constraints::mark_ok(const ConstraintState& s) const {
  if (!has_final_ || !s.started || s.final_stage != 0) return false;
  if (end_time(s) >= 0 || countdown_ > 0) return bars_to_end(s) == 1;
  return true;
}

bool Constraints::mark_due(const ConstraintState& s) const {
  if (!mark_ok(s)) return false;
  if (options_.bars > 0 && end_time(s) >= 0) return end_time(s) - s.time == 1;
  return countdown_ > 0 && s.bar_steps > 0 && s.last_bar >= 0 && s.time - s.last_bar == s.bar_steps - 1;
}

void Constraints::apply_final_mark(const ConstraintState& s, std::vector<char>& out) const {
  if (!has_final_ || !s.started) return;
  const size_t V = symbols_.size();
  const bool timed_here = [&] {  // "$" stands before a step: where one may start (not where a line is due)
    for (size_t v = 0; v < V; ++v)
      if (out[v] && (symbols_[v].kind == pitch || symbols_[v].kind == rest || symbols_[v].kind == hold)) return true;
    return false;
  }();
  for (size_t v = 0; v < V; ++v) {
    const Symbol& y = symbols_[v];
    if (s.final_stage == 0 && mark_due(s) && timed_here) out[v] = y.kind == mark;
    else if (s.final_stage == 0) out[v] = y.kind == mark ? mark_ok(s) && timed_here : out[v] && y.kind != end;
    else if (s.final_stage == 1)  // the last note: with end_on one of the set, and no window (its notes are free)
      out[v] = out[v] && ((y.kind == pitch && (options_.end_on == EndOn::any || in_end_set(s, y.pitch))) ||
                          (y.kind == tuplet && options_.end_on == EndOn::any));
    else out[v] = out[v] && y.kind != pitch && y.kind != tuplet && y.kind != mark && y.kind != bar;  // then the end
  }
}

// Where a "$" model is concerned, apply_final_mark narrows this further.
void Constraints::allowed_here(const ConstraintState& s, std::vector<char>& out) const {
  const size_t V = symbols_.size();
  out.assign(V, 0);
  // A triplet window starts on a multiple of its length from the bar's start and ends by the next line.
  const int64_t limit = window_limit(s), origin = bar_origin(s);
  auto window = [&](const Symbol& y) {
    return y.kind == tuplet && y.bar_steps > 0 && s.time + y.bar_steps <= limit && origin != kNoOrigin &&
           (s.time - origin) % y.bar_steps == 0;
  };
  const int64_t L = bar_steps(s);
  const bool need_bars = options_.bars > 0 || has_bar_;
  if (s.key_due)  // the key again where the countdown starts (restate_key)
    return allow_only(out, [&](const Symbol& y) { return y.kind == key && y.tonic == s.key_tonic && y.minor == s.key_minor; });
  if (!s.started) {  // the header: key, meter, then a note or rest
    if (has_keys_ && s.key_tonic < 0) return allow_only(out, [](const Symbol& y) { return y.kind == key && y.can_end; });
    if (has_meters_ && !s.meter_seen) {
      for (size_t v = 0; v < V; ++v) {
        const Symbol& y = symbols_[v];
        if (options_.meter_id >= 0) out[v] = static_cast<int>(v) == options_.meter_id;
        else out[v] = y.kind == meter && (!need_bars || y.bar_steps > 0) &&
                      (options_.max_bar_steps == 0 || y.bar_steps <= options_.max_bar_steps);
      }
      if (std::find(out.begin(), out.end(), 1) != out.end()) return;
    }
    // A "|" before the first note says the song starts on a bar (23% of the Essen songs): allowed once,
    // unless a pickup was asked for.
    const bool lead_bar = has_bar_ && s.last_bar < 0 && (options_.bars == 0 || options_.pickup_steps == 0);
    return allow_only(out, [&](const Symbol& y) {
      return y.kind == pitch || y.kind == rest || window(y) || (lead_bar && bar_ok(s, y, options_.bars, true));
    });
  }
  const int64_t t = s.time;
  const bool barred = s.last_bar == t;  // a "|" stands at this time already
  auto timed = [](const Symbol& y) { return y.kind == pitch || y.kind == rest || y.kind == hold; };
  if (options_.bars > 0 && L > 0) {
    const int64_t P = options_.pickup_steps, E = P + options_.bars * L;
    if (t >= E) return allow_only(out, [](const Symbol& y) { return y.kind == end; });
    const bool line = (t == P && P > 0) || (t > P && (t - P) % L == 0);
    const int to_go = static_cast<int>(options_.bars - (t - P) / L);  // the line at P + m L opens bar m + 1
    if (line && has_bar_ && !barred) return allow_only(out, [&](const Symbol& y) { return bar_ok(s, y, to_go, false); });
    if (!last_step_rule() || E - t >= 2) return allow_only(out, [&](const Symbol& y) { return timed(y) || window(y); });
    return allow_only(out, [&](const Symbol& y) { return last_step_ok(s, y); });  // the last note must be in the set
  }
  // Whole bars without --bars: only for a meter the model said (a model without meter symbols places
  // its "|" as it learned to).
  const bool end_ok = (options_.end_on == EndOn::any || in_end_set(s, s.last_pitch)) && (countdown_ == 0 || s.bars_left == 1) &&
                      (!has_final_ || s.final_stage == 2);
  if (const int64_t M = s.bar_steps; has_bar_ && M > 0 && !barred) {
    const bool first = s.last_bar < 0;
    if (!first || t <= M) {
      const bool due = first ? t == M : (t - s.last_bar) % M == 0;
      if (due) return allow_only(out, [&](const Symbol& y) { return bar_ok(s, y, 0, first) || (y.kind == end && end_ok); });
      const int64_t P = s.first_bar > 0 && s.first_bar < M ? s.first_bar : 0;  // the pickup
      const bool completes = P > 0 && !first && t - s.last_bar == M - P;       // a last bar of L - P
      if (countdown_ > 0 && s.bars_left == 1 && last_step_rule() && t - s.last_bar == M - 1)
        return allow_only(out, [&](const Symbol& y) { return last_step_ok(s, y) || (completes && y.kind == end && end_ok); });
      return allow_only(out, [&](const Symbol& y) {
        return timed(y) || window(y) || (first && bar_ok(s, y, 0, true)) || (completes && y.kind == end && end_ok);
      });
    }
  }
  if (barred) return allow_only(out, [&](const Symbol& y) { return timed(y) || window(y); });
  return allow_only(out, [&](const Symbol& y) {
    return timed(y) || window(y) || (y.kind == end && end_ok) || bar_ok(s, y, 0, s.last_bar < 0) || y.kind == other;
  });
}

}  // namespace melodist
