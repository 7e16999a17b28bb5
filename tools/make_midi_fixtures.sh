#!/bin/sh
# Regenerates tests/fixtures/midi/ with programs that are not melodist (abc2midi, Debian's python3-mido).
# Needs: apt-get install abcmidi python3-mido. Deterministic; the expected melodies are in
# tests/fixtures/midi/README.md and tests/test_midi_reader.cpp.
set -eu
cd "$(dirname "$0")/.."
/usr/bin/python3 tools/make_midi_fixtures.py tests/fixtures/midi
