#!/usr/bin/python3
"""Seeded byte mutations of a Keras HDF5 file, run through `melodist import-keras`, sorted by how each
run ended (issue 21: libhdf5 segfaulted on some damaged files and took melodist down with it).

Every mutation is "OFFSET:HEX": the bytes HEX written over the file at OFFSET (same length, so the
file keeps its size). The seed fixes the list: mutation i of seed S is the same on every machine.

  search:  /usr/bin/python3 tools/mutate_h5.py search --melodist BUILD/melodist --count 3000 [--seed 21]
           prints a count per outcome (accepted, error exit 1, signal N, timeout, other) and the
           mutations that ended by a signal; --write DIR --keep K writes the first K of those as
           DIR/crash_OFFSET_HEX.h5 and appends their lines to DIR/mutations.txt
  apply:   /usr/bin/python3 tools/mutate_h5.py apply OFFSET:HEX OUT.h5     (one mutation, one file)
  check:   /usr/bin/python3 tools/mutate_h5.py check --melodist BUILD/melodist DIR/mutations.txt
           reruns the listed mutations and prints how each ends now

The committed fixtures tests/fixtures/keras/mutated/crash_*.h5 were found with the import of 6608ffd
(HDF5 read in-process), which they crash; tests/test_keras_import.cpp checks that they now give the
one-line error "not a readable Keras HDF5 file (...)" with exit status 1.
"""
import argparse
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "tests", "fixtures", "keras")


def mutations(size, seed, count):
    """count mutations of a file of `size` bytes: (offset, bytes) pairs, fixed by the seed."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        length = rng.choice([1, 1, 2, 3, 4, 8])
        offset = rng.randrange(0, size - length)
        kind = rng.choice(["zero", "ones", "random", "flip"])
        if kind == "zero":
            data = bytes(length)
        elif kind == "ones":
            data = b"\xff" * length
        elif kind == "random":
            data = bytes(rng.randrange(256) for _ in range(length))
        else:  # one flipped bit, read back from the original by apply()
            data = None
        bit = rng.randrange(8)
        out.append((offset, length, data, bit))
    return out


def resolve(original, offset, length, data, bit):
    if data is None:
        data = bytes([original[offset] ^ (1 << bit)]) + original[offset + 1:offset + length]
    return data


def spec(offset, data):
    return f"{offset}:{data.hex()}"


def parse_spec(text):
    offset, hexbytes = text.strip().split(":")
    return int(offset), bytes.fromhex(hexbytes)


def mutated(original, offset, data):
    return original[:offset] + data + original[offset + len(data):]


def run_import(melodist, h5, mapping, scratch, timeout):
    """How one import ends: 'accepted', 'error', 'signal N', 'timeout' or 'exit N'."""
    out = os.path.join(scratch, "model")
    try:
        r = subprocess.run([melodist, "import-keras", "--h5", h5, "--mapping", mapping, "--out", out, "--force"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    err = r.stderr.decode(errors="replace").strip()
    if r.returncode < 0:
        return f"signal {-r.returncode}", err
    if r.returncode == 0:
        return "accepted", err
    if r.returncode == 1:
        return "error", err
    return f"exit {r.returncode}", err


def search(args):
    with open(args.input, "rb") as f:
        original = f.read()
    counts, crashes = {}, []
    with tempfile.TemporaryDirectory() as scratch:
        h5 = os.path.join(scratch, "m.h5")
        for i, m in enumerate(mutations(len(original), args.seed, args.count)):
            offset, length, data, bit = m
            data = resolve(original, offset, length, data, bit)
            with open(h5, "wb") as f:
                f.write(mutated(original, offset, data))
            outcome, err = run_import(args.melodist, h5, args.mapping, scratch, args.timeout)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome.startswith("signal") or outcome == "timeout" or outcome.startswith("exit"):
                crashes.append((spec(offset, data), outcome))
                print(f"mutation {i}: {spec(offset, data)} -> {outcome}", flush=True)
    print(f"seed {args.seed}, {args.count} mutations of {args.input}:")
    for outcome, n in sorted(counts.items()):
        print(f"  {outcome}: {n}")
    if args.write:
        os.makedirs(args.write, exist_ok=True)
        # The smallest mutations first: the fewest changed bytes is the clearest fixture.
        chosen = sorted(crashes, key=lambda c: (len(c[0]), c[0]))[:args.keep]
        with open(os.path.join(args.write, "mutations.txt"), "a") as listing:
            for text, outcome in chosen:
                offset, data = parse_spec(text)
                name = f"crash_{offset}_{data.hex()}.h5"
                with open(os.path.join(args.write, name), "wb") as f:
                    f.write(mutated(original, offset, data))
                listing.write(f"{text} {name} # {outcome} with {os.path.basename(args.melodist)} (seed {args.seed})\n")
                print(f"wrote {name}")


def apply(args):
    with open(args.input, "rb") as f:
        original = f.read()
    offset, data = parse_spec(args.mutation)
    with open(args.out, "wb") as f:
        f.write(mutated(original, offset, data))


def check(args):
    with open(args.input, "rb") as f:
        original = f.read()
    with tempfile.TemporaryDirectory() as scratch, open(args.listing) as listing:
        h5 = os.path.join(scratch, "m.h5")
        for line in listing:
            if not line.strip() or line.startswith("#"):
                continue
            offset, data = parse_spec(line.split()[0])
            with open(h5, "wb") as f:
                f.write(mutated(original, offset, data))
            outcome, err = run_import(args.melodist, h5, args.mapping, scratch, args.timeout)
            print(f"{spec(offset, data)}: {outcome}: {err}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", default=os.path.join(FIXTURES, "tiny_hard_sigmoid.h5"))
    p.add_argument("--mapping", default=os.path.join(FIXTURES, "tiny_mapping.json"))
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search")
    s.add_argument("--melodist", required=True)
    s.add_argument("--seed", type=int, default=21)
    s.add_argument("--count", type=int, default=3000)
    s.add_argument("--timeout", type=float, default=30)
    s.add_argument("--write")
    s.add_argument("--keep", type=int, default=4)
    a = sub.add_parser("apply")
    a.add_argument("mutation")
    a.add_argument("out")
    c = sub.add_parser("check")
    c.add_argument("--melodist", required=True)
    c.add_argument("--timeout", type=float, default=30)
    c.add_argument("listing")
    args = p.parse_args()
    {"search": search, "apply": apply, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
