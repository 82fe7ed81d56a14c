"""``seldkit score PREDS`` without ``--ref``: the references of a training protocol's data set, found through the
predictions' sidecar (``PREDS.seldkit.json``) or ``--protocol``. The same numbers as the run's own scores; a data
set that is not built, damaged or of other data, a malformed or stale sidecar, and options that do not go
together are each exit 2 and one line, with nothing of the user's changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from seldkit.cli.format_common import number
from seldkit.io.sidecar import sidecar_path
from seldkit.metrics.metadata import CLIP_METRICS, metric_info
from seldkit.results import file_digest
from tests.hostile.harness import Snapshot, assert_rejected, assert_succeeded, run_seldkit


@pytest.fixture
def workspace(tmp_path, finished_run) -> Path:
    """The run's test predictions with their sidecar, and a results file the user keeps."""
    shutil.copy(finished_run / "predictions.csv", tmp_path / "preds.csv")
    sidecar = json.loads(sidecar_path(finished_run / "predictions.csv").read_text())
    sidecar["predictions"]["file"] = "preds.csv"
    sidecar_path(tmp_path / "preds.csv").write_text(json.dumps(sidecar))
    (tmp_path / "kept.json").write_text('{"the user": "keeps this"}\n')
    return tmp_path


def edit_sidecar(workspace: Path, change) -> Path:
    """Apply ``change`` to the parsed sidecar of preds.csv and write it back; returns its path."""
    path = sidecar_path(workspace / "preds.csv")
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    return path


def table_rows(metrics: dict) -> list[str]:
    """The rows ``seldkit score`` prints for these metric values."""
    rows = []
    for key in CLIP_METRICS:
        info = metric_info(key)
        rows.append(f"  {info.label:<8}{number(metrics[key], info.scale):>8} {info.symbol()}")
    return rows


def test_predict_then_score_without_ref_gives_the_runs_scores(capsys, tmp_path, finished_run, tiny_dataset):
    preds, out_json = tmp_path / "preds.csv", tmp_path / "scores.json"
    predicted = run_seldkit(
        capsys, "predict", "--checkpoint", finished_run / "checkpoint.pt", "--data", tiny_dataset, "--out", preds
    )
    assert_succeeded(predicted)
    sidecar = json.loads(sidecar_path(preds).read_text())
    run_record = json.loads((finished_run / "run.json").read_text())
    assert sidecar["training_protocol"] == run_record["protocol"] and sidecar["split"] == "test"
    assert sidecar["data"] == {
        "fingerprint": json.loads((tiny_dataset / "dataset.json").read_text())["fingerprint"],
        "folder": str(tiny_dataset.absolute()),
    }
    assert sidecar["evaluation_protocol"] == "bat-encoder-continuous"
    assert sidecar["predictions"] == {"file": "preds.csv", "sha256": file_digest(preds)}
    assert "#" not in preds.read_text() and preds.read_bytes() == (finished_run / "predictions.csv").read_bytes()

    scored = run_seldkit(capsys, "score", preds, "--json", out_json)
    assert_succeeded(scored)
    results = json.loads((finished_run / "results.json").read_text())
    for row in table_rows(results["metrics"]):
        assert row in scored.out.splitlines(), (row, scored.out)
    assert f"references: split test of the tiny-training data set in {tiny_dataset}" in scored.out
    document = json.loads(out_json.read_text())
    assert document["metrics"] == results["metrics"] and document["protocol"] == results["protocol"]
    dataset = document["dataset"]
    assert dataset["training_protocol"] == run_record["protocol"] and dataset["name"] == "tiny-training"
    assert dataset["fingerprint"] == sidecar["data"]["fingerprint"] and dataset["split"] == "test"
    assert dataset["checksums_sha256"] == file_digest(tiny_dataset / "checksums.json")
    assert dataset["folder"] == str(tiny_dataset) and dataset["n_clips"] == results["n"]
    # the references built are byte for byte the run's references.csv
    assert document["inputs"]["references"]["digest"] == file_digest(finished_run / "references.csv")

    # the run's own predictions carry a sidecar too
    again = run_seldkit(capsys, "score", finished_run / "predictions.csv")
    assert_succeeded(again)
    assert again.out == scored.out


def test_no_built_data_set_says_how_to_build_it(capsys, workspace, tiny_protocol, monkeypatch):
    monkeypatch.setenv("SELDKIT_CACHE", str(workspace / "empty-cache"))
    edit_sidecar(workspace, lambda document: document["data"].update(folder=str(workspace / "gone")))
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--json", workspace / "kept.json")
    assert_rejected(
        outcome,
        naming=workspace / "empty-cache" / "datasets",
        says=("is not built", f"seldkit make-dataset --protocol {tiny_protocol}"),
    )
    assert "--out" not in outcome.error_line
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--data", workspace / "mine")
    assert_rejected(outcome, naming=workspace / "mine", says=f"--protocol {tiny_protocol} --out {workspace / 'mine'}")
    before.assert_unchanged()


def test_a_damaged_copy_is_refused(capsys, workspace, tiny_dataset, tiny_protocol):
    data = workspace / "data"
    shutil.copytree(tiny_dataset, data)
    audio = next((data / "audio" / "test").glob("*.flac"))
    audio.write_bytes(audio.read_bytes()[:-1] + b"\x00")
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--data", data, "--json", workspace / "kept.json")
    assert_rejected(
        outcome,
        naming=data,
        says=(
            "fails verification",
            f"{audio.relative_to(data)}: differs from its checksum",
            f"rebuild it with: seldkit make-dataset --protocol {tiny_protocol} --out {data}",
        ),
    )
    before.assert_unchanged()


def test_a_copy_of_other_data_is_refused(capsys, workspace, tiny_dataset):
    data = workspace / "data"
    shutil.copytree(tiny_dataset, data)
    info = json.loads((data / "dataset.json").read_text())
    info["fingerprint"] = "0" * 64
    (data / "dataset.json").write_text(json.dumps(info))
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--data", data)
    assert_rejected(outcome, naming=data, says=("holds another data set (fingerprint 000000000000", "make-dataset"))


def test_a_sidecar_of_other_data_is_refused(capsys, workspace, tiny_dataset):
    """The sidecar's fingerprint is not the data set's: both are named."""
    path = edit_sidecar(workspace, lambda document: document["data"].update(fingerprint="ab" * 32))
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv")
    assert_rejected(outcome, naming=(path, tiny_dataset), says=("data.fingerprint abababababab", "is not that of"))


def _set(*keys: str, value: object):
    def change(document: dict) -> None:
        for key in keys[:-1]:
            document = document[key]
        document[keys[-1]] = value

    return change


MALFORMED = {
    "not JSON": (None, "not valid JSON"),
    "a list": (lambda document: document.clear(), "format is missing"),
    "another format": (_set("format", value="csv"), "format must be one of seldkit-predictions"),
    "a newer version": (_set("version", value=2), "version is 2"),
    "version as text": (_set("version", value="1"), "version must be a whole number"),
    "split a number": (_set("split", value=5), "split must be text"),
    "split a path": (_set("split", value="../x"), "split must be a split name"),
    "an unknown key": (_set("extra", value=1), "unknown key 'extra'"),
    "fingerprint not hex": (_set("data", "fingerprint", value="xyz"), "data.fingerprint must be 64 hex digits"),
    "folder a number": (_set("data", "folder", value=3), "data.folder must be text"),
    "a clip protocol": (_set("training_protocol", "task", value="clip"), "training_protocol.task must be 'train'"),
    "a bad hash": (_set("training_protocol", "hash", value="md5:1"), "training_protocol.hash must be sha256"),
    "protocol hash changed": (_set("training_protocol", "hash", value="sha256:" + "1" * 64), "differs from the one"),
    "evaluation protocol of another recipe": (
        _set("evaluation_protocol", value="bat-encoder"),
        "evaluation_protocol 'bat-encoder' is not one that training protocol 'tiny-training' scores under",
    ),
    "evaluation protocol a path": (_set("evaluation_protocol", value="/etc/x.yaml"), "evaluation_protocol must name"),
    "no training protocol": (_set("training_protocol", value=None), "records no training protocol: give --ref REF"),
    "stale: the CSV changed": (
        _set("predictions", "sha256", value="sha256:" + "0" * 64),
        "predictions.sha256 is not that of preds.csv",
    ),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_a_malformed_sidecar_is_named_with_its_field(capsys, workspace, kind):
    change, says = MALFORMED[kind]
    path = sidecar_path(workspace / "preds.csv")
    if change is None:
        path.write_text('{"format": "seldkit-predictions",')
    elif kind == "a list":
        path.write_text("[]")
        says = "the document must be a mapping"
    else:
        edit_sidecar(workspace, change)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--json", workspace / "kept.json")
    assert_rejected(outcome, naming=path, says=says)
    before.assert_unchanged()


def test_options_that_do_not_go_together(capsys, workspace, finished_run):
    preds, refs = workspace / "preds.csv", finished_run / "references.csv"
    for option, value in (("--data", workspace), ("--split", "test")):
        outcome = run_seldkit(capsys, "score", preds, "--ref", refs, option, value)
        assert_rejected(outcome, naming=option, says="give --ref REF or")
    outcome = run_seldkit(capsys, "score", preds, "--ci", "jackknife")
    assert_rejected(outcome, naming="--ci jackknife", says="bootstrap")
    outcome = run_seldkit(capsys, "score", workspace, "--protocol", "synth-binaural-mini")
    assert_rejected(outcome, naming=workspace, says="is a folder")


def test_without_a_training_protocol(capsys, workspace):
    plain = workspace / "plain.csv"
    shutil.copy(workspace / "preds.csv", plain)  # no sidecar
    outcome = run_seldkit(capsys, "score", plain)
    says = ("give --ref REF", "--protocol NAME of a training")
    assert_rejected(outcome, naming="plain.csv has no sidecar", says=says)
    outcome = run_seldkit(capsys, "score", plain, "--protocol", "bat-encoder")
    assert_rejected(outcome, naming="'bat-encoder' is a clip protocol", says="give --ref REF")
    outcome = run_seldkit(capsys, "score", plain, "--protocol", "spatialsoundqa-train")
    assert_rejected(outcome, naming="spatialsoundqa-train", says=("published data in place", "give --ref REF"))


def test_ref_works_as_before(capsys, workspace, finished_run):
    """With --ref the sidecar is not read (even a broken one) and nothing is printed about a data set."""
    sidecar_path(workspace / "preds.csv").write_text("not json")
    refs, out_json = finished_run / "references.csv", workspace / "r.json"
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--ref", refs, "--json", out_json)
    assert_succeeded(outcome)
    assert "references:" not in outcome.out and "protocol clip (reference mode" in outcome.out
    document = json.loads(out_json.read_text())
    assert "dataset" not in document and document["inputs"]["references"]["path"] == str(refs)


def test_wrong_split_and_missing_clips_are_caught_by_the_clip_scorer(capsys, workspace, tiny_protocol):
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--split", "validation")
    assert_rejected(outcome, naming="the validation references of", says="clip 'validation_00000' has no row in")
    outcome = run_seldkit(capsys, "score", workspace / "preds.csv", "--split", "dev")
    assert_rejected(outcome, naming="no split 'dev'", says="it has: test, train, validation")
    header, *rows = (workspace / "preds.csv").read_text().splitlines()
    fewer = workspace / "fewer.csv"
    fewer.write_text("\n".join([header, *rows[1:]]) + "\n")  # written by hand: no sidecar
    outcome = run_seldkit(capsys, "score", fewer, "--protocol", tiny_protocol)
    assert_rejected(outcome, naming="column 'clip_id'", says="clip 'test_00000' has no row in")
    extra = workspace / "extra.csv"
    extra.write_text("\n".join([header, *rows, rows[0].replace("test_00000", "test_99999", 1)]) + "\n")
    outcome = run_seldkit(capsys, "score", extra, "--protocol", tiny_protocol)
    assert_rejected(outcome, naming=extra, says="clip 'test_99999' has no row in the test references")


def test_a_checkpoint_without_provenance_still_predicts(capsys, tmp_path, finished_run, tiny_dataset, tiny_protocol):
    """A checkpoint written before checkpoints recorded their protocol: predict falls back to dataset.json (whose
    fingerprint is no shipped protocol's here), and score then needs --protocol."""
    state = torch.load(finished_run / "checkpoint.pt", map_location="cpu", weights_only=True)
    del state["provenance"]
    torch.save(state, tmp_path / "old.pt")
    preds = tmp_path / "preds.csv"
    predicted = run_seldkit(
        capsys, "predict", "--checkpoint", tmp_path / "old.pt", "--data", tiny_dataset, "--out", preds
    )
    assert_succeeded(predicted)
    sidecar = json.loads(sidecar_path(preds).read_text())
    assert sidecar["training_protocol"] is None and sidecar["evaluation_protocol"] is None
    assert sidecar["data"]["fingerprint"] == json.loads((tiny_dataset / "dataset.json").read_text())["fingerprint"]
    assert_rejected(run_seldkit(capsys, "score", preds), naming=sidecar_path(preds), says="records no training")
    scored = run_seldkit(capsys, "score", preds, "--protocol", tiny_protocol)
    assert_succeeded(scored)
    results = json.loads((finished_run / "results.json").read_text())
    assert all(row in scored.out.splitlines() for row in table_rows(results["metrics"]))


def test_dataset_json_names_a_shipped_protocol(tmp_path):
    """Without the checkpoint's record, the shipped training protocol with the data set's fingerprint is found."""
    from seldkit.data.build import data_fingerprint
    from seldkit.protocols import load_protocol
    from seldkit.train.outputs import predictions_sidecar

    mini = load_protocol("synth-binaural-mini")
    sidecar = predictions_sidecar(None, {"fingerprint": data_fingerprint(mini)}, tmp_path, "validation")
    assert sidecar.training_protocol == mini.summary() and sidecar.evaluation_protocol == "bat-encoder-continuous"
    assert sidecar.split == "validation" and sidecar.data_folder == str(tmp_path)
    unknown = predictions_sidecar(None, {"fingerprint": "0" * 64}, tmp_path, "test")
    assert unknown.training_protocol is None and unknown.data_fingerprint == "0" * 64
