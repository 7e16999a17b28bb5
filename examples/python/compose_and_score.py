"""Compose with the bundled model, score the result, and plot the per-step surprise (when matplotlib is
installed; Debian python3-matplotlib). Run: PYTHONPATH=build/python /usr/bin/python3 examples/python/compose_and_score.py OUT_DIR"""
import os
import sys

import melodist

out = sys.argv[1] if len(sys.argv) > 1 else "."
model = melodist.bundled()
melody = model.generate(bars=8, seed=11)[0]  # in the model's C major / A minor, so it can be scored
path = os.path.join(out, "tune.mid")
melody.write(path)
nats = model.score(melody)
back = melodist.read(path)  # the file read back holds the same notes
assert (back.notes == melody.notes).all()
notes = melody.notes
print(f"{path}: {len(notes)} notes, pitches {notes['pitch'].min()}..{notes['pitch'].max()}, "
      f"{nats.mean():.3f} nats per step over {len(nats)} steps")
assert len(notes) > 0 and len(nats) > 0 and (nats >= 0).all()
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("matplotlib is not installed: no plot")
else:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8, 5))
    top.hlines(notes["pitch"], notes["onset"], notes["onset"] + notes["duration"], linewidth=4)
    top.set_ylabel("MIDI pitch")
    bottom.plot(nats)
    bottom.set_xlabel("step")
    bottom.set_ylabel("nats")
    fig.savefig(os.path.join(out, "tune.png"))
    assert os.path.getsize(os.path.join(out, "tune.png")) > 10000, "the plot is empty"
    print(f"plot: {os.path.join(out, 'tune.png')}")
