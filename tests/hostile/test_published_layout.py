"""train-reference and make-dataset on a user's copy of the published data: a missing or damaged index,
weights file or manifest, a bad --set, or a copy with nothing in it is one line naming the file (and the record
or line), before anything is written; a corrupt audio file met in training names that file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.data.test_published_layout import FIXTURE, PROTOCOL, set_options, settings
from tests.hostile.harness import Snapshot, assert_rejected, run_seldkit


@pytest.fixture
def copy(tmp_path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(FIXTURE, root)
    return root


def train(capsys, values: dict[str, str], out: Path, *extra: str):
    return run_seldkit(
        capsys,
        "train-reference",
        "dspast",
        "--protocol",
        PROTOCOL,
        *set_options(values),
        "--out",
        out,
        "--quiet",
        "--device",
        "cpu",
        *extra,
    )


def rejected_before_any_output(capsys, tmp_path: Path, values: dict[str, str], *, naming, says=()) -> None:
    """train-reference and make-dataset both refuse, with one line, and write nothing."""
    snapshot = Snapshot(tmp_path)
    assert_rejected(train(capsys, values, tmp_path / "run"), naming=naming, says=says)
    assert_rejected(
        run_seldkit(capsys, "make-dataset", "--protocol", PROTOCOL, *set_options(values), "--quiet"),
        naming=naming,
        says=says,
    )
    snapshot.assert_unchanged()


def test_missing_index_file(capsys, tmp_path, copy):
    (copy / "AudioSet" / "metadata" / "eval.json").unlink()
    rejected_before_any_output(
        capsys, tmp_path, settings(copy), naming=copy / "AudioSet" / "metadata" / "eval.json", says="not found"
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('[{"id": "Ytrain000000", "folder": "balanced_train/audio", "label": ["/m/09x0r"]', "not valid JSON"),
        ('{"records": []}', "a list of records"),
        ('[{"id": "Ytrain000000", "folder": "balanced_train/audio"}]', "record 1 needs 'id' and 'label'"),
        ('[{"id": "Ytrain000000", "label": ["/m/notaclass"]}]', "record 1: the label '/m/notaclass'"),
        ('[{"id": "a", "label": []}, {"id": "a", "label": []}]', "record 2: the id 'a' occurs twice"),
    ],
)
def test_malformed_audio_index(capsys, tmp_path, copy, text, says):
    index = copy / "AudioSet" / "metadata" / "balanced.json"
    index.write_text(text)
    values = settings(copy)
    del values["weights"]  # the weights would not match the records
    rejected_before_any_output(capsys, tmp_path, values, naming=index, says=says)


def test_malformed_reverb_index(capsys, tmp_path, copy):
    index = copy / "mp3d_reverb" / "eval_reverberation.json"
    index.write_text(json.dumps({"data": [{"fname": "a.npy", "sensor_position": "1,2", "source_position": "0,0,0"}]}))
    rejected_before_any_output(capsys, tmp_path, settings(copy), naming=index, says="record 1")


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        (["1.0"] * 7, "holds 7 weights; the audio index"),
        (["1.0"] * 9, "holds 9 weights"),
        (["1.0", "1.0", "heavy", "1.0", "1.0", "1.0", "1.0", "1.0"], "line 3: 'heavy' is not a number"),
        (["1.0", "1.0", "1.0", "-2", "1.0", "1.0", "1.0", "1.0"], "line 4: a weight is a finite number >= 0"),
        (["1.0", "nan", "1.0", "1.0", "1.0", "1.0", "1.0", "1.0"], "line 2"),
        (["1.0,2.0"] + ["1.0"] * 7, "line 1"),
    ],
)
def test_bad_weights_file(capsys, tmp_path, copy, lines, says):
    weights = copy / "AudioSet" / "metadata" / "weights" / "balanced_weight.csv"
    weights.write_text("\n".join(lines) + "\n")
    rejected_before_any_output(capsys, tmp_path, settings(copy), naming=weights, says=says)


def test_missing_weights_file(capsys, tmp_path, copy):
    missing = copy / "weights.csv"
    rejected_before_any_output(capsys, tmp_path, settings(copy, weights=str(missing)), naming=missing, says="not found")


def test_bad_manifest(capsys, tmp_path, copy):
    manifest = copy / "manifest.json"
    manifest.write_text(json.dumps({"pairs": [{"audio": "Yeval0000000", "reverb": "17DRP5sb8fy/0.npy"}]}))
    rejected_before_any_output(
        capsys,
        tmp_path,
        settings(copy, manifest=str(manifest)),
        naming=manifest,
        says="pairs[0]: the impulse response '17DRP5sb8fy/0.npy' is not in the evaluation reverb index",
    )


def test_a_copy_without_any_audio_file_names_the_index(capsys, tmp_path, copy):
    shutil.rmtree(copy / "AudioSet" / "eval")
    rejected_before_any_output(
        capsys,
        tmp_path,
        settings(copy),
        naming=copy / "AudioSet" / "metadata" / "eval.json",
        says="none of the 4 audio files of this index exist",
    )


def test_bad_set_options(capsys, tmp_path, copy):
    values = settings(copy)
    del values["eval_reverb_index"]
    rejected_before_any_output(capsys, tmp_path, values, naming="--set eval_reverb_index=PATH", says="give the paths")
    rejected_before_any_output(
        capsys, tmp_path, settings(copy, audio_dir="x"), naming="'audio_dir'", says="unknown --set key"
    )
    rejected_before_any_output(
        capsys, tmp_path, settings(copy, audio_root=str(copy / "nowhere")), naming=copy / "nowhere", says="not found"
    )
    snapshot = Snapshot(tmp_path)
    outcome = run_seldkit(
        capsys, "train-reference", "dspast", "--protocol", PROTOCOL, "--set", "audio_index", "--out", tmp_path / "run"
    )
    assert_rejected(outcome, naming="'audio_index'", says="--set takes KEY=VALUE")
    snapshot.assert_unchanged()


def test_a_corrupt_audio_file_met_in_training_is_named(capsys, tmp_path, copy):
    victim = copy / "AudioSet" / "balanced_train" / "audio" / "Ytrain000003.wav"
    victim.write_bytes(b"RIFF not really a wave file")
    out = tmp_path / "run"
    assert_rejected(train(capsys, settings(copy), out), naming=victim, says="cannot read this file of the data set")
    assert not (out / "results.json").exists()


def test_an_unfinished_run_continues_only_on_the_same_subset(capsys, tmp_path, copy):
    out = tmp_path / "run"
    assert train(capsys, settings(copy), out).code == 0
    (out / "results.json").unlink()  # an unfinished run with its checkpoint
    (copy / "AudioSet" / "balanced_train" / "audio" / "Ytrain000005.wav").unlink()
    snapshot = Snapshot(out)
    outcome = train(capsys, settings(copy), out)
    assert_rejected(outcome, naming=out / "run.json", says="another copy or subset of the data (its train record")
    snapshot.assert_unchanged()
