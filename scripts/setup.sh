#!/usr/bin/env bash
# Installs the Debian 12 packages melodist needs to build and test (idempotent, non-interactive),
# then configures and builds it in ./build.  Usage: bash scripts/setup.sh [--peers]
#   --peers  also installs what the benchmarks' PyTorch peer and the reference scripts in tools/ need
#            (python3-torch, libopenblas0-openmp, ~1 GB).
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  build-essential cmake pkg-config ninja-build
  libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libopenblas-dev zlib1g-dev libhdf5-dev libcairo2-dev
  clang libclang-rt-14-dev          # libFuzzer targets
  python3-mido python3-numpy python3-h5py midicsv abcmidi   # independent readers used by the tests
  chromium                          # headless screenshot of `plot` output in tests/test_plot
)
if [[ "${1:-}" == "--peers" ]]; then
  packages+=(python3-torch libopenblas0-openmp libblis-dev hyperfine)
fi

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

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
echo "setup: built ./build/melodist"
