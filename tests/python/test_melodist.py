"""The Python module against the `melodist` command: same seed -> same bytes, score == score --json,
errors carry the CLI's line."""
import json
import os
import subprocess

import numpy as np
import pytest

import melodist

CLI = os.environ["MELODIST_BINARY"]
SONG = os.path.join(os.environ["MELODIST_FIXTURES_DIR"], "kern", "accidentals.krn")


def test_same_seed_same_bytes_as_cli(tmp_path):
    subprocess.run([CLI, "generate", "--seed", "7", "--out", str(tmp_path / "cli.mid")], check=True, capture_output=True)
    m = melodist.bundled().generate(seed=7)[0]
    m.write(str(tmp_path / "py.mid"))
    assert (tmp_path / "py.mid").read_bytes() == (tmp_path / "cli.mid").read_bytes()
    assert m.notes.dtype.names == ("pitch", "onset", "duration")
    assert len(m.notes) > 0 and np.all(np.diff(m.notes["onset"]) > 0)


def test_score_equals_cli_json():
    cli = json.loads(subprocess.run([CLI, "score", "--json", "--per-step", SONG], check=True, capture_output=True, text=True).stdout)
    nats = melodist.bundled().score(melodist.read(SONG))
    assert nats.shape == (cli["steps"],)
    np.testing.assert_allclose(nats, [s["nats"] for s in cli["per_step"]], rtol=1e-12)
    assert nats.sum() == pytest.approx(cli["total_nats"], rel=1e-12)


def test_errors_carry_the_cli_message(tmp_path):
    out = subprocess.run([CLI, "generate", "--temperature", "-1", "--out", str(tmp_path / "x.mid")], capture_output=True, text=True)
    with pytest.raises(melodist.Error) as e:
        melodist.bundled().generate(temperature=-1)
    assert out.returncode == 1
    assert out.stderr.strip() == "melodist: error: " + str(e.value)
