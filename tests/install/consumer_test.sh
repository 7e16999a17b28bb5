#!/bin/bash
# Out-of-tree consumers of an INSTALLED melodist (CTest melodist_install_consumer / melodist_public_headers):
#   consumer_test.sh consumer|headers BUILD_DIR SOURCE_DIR
# Installs into a temporary prefix outside the source and build trees, then
#   consumer: builds examples/ with find_package(melodist) and with `pkg-config --cflags --libs melodist`,
#             runs them and reads their MIDI with mido (an independent reader); moves the prefix and runs the
#             installed `melodist generate` with no --model: it must give the build tree's bytes; with the
#             installed models removed it must fail, listing only installed places (never the source tree);
#             the installed Python module does the same from the moved prefix.
#   headers:  compiles every installed public header on its own (-fsyntax-only, include path = the prefix's
#             include/ only) and fails if one pulls in a json or BLAS header.
set -euo pipefail
mode=$1 build=$(realpath "$2") src=$(realpath "$3")
tmp=$(mktemp -d /tmp/melodist-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset MELODIST_MODEL MELODIST_MODEL_PATH
fail() { echo "FAIL: $*" >&2; exit 1; }
cmake --install "$build" --prefix "$tmp/prefix" > "$tmp/install.log"
prefix=$tmp/prefix
libdir=$(dirname "$(find "$prefix" -name melodist.pc)")/..

if [ "$mode" = headers ]; then
  n=0
  for h in "$prefix"/include/melodist/*.h; do
    # A translation unit holding only this #include (the header as a user's first line).
    echo "#include <melodist/$(basename "$h")>" | c++ -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I"$prefix/include" -x c++ - ||
      fail "$h does not compile alone"
    deps=$(c++ -std=c++20 -I"$prefix/include" -x c++ -M "$h")
    if grep -Eq 'nlohmann|cblas|openblas|/src/' <<< "$deps"; then fail "$h includes a private header: $(grep -Eo '[^ ]*(nlohmann|cblas|openblas|/src/)[^ ]*' <<< "$deps" | head -1)"; fi
    n=$((n + 1))
  done
  [ "$n" -ge 7 ] || fail "only $n public headers installed"
  echo "ok: $n public headers compile alone with -I$prefix/include only"
  exit 0
fi

cd "$tmp"  # nothing below runs in the source or build tree
# 1. find_package(melodist): the shared and the static target.
cmake -S "$src/examples" -B ex -G Ninja -DCMAKE_PREFIX_PATH="$prefix" > ex.log || { cat ex.log; fail "examples do not configure"; }
cmake --build ex > exb.log || { cat exb.log; fail "examples do not build"; }
# 2. pkg-config.
PKG_CONFIG_PATH=$libdir/pkgconfig
export PKG_CONFIG_PATH
c++ -std=c++20 "$src/examples/compose.cpp" -o compose_pc $(pkg-config --cflags --libs melodist) -Wl,-rpath,"$(pkg-config --variable=libdir melodist)"

./ex/compose shared.mid 7 | tee shared.log
./compose_pc pkgconfig.mid 7
# The static example lives outside any prefix: it finds the model only through MELODIST_MODEL_PATH,
# and without it fails naming where it looked (no source-tree fallback for out-of-tree programs).
if ./ex/compose_static nope.mid 7 2> static.err; then fail "compose_static found a model with no installed one next to it"; fi
grep -q "is not installed" static.err || fail "unexpected error: $(cat static.err)"
! grep -q "$src" static.err || fail "the error mentions the source tree: $(cat static.err)"
MELODIST_MODEL_PATH=$prefix/share/melodist/models ./ex/compose_static static.mid 7
cmp shared.mid pkgconfig.mid || fail "find_package and pkg-config builds differ"
cmp shared.mid static.mid || fail "shared and static builds differ"
/usr/bin/python3 - shared.mid "$(cat shared.log)" <<'PY'
import sys, mido
f = mido.MidiFile(sys.argv[1])
notes = [m for t in f.tracks for m in t if m.type == 'note_on' and m.velocity > 0]
ticks = max(sum(m.time for m in t) for t in f.tracks)
said = int(sys.argv[2].split(': ')[1].split(' notes')[0])
assert len(notes) == said and said > 0, (len(notes), said)
assert ticks <= 4 * 4 * f.ticks_per_beat, ticks  # 4 bars of 4/4
ts = [m for t in f.tracks for m in t if m.type == 'time_signature']
assert ts and (ts[0].numerator, ts[0].denominator) == (4, 4), ts
print(f"mido: {len(notes)} notes, {ticks / f.ticks_per_beat} quarters, pitches {sorted({m.note for m in notes})}")
PY

# The project's own MIDI reader gives the same number of notes.
said=$(sed -E 's/^[^:]*: ([0-9]+) notes.*/\1/' shared.log)
read=$("$build/melodist" encode shared.mid --transpose none --durations any | tr ' ' '\n' | grep -Ec '^[0-9]+$')
[ "$read" = "$said" ] || fail "melodist's MIDI reader finds $read notes in shared.mid, the example wrote $said"

# 3. The installed command, with its prefix moved elsewhere, composes with the installed bundled model.
mv "$prefix" moved
"$tmp/moved/bin/melodist" --version | tee version.txt
grep -q "^revision " version.txt && grep -q "^BLAS OpenBLAS" version.txt || fail "--version lacks the revision or the BLAS"
# The revision is the one the binary was built from (read at build time, not at configure time).
# (Uncommitted edits are left out of the comparison: "-dirty" depends on edits made after the build.)
if rev=$(git -C "$src" describe --always --abbrev=12 2> /dev/null); then
  grep -Eqx "revision $rev(-dirty)?" version.txt ||
    fail "--version names another revision than the tree's $rev (a build older than HEAD? rebuild)"
fi
"$tmp/moved/bin/melodist" generate --seed 7 --out installed.mid
"$build/melodist" generate --seed 7 --out built.mid
cmp installed.mid built.mid || fail "the installed melodist composes other bytes than the build tree's"
# The installed Python module (when built), from the moved prefix: the bundled model is found beside it.
pymod=$(find "$tmp/moved" -path '*dist-packages/melodist*.so' | head -1)
if [ -d "$build/python" ]; then
  [ -n "$pymod" ] || fail "the Python module was built but not installed"
  PYTHONPATH=$(dirname "$pymod") /usr/bin/python3 -c "import melodist, sys; print(melodist.__file__); melodist.bundled().generate(seed=7)[0].write(sys.argv[1])" python.mid
  cmp installed.mid python.mid || fail "the installed Python module composes other bytes than the installed melodist"
fi
rm -rf moved/share/melodist/models
if [ -n "$pymod" ]; then
  if PYTHONPATH=$(dirname "$pymod") /usr/bin/python3 -c "import melodist; melodist.bundled()" 2> pynone.err; then fail "the Python module found a model with the installed models removed"; fi
  grep -q "$tmp/moved/share/melodist/models/essen-german" pynone.err || fail "the Python error does not name the installed place: $(cat pynone.err)"
fi
if "$tmp/moved/bin/melodist" generate --seed 7 --out none.mid 2> none.err; then fail "generate ran with the installed models removed"; fi
cat none.err
grep -q "$tmp/moved/share/melodist/models/essen-german" none.err || fail "the error does not name the installed place"
! grep -q "$src" none.err || fail "the installed binary looked in the source tree"
# 4. The man page renders without troff warnings and documents every subcommand.
man --warnings -l "$tmp/moved/share/man/man1/melodist.1" > man.txt 2> man.err
[ ! -s man.err ] || { cat man.err; fail "troff warnings in melodist.1"; }
for c in preprocess train generate score evaluate; do grep -q "melodist $c" man.txt || fail "man page lacks $c"; done
echo "ok"
