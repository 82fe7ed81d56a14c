"""Training on a (partial) copy of the published SpatialAST / DSpAST data: the loader's facts checked against
their definitions, the published pairing and augmentation, the fixed evaluation pairs, and whole runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile
from scipy.signal import resample_poly

from seldkit.cli.main import main
from seldkit.data.audio import load_source, normalize_loudness
from seldkit.data.build import read_published
from seldkit.data.layout import BinauralDataset, read_audio_index
from seldkit.protocols import load_protocol
from tests.golden import REPO

FIXTURE = REPO / "tests" / "fixtures" / "published_layout"
PROTOCOL = FIXTURE / "protocol.yaml"
TARGET_RMS = 10 ** (-14 / 20)  # 0.19952623149688797


def settings(root: Path = FIXTURE, **extra: str) -> dict[str, str]:
    """The --set values of a copy of the fixture at ``root``."""
    values = {
        "audio_index": str(root / "AudioSet" / "metadata" / "balanced.json"),
        "eval_audio_index": str(root / "AudioSet" / "metadata" / "eval.json"),
        "audio_root": str(root / "AudioSet"),
        "reverb_index": str(root / "mp3d_reverb" / "train_reverberation.json"),
        "eval_reverb_index": str(root / "mp3d_reverb" / "eval_reverberation.json"),
        "reverb_root": str(root / "mp3d_reverb"),
        "weights": str(root / "AudioSet" / "metadata" / "weights" / "balanced_weight.csv"),
    }
    values.update(extra)
    return values


def set_options(values: dict[str, str]) -> list[str]:
    return [item for key, value in values.items() for item in ("--set", f"{key}={value}")]


def copy_fixture(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(FIXTURE, root)
    return root


def data_section() -> dict:
    return dict(load_protocol(PROTOCOL).train.data)


def split_sets(values: dict[str, str] | None = None, *, seed: int = 0) -> tuple[BinauralDataset, BinauralDataset]:
    index = read_published(data_section(), values or settings()).index
    common = dict(clip_samples=index.info["clip_samples"], rir_samples=index.info["rir_samples"], cache=True)
    return (
        BinauralDataset(index, "train", augment=True, seed=seed, **common),
        BinauralDataset(index, "test", seed=seed, **common),
    )


# -- reading a source file, against the definitions ---------------------------------------------------------
def published_source(path: Path, length: int) -> np.ndarray:
    """The published steps, written out from their definitions: channel 0, resample_poly(x, 32000, sr) when sr
    differs, one gain 10 ** ((-14 - 20 log10 rms) / 20) over the whole file in float64, float32, pad/cut."""
    signal, rate = soundfile.read(str(path))
    signal = signal[:, 0] if signal.ndim > 1 else signal
    signal = resample_poly(signal, 32000, rate) if rate != 32000 else signal
    rms = np.sqrt(np.mean(signal**2))
    if rms != 0:
        signal = signal * 10 ** ((-14.0 - 20 * np.log10(rms)) / 20)
    signal = signal.astype(np.float32)
    return np.pad(signal, (0, max(0, length - signal.size)))[:length]


@pytest.mark.parametrize(
    "name",
    ["Ytrain000000", "Ytrain000001", "Ytrain000002", "Ytrain000003", "Ytrain000007"],
)
def test_sources_are_read_as_the_published_loader_reads_them(name):
    path = FIXTURE / "AudioSet" / "balanced_train" / "audio" / f"{name}.wav"
    got = load_source(path, length=16000)
    assert got.dtype == np.float32 and got.shape == (16000,)
    np.testing.assert_array_equal(got, published_source(path, 16000))


def test_channel_zero_resampling_and_loudness_before_padding():
    audio = FIXTURE / "AudioSet" / "balanced_train" / "audio"
    # stereo file: channel 0 only (channel 1 is other noise, a down-mix would differ)
    stereo, rate = soundfile.read(str(audio / "Ytrain000002.wav"))
    assert stereo.ndim == 2 and rate == 32000
    left = normalize_loudness(stereo[:, 0]).astype(np.float32)
    np.testing.assert_array_equal(load_source(audio / "Ytrain000002.wav", length=left.size), left)
    mix = normalize_loudness(stereo.mean(axis=1)).astype(np.float32)
    assert not np.allclose(load_source(audio / "Ytrain000002.wav", length=left.size), mix)
    # 16 kHz file of 0.4 s: 12,800 samples at 32 kHz, at -14 dBFS over the whole file, then zero-padded
    signal, rate = soundfile.read(str(audio / "Ytrain000000.wav"))
    assert rate == 16000
    source = load_source(audio / "Ytrain000000.wav", length=16000)
    assert np.count_nonzero(source[12800:]) == 0 and np.count_nonzero(source[:12800]) > 12000
    np.testing.assert_array_equal(source[:12800], resample_and_normalise(signal, rate))
    assert np.sqrt(np.mean(source[:12800].astype(np.float64) ** 2)) == pytest.approx(TARGET_RMS, abs=1e-7)
    assert np.sqrt(np.mean(source.astype(np.float64) ** 2)) < 0.19  # padding lowers the RMS afterwards
    # normalisation in float64, exactly 10^(-14/20); an all-zero file is unchanged
    normalised = normalize_loudness(np.random.default_rng(0).standard_normal(1000))
    assert float(np.sqrt(np.mean(normalised**2))) == pytest.approx(0.19952623149688792, rel=1e-12)
    silent = np.zeros(100)
    assert normalize_loudness(silent) is silent
    assert not load_source(audio / "Ytrain000007.wav", length=16000).any()
    # a longer file (0.6 s) is normalised over all of it, then cut: the kept 0.5 s is not exactly at -14 dBFS
    long, _ = soundfile.read(str(audio / "Ytrain000001.wav"))
    assert long.size == 19200
    np.testing.assert_array_equal(load_source(audio / "Ytrain000001.wav", length=16000), normalise(long)[:16000])


def resample_and_normalise(signal: np.ndarray, rate: int) -> np.ndarray:
    return normalise(resample_poly(signal, 32000, rate))


def normalise(signal: np.ndarray) -> np.ndarray:
    rms = np.sqrt(np.mean(signal**2))
    return (signal * 10 ** ((-14.0 - 20 * np.log10(rms)) / 20)).astype(np.float32)


def test_impulse_responses_are_float32_padded_or_cut():
    train, _ = split_sets()
    for fname in train.pool or ():
        raw = np.load(train.index.reverbs[fname].path)
        got = train._reverb(fname)
        assert got.dtype == np.float32 and got.shape == (2, 3200)
        kept = min(raw.shape[1], 3200)
        np.testing.assert_array_equal(got[:, :kept], raw[:, :kept].astype(np.float32))
        assert not got[:, kept:].any()


# -- augmentation and pairing -------------------------------------------------------------------------------
class ScriptedRng:
    """Stands in for the dataset's generator: returns scripted draws and records which were asked for."""

    def __init__(self, **draws: list) -> None:
        self.draws = {name: list(values) for name, values in draws.items()}
        self.calls: list[str] = []

    def _next(self, name: str):
        self.calls.append(name)
        return self.draws[name].pop(0)

    def integers(self, high: int) -> int:
        value = self._next("integers")
        assert 0 <= value < high
        return value

    def beta(self, a: float, b: float) -> float:
        assert (a, b) == (10.0, 10.0)
        return self._next("beta")

    def random(self) -> float:
        return self._next("random")


def test_gain_has_the_published_distribution_and_nothing_rolls():
    train, _ = split_sets()
    train.mixup_probability = 0.0
    position = next(i for i, pair in enumerate(train.pairs) if pair.audio == "Ytrain000001")
    plain = train._waveform("Ytrain000001")
    gains = []
    for _ in range(3000):
        waveform = train[position]["waveform"][0].numpy()
        gain = float(np.dot(waveform, plain) / np.dot(plain, plain))
        # the waveform is the source times one gain, sample by sample: no shift (the published "roll" is a no-op)
        np.testing.assert_allclose(waveform, plain * np.float32(gain), rtol=1e-6, atol=1e-8)
        gains.append(gain)
    gains = np.array(gains)
    assert 0.5 < gains.min() and gains.max() < 1.5
    assert gains.mean() == pytest.approx(1.0, abs=0.01)
    assert gains.std() == pytest.approx(1 / np.sqrt(84), rel=0.08)  # Beta(10, 10) + 0.5


@pytest.mark.parametrize(
    ("first", "partner", "expected"),
    [
        # labels: Ytrain000002 /m/09x0r + /m/02zsn, Ytrain000003 /m/02zsn: the shared label adds up to 1.0
        ("Ytrain000002", "Ytrain000003", {"/m/09x0r": "lambda", "/m/02zsn": 1.0}),
        ("Ytrain000001", "Ytrain000004", {"/m/05zppz": 1.0, "/m/0ytgt": "1-lambda"}),
        ("Ytrain000000", "Ytrain000006", {"/m/09x0r": "lambda", "/m/05zppz": "1-lambda", "/m/02zsn": "1-lambda"}),
    ],
)
def test_mixup_mixes_waveforms_and_labels_before_rendering(first, partner, expected):
    train, _ = split_sets()
    train.mixup_probability = 0.5
    positions = {pair.audio: i for i, pair in enumerate(train.pairs)}
    gain_1, gain_2, weight = 0.83, 1.21, 0.37
    train.rng = ScriptedRng(  # type: ignore[assignment]
        integers=[2, positions[partner]], beta=[gain_1 - 0.5, gain_2 - 0.5, weight], random=[0.49]
    )
    item = train[positions[first]]
    x1, x2 = train._waveform(first), train._waveform(partner)
    mixed = weight * (x1 * np.float32(gain_1)) + (1 - weight) * (x2 * np.float32(gain_2))
    np.testing.assert_allclose(item["waveform"][0].numpy(), mixed, rtol=1e-6, atol=1e-7)
    values = {"lambda": np.float32(weight), "1-lambda": np.float32(1 - weight)}
    sed = item["sed"].numpy()
    for class_id, value in expected.items():
        got = sed[train.class_index[class_id]]
        assert got == (values[value] if isinstance(value, str) else np.float32(value)), class_id
    assert np.count_nonzero(sed) == len(expected)
    # one response for the mixture, and its targets: the pool's third response (drawn first)
    fname = train.pool[2]  # type: ignore[index]
    np.testing.assert_array_equal(item["reverb"].numpy(), train._reverb(fname))
    assert (item["distance"], item["azimuth"], item["elevation"]) == tuple(
        int(getattr(train.targets, name)[2]) for name in ("distance", "azimuth", "elevation")
    )


def test_unmixed_examples_have_hard_labels_and_evaluation_never_augments():
    train, test = split_sets()
    positions = {pair.audio: i for i, pair in enumerate(train.pairs)}
    train.rng = ScriptedRng(integers=[0], beta=[0.5], random=[0.51])  # type: ignore[assignment]
    item = train[positions["Ytrain000002"]]
    assert sorted(item["sed"].numpy()[item["sed"].numpy() > 0].tolist()) == [1.0, 1.0]
    first = [test[i] for i in range(len(test))]
    again = [test[i] for i in range(len(test))]
    for one, two in zip(first, again):
        for key in ("waveform", "reverb", "sed"):
            assert np.array_equal(one[key].numpy(), two[key].numpy())
    for i, item in enumerate(first):
        source = test._waveform(test.pairs[i].audio)
        np.testing.assert_array_equal(item["waveform"][0].numpy(), source)  # no gain, no mix-up


def test_training_pairs_each_fetch_with_a_random_response_evaluation_pairs_are_fixed():
    train, test = split_sets(seed=1)
    train.mixup_probability = 0.0
    azimuths = {train[0]["azimuth"] for _ in range(60)}
    assert len(azimuths) >= 3  # the fixture's four training responses point four ways
    _, other_test = split_sets(seed=99)
    assert [(pair.audio, pair.reverb) for pair in test.pairs] == [
        (pair.audio, pair.reverb) for pair in other_test.pairs
    ]
    for i in range(len(test)):
        one, two = test[i], other_test[i]
        assert (one["distance"], one["azimuth"], one["elevation"]) == (
            two["distance"],
            two["azimuth"],
            two["elevation"],
        )
        assert np.array_equal(one["reverb"].numpy(), two["reverb"].numpy())


def test_channel_swap_mirrors_left_and_right_in_the_published_convention():
    train, _ = split_sets()
    train.mixup_probability = 0.0
    train.channel_swap_probability = 1.0
    pool = list(train.pool or ())
    # (dx, dz) = (1.5, 0): right, azimuth 0 -> left, 180; (0, -1.5): front, 90 -> stays 90
    for fname, before, after in (("17DRP5sb8fy/0.npy", 0, 180), ("17DRP5sb8fy/1.npy", 90, 90)):
        slot = pool.index(fname)
        assert int(train.targets.azimuth[slot]) == before
        train.rng = ScriptedRng(integers=[slot], beta=[0.5], random=[0.9, 0.1])  # type: ignore[assignment]
        item = train[0]
        assert item["azimuth"] == after and item["elevation"] == int(train.targets.elevation[slot])
        np.testing.assert_array_equal(item["reverb"].numpy(), train._reverb(fname)[::-1])


def test_weights_follow_the_audio_index_and_the_published_path_rules(tmp_path):
    train, _ = split_sets()
    csv = np.loadtxt(FIXTURE / "AudioSet" / "metadata" / "weights" / "balanced_weight.csv", delimiter=",")
    assert train.weights.tolist() == csv.tolist()
    assert [pair.audio for pair in train.pairs] == [f"Ytrain00000{i}" for i in range(8)]
    # DSpAST's rule for folders of three or more parts: <root>/<first part>/audio/<id>.wav
    index_path = tmp_path / "index.json"
    index_path.write_text(json.dumps([{"id": "Ytrain000000", "folder": "balanced_train/h5/part00", "label": []}]))
    record = read_audio_index(index_path, audio_root=FIXTURE / "AudioSet")["Ytrain000000"]
    assert record.path == FIXTURE / "AudioSet" / "balanced_train" / "h5" / "part00" / "Ytrain000000.wav"
    assert record.fallback == FIXTURE / "AudioSet" / "balanced_train" / "audio" / "Ytrain000000.wav"


def test_a_given_manifest_fixes_the_evaluation_pairs(tmp_path):
    manifest = tmp_path / "manifest.json"
    pairs = [
        {"audio": "Yeval0000002", "reverb": "2azQ1b91cZZ/0.npy"},
        {"audio": "Yeval0000000", "reverb": "2azQ1b91cZZ/0.npy"},
    ]
    manifest.write_text(json.dumps({"pairs": pairs}))
    copy = read_published(data_section(), settings(manifest=str(manifest)))
    assert [(pair.audio, pair.reverb) for pair in copy.index.split("test")] == [
        ("Yeval0000002", "2azQ1b91cZZ/0.npy"),
        ("Yeval0000000", "2azQ1b91cZZ/0.npy"),
    ]
    assert not copy.derived and copy.subset()["test"]["manifest"] == "given"
    derived = read_published(data_section(), settings()).manifest
    assert derived == read_published(data_section(), settings(eval_seed="0")).manifest
    assert derived != read_published(data_section(), settings(eval_seed="5")).manifest


# -- whole runs -----------------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SELDKIT_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("model", ["dspast", "spatialast"])
def test_train_reference_runs_on_a_copy_of_the_published_data(tmp_path, capsys, model):
    out = tmp_path / model
    argv = ["train-reference", model, "--protocol", str(PROTOCOL), *set_options(settings()), "--out", str(out)]
    assert main([*argv, "--quiet", "--device", "cpu"]) == 0
    captured = capsys.readouterr()
    assert "warning" not in captured.err and "mAP" in captured.out
    record = json.loads((out / "run.json").read_text())["data"]
    assert (
        record["train"]["clips"] == 8
        and record["test"]["clips"] == 4
        and record["missing"] == {"audio": 0, "reverb": 0}
    )
    assert json.loads((out / "results.json").read_text())["training"]["data"] == record
    assert len(json.loads((out / "eval_manifest.json").read_text())["pairs"]) == 4
    assert not (out / "missing.txt").exists()
    references = (out / "references.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in references[1:]] == [f"Yeval000000{i}" for i in range(4)]


def test_a_partial_copy_trains_on_what_exists_and_records_the_subset(tmp_path, capsys):
    root = copy_fixture(tmp_path)
    for name in (
        "balanced_train/audio/Ytrain000004.wav",
        "balanced_train/audio/Ytrain000001.wav",
        "eval/audio/Yeval0000003.wav",
    ):
        (root / "AudioSet" / name).unlink()
    out = tmp_path / "partial"
    argv = ["train-reference", "dspast", "--protocol", str(PROTOCOL), *set_options(settings(root)), "--out", str(out)]
    assert main([*argv, "--quiet", "--device", "cpu"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("seldkit train-reference: warning: 3 audio files and 0 impulse")
    assert "Ytrain000001, Ytrain000004, Yeval0000003" not in err[0]  # sorted ids
    assert "Yeval0000003, Ytrain000001, Ytrain000004" in err[0] and str(out / "missing.txt") in err[0]
    missing = (out / "missing.txt").read_text().splitlines()
    assert missing[0] == "kind\tindex\tid\tpath" and len(missing) == 4
    assert sorted(line.split("\t")[2] for line in missing[1:]) == ["Yeval0000003", "Ytrain000001", "Ytrain000004"]
    record = json.loads((out / "run.json").read_text())["data"]
    assert (record["train"]["clips"], record["test"]["clips"]) == (6, 3)
    assert record["missing"] == {"audio": 3, "reverb": 0}
    complete = read_published(data_section(), settings()).subset()
    assert record["train"]["ids_sha256"] != complete["train"]["ids_sha256"]
    assert record["test"]["ids_sha256"] != complete["test"]["ids_sha256"]
    assert record["train"]["reverbs_sha256"] == complete["train"]["reverbs_sha256"]
    # the pairs of the clips both copies have are the same (the derived pairing is per clip)
    full_pairs = json.loads(json.dumps(read_published(data_section(), settings()).manifest["pairs"]))
    assert json.loads((out / "eval_manifest.json").read_text())["pairs"] == full_pairs
    references = (out / "references.csv").read_text().splitlines()
    assert len(references) == 4 and json.loads((out / "results.json").read_text())["n"] == 3
    # the weights of the clips that exist, in index order
    copy = read_published(data_section(), settings(root))
    assert [pair.weight for pair in copy.index.split("train")] == [1000.0, 500.0, 4000.0, 3000.0, 1500.0, 2500.0]


def test_make_dataset_checks_a_copy_and_counts_it(tmp_path, capsys):
    root = copy_fixture(tmp_path)
    (root / "mp3d_reverb" / "binaural" / "1LXtFkjw3qL" / "1.npy").unlink()
    assert main(["make-dataset", "--protocol", str(PROTOCOL), *set_options(settings(root)), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert "train 8, test 4 clips" in captured.out
    assert captured.err.count("\n") == 1 and "0 audio files and 1 impulse responses" in captured.err
