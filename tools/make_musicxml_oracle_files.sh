#!/usr/bin/env bash
# Makes the MuseScore-written MusicXML files of tests/fixtures/musicxml-musescore with independent programs:
# Nottingham tunes (../shared/data/nottingham/abc) through abc2midi, then MuseScore 3's MIDI import and
# MusicXML export (.mxl, and one .musicxml).
# tests/test_musicxml_musescore.cpp reads them back against MuseScore's MIDI export of the same file.
set -euo pipefail
cd "$(dirname "$0")/.."
out=tests/fixtures/musicxml-musescore
abc=${MELODIST_SHARED_DIR:-../shared}/data/nottingham/abc
tmp=$(mktemp -d)
export QT_QPA_PLATFORM=offscreen XDG_RUNTIME_DIR=$tmp
mkdir -p "$out"
for spec in jigs:1 jigs:2 reelsa-c:3 hpps:1 waltzes:4 morris:2; do
  book=${spec%%:*} x=${spec##*:}
  abc2midi "$abc/$book.abc" "$x" -o "$tmp/$book-$x.mid" > /dev/null
  # MuseScore's uncompressed MusicXML is ~30 times larger: one of those is committed
  [ "$spec" = waltzes:4 ] && mscore3 -o "$out/nottingham-$book-$x.musicxml" "$tmp/$book-$x.mid" > "$tmp/log" 2>&1
  mscore3 -o "$out/nottingham-$book-$x.mxl" "$tmp/$book-$x.mid" > "$tmp/log" 2>&1
done
# Not committed: MuseScore's demo Reunion (/usr/share/mscore3-*/demos/Reunion.mscz) is a piano score with
# several voices per staff; its MIDI mixes them in one track, so the track's skyline is not the first voice
# that melodist reads (they first differ at quarter 31.5). Such a score needs a per-voice oracle.
rm -rf "$tmp"
ls -la "$out"
