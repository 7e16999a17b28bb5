#!/usr/bin/python3
# Prints where the bars of MIDI files start, as mido reads their time-signature events, one line per file:
#   FILE<TAB>bar bar bar ...   (quarters from the file's tick 0, as fractions, up to the end of its longest track)
# The rule every sequencer follows: 4/4 until the first time signature (the SMF default); each time
# signature starts a new bar at its tick; of several at one tick the first (by track, then order) counts.
# A bar of n/d lasts 4n/d quarters.
import sys
from fractions import Fraction

import mido

for path in sys.argv[1:]:
    f = mido.MidiFile(path)
    q = f.ticks_per_beat
    changes, end = {}, 0
    for track in f.tracks:
        t = 0
        for m in track:
            t += m.time
            if m.type == "time_signature" and t not in changes:
                changes[t] = Fraction(4 * m.numerator, m.denominator)
        end = max(end, t)
    starts = sorted(changes)
    segments = [(Fraction(0), Fraction(4))] if not starts or starts[0] != 0 else []
    segments += [(Fraction(t, q), changes[t]) for t in starts]
    bars = []
    for i, (start, length) in enumerate(segments):
        stop = segments[i + 1][0] if i + 1 < len(segments) else Fraction(end, q)
        b = start
        while b < stop:
            bars.append(b)
            b += length
    print(path + "\t" + " ".join(str(b) for b in bars))
