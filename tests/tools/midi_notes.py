#!/usr/bin/python3
# Prints the notes of MIDI files as mido reads them, one line per file:
#   FILE<TAB>onset:duration:pitch onset:duration:pitch ...   (onset and duration in quarters, as fractions)
# Notes are taken from every track, merged in time order; a note-on of velocity 0 ends a note.
import sys
from fractions import Fraction

import mido

for path in sys.argv[1:]:
    try:
        f = mido.MidiFile(path)
    except Exception as e:  # one line per file, even for an unreadable one
        print(f"{path}\tERROR {e}")
        continue
    notes, sounding = [], {}
    for track in f.tracks:
        t = 0
        for m in track:
            t += m.time
            if m.type == "note_on" and m.velocity > 0:
                sounding[(m.channel, m.note)] = t
            elif m.type in ("note_off", "note_on") and (m.channel, m.note) in sounding:
                start = sounding.pop((m.channel, m.note))
                notes.append((start, t - start, m.note))
    notes.sort()
    q = f.ticks_per_beat
    print(path + "\t" + " ".join(f"{Fraction(s, q)}:{Fraction(d, q)}:{p}" for s, d, p in notes))
