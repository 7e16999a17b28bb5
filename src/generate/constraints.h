#pragma once
// Constrained decoding for the musical controls of `melodist generate` (--key, --meter, --bars, --pickup,
// --end-on): at every step the beam search asks which symbols may come next, sets the others' logits
// aside (masked before the sampler's temperature/top-k/top-p, then renormalised), and the
// log-likelihood it reports is the one under that constrained distribution:
//   ln p(s | allowed) = logit_s - logsumexp over the allowed symbols.
//
// The rules, over the melody's time t in steps (primer included; "|", "K:", "M:" take no time):
//  - header: before the first note or rest, a model with key symbols first gives ONE key symbol, a
//    model with meter symbols then ONE meter symbol (--key and --meter put them in the primer; --meter
//    alone is forced after the key the model samples), then
//    perhaps one "|" (the song starts on a bar; not with a pickup), then a note or rest ("_" holds
//    nothing and "/" is no song); key and meter symbols are never drawn later;
//  - bars (`bars` > 0): with the bar length L = meter x 4 quarters / step and the pickup P steps, the
//    bar lines fall at P (when P > 0), P + L, ..., P + (N-1) L; at each the barline symbol "|" is
//    forced (when the model has one) and it is forbidden elsewhere; the end "/" is forbidden before
//    E = P + N L and forced at E: exactly N whole bars after the pickup;
//  - whole bars without `bars`, for a model with "|" once a meter symbol has said the meter: the first "|" may fall at any
//    step in (0, L] (the model chooses the pickup), is forced at L, and every later one falls exactly
//    one bar after the last; "/" is allowed where a bar line is due (the song ends with a whole bar) and,
//    after a pickup of P steps, where the last bar holds L - P (the last bar completes the pickup, as
//    in 77% of the Essen songs that start with one);
//  - the countdown (a model trained with `preprocess --countdown-bars C`: "|k" opens the k-th bar from the
//    end, k <= C): with `bars` the line that opens bar j is "|(N-j+1)" when N-j+1 <= C, else "|"; without,
//    a due line is "|" or "|C" (or any "|k" for the song's first line: a song of fewer than C bars) until
//    the countdown starts, then "|(k-1)" after "|k", and "/" comes only where the bar "|1" opened is
//    over (or completes the pickup): the song ends when the model has announced it;
//  - triplets (`preprocess --triplets`): "(3:W" opens a window of W steps whose next three timed symbols
//    are its units (no line, end or other window inside; the first an onset) and the symbol after it is
//    no hold (so notation can write it: an eighth, quarter or half window); it is allowed where it starts
//    on a multiple of W from the bar's start (known once a line is drawn, or from --bars) and ends by the
//    next line (or the end, or before the last step with end_on), and time counts W at its end;
//  - the final mark (`preprocess --final-mark`: "$" before the last note): "$" is drawn once, in the last
//    bar (bars mode: from E - L; with the countdown: in the bar "|1" opened; else anywhere after the
//    header) and forced at its last step; after it comes a note (with end_on: one of the set, which
//    replaces the rule of the last step) or a triplet window whose first unit is a note, then no note:
//    holds and rests to the end, and "/" only after it;
//  - end_on (tonic, or any note of the tonic triad of the key in the model's own pitches): the last note
//    may start anywhere in the last bar; a note outside the set is allowed only while a later step
//    remains, and at the last step the sounding note must be in the set (else only an onset of it is
//    allowed). Without `bars`, "/" is allowed only after a note in the set (and, with the countdown, the
//    last step of the bar "|1" opened follows the rule of the last step).
// A state is a few integers, copied with its beam.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "music/melody.h"
#include "nn/model.h"
#include "util/rational.h"

namespace melodist {

enum class EndOn { any, tonic, triad };

struct ConstraintOptions {
  int bars = 0;                          // 0: no length; else exactly this many whole bars after the pickup
  int64_t pickup_steps = 0;              // P, < one bar (bars > 0 only)
  EndOn end_on = EndOn::any;
  // The meter when no meter symbol says it (a model without meter symbols); nullopt: unknown.
  std::optional<TimeSignature> fallback_meter;
  Rational step{1, 4};
  // The meter symbol the header must give after the key the model samples (--meter without --key: the
  // model learned the key symbol first, so the meter is not put in front of it); -1: any.
  int meter_id = -1;
  // With `bars` and no meter yet: only meters whose bars fit this many steps (the --steps budget); 0: any.
  int64_t max_bar_steps = 0;
  // The model restates its key after the first countdown line (`preprocess --countdown-key`): forced there.
  bool restate_key = false;
};

struct ConstraintState {
  int64_t time = 0;         // steps of the melody so far
  bool started = false;     // a note or rest has been given
  int key_tonic = -1;       // pitch class of the key (model's pitches), -1 unknown
  bool key_minor = false;
  bool meter_seen = false;  // a meter symbol has been given
  int64_t bar_steps = 0;    // L of that meter symbol, 0 unknown (or not a whole number of steps)
  int64_t last_bar = -1;    // time of the last "|", -1 none
  int64_t first_bar = -1;   // time of the first "|" (a pickup when it is inside the first bar), -1 none
  int last_pitch = -1;      // MIDI number of the last note onset, -1 none
  bool rest_after_note = false;  // a rest has started since the last note
  int bars_left = 0;        // k after the countdown barline "|k" (this is the k-th bar from the end), 0 none
  int units_left = 0;       // timed symbols left in the triplet window "(3:.." opened at window_start
  int64_t window_start = 0, window_steps = 0;
  bool after_window = false;  // the last timed symbol closed a triplet window
  // The final mark "$": 0 not drawn, 1 drawn (the last note comes next, or in the window opened next),
  // 2 the last note has started.
  int final_stage = 0;
  bool final_window = false;  // the window open now was opened right after "$"
  bool key_due = false;       // restate_key: the countdown has started, its key symbol comes next
};

class Constraints {
 public:
  // Classifies the vocabulary; throws melodist::Error when the options cannot be met by this model
  // (end_on without a way to know the key).
  Constraints(const Model& model, const ConstraintOptions& options);

  // Inert constraints mask nothing: no controls and no barline symbol to keep whole.
  bool inert() const { return inert_; }
  // The state after `symbols` (the primer), from the start of a melody.
  ConstraintState after(const std::vector<int>& symbols) const;
  void advance(ConstraintState& state, int symbol) const;
  // allowed (V): 1 for every symbol that may come next from `state`. Never all zero for a reachable
  // state (the header and bar rules always leave a symbol; the end rule leaves the set's onsets).
  void allowed(const ConstraintState& state, std::vector<char>& allowed) const;
  // Whether the vocabulary holds a note that end_on allows in the state's key (true when end_on is any).
  bool can_end(const ConstraintState& state) const;
  // The end step E (bars mode, once the bar length is known), else -1.
  int64_t end_time(const ConstraintState& state) const;
  // The bar from the end the next symbol falls in (1: the last bar): bars mode, from the end step E and
  // the bar length; else, with the countdown, k of the last "|k". 0 where it is not known (before the
  // countdown starts, or with neither).
  int64_t bars_to_end(const ConstraintState& state) const;
  // Whether the model's vocabulary holds countdown barlines ("|k", preprocess --countdown-bars).
  bool has_countdown() const { return countdown_ > 0; }
  // The most symbols a melody under these constraints can need (bars mode): header, pickup, N bars and
  // their bar lines (and "$"), for the longest bar the model knows. 0 without bars.
  int64_t needed_steps(const ConstraintState& primed) const;

 private:
  enum Kind : uint8_t { pitch, rest, hold, bar, end, key, meter, tuplet, mark, other };
  struct Symbol {
    Kind kind = other;
    int pitch = -1;            // pitch: MIDI number
    int tonic = -1;            // key: pitch class
    bool minor = false;        // key
    int64_t bar_steps = 0;     // meter: L; tuplet: its window W (0 when not a whole number of steps)
    int countdown = 0;         // bar: k of "|k", 0 for "|"
    bool can_end = true;       // key: the vocabulary holds a note that end_on allows in this key
  };
  bool in_end_set(const ConstraintState& s, int pitch) const;
  // out (V) = 1 exactly where keep(symbol) holds: how every rule below says what it allows.
  template <class Keep>
  void allow_only(std::vector<char>& out, Keep keep) const {
    out.assign(symbols_.size(), 0);
    for (size_t v = 0; v < symbols_.size(); ++v) out[v] = keep(symbols_[v]) ? 1 : 0;
  }
  // Whether barline symbol `y` may stand at a line from `s`; `bars_to_go` is the bars left to the end
  // the --bars decoder counts (0 without bars), `first` whether no line has been drawn yet.
  bool bar_ok(const ConstraintState& s, const Symbol& y, int bars_to_go, bool first) const;
  // The time by which a triplet window opened now must end: the next line, the end (the last step with
  // end_on: it follows the rule of the last step); INT64_MAX when no bar is known.
  int64_t window_limit(const ConstraintState& s) const;
  // L: the bar length in steps of the state's meter symbol, else of fallback_meter; 0 unknown.
  int64_t bar_steps(const ConstraintState& s) const { return s.bar_steps > 0 ? s.bar_steps : fallback_bar_steps_; }
  // The start of the bar the time is in (bars mode: from the pickup; else the last line), kNoOrigin unknown.
  static constexpr int64_t kNoOrigin = std::numeric_limits<int64_t>::min();
  int64_t bar_origin(const ConstraintState& s) const;
  // allowed() outside a triplet window and not right after one.
  void allowed_here(const ConstraintState& s, std::vector<char>& out) const;
  // The end rule's last step (end_on): only the set's onsets, or a hold / rest after a note of the set.
  bool last_step_ok(const ConstraintState& s, const Symbol& y) const;
  // Whether the end rule's last step applies (end_on, a model without the final mark; with it, the note
  // after "$" is the one end_on restricts).
  bool last_step_rule() const { return options_.end_on != EndOn::any && !has_final_; }
  // The final mark's rules over what allowed_here left (a model with "$" only).
  void apply_final_mark(const ConstraintState& s, std::vector<char>& out) const;
  // Whether "$" may come now (stage 0, in the last bar), and whether it must.
  bool mark_ok(const ConstraintState& s) const;
  bool mark_due(const ConstraintState& s) const;
  std::vector<Symbol> symbols_;
  ConstraintOptions options_;
  bool has_bar_ = false, has_keys_ = false, has_meters_ = false, has_final_ = false, inert_ = true;
  int countdown_ = 0;                         // C: the largest k of the vocabulary's "|k", 0 none
  std::vector<char> has_countdown_;           // (C + 1): whether "|k" is in the vocabulary
  int64_t fallback_bar_steps_ = 0;
  int64_t longest_bar_steps_ = 0;
};

// "6/8"-style bar length in steps: meter x 4 quarters / step, 0 when it is not a whole number of steps.
int64_t bar_steps_of(const TimeSignature& meter, Rational step);

}  // namespace melodist
