#!/usr/bin/env bash
# tools/idyom_benchmark.sh end to end on tests/fixtures/idyom (12 songs, 2 folds, 1 epoch everywhere), then
# its check on doctored outputs, which must fail: a pretraining corpus that keeps the set's two copies
# (one transposed), and a fold whose held-out count is not fold i's.
#   idyom_benchmark_test.sh MELODIST_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 src=$2 work=$3
PY=/usr/bin/python3
[[ -x $PY ]] || { echo "SKIP: $PY (Debian's python3) is missing"; exit 77; }
fx=$src/tests/fixtures/idyom
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

MELODIST=$bin "$src/tools/idyom_benchmark.sh" "$fx/set" "$work/out" --folds 2 --epochs-scale 0.01 \
  --pretrain "$fx/pretrain" > "$work/stdout.txt" 2> "$work/stderr.txt" || { cat "$work/stderr.txt"; fail "the benchmark failed"; }
cat "$work/stdout.txt"
grep -q "check passed" "$work/stderr.txt" || fail "the benchmark did not run its check"

# summary.json: the keys the issue names, finite figures, every note of every song scored, every row.
"$PY" - "$work/out/summary.json" <<'PYEOF' || fail "summary.json"
import json, math, sys
s = json.load(open(sys.argv[1]))
for key in ("pooled_pitch_bits_per_note", "pooled_pitch_bits_per_note_dynamic"):
    for where in (s, s["recipe"], s["alone"], s["pitch_only"]):
        assert math.isfinite(where[key]) and 0 < where[key] < 8, (key, where[key])
assert s["songs"] == 12 and s["files"] == 12, s["songs"]
assert s["recipe"]["notes"] == s["alone"]["notes"] == s["pitch_only"]["notes"] == s["notes"], "the rows score different notes"
assert sum(f["notes"] for f in s["recipe"]["folds"]) == s["notes"]
assert [f["fold"] for f in s["recipe"]["folds"]] == [1, 2] and all(f["test_songs"] == 6 for f in s["recipe"]["folds"])
p = s["pretraining"]
assert p["copies_left_out"] == 2 and p["songs"] == 11, p
assert p["copies_left_out_pitch_only"] == 3 and p["songs_pitch_only"] == 10, p
PYEOF
# The README table from the summary: the set's row with its pooled figures.
mkdir -p "$work/root"
ln -s "$work/out" "$work/root/set"
"$PY" "$src/tools/idyom_benchmark.py" table --root "$work/root" --sets set > "$work/table.md"
pooled=$("$PY" -c "import json,sys; print('%.3f' % json.load(open(sys.argv[1]))['pooled_pitch_bits_per_note_dynamic'])" "$work/out/summary.json")
grep -q "^| set | 12 of 12 .*\*\*$pooled " "$work/table.md" || { cat "$work/table.md"; fail "the table lacks the set's row"; }

# The two copies, by name.
for copy in copy-exact copy-transposed; do
  grep -q "/$copy.krn$" "$work/out/pretrain-exclude.txt" || fail "$copy.krn was not left out of pretraining"
done
[[ $(grep -vc '^#' "$work/out/pretrain-exclude.txt") == 2 ]] || fail "more than the two copies left out"
# The same pitches in another rhythm: a copy for the pitch-only row, not for the recipe's encoding.
grep -q "/copy-pitches.krn$" "$work/out/pretrain-pitch-exclude.txt" || fail "copy-pitches.krn was not left out of pitch-only pretraining"
if grep -q "/copy-pitches.krn$" "$work/out/pretrain-exclude.txt"; then fail "copy-pitches.krn was left out of the recipe's pretraining"; fi

# --resume redoes nothing that is finished: the fold models stay as they are.
before=$(sha256sum "$work/out/cv/fold-01/model.safetensors")
MELODIST=$bin "$src/tools/idyom_benchmark.sh" "$fx/set" "$work/out" --folds 2 --epochs-scale 0.01 \
  --pretrain "$fx/pretrain" --resume > /dev/null 2>&1 || fail "--resume failed"
[[ $(sha256sum "$work/out/cv/fold-01/model.safetensors") == "$before" ]] || fail "--resume retrained fold 1"
# Without --resume an earlier run's folder is refused.
if MELODIST=$bin "$src/tools/idyom_benchmark.sh" "$fx/set" "$work/out" > /dev/null 2>&1; then fail "a used OUT_DIR was accepted"; fi

# The check must be able to fail. 1: pretraining data with the copies in it.
cp -r "$work/out" "$work/leak"
rm -rf "$work/leak/pretrain"
"$bin" preprocess "$fx/pretrain" --out "$work/leak/pretrain" --step 1/12 --durations any --transpose none --per-note --key-symbol --barlines -q > /dev/null
if "$PY" "$src/tools/idyom_benchmark.py" check --out "$work/leak" --folds 2 2> "$work/leak.err"; then
  fail "the check passed a pretraining corpus that holds copies of set songs"
fi
grep -q "is a copy of the set's" "$work/leak.err" || { cat "$work/leak.err"; fail "the check did not name the copy"; }
# 2: a fold that held out other songs than fold i's.
cp -r "$work/out" "$work/split"
"$PY" - "$work/split/cv/crossval.json" <<'PYEOF'
import json, sys
j = json.load(open(sys.argv[1]))
j["folds"][0]["test_songs"] += 1
j["folds"][0]["train_songs"] -= 1
json.dump(j, open(sys.argv[1], "w"))
PYEOF
if "$PY" "$src/tools/idyom_benchmark.py" check --out "$work/split" --folds 2 2> "$work/split.err"; then
  fail "the check passed a fold that is not fold i's"
fi
grep -q "fold 1" "$work/split.err" || { cat "$work/split.err"; fail "the check did not name the fold"; }
echo "idyom_benchmark_test: passed"
