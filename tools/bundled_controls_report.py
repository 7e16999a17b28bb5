#!/usr/bin/env python3
"""How well a model honours the composing controls, over many melodies (issue 16's figures).

  bundled_controls_report.py MELODIST MODEL OUT_DIR [--per 100] [--keys G D F Am] [--meters 2/4 3/4 6/8] [--bars 8 16]

For every key x meter x bars it runs `melodist generate --key K --meter M --bars N --end-on-tonic
--num-outputs PER --out OUT_DIR/K_M_N/m.krn` and reads every written file back with melodist's own kern
reader (`melodist encode --barlines --key-symbol --meter-symbol --transpose none --durations any --triplets`): the file's
key and meter must be those asked for, it must hold exactly N full bars of the meter (a pickup bar before
them is allowed), and its last note must be the key's tonic. Prints one table row per combination and
writes OUT_DIR/controls.json.
"""
import argparse
import json
import os
import subprocess
import sys
from fractions import Fraction

TONIC = {"C": 0, "G": 7, "D": 2, "A": 9, "E": 4, "B": 11, "F": 5, "Bb": 10, "Eb": 3, "Ab": 8}


def tonic_pc(key):
    minor = key.endswith("m")
    name = key[:-1] if minor else key
    return (TONIC[name[0]] + (1 if "#" in name else -1 if name.endswith("b") and len(name) > 1 else 0)) % 12


def check(melodist, path, key, meter, bars, step):
    """(key ok, meter ok, bars ok, tonic ok) of one written file."""
    out = subprocess.run([melodist, "encode", path, "--barlines", "--key-symbol", "--meter-symbol", "--transpose", "none",
                          "--durations", "any", "--triplets", "--step", str(step)], capture_output=True, text=True)
    if out.returncode != 0:
        return (False, False, False, False)
    symbols = out.stdout.split()
    key_ok = f"K:{key}" in symbols[:3]
    meter_ok = f"M:{meter}" in symbols[:3]
    num, den = (int(x) for x in meter.split("/"))
    bar_steps = Fraction(4 * num, den) / step
    lengths, current, units = [], Fraction(0), 0  # units: timed symbols left in a triplet window "(3:W"
    for s in symbols:
        if s == "|":
            lengths.append(current)
            current = Fraction(0)
        elif s.startswith("(3:"):
            window, units = Fraction(s[3:]) / step, 3
        elif not (s.startswith("K:") or s.startswith("M:")):
            current += window / 3 if units else 1
            units -= 1 if units else 0
    lengths.append(current)
    if lengths and lengths[0] == 0:
        lengths = lengths[1:]
    if lengths and lengths[-1] == 0:
        lengths = lengths[:-1]
    full = [n for n in lengths if n == bar_steps]
    pickup = len(lengths) == bars + 1 and 0 < lengths[0] < bar_steps
    bars_ok = len(full) == bars and (len(lengths) == bars or pickup)
    pitches = [int(s) for s in symbols if s.isdigit()]
    tonic_ok = bool(pitches) and pitches[-1] % 12 == tonic_pc(key)
    return (key_ok, meter_ok, bars_ok, tonic_ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("melodist")
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--per", type=int, default=100)
    ap.add_argument("--keys", nargs="+", default=["G", "D", "F", "Am"])
    ap.add_argument("--meters", nargs="+", default=["2/4", "3/4", "6/8"])
    ap.add_argument("--bars", nargs="+", type=int, default=[8, 16])
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(os.path.join(a.model, "model.safetensors"), "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    step = Fraction(json.loads(header["__metadata__"]["metadata"])["preprocessing"]["step"])
    rows, totals = [], [0, 0, 0, 0, 0]
    print("| key | meter | bars | melodies | key in file | meter in file | exact bars | ends on tonic |")
    print("|---|---|---|---|---|---|---|---|")
    for key in a.keys:
        for meter in a.meters:
            for bars in a.bars:
                d = os.path.join(a.out, f"{key}_{meter.replace('/', '-')}_{bars}")
                os.makedirs(d, exist_ok=True)
                run = subprocess.run([a.melodist, "generate", "--model", a.model, "--key", key, "--meter", meter,
                                      "--bars", str(bars), "--end-on-tonic", "--num-outputs", str(a.per),
                                      "--seed", str(a.seed), "--out", os.path.join(d, "m.krn")],
                                     capture_output=True, text=True)
                if run.returncode != 0:
                    sys.exit(f"generate --key {key} --meter {meter} --bars {bars}: {run.stderr.strip()}")
                files = sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".krn"))
                ok = [check(a.melodist, f, key, meter, bars, step) for f in files]
                counts = [sum(o[i] for o in ok) for i in range(4)]
                rows.append({"key": key, "meter": meter, "bars": bars, "melodies": len(files),
                             "key_ok": counts[0], "meter_ok": counts[1], "bars_ok": counts[2], "tonic_ok": counts[3]})
                totals = [t + c for t, c in zip(totals, [len(files)] + counts)]
                print(f"| {key} | {meter} | {bars} | {len(files)} | {counts[0]} | {counts[1]} | {counts[2]} | {counts[3]} |")
    print(f"| all | | | {totals[0]} | {totals[1]} | {totals[2]} | {totals[3]} | {totals[4]} |")
    with open(os.path.join(a.out, "controls.json"), "w") as f:
        json.dump({"model": a.model, "rows": rows, "melodies": totals[0], "key_ok": totals[1], "meter_ok": totals[2],
                   "bars_ok": totals[3], "tonic_ok": totals[4]}, f, indent=1)


if __name__ == "__main__":
    main()
