#!/usr/bin/env python3
"""The held-out songs of a bundled model and the songs its training must leave out.

  bundled_holdout.py --heldout-from DATASET --every 10 --corpus DATASET --heldout OUT --exclude OUT

--heldout-from: a dataset whose every N-th accepted song (1-based: songs N, 2N, ...; the rule of
`melodist train --val-every N`) is held out. --corpus: a dataset of everything the model may train on,
preprocessed with --transpose none and no input symbols. A corpus song is a duplicate of a held-out song
when their encodings are equal after moving each song's pitches so that its first note is 0 (so a copy in
another key, or with another key designation, is found too). --heldout gets the held-out song names, one
per line; --exclude gets them and every duplicate (the list for `melodist preprocess --exclude`).
Prints what it found on stderr.
"""
import argparse
import json
import os
import sys


def accepted_songs(dataset):
    """[(name, symbols)] of a dataset folder in songs.txt order (the manifest's accepted entries)."""
    with open(os.path.join(dataset, "manifest.json")) as f:
        manifest = json.load(f)
    names = [e["path"] for e in manifest["files"] if e["status"] == "accepted"]
    with open(os.path.join(dataset, "songs.txt")) as f:
        lines = f.read().splitlines()
    if len(names) != len(lines):
        sys.exit(f"bundled_holdout: {dataset}: {len(names)} accepted songs in the manifest, {len(lines)} in songs.txt")
    return [(canonical(n), line.split(" ")) for n, line in zip(names, lines)]


def canonical(name):
    path, hash_sign, tune = name.partition("#")
    return os.path.realpath(path) + hash_sign + tune


def shape(symbols):
    """The encoding with pitches relative to the first note's; symbols that take no time are dropped, and a
    length symbol (preprocess --per-note, ":6" after its note or rest) becomes its holds, so a per-note song
    has the shape of the same song in the step encoding."""
    pitches = [int(s) for s in symbols if s.lstrip("-").isdigit()]
    first = pitches[0] if pitches else 0
    out = []
    for s in symbols:
        if s.lstrip("-").isdigit():
            out.append(str(int(s) - first))
        elif s in ("_", "r") or s.startswith("(3:"):  # triplet windows take time
            out.append(s)
        elif s.startswith(":") and s[1:].isdigit():
            out.extend(["_"] * (int(s[1:]) - 1))
    return " ".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--heldout-from", required=True)
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--heldout", required=True)
    ap.add_argument("--exclude", required=True)
    a = ap.parse_args()
    source = accepted_songs(a.heldout_from)
    held = [name for i, (name, _) in enumerate(source) if (i + 1) % a.every == 0]
    corpus = accepted_songs(a.corpus)
    by_name = dict(corpus)
    missing = [n for n in held if n not in by_name]
    held_shapes = {shape(by_name[n]): n for n in held if n in by_name}
    held_set = set(held)
    duplicates = [(n, held_shapes[shape(s)]) for n, s in corpus if n not in held_set and shape(s) in held_shapes]
    for n, of in duplicates:
        print(f"bundled_holdout: {n} duplicates held-out {of}", file=sys.stderr)
    if missing:
        print(f"bundled_holdout: {len(missing)} held-out songs are not accepted in the corpus encoding "
              f"(excluded anyway): {', '.join(missing[:3])}", file=sys.stderr)
    with open(a.heldout, "w") as f:
        f.writelines(n + "\n" for n in held)
    with open(a.exclude, "w") as f:
        f.write(f"# {len(held)} held-out songs (every {a.every}th accepted song of {a.heldout_from}) and "
                f"{len(duplicates)} duplicates of them\n")
        f.writelines(n + "\n" for n in held + [n for n, _ in duplicates])
    print(f"bundled_holdout: {len(held)} held out of {len(source)}, {len(duplicates)} duplicates in the corpus of "
          f"{len(corpus)}", file=sys.stderr)


if __name__ == "__main__":
    main()
