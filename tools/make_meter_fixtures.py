#!/usr/bin/python3
"""tests/fixtures/meter/meter_change.mid, made with Debian's python3-mido (not melodist):
a type 1 file, 480 ticks per quarter; the conductor track holds G major, 3/4 at tick 0, 2/4 after three
bars (quarter 9) and 6/8 after two more (quarter 13); the melody track starts with a one-quarter pickup
at quarter 2 (the silence before it is not part of the melody):
  67:1 | 72:1 74:1 76:1 | 77:2 79:1 | 76:1 74:1 | 72:2 | 71:3/2 72:3/2 | 74:3
The encoding with --barlines --meter-symbol --key-symbol --transpose none is written by hand in
meter_change.mid.expected. Deterministic.

Run:  /usr/bin/python3 tools/make_meter_fixtures.py tests/fixtures/meter
"""
import os
import sys

from mido import Message, MetaMessage, MidiFile, MidiTrack

TPQ = 480


def track_of(events):
    """(tick, message) in tick order -> a MidiTrack with delta times."""
    track = MidiTrack()
    now = 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def main(out_dir):
    conductor = [(0, MetaMessage('key_signature', key='G')),
                 (0, MetaMessage('time_signature', numerator=3, denominator=4)),
                 (9 * TPQ, MetaMessage('time_signature', numerator=2, denominator=4)),
                 (13 * TPQ, MetaMessage('time_signature', numerator=6, denominator=8))]
    melody = []
    t = 2.0
    for pitch, length in [(67, 1), (72, 1), (74, 1), (76, 1), (77, 2), (79, 1), (76, 1), (74, 1), (72, 2),
                          (71, 1.5), (72, 1.5), (74, 3)]:
        melody.append((int(t * TPQ), Message('note_on', channel=0, note=pitch, velocity=90)))
        melody.append((int((t + length) * TPQ), Message('note_off', channel=0, note=pitch, velocity=64)))
        t += length
    mf = MidiFile(type=1, ticks_per_beat=TPQ)
    mf.tracks.append(track_of(conductor))
    mf.tracks.append(track_of(melody))
    mf.save(os.path.join(out_dir, 'meter_change.mid'))


if __name__ == '__main__':
    main(sys.argv[1])
