#!/usr/bin/env bash
# Installs the Debian 12 packages melodist needs (idempotent, non-interactive), then configures and
# builds it in ./build.  Usage: bash scripts/setup.sh [--test] [--peers] [--no-build]
#   --test      also installs the test-only tools: the independent readers and renderers the tests use
#               as oracles (mido, midicsv, abcmidi, abcm2ps, MuseScore 3, xmllint, sox, Chromium, clang
#               for the libFuzzer targets); scripts/test.sh passes it
#   --peers     also installs what the benchmarks' PyTorch peer and the reference scripts in tools/ need
#               (python3-torch, libopenblas0-openmp, ~1 GB)
#   --no-build  installs only
set -euo pipefail
cd "$(dirname "$0")/.."

# What building and composing need.
packages=(
  build-essential cmake pkg-config ninja-build
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev zlib1g-dev libhdf5-dev libcairo2-dev libssl-dev
  pybind11-dev python3-pybind11 python3-dev   # the Python module (python/)
  libpugixml-dev libzip-dev libfluidsynth-dev libsndfile1-dev libogg-dev timgm6mb-soundfont   # the writers (MusicXML, .mxl, audio)
  libcpp-httplib-dev libsqlite3-dev sqlite3 nodejs   # melodist serve: HTTP server, history; node for npm ci (abcjs in web/)
  openmpi-bin libopenmpi-dev        # data-parallel training: mpirun -np N melodist train (src/cluster/)
)
# What only the tests need (independent oracles).
test_packages=(
  clang libclang-rt-14-dev          # libFuzzer targets
  python3-mido python3-numpy python3-h5py midicsv abcmidi   # independent MIDI/ABC readers
  musescore3                        # MusicXML oracle (tests/test_musicxml_musescore)
  chromium                          # headless screenshot of `plot` output in tests/test_plot; tests/web (serve page)
  abcm2ps musescore3 libxml2-utils sox   # the writers' oracles: typesetting, MusicXML import, XSD, audio stats
  python3-pytest python3-matplotlib # tests/python, and the plot of examples/python/compose_and_score.py
  man-db groff-base                 # tests/install: the generated man page renders without warnings
)
peer_packages=(python3-torch libopenblas0-openmp libblis-dev hyperfine)

build=1
for arg in "$@"; do
  case "$arg" in
    --test) packages+=("${test_packages[@]}") ;;
    --peers) packages+=("${peer_packages[@]}") ;;
    --no-build) build=0 ;;
    *) echo "setup: unknown option $arg (--test, --peers, --no-build)" >&2; exit 2 ;;
  esac
done

# Debian's nodejs has npm as its own package; a NodeSource nodejs carries npm itself (and conflicts with it).
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# The page's one library (abcjs, embedded into the binary at build time) and, for --test, puppeteer-core for
# the real-browser test (it drives Debian's chromium and downloads no browser). From package-lock.json only.
if [[ ! -d web/node_modules/abcjs ]]; then (cd web && npm ci --no-audit --no-fund); fi
if [[ " $* " == *" --test "* && ! -d tests/web/node_modules/puppeteer-core ]]; then
  (cd tests/web && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

if ((build)); then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
  cmake --build build
  echo "setup: built ./build/melodist"
fi
