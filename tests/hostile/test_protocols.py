"""Protocol files are untrusted: no YAML aliases (a "billion laughs" file), no Python tags, a size limit,
every field type-checked with its key named, names that resolve only to shipped protocols, and files recorded
as the files they are."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from seldkit.protocols import load_protocol
from seldkit.resources import shipped_dir
from tests.hostile.harness import Snapshot, assert_rejected, assert_succeeded, run_seldkit

PREDS = "clip_id,azimuth,elevation,distance,dog,cat\na,10,5,1.0,0.9,0.1\nb,200,-10,2.5,0.2,0.8\n"
REFS = "clip_id,labels,azimuth,elevation,distance\na,dog,12,4,1.2\nb,cat,190,-12,2.0\n"
CLIP = "name: mine\ntask: clip\nmetrics:\n  mode: reference\n"


@pytest.fixture
def workspace(tmp_path) -> Path:
    (tmp_path / "preds.csv").write_text(PREDS)
    (tmp_path / "refs.csv").write_text(REFS)
    (tmp_path / "classes.txt").write_text("dog\ncat\n")
    return tmp_path


def score_with(capsys, workspace: Path, protocol: str | Path, *extra: str):
    return run_seldkit(
        capsys, "score", workspace / "preds.csv", "--ref", workspace / "refs.csv", "--protocol", protocol, *extra
    )


BAD_SCORING_PROTOCOLS = {
    "billion-laughs": (
        "name: x\ntask: clip\nmetrics: {mode: reference}\n"
        + "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)),
        "anchors",
    ),
    "alias": ("name: x\ntask: clip\nmetrics: &m {mode: reference}\nbootstrap: *m\n", "anchors"),
    "python-tag": ("name: !!python/object/apply:os.system [touch MARKER]\ntask: clip\n", "not valid YAML"),
    "syntax-error": ("name: [unclosed\n", "line 2: not valid YAML"),
    "top-level-list": ("- name: x\n- task: clip\n", "a protocol is a YAML mapping"),
    "empty-file": ("", "a protocol is a YAML mapping"),
    "name-not-text": ("name: [a, b]\ntask: clip\n", "name must be text"),
    "task-unknown": ("name: x\ntask: segmentation\n", "unsupported protocol task 'segmentation'"),
    "description-list": (
        "name: x\ntask: clip\ndescription: [a]\nmetrics: {mode: reference}\n",
        "description must be text",
    ),
    "unknown-top-key": (CLIP + "treshold: 3\n", "unknown key 'treshold'"),
    "unknown-metrics-key": (CLIP + "  error_treshold_deg: 30\n", "unknown key 'metrics.error_treshold_deg'"),
    "metrics-a-list": ("name: x\ntask: clip\nmetrics: [reference]\n", "metrics must be a mapping"),
    "mode-unknown": (
        "name: x\ntask: clip\nmetrics: {mode: fuzzy}\n",
        "metrics.mode must be one of continuous, reference",
    ),
    "threshold-nan": (CLIP + "  error_threshold_deg: .nan\n", "metrics.error_threshold_deg must be a finite number"),
    "threshold-inf": (CLIP + "  error_threshold_deg: .inf\n", "metrics.error_threshold_deg must be a finite number"),
    "threshold-boolean": (
        CLIP + "  error_threshold_deg: true\n",
        "metrics.error_threshold_deg must be a number, not a boolean",
    ),
    "threshold-text": (
        CLIP + "  error_threshold_deg: twenty\n",
        "metrics.error_threshold_deg must be a number, not the text",
    ),
    "threshold-negative": (CLIP + "  error_threshold_deg: -5\n", "metrics.error_threshold_deg must be > 0"),
    "threshold-beyond-180": (CLIP + "  error_threshold_deg: 400\n", "metrics.error_threshold_deg must be <= 180"),
    "tolerance-zero": (CLIP + "  distance_tolerance_m: 0\n", "metrics.distance_tolerance_m must be > 0"),
    "level-above-one": (CLIP + "bootstrap: {level: 1.5}\n", "bootstrap.level must be < 1"),
    "level-boolean": (CLIP + "bootstrap: {level: true}\n", "bootstrap.level must be a number, not a boolean"),
    "seed-negative": (CLIP + "bootstrap: {seed: -1}\n", "bootstrap.seed must be >= 0"),
    "seed-fractional": (CLIP + "bootstrap: {seed: 1.5}\n", "bootstrap.seed must be a whole number"),
    "seed-huge": (CLIP + "bootstrap: {seed: 100000000000000000000000}\n", "bootstrap.seed must be <= "),
    "classes-a-list": (CLIP + "classes: [dog, cat]\n", "classes must be a mapping"),
    "classes-file-number": (CLIP + "classes: {file: 3}\n", "classes.file must be text"),
    "classes-file-missing": (CLIP + "classes: {file: nowhere.txt}\n", "class list 'nowhere.txt' not found"),
    "classes-file-a-folder": (CLIP + "classes: {file: .}\n", "class list '.' is not a regular file"),
    "classes-file-a-device": (CLIP + "classes: {file: /dev/zero}\n", "class list '/dev/zero' is not a regular file"),
    "dcase-year-text": ("name: x\ntask: dcase\nyear: '2024'\n", "year must be a whole number, not the text '2024'"),
    "dcase-year-boolean": ("name: x\ntask: dcase\nyear: true\n", "year must be a whole number, not a boolean"),
    "dcase-year-unknown": ("name: x\ntask: dcase\nyear: 2018\n", "year must be one of"),
    "dcase-configuration-unknown": ("name: x\ntask: dcase\nyear: 2024\nconfiguration: best\n", "configuration"),
    "dcase-compat-text": ("name: x\ntask: dcase\nyear: 2024\ncompat: 'yes'\n", "compat must be true or false"),
    "qa-embedder-unknown": (
        "name: x\ntask: qa\nembedder: bert\nclasses: {file: classes.txt, names: n.csv}\n",
        "embedder must be one of",
    ),
    "qa-without-names": ("name: x\ntask: qa\nclasses: {file: classes.txt}\n", "classes.names is missing"),
}


@pytest.mark.parametrize("case", sorted(BAD_SCORING_PROTOCOLS))
def test_bad_scoring_protocol(capsys, workspace, case):
    text, says = BAD_SCORING_PROTOCOLS[case]
    path = workspace / "protocol.yaml"
    path.write_text(text.replace("MARKER", str(workspace / "marker")))
    before = Snapshot(workspace)
    started = time.perf_counter()
    outcome = score_with(capsys, workspace, path, "--json", workspace / "out.json")
    assert time.perf_counter() - started < 10
    assert_rejected(outcome, naming=path, says=says)
    assert not (workspace / "marker").exists()
    before.assert_unchanged()


@pytest.mark.parametrize("kind", ["too-large", "not-utf8", "folder", "device"])
def test_protocol_file_that_cannot_be_one(capsys, workspace, kind):
    path: Path = workspace / "protocol.yaml"
    if kind == "too-large":
        path.write_text(CLIP + "description: >\n" + ("  " + "x" * 1000 + "\n") * 1100)
        says = "larger than 1024 KiB"
    elif kind == "not-utf8":
        path.write_bytes(CLIP.encode() + b"description: caf\xe9\n")
        says = "is not valid UTF-8"
    elif kind == "folder":
        path.mkdir()
        says = "is a folder"
    else:
        path = Path("/dev/zero")
        says = "not a regular file"
    before = Snapshot(workspace)
    outcome = score_with(capsys, workspace, path)
    assert_rejected(outcome, naming=path, says=says)
    before.assert_unchanged()


def test_a_name_with_path_parts_is_a_file_and_recorded_as_that_file(capsys, workspace, monkeypatch):
    """``../../x/evil`` once resolved under the shipped folder and was recorded as shipped; it is a path."""
    (workspace / "x").mkdir()
    (workspace / "x" / "evil").write_text("name: bat-encoder\ntask: clip\nmetrics: {mode: continuous}\n")
    here = workspace / "a" / "b"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    outcome = score_with(capsys, workspace, "../../x/evil", "--json", workspace / "r.json")
    assert_succeeded(outcome)
    recorded = json.loads((workspace / "r.json").read_text())["protocol"]
    assert recorded["source"] == "../../x/evil" and not recorded["source"].startswith("seldkit:")
    assert recorded["hash"] == f"sha256:{load_protocol(workspace / 'x' / 'evil').hash}"
    assert recorded["hash"] != f"sha256:{load_protocol('bat-encoder').hash}"
    # without the file it is a missing file, not an unknown shipped name
    outcome = score_with(capsys, workspace, "../../x/nothing")
    assert_rejected(outcome, naming="../../x/nothing", says="protocol file not found")


def test_a_file_named_like_a_shipped_protocol_does_not_shadow_it(capsys, workspace, monkeypatch):
    (workspace / "clip").write_text("name: clip\ntask: clip\nmetrics: {mode: continuous}\n")
    monkeypatch.chdir(workspace)
    outcome = score_with(capsys, workspace, "clip", "--json", workspace / "r.json")
    assert_succeeded(outcome)
    assert json.loads((workspace / "r.json").read_text())["protocol"]["source"] == "seldkit:protocols/clip.yaml"


@pytest.mark.parametrize("name", ["no-such-protocol", "CLIP", "clip.", "clip.yaml.bak"])
def test_unknown_protocol_names(capsys, workspace, name):
    outcome = score_with(capsys, workspace, name)
    assert_rejected(outcome, naming=repr(name), says="unknown protocol")


def _training_protocol(workspace: Path, change) -> Path:
    """The shipped mini protocol with assets referenced absolutely, changed by ``change(raw)``."""
    import yaml

    raw = load_protocol("synth-binaural-mini").raw
    raw = json.loads(json.dumps(raw))
    assets = shipped_dir("protocols")
    raw["data"]["sounds"] = str(assets / raw["data"]["sounds"])
    for split in raw["data"]["splits"].values():
        split["hrtf"] = str(assets / split["hrtf"])
    change(raw)
    path = workspace / "training.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def _set(path: str, value):
    def change(raw):
        *parents, last = path.split(".")
        target = raw
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value

    return change


def _remove(path: str):
    def change(raw):
        *parents, last = path.split(".")
        target = raw
        for key in parents:
            target = target[key]
        del target[last]

    return change


BAD_TRAINING_PROTOCOLS = {
    "training-typo": (_set("training.batch_sise", 16), "unknown key 'training.batch_sise'"),
    "stage-typo": (_set("training.dspast.stages.0.epoch", 3), "unknown key 'training.dspast.stages[0].epoch'"),
    "stage-epochs-zero": (_set("training.dspast.stages.0.epochs", 0), "training.dspast.stages[0].epochs must be >= 1"),
    "stage-blr-nan": (
        _set("training.dspast.stages.1.blr", float("nan")),
        "training.dspast.stages[1].blr must be a finite number",
    ),
    "stage-loss-weights-two": (
        _set("training.dspast.stages.1.loss_weights", [1, 2]),
        "loss_weights must be a list of 3 numbers",
    ),
    "stage-loss-weights-zero": (_set("training.dspast.stages.1.loss_weights", [0, 0, 0]), "must not all be 0"),
    "stage-sampling-text": (
        _set("training.spatialast.stages.0.weighted_sampling", "yes"),
        "weighted_sampling must be true or false",
    ),
    "stage-mixup-above-one": (_set("training.spatialast.stages.0.mixup", 2), "mixup must be <= 1"),
    "stages-empty": (_set("training.dspast.stages", []), "training.dspast.stages must be a non-empty list"),
    "batch-size-boolean": (
        _set("training.batch_size", True),
        "training.batch_size must be a whole number, not a boolean",
    ),
    "layer-decay-zero": (_set("training.layer_decay", 0), "training.layer_decay must be > 0"),
    "grad-clip-negative": (_set("training.grad_clip", -1), "training.grad_clip must be > 0"),
    "seed-negative": (_set("training.seed", -3), "training.seed must be >= 0"),
    "label-mode-unknown": (_set("training.label_mode", "fuzzy"), "training.label_mode must be one of"),
    "evaluation-protocol-path": (
        _set("training.evaluation_protocol", "../../x/evil"),
        "training.evaluation_protocol must name a shipped clip protocol",
    ),
    "evaluation-protocol-not-clip": (
        _set("training.evaluation_protocol", "dcase2024-task3"),
        "must name a shipped clip protocol",
    ),
    "no-recipe": (_set("training", {"batch_size": 8}), "needs a recipe"),
    "model-size-unknown": (_set("model.size", "huge"), "no model configuration"),
    "model-dim-boolean": (_set("model.dim", True), "model: dim must be a whole number, not a boolean"),
    "model-unknown-key": (_set("model.colour", "blue"), "unknown key 'colour'"),
    "model-heads-not-dividing": (_set("model.heads", 5), "dim (192) must be a multiple of heads (5)"),
    "data-seed-negative": (_set("data.seed", -1), "data.seed must be >= 0"),
    "data-generator-unknown": (_set("data.generator", "magic"), "data.generator must be one of"),
    "data-typo": (_set("data.clip_second", 1.0), "unknown key 'data.clip_second'"),
    "data-clip-seconds-missing": (_remove("data.clip_seconds"), "data.clip_seconds is missing"),
    "data-distance-reversed": (
        _set("data.distance_m", [4.0, 0.5]),
        "data.distance_m must be [low, high] with low <= high",
    ),
    "data-elevation-beyond": (_set("data.elevation_deg", [-100, 50]), "data.elevation_deg[0] must be >= -90"),
    "split-name-path": (
        lambda raw: raw["data"]["splits"].update({"../evil": raw["data"]["splits"].pop("test")}),
        "split name '../evil'",
    ),
    "split-clips-text": (_set("data.splits.train.clips", "many"), "data.splits.train.clips must be a whole number"),
    "split-room-too-small": (
        _set("data.splits.train.room_size", [[0.2, 8.0], [3.0, 7.0], [2.5, 3.5]]),
        "room_size[0] must start at 1 m",
    ),
    "split-room-size-two-axes": (
        _set("data.splits.train.room_size", [[3.0, 8.0], [3.0, 7.0]]),
        "room_size must be a list of 3",
    ),
    "split-hrtf-missing": (_set("data.splits.train.hrtf", "nowhere.sofa"), "HRTF set 'nowhere.sofa' not found"),
    "split-hrtf-device": (_set("data.splits.train.hrtf", "/dev/zero"), "HRTF set '/dev/zero' is not a regular file"),
    "sounds-without-labels": (_set("data.sounds", "."), "sound labels './labels.csv' not found"),
    "procedural-unknown": (_set("data.procedural", ["bells", "kazoo"]), "names an unknown class 'kazoo'"),
    "procedural-twice": (_set("data.procedural", ["bells", "bells"]), "data.procedural names a class twice"),
    "procedural-text": (_set("data.procedural", "all"), "data.procedural must be true, false or a list"),
    "overlap-above-one": (_set("data.overlap", 1.5), "data.overlap must be <= 1"),
    "noise-snr-reversed": (_set("data.noise_snr_db", [30, 5]), "data.noise_snr_db must be [low, high]"),
    "noise-snr-one-number": (_set("data.noise_snr_db", 10), "data.noise_snr_db must be a list of 2"),
}


@pytest.mark.parametrize("case", sorted(BAD_TRAINING_PROTOCOLS))
def test_bad_training_protocol(capsys, workspace, case):
    change, says = BAD_TRAINING_PROTOCOLS[case]
    path = _training_protocol(workspace, change)
    before = Snapshot(workspace)
    outcome = run_seldkit(capsys, "make-dataset", "--protocol", path, "--out", workspace / "data", "--quiet")
    assert_rejected(outcome, naming=path, says=says)
    before.assert_unchanged()


def test_training_protocol_errors_stop_train_reference_before_any_work(capsys, workspace):
    path = _training_protocol(workspace, _set("training.dspast.stages.0.blr", "fast"))
    before = Snapshot(workspace)
    outcome = run_seldkit(
        capsys, "train-reference", "dspast", "--protocol", path, "--out", workspace / "run", "--quiet"
    )
    assert_rejected(outcome, naming=path, says="training.dspast.stages[0].blr must be a number")
    before.assert_unchanged()


def test_shipped_protocols_still_load_and_hash_as_before():
    """Stricter checking changes no number: the shipped protocols' hashes are those recorded in the README and
    the reference runs."""
    expected = {
        "bat-encoder": "de69b928a644",
        "bat-encoder-continuous": "9919c0a9a3ba",
        "clip": "93b5b01ff5b8",
        "synth-binaural-mini": "8b8c973b87f9",  # validation split, overlaps, backgrounds, one curriculum
        "dcase2024-task3": "3cae90a640ee",
        "spatialsoundqa": "b6d4b3be23de",
    }
    for name, short in expected.items():
        assert load_protocol(name).short_hash == short, name
