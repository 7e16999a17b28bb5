#!/usr/bin/env python3
"""The IDyOM benchmark's bookkeeping (tools/idyom_benchmark.sh runs it; /usr/bin/python3, standard library).

  idyom_benchmark.py exclusions --set DATASET --corpus DATASET --out FILE
      the corpus songs that are copies of a set song (tools/bundled_holdout.py's shape: the notes with the
      first one moved to 0; symbols that take no time ignored), one name per line, for preprocess --exclude
  idyom_benchmark.py check --out OUT_DIR --folds K
      fails unless every fold's held-out songs are fold i's (songs i, i+K, ...), no fold trains on one of
      them, the fold models record that rule, and no pretraining song is a copy of a set song
  idyom_benchmark.py summary --out OUT_DIR --set KERN_DIR
      prints the table and writes OUT_DIR/summary.json
  idyom_benchmark.py table --root OUT_ROOT --sets NAME...
      the README's table (markdown) from OUT_ROOT/NAME/summary.json; the mean over the sets that IDyOM scored
"""
import argparse
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bundled_holdout import accepted_songs, shape  # noqa: E402  (one copy rule for the whole project)

# Pearce (2005), table 6.6: IDyOM's best model per set, pitch bits per note.
IDYOM = {"elsass": 2.540, "jugoslav": 2.588, "schweiz": 2.454, "oesterrh": 2.651, "kinder": 2.106}
ROWS = (("cv", "recipe", "recipe: per note, key symbol + barlines, pretrained on German songs"),
        ("cv-alone", "alone", "the recipe's input, trained on the set alone (no pretraining)"),
        ("cv-pitch", "pitch_only", "pitch only (one MIDI number per note), pretrained on German songs"))


def fail(message):
    sys.exit(f"idyom_benchmark: {message}")


def exclusions(a):
    set_shapes = {}
    for name, symbols in accepted_songs(a.set):
        set_shapes.setdefault(shape(symbols), name)
    copies = [(n, set_shapes[shape(s)]) for n, s in accepted_songs(a.corpus) if shape(s) in set_shapes]
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"# {len(copies)} pretraining songs that are copies of a song of {a.set}\n")
        for n, of in copies:
            f.write(f"{n}\n")
    os.replace(tmp, a.out)
    print(f"idyom_benchmark: {len(copies)} of the pretraining songs are copies of set songs, left out", file=sys.stderr)


def model_metadata(path):
    """The melodist metadata of a model.safetensors (the JSON string under "metadata" in its header's __metadata__)."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    return json.loads(header.get("__metadata__", {}).get("metadata", "{}"))


def check(a):
    out = a.out
    for cv, data in (("cv", "set"), ("cv-alone", "set"), ("cv-pitch", "set-pitch")):
        songs = accepted_songs(os.path.join(out, data))
        names = [n for n, _ in songs]
        if len(set(names)) != len(names):
            fail(f"{data}: a song is listed twice")
        with open(os.path.join(out, cv, "crossval.json")) as f:
            result = json.load(f)
        if len(result["folds"]) != a.folds:
            fail(f"{cv}: {len(result['folds'])} folds, expected {a.folds}")
        for fold in result["folds"]:
            i = fold["fold"]
            held = {n for j, n in enumerate(names) if j % a.folds == i - 1}
            train = [n for j, n in enumerate(names) if j % a.folds != i - 1]
            if held & set(train):
                fail(f"{cv} fold {i}: a held-out song is also a training song")
            if fold["test_songs"] != len(held) or fold["train_songs"] + fold["validation_songs"] != len(train):
                fail(f"{cv} fold {i}: held out {fold['test_songs']} and trained on {fold['train_songs']} + "
                     f"{fold['validation_songs']} songs; fold {i} of {a.folds} is {len(held)} and {len(train)}")
            meta = model_metadata(os.path.join(out, cv, f"fold-{i:02d}", "model.safetensors"))
            rule = meta.get("validation", {}).get("crossval", {})
            if rule.get("folds") != a.folds or rule.get("fold") != i:
                fail(f"{cv} fold {i}: its model records the split {meta.get('validation')}")
    for pre, data in (("pretrain", "set-plain"), ("pretrain-pitch", "set-pitch")):
        set_shapes = {shape(s): n for n, s in accepted_songs(os.path.join(out, data))}
        for n, s in accepted_songs(os.path.join(out, pre)):
            if shape(s) in set_shapes:
                fail(f"{pre}: {n} is a copy of the set's {set_shapes[shape(s)]}")
    print("idyom_benchmark: check passed: every fold holds out its own songs only, and no pretraining song "
          "is a copy of a set song", file=sys.stderr)


def seconds(out, stage):
    path = os.path.join(out, f"time-{stage}.txt")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return round(sum(float(x) for x in f.read().split()), 1)


def row(out, cv):
    with open(os.path.join(out, cv, "crossval.json")) as f:
        r = json.load(f)
    folds = [{"fold": x["fold"], "test_songs": x["test_songs"], "notes": x["test"]["notes"],
              "pitch_bits_per_note": x["test"]["pitch_bits_per_note"],
              "pitch_bits_per_note_dynamic": x["test_dynamic"]["pitch_bits_per_note"],
              "seconds": round(x["seconds"], 1)} for x in r["folds"]]
    return {"pooled_pitch_bits_per_note": r["pooled"]["pitch_bits_per_note"],
            "pooled_pitch_bits_per_note_dynamic": r["pooled_dynamic"]["pitch_bits_per_note"],
            "fold_mean": r["summary"]["pitch_bits_per_note"]["mean"],
            "fold_std": r["summary"]["pitch_bits_per_note"]["std"],
            "fold_mean_dynamic": r["summary_dynamic"]["pitch_bits_per_note"]["mean"],
            "fold_std_dynamic": r["summary_dynamic"]["pitch_bits_per_note"]["std"],
            "songs": sum(x["test_songs"] for x in folds), "notes": r["pooled"]["notes"],
            "seconds": seconds(out, cv), "folds": folds}


def manifest_totals(out, data):
    with open(os.path.join(out, data, "manifest.json")) as f:
        return json.load(f)["totals"]


def summary(a):
    out = a.out
    name = os.path.basename(os.path.normpath(a.set))
    rows = {key: row(out, cv) for cv, key, _ in ROWS}
    recipe = rows["recipe"]
    totals = manifest_totals(out, "set")
    def listed(name):
        with open(os.path.join(out, name)) as f:
            return sum(1 for line in f if line.strip() and not line.startswith("#"))
    copies, copies_pitch = listed("pretrain-exclude.txt"), listed("pretrain-pitch-exclude.txt")
    s = {"set": name, "kern_dir": os.path.abspath(a.set), "files": totals["files"], "songs": totals["accepted"],
         "rejected": totals["rejected"], "notes": recipe["notes"],
         "pooled_pitch_bits_per_note": recipe["pooled_pitch_bits_per_note"],
         "pooled_pitch_bits_per_note_dynamic": recipe["pooled_pitch_bits_per_note_dynamic"],
         "idyom_pitch_bits_per_note": IDYOM.get(name),
         **rows,
         "pretraining": {"songs": manifest_totals(out, "pretrain")["accepted"], "copies_left_out": copies,
                         "songs_pitch_only": manifest_totals(out, "pretrain-pitch")["accepted"],
                         "copies_left_out_pitch_only": copies_pitch,
                         "seconds": seconds(out, "pretrain"), "seconds_pitch_only": seconds(out, "pretrain-pitch")},
         "preprocess_seconds": seconds(out, "preprocess")}
    tmp = os.path.join(out, "summary.json.tmp")
    with open(tmp, "w") as f:
        json.dump(s, f, indent=2)
        f.write("\n")
    os.replace(tmp, os.path.join(out, "summary.json"))
    print(f"{name}: {s['songs']} of {s['files']} songs, {s['notes']} notes; pretraining {s['pretraining']['songs']} "
          f"songs ({copies} copies of set songs left out; pitch only {copies_pitch}), {s['pretraining']['seconds']} s")
    print(f"{'':70} {'static':>15} {'dynamic':>15} {'seconds':>8}")
    for _, key, label in ROWS:
        r = rows[key]
        print(f"{label:70} {r['pooled_pitch_bits_per_note']:6.3f} ({r['fold_mean']:.2f}±{r['fold_std']:.2f}) "
              f"{r['pooled_pitch_bits_per_note_dynamic']:6.3f} ({r['fold_mean_dynamic']:.2f}±{r['fold_std_dynamic']:.2f}) "
              f"{r['seconds'] or 0:8.0f}")
        for x in r["folds"]:
            print(f"  fold {x['fold']:2d}: {x['test_songs']:4d} songs {x['notes']:6d} notes"
                  f" {x['pitch_bits_per_note']:13.3f} {x['pitch_bits_per_note_dynamic']:15.3f} {x['seconds']:8.0f}")
    if s["idyom_pitch_bits_per_note"] is not None:
        print(f"{'IDyOM (Pearce 2005, table 6.6)':70} {'':15} {s['idyom_pitch_bits_per_note']:15.3f}")


def table(a):
    rows, seen_pretraining, total = [], {}, 0.0
    def cell(r, dynamic):
        k = "_dynamic" if dynamic else ""
        return f"{r['pooled_pitch_bits_per_note' + k]:.3f} (± {r['fold_std' + k]:.2f})"
    print("| set | songs (notes) | IDyOM | recipe, static | **recipe, dynamic** | set alone, static | set alone, dynamic | "
          "pitch only, static | pitch only, dynamic | minutes (recipe, set alone, pitch only; pretraining) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for name in a.sets:
        path = os.path.join(a.root, name, "summary.json")
        if not os.path.exists(path):
            print(f"| {name} | not run | | | | | | | | |")
            continue
        with open(path) as f:
            s = json.load(f)
        rows.append(s)
        p = s["pretraining"]
        identity = (p["songs"], p["seconds"], p["seconds_pitch_only"])  # one pretrained model, however many sets share it
        pre = (p["seconds"] or 0) + (p["seconds_pitch_only"] or 0)
        shared = identity in seen_pretraining
        if not shared:
            seen_pretraining[identity] = name
            total += pre
        folds = [s[key]["seconds"] or 0 for _, key, _ in ROWS]  # each row's folds, in ROWS' order
        total += sum(folds) + (s["preprocess_seconds"] or 0)
        idyom = f"{s['idyom_pitch_bits_per_note']:.3f}" if s["idyom_pitch_bits_per_note"] is not None else "–"
        pre_text = f"shared with {seen_pretraining[identity]}" if shared else f"{pre / 60:.1f}"
        print(f"| {name} | {s['songs']} of {s['files']} ({s['notes']:,}) | {idyom} | {cell(s['recipe'], False)} | "
              f"**{cell(s['recipe'], True)}** | {cell(s['alone'], False)} | {cell(s['alone'], True)} | "
              f"{cell(s['pitch_only'], False)} | {cell(s['pitch_only'], True)} | "
              f"{', '.join(f'{x / 60:.1f}' for x in folds)}; {pre_text} |")
    scored = [s for s in rows if s["idyom_pitch_bits_per_note"] is not None]
    if scored:
        n = len(scored)
        mean = lambda f: sum(f(s) for s in scored) / n  # noqa: E731
        print(f"| mean of the {n} IDyOM sets | | {mean(lambda s: s['idyom_pitch_bits_per_note']):.3f} | "
              f"{mean(lambda s: s['recipe']['pooled_pitch_bits_per_note']):.3f} | "
              f"**{mean(lambda s: s['recipe']['pooled_pitch_bits_per_note_dynamic']):.3f}** | "
              f"{mean(lambda s: s['alone']['pooled_pitch_bits_per_note']):.3f} | "
              f"{mean(lambda s: s['alone']['pooled_pitch_bits_per_note_dynamic']):.3f} | "
              f"{mean(lambda s: s['pitch_only']['pooled_pitch_bits_per_note']):.3f} | "
              f"{mean(lambda s: s['pitch_only']['pooled_pitch_bits_per_note_dynamic']):.3f} | {total / 60:.0f} for every set above |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    e = sub.add_parser("exclusions")
    e.add_argument("--set", required=True)
    e.add_argument("--corpus", required=True)
    e.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--out", required=True)
    c.add_argument("--folds", type=int, required=True)
    s = sub.add_parser("summary")
    s.add_argument("--out", required=True)
    s.add_argument("--set", required=True)
    t = sub.add_parser("table")
    t.add_argument("--root", required=True)
    t.add_argument("--sets", nargs="+", required=True)
    a = ap.parse_args()
    {"exclusions": exclusions, "check": check, "summary": summary, "table": table}[a.command](a)


if __name__ == "__main__":
    main()
