"""Notes of MIDI files as python3-mido and midicsv read them (tests/test_midi_acceptance.cpp).

Usage: /usr/bin/python3 midi_readers.py FILE...
For each FILE and each reader (mido: MidiFile(path, clip=True); midicsv: the midicsv program), one line
    FILE<TAB>READER<TAB>accepted<TAB>NOTES     NOTES: "track:channel:pitch:start:end" (ticks), space-separated
    FILE<TAB>READER<TAB>refused<TAB>REASON
Notes are paired the way a synthesizer sounds them: a note-on (velocity > 0) starts a note on its channel
and pitch, ending any that sounds; a note-off or a note-on with velocity 0 ends it; notes of length 0 and
notes still sounding at the end of their track are left out. Sorted by (start, track, channel, pitch).
"""
import subprocess
import sys

import mido


def pair(events):
    """events: (track, tick, channel, pitch, velocity or 0 for off) in file order -> sorted note strings."""
    sounding, notes = {}, []
    for track, tick, channel, pitch, velocity in events:
        key = (track, channel, pitch)
        if key in sounding:
            start = sounding.pop(key)
            if tick > start:
                notes.append((start, track, channel, pitch, tick))
        if velocity > 0:
            sounding[key] = tick
    notes.sort()
    return ' '.join('%d:%d:%d:%d:%d' % (t, c, p, s, e) for s, t, c, p, e in notes)


def read_mido(path):
    m = mido.MidiFile(path, clip=True)
    events = []
    for track, messages in enumerate(m.tracks):
        tick = 0
        for msg in messages:
            tick += msg.time
            if msg.type == 'note_on':
                events.append((track, tick, msg.channel, msg.note, msg.velocity))
            elif msg.type == 'note_off':
                events.append((track, tick, msg.channel, msg.note, 0))
    return pair(events)


def read_midicsv(path):
    run = subprocess.run(['midicsv', path], capture_output=True)
    if run.returncode != 0:
        raise RuntimeError((run.stderr.decode('latin-1').strip().splitlines() or ['exit %d' % run.returncode])[0])
    events = []
    for line in run.stdout.decode('latin-1').splitlines():
        f = [x.strip() for x in line.split(',')]
        if len(f) >= 6 and f[2] in ('Note_on_c', 'Note_off_c'):
            velocity = int(f[5]) if f[2] == 'Note_on_c' else 0
            events.append((int(f[0]) - 1, int(f[1]), int(f[3]), int(f[4]), velocity))
    return pair(events)


for path in sys.argv[1:]:
    for name, reader in (('mido', read_mido), ('midicsv', read_midicsv)):
        try:
            print('%s\t%s\taccepted\t%s' % (path, name, reader(path)))
        except Exception as e:  # every refusal, with its reason
            print("%s\t%s\trefused\t%s: %s" % (path, name, type(e).__name__, str(e).replace("\t", " ").replace("\n", " ")))
