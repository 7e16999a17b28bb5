#!/usr/bin/env bash
# Installs the test-only tools (scripts/setup.sh --test), builds (if needed) and runs every test.
# Usage: bash scripts/test.sh [BUILD_DIR] [extra cmake args...]
# Tests that need ../shared (the Essen corpus, the Keras reference) skip with a message when it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test --no-build
build_dir="${1:-build}"
shift || true
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j2
