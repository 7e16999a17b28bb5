#!/bin/sh
# Preprocess at scale (issue 20): a corpus of COPIES copies of deutschl's kern files (5,365 each; symbolic
# links under other names, in a temporary folder), or its first SONGS files, through
# `melodist preprocess --jobs JOBS`; prints the songs, the time, songs/s and the peak resident memory
# (GNU time's maximum RSS). run_preprocess streams, so the peak should stay flat as COPIES grows.
# Usage: tools/preprocess_scale.sh COPIES [SONGS] [--jobs N] [--build DIR]
#   e.g. tools/preprocess_scale.sh 19 100000; tools/preprocess_scale.sh 1 5000
# Needs /usr/bin/time (Debian package time) and ../shared/data/essen/deutschl.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=$here/build
jobs=2
copies=
songs=
while [ $# -gt 0 ]; do
  case $1 in
    --jobs) jobs=$2; shift ;;
    --build) build=$2; shift ;;
    *) if [ -z "$copies" ]; then copies=$1; elif [ -z "$songs" ]; then songs=$1; else copies=; break; fi ;;
  esac
  shift
done
if [ -z "$copies" ]; then echo "usage: $0 COPIES [SONGS] [--jobs N] [--build DIR]" >&2; exit 2; fi
essen=$(cd "$here/../shared/data/essen/deutschl" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# copy01/erk/deut0567.krn -> deutschl/erk/deut0567.krn, ...; sorted like the files preprocess reads
(cd "$essen" && find . -name '*.krn' | LC_ALL=C sort) >"$work/files"
i=1
while [ "$i" -le "$copies" ]; do
  copy=$(printf 'copy%02d' "$i")
  sed "s#^\./#$work/corpus/$copy/#" "$work/files" | xargs dirname | LC_ALL=C sort -u | xargs mkdir -p
  sed "s#^\./##" "$work/files" | while read -r f; do echo "$essen/$f $work/corpus/$copy/$f"; done >>"$work/links"
  i=$((i + 1))
done
[ -z "$songs" ] || { head -n "$songs" "$work/links" >"$work/links.head"; mv "$work/links.head" "$work/links"; }
perl -ne 'chomp; my ($from, $to) = split / /; symlink($from, $to) or die "$to: $!\n"' "$work/links"
count=$(wc -l <"$work/links")
/usr/bin/time -v -o "$work/time.txt" "$build/melodist" preprocess "$work/corpus" --out "$work/out" --jobs "$jobs" --quiet \
  >"$work/summary.txt"
seconds=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (k = 1; k <= n; k++) s = s * 60 + t[k]; print s }' "$work/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/time.txt")
out_bytes=$(du -sb "$work/out" | cut -f1)
echo "$(cat "$work/summary.txt")"
awk -v n="$count" -v s="$seconds" -v r="$rss" -v o="$out_bytes" -v j="$jobs" 'BEGIN {
  printf "%d songs, --jobs %d: %.2f s, %.0f songs/s, peak RSS %.1f MB, output %.1f MB\n", n, j, s, n / s, r / 1024, o / 1e6 }'
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
