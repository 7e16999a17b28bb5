#!/bin/bash
# Peak resident memory of `melodist encode` on large MIDI files made by python3-mido (README, MIDI in and
# out: Memory). Usage: tools/midi_memory.sh [BUILD_DIR]   (default build). Prints one line per file:
#   NAME  BYTES  NOTES  PEAK_KB  EXIT
# Files: 16 channels sounding together (the part is 1/16 of the notes) of 1 MB, 4 MB and 16 MiB (just under the
# reader's 16 MiB cap); one part of sixteenths of 1 and 4 MB, of 990,000 notes (under the 1,000,000-step
# limit) and of 16 MiB (refused after parsing: more than 1,000,000 steps); 16-note chords with running
# status, 16 MiB (6 bytes a note: the most notes under the cap).
set -eu
build=${1:-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" <<'PY'
import os, sys
import mido
work = sys.argv[1]

def save_chords(name, steps):
    # 16-note chords on channel 0, note-offs as note-on velocity 0: mido writes running status, 6 bytes a
    # note, the most notes a 16 MiB file holds (the reader's worst case)
    m = mido.MidiFile(type=0, ticks_per_beat=480)
    tr = mido.MidiTrack()
    m.tracks.append(tr)
    for i in range(steps):
        pitches = [40 + k * 3 + i % 3 for k in range(16)]
        for p in pitches:
            tr.append(mido.Message('note_on', note=p, velocity=80, time=0))
        for k, p in enumerate(pitches):
            tr.append(mido.Message('note_on', note=p, velocity=0, time=120 if k == 0 else 0))
    path = os.path.join(work, name + '.mid')
    m.save(path)
    with open(os.path.join(work, name + '.notes'), 'w') as f:
        f.write(str(steps * 16))

def save(name, channels, steps):
    m = mido.MidiFile(type=0, ticks_per_beat=480)
    tr = mido.MidiTrack()
    m.tracks.append(tr)
    for i in range(steps):
        pitches = [(40 + c * 3 + i % 5) if channels > 1 else 60 + (i * 7) % 24 for c in range(channels)]
        for c, p in enumerate(pitches):
            tr.append(mido.Message('note_on', channel=c, note=p, velocity=80, time=0))
        for c, p in enumerate(pitches):
            tr.append(mido.Message('note_off', channel=c, note=p, velocity=0, time=120 if c == 0 else 0))
    path = os.path.join(work, name + '.mid')
    m.save(path)
    with open(os.path.join(work, name + '.notes'), 'w') as f:
        f.write(str(steps * channels))

cap = 16 << 20
# bytes per note: 8 (a one-byte delta and 3 bytes for each of note-on and note-off, no running status)
for name, mb in (('channels16_1MB', 1), ('channels16_4MB', 4)):
    save(name, 16, mb * 1000000 // 8 // 16)
save('channels16_16MiB', 16, (cap - 64) // 8 // 16)
for name, mb in (('one_part_1MB', 1), ('one_part_4MB', 4)):
    save(name, 1, mb * 1000000 // 8)
save('one_part_990k', 1, 990000)
save('one_part_16MiB', 1, (cap - 64) // 8)
save_chords('chords16_running_status_16MiB', (cap - 64) // 6 // 16)
PY
for f in "$work"/*.mid; do
  name=$(basename "$f" .mid)
  set +e
  /usr/bin/time -f %M -o "$work/peak" "$build/melodist" encode "$f" > /dev/null 2> /dev/null
  rc=$?
  set -e
  echo "$name $(stat -c %s "$f") $(cat "$work/$name.notes") $(tail -1 "$work/peak") $rc"
done
