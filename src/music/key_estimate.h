#pragma once
// Key finding for melodies without a key designation: the duration-weighted pitch-class profile
// correlated (Krumhansl–Schmuckler method) against a published key profile; see key_estimate.cpp
// for which profile and why.
#include "music/melody.h"

namespace melodist {

// Throws nothing; a melody with no notes estimates C major.
Key estimate_key(const Melody& melody);

// Semitones that the reference's rule adds: major -> C (-(tonic)), minor -> A (9 - tonic),
// normalised into -11..+11 as the reference does (G major -7, F major -5, B major -11, E minor +5,
// D minor +7, G minor +2, B minor -2, C minor +9).
int reference_transposition(const Key& key);

}  // namespace melodist
