#!/usr/bin/python3
"""Reads every .mid file in a folder with python3-mido (an independent MIDI reader) and checks that it
is a well-formed melody: type 1, at least one note, every note-on matched by a note-off, monophonic.
Exit status 0 when every file passes; prints "<N> files read" and one line per failure.
Used by tests/test_generate_cli.cpp (BundledModel test)."""
import os
import sys

import mido


def check(path):
    mid = mido.MidiFile(path)
    if mid.type != 1:
        return "type %d, expected 1" % mid.type
    notes = 0
    for track in mid.tracks:
        sounding = None
        for msg in track:
            if msg.type == "note_on" and msg.velocity > 0:
                if sounding is not None:
                    return "note %d starts while %d sounds" % (msg.note, sounding)
                sounding = msg.note
                notes += 1
            elif msg.type == "note_off" or (msg.type == "note_on" and msg.velocity == 0):
                if sounding != msg.note:
                    return "note-off %d without its note-on" % msg.note
                sounding = None
        if sounding is not None:
            return "note %d never ends" % sounding
    if notes == 0:
        return "no notes"
    return None


def main():
    folder = sys.argv[1]
    files = sorted(f for f in os.listdir(folder) if f.lower().endswith(".mid"))
    bad = 0
    for f in files:
        try:
            problem = check(os.path.join(folder, f))
        except Exception as e:  # mido raises many kinds of errors for malformed files
            problem = "mido cannot read it: %s" % e
        if problem:
            bad += 1
            print("%s: %s" % (f, problem))
    print("%d files read, %d bad" % (len(files), bad))
    sys.exit(1 if bad or not files else 0)


if __name__ == "__main__":
    main()
