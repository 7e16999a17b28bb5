#!/usr/bin/python3
# Prints, for each ABC file, the number of notes that START in each bar of its first tune's body (a note
# after a tie "-" continues the tied note and does not count; rests do not count), as "FILE<TAB>n n n ...".
# Trailing bars without an onset are dropped. Enough ABC for melodist's and midi2abc's output: notes,
# rests, ties, accidentals, lengths, (3 triplets, barlines, %comments and header lines.
import re
import sys

note = re.compile(r"[_=^]*([A-Ga-gzx])[,']*[0-9/]*(-?)")
for path in sys.argv[1:]:
    body, seen_k = [], False
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.split("%", 1)[0].rstrip("\n")
        if re.match(r"^[A-Za-z]:", line):
            if seen_k and line.startswith("X:"):
                break
            seen_k = seen_k or line.startswith("K:")
            continue
        if seen_k:
            body.append(line)
    text = re.sub(r'"[^"]*"', "", " ".join(body))  # chord symbols and annotations
    bars, count, tied = [], 0, False
    i = 0
    while i < len(text):
        if text[i] == "|":
            while i + 1 < len(text) and text[i + 1] in "|]:":
                i += 1
            bars.append(count)
            count = 0
            i += 1
            continue
        m = note.match(text, i)
        if m:
            if m.group(1) not in "zx":
                if not tied:
                    count += 1
            tied = m.group(2) == "-"
            i = m.end()
        else:
            i += 1
    if count:
        bars.append(count)
    while bars and bars[-1] == 0:
        bars.pop()
    print(path + "\t" + " ".join(map(str, bars)))
