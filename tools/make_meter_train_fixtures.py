#!/usr/bin/python3
"""tests/fixtures/meter/train/*.krn: nine small kern songs (3 keys x 3 meters) for the controls test
(tests/test_generate_controls.cpp), which preprocesses them with --key-symbol --meter-symbol --barlines
--transpose none and trains a tiny model on them. Deterministic: each song walks its key's scale by a fixed
pattern, in bars of its meter, ending on the tonic. Run:  /usr/bin/python3 tools/make_meter_train_fixtures.py tests/fixtures/meter/train
"""
import os
import sys

KEYS = {  # name: (kern designation, kern signature, tonic MIDI, scale steps)
    'D': ('*D:', '*k[f#c#]', 62, [0, 2, 4, 5, 7, 9, 11]),
    'e': ('*e:', '*k[f#]', 64, [0, 2, 3, 5, 7, 8, 10]),
    'B-': ('*B-:', '*k[b-e-]', 58, [0, 2, 4, 5, 7, 9, 11]),
}
METERS = {  # meter: bars as kern durations (1 = whole, 4 = quarter, 8 = eighth; "4." dotted quarter)
    '2/4': [['4', '8', '8'], ['8', '8', '4'], ['4', '4']],
    '3/4': [['4', '4', '4'], ['2', '4'], ['4', '8', '8', '4']],
    '6/8': [['4', '8', '4', '8'], ['4.', '4.'], ['8', '8', '8', '4.']],
}
LAST = {'2/4': '2', '3/4': '2.', '6/8': '2.'}
NAMES = ['c', 'c#', 'd', 'e-', 'e', 'f', 'f#', 'g', 'a-', 'a', 'b-', 'b']
WALK = [0, 1, 2, 1, 3, 4, 2, 5, 4, 3, 2, 1, 0, -1, 1, 2, 4, 3, 2, 0]


def kern_pitch(midi):
    name, octave = NAMES[midi % 12], midi // 12 - 1
    letter, accidental = name[0], name[1:]
    if octave >= 4:
        return letter * (octave - 3) + accidental
    return letter.upper() * (4 - octave) + accidental


def song(key, meter, seed):
    designation, signature, tonic, scale = KEYS[key]
    lines = ['**kern', '*M' + meter, signature, designation]
    i = seed
    for bar in range(7):
        if bar:
            lines.append('=%d' % (bar + 1))
        for duration in METERS[meter][(bar + seed) % 3]:
            degree = WALK[i % len(WALK)]
            i += 1
            midi = tonic + 12 * (degree // 7) + scale[degree % 7]
            lines.append(duration + kern_pitch(midi))
    lines += ['=8', LAST[meter] + kern_pitch(tonic), '==', '*-']
    return '\n'.join(lines) + '\n'


def main(out_dir):
    for n, key in enumerate(KEYS):
        for m, meter in enumerate(METERS):
            name = '%s-%s.krn' % (key.replace('-', 'b'), meter.replace('/', '-'))
            with open(os.path.join(out_dir, name), 'w') as f:
                f.write('!!!OTL: controls fixture %s %s\n' % (key, meter) + song(key, meter, 3 * n + m))


if __name__ == '__main__':
    main(sys.argv[1])
