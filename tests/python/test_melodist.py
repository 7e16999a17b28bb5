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


def test_train_reports_each_epoch_and_the_model_composes(tmp_path):
    seen = []
    best = melodist.train(os.path.join(os.environ["MELODIST_FIXTURES_DIR"], "train", "tiny"), str(tmp_path / "m"),
                          hidden=8, epochs=3, threads=1, progress=lambda e: seen.append((e.epoch, e.val_loss)))
    assert [e for e, _ in seen] == [1, 2, 3]
    assert best == pytest.approx(min(v for _, v in seen))
    assert len(melodist.Model.load(str(tmp_path / "m")).generate(seed=1, max_steps=16)[0].symbols) > 0


def test_preprocess_summary(tmp_path):
    line = melodist.preprocess([os.path.join(os.environ["MELODIST_FIXTURES_DIR"], "kern", "accidentals.krn")], str(tmp_path / "d"))
    assert line.startswith("accepted 1 of 1 songs") and (tmp_path / "d" / "songs.txt").exists()


def test_bundled_by_name():
    assert melodist.bundled("essen-german").generate(seed=7)[0].symbols == melodist.bundled().generate(seed=7)[0].symbols
    with pytest.raises(melodist.Error, match="the bundled model no-such-model is not installed"):
        melodist.bundled("no-such-model")


def test_generate_controls_as_the_cli(tmp_path):
    """key/meter/bars/end_on on a tiny model with key, meter and barline symbols: the same bytes as
    `melodist generate --key D --meter 3/4 --bars 4 --end-on-tonic`, and the melodies obey."""
    train = os.path.join(os.environ["MELODIST_FIXTURES_DIR"], "meter", "train")
    subprocess.run([CLI, "preprocess", train, "--out", str(tmp_path / "cli-d"), "--key-symbol", "--meter-symbol", "--barlines",
                    "--transpose", "none"], check=True, capture_output=True)
    melodist.preprocess([train], str(tmp_path / "d"), transpose=False, key_symbol=True, meter_symbol=True, barlines=True)
    assert (tmp_path / "d" / "songs.txt").read_bytes() == (tmp_path / "cli-d" / "songs.txt").read_bytes()
    subprocess.run([CLI, "preprocess", train, "--out", str(tmp_path / "cli-c"), "--key-symbol", "--meter-symbol", "--barlines",
                    "--countdown-bars", "2", "--transpose", "none"], check=True, capture_output=True)
    melodist.preprocess([train], str(tmp_path / "c"), transpose=False, key_symbol=True, meter_symbol=True, barlines=True,
                        countdown_bars=2)
    countdown = (tmp_path / "c" / "songs.txt").read_text()
    assert countdown == (tmp_path / "cli-c" / "songs.txt").read_text() and " |2 " in countdown and " |1 " in countdown
    subprocess.run([CLI, "preprocess", train, "--out", str(tmp_path / "cli-f"), "--key-symbol", "--meter-symbol", "--barlines",
                    "--countdown-bars", "2", "--final-mark", "--countdown-key", "--transpose", "none"], check=True, capture_output=True)
    melodist.preprocess([train], str(tmp_path / "f"), transpose=False, key_symbol=True, meter_symbol=True, barlines=True,
                        countdown_bars=2, final_mark=True, countdown_key=True)
    marked = (tmp_path / "f" / "songs.txt").read_text()
    assert marked == (tmp_path / "cli-f" / "songs.txt").read_text() and " $ " in marked and " |2 K:" in marked
    subprocess.run([CLI, "train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "m"), "--hidden", "16", "--epochs", "5",
                    "--batch", "4", "--threads", "1", "--val-every", "3"], check=True, capture_output=True)
    subprocess.run([CLI, "generate", "--model", str(tmp_path / "m"), "--key", "D", "--meter", "3/4", "--bars", "4", "--end-on-tonic",
                    "--seed", "2", "--out", str(tmp_path / "cli.mid")], check=True, capture_output=True)
    model = melodist.Model.load(str(tmp_path / "m"))
    melodies = model.generate(n=5, key="D", meter="3/4", bars=4, end_on="tonic", seed=2)
    melodies[0].write(str(tmp_path / "py.mid"))
    assert (tmp_path / "py.mid").read_bytes() == (tmp_path / "cli.mid").read_bytes()
    for m in melodies:
        assert m.symbols[:2] == ["K:D", "M:3/4"] and m.meter == "3/4"
        assert m.length == 12.0 and m.ended
        assert m.notes["pitch"][-1] % 12 == 2
    with pytest.raises(melodist.Error, match="never seen this meter"):
        model.generate(meter="7/8")
    # the cadence's own temperature, as `generate --cadence-temperature 0 --cadence-bars 2`
    subprocess.run([CLI, "generate", "--model", str(tmp_path / "m"), "--meter", "3/4", "--bars", "4", "--seed", "3", "-t", "1.3",
                    "--cadence-temperature", "0", "--cadence-bars", "2", "--out", str(tmp_path / "cli-cadence.mid")],
                   check=True, capture_output=True)
    cooled = model.generate(meter="3/4", bars=4, seed=3, temperature=1.3, cadence_temperature=0, cadence_bars=2)[0]
    cooled.write(str(tmp_path / "py-cadence.mid"))
    assert (tmp_path / "py-cadence.mid").read_bytes() == (tmp_path / "cli-cadence.mid").read_bytes()
    with pytest.raises(melodist.Error, match="--cadence-temperature needs --bars"):
        model.generate(cadence_temperature=0.3)
    # the rhythm's own temperature, as `generate --rhythm-temperature 1`
    subprocess.run([CLI, "generate", "--model", str(tmp_path / "m"), "--meter", "3/4", "--bars", "4", "--seed", "3", "-t", "0.5",
                    "--rhythm-temperature", "1", "--out", str(tmp_path / "cli-rhythm.mid")], check=True, capture_output=True)
    steady = model.generate(meter="3/4", bars=4, seed=3, temperature=0.5, rhythm_temperature=1)[0]
    steady.write(str(tmp_path / "py-rhythm.mid"))
    assert (tmp_path / "py-rhythm.mid").read_bytes() == (tmp_path / "cli-rhythm.mid").read_bytes()
    assert steady.symbols != model.generate(meter="3/4", bars=4, seed=3, temperature=0.5)[0].symbols


def test_prediction_encodings_as_the_cli(tmp_path):
    """per_note and pitch_only write the CLI's songs; a per-note model scores a song as `melodist score
    --json` does and refuses to compose with the CLI's line."""
    train = os.path.join(os.environ["MELODIST_FIXTURES_DIR"], "meter", "train")
    for name, flags, kwargs in (("n", ["--per-note", "--key-symbol", "--barlines"], dict(per_note=True, key_symbol=True, barlines=True)),
                                ("p", ["--pitch-only"], dict(pitch_only=True))):
        subprocess.run([CLI, "preprocess", train, "--out", str(tmp_path / ("cli-" + name)), "--transpose", "none", *flags],
                       check=True, capture_output=True)
        melodist.preprocess([train], str(tmp_path / name), transpose=False, **kwargs)
        assert (tmp_path / name / "songs.txt").read_bytes() == (tmp_path / ("cli-" + name) / "songs.txt").read_bytes()
    assert " :4 " in (tmp_path / "n" / "songs.txt").read_text() and " | " in (tmp_path / "n" / "songs.txt").read_text()
    assert " _ " not in (tmp_path / "p" / "songs.txt").read_text() and ":" not in (tmp_path / "p" / "songs.txt").read_text()
    subprocess.run([CLI, "train", "--data", str(tmp_path / "n"), "--out", str(tmp_path / "m"), "--hidden", "16", "--epochs", "2",
                    "--batch", "4", "--threads", "1", "--val-every", "3"], check=True, capture_output=True)
    song = os.path.join(train, "Bb-2-4.krn")
    cli = json.loads(subprocess.run([CLI, "score", "--json", "--model", str(tmp_path / "m"), song], check=True,
                                    capture_output=True, text=True).stdout)
    model = melodist.Model.load(str(tmp_path / "m"))
    nats = model.score(melodist.read(song))
    assert nats.shape == (cli["steps"],) and nats.sum() == pytest.approx(cli["total_nats"], rel=1e-12)
    out = subprocess.run([CLI, "generate", "--model", str(tmp_path / "m"), "--out", str(tmp_path / "x.mid")], capture_output=True, text=True)
    with pytest.raises(melodist.Error) as e:
        model.generate(seed=1)
    assert out.returncode == 1 and out.stderr.strip() == "melodist: error: " + str(e.value) and "per-note" in str(e.value)
    assert not (tmp_path / "x.mid").exists()
