#!/usr/bin/python3
"""MIDI fixtures for tests/test_midi_reader.cpp, made by programs that are not melodist:
abc2midi (Debian abcmidi) from ABC text, Debian's python3-mido, and raw bytes written here for what
neither tool can produce (F7 escapes, alien chunks, malformed files).

Run with Debian's interpreter (mido lives there):  /usr/bin/python3 tools/make_midi_fixtures.py tests/fixtures/midi
Deterministic: no randomness, no timestamps. The expected melody of every file is written out by hand in
tests/fixtures/midi/README.md and in the test, from the notes listed here.
"""
import os
import shutil
import struct
import subprocess
import sys

import mido
from mido import Message, MetaMessage, MidiFile, MidiTrack


def q(x, tpq):
    """x quarter notes in ticks (exact)."""
    t = x * tpq
    assert t == int(t), (x, tpq)
    return int(t)


def absolute_track(events, name=None):
    """events: (tick, message) in any order -> a MidiTrack with delta times (stable sort by tick)."""
    track = MidiTrack()
    if name is not None:
        track.append(MetaMessage('track_name', name=name, time=0))
    now = 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - now))
        now = tick
    return track


def notes(channel, spec, tpq, start=0, velocity=90, off_as_velocity0=False):
    """spec: (pitch or None for rest, length in quarters) one after another from `start` quarters."""
    out = []
    t = start
    for pitch, length in spec:
        if pitch is not None:
            out.append((q(t, tpq), Message('note_on', channel=channel, note=pitch, velocity=velocity)))
            if off_as_velocity0:
                out.append((q(t + length, tpq), Message('note_on', channel=channel, note=pitch, velocity=0)))
            else:
                out.append((q(t + length, tpq), Message('note_off', channel=channel, note=pitch, velocity=64)))
        t += length
    return out


# Raw byte helpers (big-endian SMF layout).
def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def header(fmt, ntracks, division, length=6):
    return b'MThd' + struct.pack('>IHHH', length, fmt, ntracks, division)


def chunk(kind, body):
    return kind + struct.pack('>I', len(body)) + body


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)

    def path(name):
        return os.path.join(out_dir, name)

    # 1. abc2midi, one voice -> type 0. G major, 3/4, 100 bpm; abc2midi starts notes 1 tick late.
    abc_simple = """X:1
T:Simple
M:3/4
L:1/8
Q:1/4=100
K:G
G2 AB c2 | d4 z2 | e>d c/B/A/G/ F2 | G6 |]
"""
    # 2. abc2midi, two voices -> type 1: conductor + one track per voice (voice 2 on channel 1).
    abc_voices = """X:2
T:Two voices
M:4/4
L:1/4
K:Dm
V:1
d e f g | a2 A2 | d4 |]
V:2
D,2 A,2 | D,4 | D,4 |]
"""
    abc2midi = shutil.which('abc2midi')
    if abc2midi is None:
        sys.exit('abc2midi not found: apt-get install abcmidi')
    for name, text in (('abc_simple', abc_simple), ('abc_two_voices', abc_voices)):
        abc_path = path(name + '.abc')
        with open(abc_path, 'w') as f:
            f.write(text)
        subprocess.run([abc2midi, abc_path, '-o', path(name + '.mid')], check=True, stdout=subprocess.DEVNULL)

    # 3. multitrack.mid: type 1, 480 tpq. Track 0 conductor (90 bpm, 2/4, E major); track 1 bass (ch 1,
    #    4 notes); track 2 melody (ch 0, 8 notes, starts after 2 quarters of silence, one rest);
    #    track 3 drums (ch 9, 12 notes: more than the melody, but drums are never chosen by default).
    tpq = 480
    mf = MidiFile(type=1, ticks_per_beat=tpq)
    mf.tracks.append(MidiTrack([
        MetaMessage('track_name', name='conductor', time=0),
        MetaMessage('set_tempo', tempo=mido.bpm2tempo(90), time=0),
        MetaMessage('time_signature', numerator=2, denominator=4, time=0),
        MetaMessage('key_signature', key='E', time=0),
    ]))
    mf.tracks.append(absolute_track(
        [(0, Message('program_change', channel=1, program=32))] +
        notes(1, [(40, 2), (47, 2), (40, 2), (52, 2)], tpq), name='Bass'))
    mf.tracks.append(absolute_track(
        [(0, Message('program_change', channel=0, program=73))] +
        notes(0, [(64, 1), (66, 1 / 2), (68, 1 / 2), (69, 1), (None, 1), (71, 1 / 4), (73, 1 / 4), (75, 1 / 2), (76, 2),
                  (71, 1)], tpq, start=2), name='Melody'))
    mf.tracks.append(absolute_track(
        notes(9, [(36, 1 / 4), (None, 1 / 4), (42, 1 / 4), (None, 1 / 4)] * 6, tpq), name='Drums'))
    mf.save(path('multitrack.mid'))

    # 4. type0_multichannel.mid: type 0, 96 tpq (step 1/4 = 24 ticks), one track holding channel 0 (melody,
    #    6 notes, onsets played up to 5 ticks early or late: quantization) and channel 3 (3 long low notes).
    tpq = 96
    melody = notes(0, [(72, 1), (74, 1), (76, 1 / 2), (77, 1 / 2), (79, 1), (72, 2)], tpq)
    jitter = [0, 0, 4, 3, -5, -2, 2, 5, -3, -4, 1, 0]  # per message, ticks; none reaches half a step (12)
    melody = [(t + j if t + j >= 0 else 0, m) for (t, m), j in zip(melody, jitter)]
    accompaniment = notes(3, [(48, 2), (55, 2), (48, 2)], tpq, velocity=60)
    mf = MidiFile(type=0, ticks_per_beat=tpq)
    mf.tracks.append(absolute_track(
        [(0, MetaMessage('set_tempo', tempo=mido.bpm2tempo(110))),
         (0, Message('program_change', channel=0, program=40)),
         (0, Message('program_change', channel=3, program=42))] + melody + accompaniment, name='type 0'))
    mf.save(path('type0_multichannel.mid'))

    # 5. running_status.mid: type 0, 120 tpq; every note-off is a note-on with velocity 0, so mido writes
    #    the whole melody under one running status 0x90, interrupted once by a control change (0xB0).
    tpq = 120
    events = notes(0, [(60, 1 / 2), (62, 1 / 2), (64, 1 / 2), (65, 1 / 2), (None, 1), (67, 1), (69, 1 / 4), (71, 1 / 4),
                       (72, 3 / 2)], tpq, off_as_velocity0=True)
    events.append((q(3, tpq), Message('control_change', channel=0, control=64, value=0)))
    mf = MidiFile(type=0, ticks_per_beat=tpq)
    mf.tracks.append(absolute_track(events))
    mf.save(path('running_status.mid'))
    data = open(path('running_status.mid'), 'rb').read()
    assert data.count(b'\x90') <= 3, 'mido did not use running status'

    # 6. polyphonic.mid: type 1, 480 tpq, one track, channel 0 (skyline):
    #    0..2  C4 E4 G4 chord              -> G4 for 2
    #    2..4  F4 held; C5 at 2..3 above it -> C5 for 1, then F4 sounds on: a new onset, 1
    #    4..5  D5 for 1/2 and A4 for 1      -> D5 1/2, then A4 1/2
    #    5..6  silence                      -> rest 1
    #    6..8  G4 B4                        -> B4 for 2
    tpq = 480
    events = (notes(0, [(60, 2)], tpq) + notes(0, [(64, 2)], tpq) + notes(0, [(67, 2)], tpq) +
              notes(0, [(65, 2)], tpq, start=2) + notes(0, [(72, 1)], tpq, start=2) +
              notes(0, [(74, 1 / 2)], tpq, start=4) + notes(0, [(69, 1)], tpq, start=4) +
              notes(0, [(67, 2)], tpq, start=6) + notes(0, [(71, 2)], tpq, start=6))
    mf = MidiFile(type=1, ticks_per_beat=tpq)
    mf.tracks.append(absolute_track(events, name='chords'))
    mf.save(path('polyphonic.mid'))

    # 7. drums_only.mid: type 1, one track of drums (channel 9) only.
    mf = MidiFile(type=1, ticks_per_beat=480)
    mf.tracks.append(absolute_track(notes(9, [(36, 1), (38, 1), (36, 1), (38, 1)], 480), name='kit'))
    mf.save(path('drums_only.mid'))

    # 8. sysex_meta.mid: type 1, 240 tpq. Conductor: text, copyright, marker, cue, sequencer-specific, SMPTE
    #    offset, a GM-reset SysEx and a 300-byte SysEx (2-byte length), d minor (sf -1, minor), 6/8, 72 bpm.
    #    Melody track: SysEx, lyrics, pitch bend, control changes, poly and channel aftertouch between notes.
    tpq = 240
    mf = MidiFile(type=1, ticks_per_beat=tpq)
    mf.tracks.append(MidiTrack([
        MetaMessage('text', text='fixture with many meta events'),
        MetaMessage('copyright', text='public domain'),
        MetaMessage('smpte_offset', frame_rate=25, hours=0, minutes=0, seconds=0, frames=0, sub_frames=0),
        MetaMessage('time_signature', numerator=6, denominator=8, clocks_per_click=36),
        MetaMessage('key_signature', key='Dm'),
        MetaMessage('set_tempo', tempo=mido.bpm2tempo(72)),
        Message('sysex', data=[0x7E, 0x7F, 0x09, 0x01]),
        Message('sysex', data=[i % 128 for i in range(300)]),
        MetaMessage('marker', text='A', time=0),
        MetaMessage('cue_marker', text='cue'),
        MetaMessage('sequencer_specific', data=[0x00, 0x00, 0x41, 0x01]),
    ]))
    events = notes(0, [(62, 3 / 2), (65, 1 / 2), (69, 1), (67, 1 / 2), (65, 1 / 2), (64, 1 / 2), (62, 3 / 2)], tpq)
    events += [
        (0, Message('sysex', data=[0x43, 0x10, 0x4C, 0x00, 0x00, 0x7E, 0x00])),
        (0, MetaMessage('lyrics', text='la')),
        (q(1 / 2, tpq), Message('pitchwheel', channel=0, pitch=512)),
        (q(3 / 2, tpq), MetaMessage('lyrics', text='li')),
        (q(3 / 2, tpq), Message('control_change', channel=0, control=7, value=100)),
        (q(2, tpq), Message('polytouch', channel=0, note=65, value=30)),
        (q(3, tpq), Message('aftertouch', channel=0, value=20)),
        (q(3, tpq), Message('sysex', data=[i % 128 for i in range(1, 131)])),
        (q(4, tpq), Message('program_change', channel=0, program=1)),
    ]
    mf.tracks.append(absolute_track(events, name='voice'))
    mf.save(path('sysex_meta.mid'))

    # 9. odd_division.mid: type 0, 90 tpq (a 16th = 22.5 ticks, not a whole number): notes of 1, 1/2, 1/2 and
    #    2 quarters; a 5-tick grace note just before the last one (rounds to nothing and is dropped); the
    #    End of Track event 1 quarter after the last note (kept as a final rest).
    tpq = 90
    events = notes(0, [(67, 1), (69, 1 / 2), (71, 1 / 2), (72, 2)], tpq)
    events += [(175, Message('note_on', channel=0, note=74, velocity=50)), (180, Message('note_off', channel=0, note=74))]
    track = absolute_track(events)
    track.append(MetaMessage('end_of_track', time=90))
    mf = MidiFile(type=0, ticks_per_beat=tpq)
    mf.tracks.append(track)
    mf.save(path('odd_division.mid'))

    # 10. raw_escapes.mid (bytes written here): MThd of length 8 (2 extra bytes, which a reader must skip),
    #     an alien chunk "XFIH" before the track (skipped), an F7 escape packet, running status (note-on
    #     velocity 0 as note-off) before and after a meta event (which cancels it, so 0x90 is repeated). Notes: 60 for 1, 64 for 1, 67 for 2 quarters, tpq 96.
    body = (b'\x00\xF0\x03\x7E\x7F\xF7' +            # SysEx
            b'\x00\xF7\x02\xF3\x01' +                # escape: song select bytes, not an event
            b'\x00\x90\x3C\x64' + b'\x60\x3C\x00' +  # 60 on, 60 off (running status, velocity 0)
            b'\x00\xFF\x01\x03abc' +                 # text meta
            b'\x00\x90\x40\x64' +                    # status again after the meta event: 64 on
            b'\x60\x40\x00' + b'\x00\x43\x64' + b'\x81\x40\x43\x00' +
            b'\x00\xFF\x2F\x00')
    raw = header(0, 1, 96, length=8) + b'\x00\x00' + chunk(b'XFIH', b'alien data') + chunk(b'MTrk', body)
    open(path('raw_escapes.mid'), 'wb').write(raw)

    # 11. type2.mid: two independent sequences (mido writes the header type as given).
    mf = MidiFile(type=2, ticks_per_beat=480)
    mf.tracks.append(absolute_track(notes(0, [(60, 1)], 480)))
    mf.tracks.append(absolute_track(notes(0, [(62, 1)], 480)))
    mf.save(path('type2.mid'))

    # 12. smpte.mid: the multitrack file with its division replaced by SMPTE 25 fps x 40 ticks per frame.
    data = bytearray(open(path('multitrack.mid'), 'rb').read())
    data[12:14] = bytes([0xE7, 40])  # -25 as a signed byte, 40 ticks per frame
    open(path('smpte.mid'), 'wb').write(bytes(data))

    # Malformed files (raw bytes). Offsets in comments are where the reader must point.
    conductor = chunk(b'MTrk', b'\x00\xFF\x51\x03\x07\xA1\x20' + b'\x00\xFF\x2F\x00')  # 19 bytes
    # header length 4 (byte 4)
    open(path('bad_wrong_header_length.mid'), 'wb').write(b'MThd' + struct.pack('>IHH', 4, 0, 1) + conductor)
    # a delta time of 5 VLQ bytes at byte 22 (track data starts at 14 + 8)
    open(path('bad_vlq_5_bytes.mid'), 'wb').write(
        header(0, 1, 480) + chunk(b'MTrk', b'\x81\x80\x80\x80\x00\x90\x3C\x40' + b'\x00\xFF\x2F\x00'))
    # a data byte (0x3C) at byte 23 before any status byte
    open(path('bad_running_status_without_status.mid'), 'wb').write(
        header(0, 1, 480) + chunk(b'MTrk', b'\x00\x3C\x40\x60\x80\x3C\x00\x00\xFF\x2F\x00'))
    # 2 tracks announced; the file ends 5 bytes into the second chunk header (byte 33)
    open(path('bad_truncated_chunk.mid'), 'wb').write(header(1, 2, 480) + conductor + b'MTrk\x00')
    # MTrk chunk at byte 14 claims 1000 bytes; 12 follow
    open(path('bad_length_past_eof.mid'), 'wb').write(
        header(0, 1, 480) + b'MTrk' + struct.pack('>I', 1000) + b'\x00\x90\x3C\x40\x60\x80\x3C\x00\x00\xFF\x2F\x00')
    # a track-name meta event at byte 23 claims 127 bytes; its chunk holds 6 more
    open(path('bad_meta_past_end.mid'), 'wb').write(header(0, 1, 480) + chunk(b'MTrk', b'\x00\xFF\x03\x7FMelody'))
    # 0 tracks (byte 10)
    open(path('bad_zero_tracks.mid'), 'wb').write(header(1, 0, 480))
    # not MIDI: ABC text saved as .mid
    open(path('bad_not_midi.mid'), 'w').write(abc_simple)
    # the header cut after 11 bytes: length 6 runs past the end
    open(path('bad_truncated_header.mid'), 'wb').write(header(0, 1, 480)[:11])

    # --- issue 14: MIDI as other programs read it ---
    # long_notes.mid: mido, 480 tpq, lengths outside the reference's list (5, 6 and 7 quarters, a 5/4 rest):
    #   72:5 r:5/4 74:6 76:7 -- kern's default rule would refuse it; MIDI accepts every whole number of steps.
    tpq = 480
    mf = MidiFile(type=0, ticks_per_beat=tpq)
    mf.tracks.append(absolute_track(notes(0, [(72, 5), (None, 5 / 4), (74, 6), (76, 7)], tpq)))
    mf.save(path('long_notes.mid'))
    # velocity_top_bit.mid: raw bytes, type 0, 480 tpq: note-on 60 with velocity 0xCC (as in the files of a
    #   Debian package), then 62 with velocity 0x50, one quarter each. mido refuses it by default and reads
    #   velocity 127 with clip=True; midicsv prints 204. Expected melody: 60:1 62:1, one warning.
    trk = (b'\x00\x90\x3c\xcc' + vlq(480) + b'\x80\x3c\x40' + b'\x00\x90\x3e\x50' + vlq(480) + b'\x80\x3e\x00' +
           b'\x00\xff\x2f\x00')
    open(path('velocity_top_bit.mid'), 'wb').write(header(0, 1, 480) + chunk(b'MTrk', trk))
    # realtime_bytes.mid: raw bytes: a timing clock (F8) and a tune request (F6) between note events (each
    #   followed by a full status byte: mido takes them as a running status); mido and midicsv both read
    #   them. Expected melody: 60:1 64:1.
    trk = (b'\x00\x90\x3c\x40\x00\xf8' + vlq(480) + b'\x80\x3c\x00\x00\xf6\x00\x90\x40\x40' + vlq(480) + b'\x80\x40\x00' +
           b'\x00\xff\x2f\x00')
    open(path('realtime_bytes.mid'), 'wb').write(header(0, 1, 480) + chunk(b'MTrk', trk))
    # bad_undefined_status.mid: raw bytes: status 0xF4 (undefined): mido refuses ("undefined status byte 0xf4").
    trk = b'\x00\x90\x3c\x40\x00\xf4' + vlq(480) + b'\x80\x3c\x40\x00\xff\x2f\x00'
    open(path('bad_undefined_status.mid'), 'wb').write(header(0, 1, 480) + chunk(b'MTrk', trk))
    # karaoke.kar: mido, a karaoke file: type 1, a "Words" track of text events (the @ header and one
    #   syllable per note) and a melody track. Expected melody: 67:1 69:1 71:2.
    mf = MidiFile(type=1, ticks_per_beat=tpq)
    mf.tracks.append(MidiTrack([MetaMessage('text', text='@KMIDI KARAOKE FILE', time=0),
                                MetaMessage('text', text='@TSong', time=0)]))
    words = [(0, MetaMessage('text', text='/La')), (q(1, tpq), MetaMessage('text', text='la')),
             (q(2, tpq), MetaMessage('text', text='la'))]
    mf.tracks.append(absolute_track(words, name='Words'))
    mf.tracks.append(absolute_track(notes(0, [(67, 1), (69, 1), (71, 2)], tpq), name='Melody'))
    mf.save(path('karaoke.kar'))
    # type2_sequences.mid: mido, type 2: two independent sequences, each with its own meter and key.
    #   Track 0: 3/4, G major, 67 67 67 (a quarter each). Track 1: 6/8, d minor, 62:3/2 65:1/2 69:1 62:1
    #   (more notes: the part by default). Expected: that, with 6/8 and key d; --track 0: 67:1 67:1
    #   67:1 with 3/4 and key G (each sequence's own meta events, not the first track's).
    mf = MidiFile(type=2, ticks_per_beat=tpq)
    mf.tracks.append(absolute_track([(0, MetaMessage('time_signature', numerator=3, denominator=4)),
                                     (0, MetaMessage('key_signature', key='G'))] +
                                    notes(0, [(67, 1), (67, 1), (67, 1)], tpq)))
    mf.tracks.append(absolute_track([(0, MetaMessage('time_signature', numerator=6, denominator=8)),
                                     (0, MetaMessage('key_signature', key='Dm'))] +
                                    notes(0, [(62, 1.5), (65, 0.5), (69, 1), (62, 1)], tpq)))
    mf.save(path('type2_sequences.mid'))


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'tests/fixtures/midi')
