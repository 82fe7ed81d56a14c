"""Data: the published layout loader, the recorded reference labels, and the synthetic scene generator
(physics of the rendered responses, reproducibility, idempotent builds)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from seldkit.cli.main import main
from seldkit.data.layout import BinauralDataset, collate, read_dataset
from seldkit.data.rooms import Placement, Room, room_impulse_response
from seldkit.data.sofa import read_sofa
from seldkit.data.targets import parse_position, spatial_targets
from seldkit.errors import InputError
from seldkit.features import binaural_features, convolve_rir
from seldkit.protocols import load_protocol
from seldkit.resources import shipped_dir
from tests.golden import REPO

HRTF = shipped_dir("protocols") / "assets" / "hrtf"
TARGETS = np.load(REPO / "tests" / "fixtures" / "features" / "targets.npz")


@pytest.mark.parametrize("mode", ["reference", "clean"])
def test_targets_equal_the_published_label_code(mode):
    sensor = np.stack([parse_position(text) for text in TARGETS["sensor_position"]])
    source = np.stack([parse_position(text) for text in TARGETS["source_position"]])
    targets = spatial_targets(sensor, source, mode=mode)
    np.testing.assert_array_equal(targets.azimuth, TARGETS["azimuth"])
    if mode == "reference":
        np.testing.assert_array_equal(targets.distance, TARGETS["distance"])
        np.testing.assert_array_equal(targets.elevation, TARGETS["elevation"])
    else:
        up = source[:, 1] - sensor[:, 1] > 0
        straight = (TARGETS["elevation"] == 0) & up  # +90 deg: the reference wraps it to -90
        assert (targets.elevation[straight] == 179).all()
        assert (targets.elevation[~straight] == TARGETS["elevation"][~straight]).all()
        assert targets.distance.max() <= 20


def write_published_fixture(root: Path) -> None:
    """Two sources and two impulse responses in the published layout, plus a manifest."""
    (root / "audio" / "eval").mkdir(parents=True)
    (root / "binaural" / "roomA").mkdir(parents=True)
    rng = np.random.default_rng(0)
    soundfile.write(root / "audio" / "eval" / "Yaaa.wav", (rng.normal(size=24000) * 0.1).astype(np.float32), 16000)
    soundfile.write(root / "audio" / "eval" / "Ybbb.wav", (rng.normal(size=40000) * 0.01).astype(np.float32), 32000)
    np.save(root / "binaural" / "roomA" / "0.npy", rng.normal(size=(2, 300)).astype(np.float32))
    np.save(root / "binaural" / "roomA" / "1.npy", rng.normal(size=(2, 90000)).astype(np.float32))
    audio = {
        "data": [
            {"id": "Yaaa", "folder": "eval", "label": ["/m/09x0r"]},
            {"id": "Ybbb", "folder": "eval", "label": ["/m/0bt9lr", "/m/05tny_"]},
        ]
    }
    reverb = {
        "data": [
            {"fname": "roomA/0.npy", "sensor_position": "0,1.5,0", "source_position": "1.5,1.5,-2"},
            {"fname": "roomA/1.npy", "sensor_position": "1,1.5,2", "source_position": "-1.2,1.7,1.1"},
        ]
    }
    (root / "audio.json").write_text(json.dumps(audio))
    (root / "reverb.json").write_text(json.dumps(reverb))
    pairs = [
        {"audio": "Yaaa", "reverb": "roomA/0.npy", "split": "test", "weight": 1.0},
        {"audio": "Ybbb", "reverb": "roomA/1.npy", "split": "test", "weight": 3.0},
    ]
    (root / "manifest.json").write_text(json.dumps({"pairs": pairs}))
    info = {
        "audio_index": "audio.json",
        "reverb_index": "reverb.json",
        "manifest": "manifest.json",
        "audio_root": "audio",
        "reverb_root": ".",
        "classes": ["/m/09x0r", "/m/0bt9lr", "/m/05tny_"],
    }
    (root / "dataset.json").write_text(json.dumps(info))


def test_published_layout_loader(tmp_path):
    write_published_fixture(tmp_path)
    index = read_dataset(tmp_path)
    dataset = BinauralDataset(index, "test", clip_samples=32000, rir_samples=64000, label_mode="reference")
    batch = collate([dataset[0], dataset[1]])
    assert batch["waveform"].shape == (2, 1, 32000) and batch["reverb"].shape == (2, 2, 64000)
    # 16 kHz source resampled to 32 kHz (1.5 s -> 48,000 samples, cut to 32,000), normalised to -14 dBFS RMS
    first = batch["waveform"][0, 0].numpy()
    assert np.count_nonzero(first) == 32000
    second = batch["waveform"][1, 0].numpy()  # 40,000 samples at 32 kHz, cut
    assert 20 * np.log10(np.sqrt(np.mean(second.astype(np.float64) ** 2))) == pytest.approx(-14.0, abs=0.3)
    assert batch["reverb"][0, :, 300:].abs().max() == 0  # padded
    assert batch["sed"].tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 1.0]]
    # the two reference rows of the recorded label table: (5, 53, 90) and (5, 158, 95)
    assert batch["distance"].tolist() == [5, 5] and batch["azimuth"].tolist() == [53, 158]
    assert batch["elevation"].tolist() == [90, 95]
    assert dataset.weights.tolist() == [1.0, 3.0]  # the manifest's sampling weights, in pair order


def test_loader_errors(tmp_path):
    write_published_fixture(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["pairs"][0]["reverb"] = "roomA/9.npy"
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InputError, match="not in the indexes"):
        read_dataset(tmp_path)


def brir_at(azimuth: float, distance: float, hrirs, room: Room) -> np.ndarray:
    listener = np.array([room.size[0] / 2, room.size[1] / 2, 1.5])
    source = listener + distance * np.array([np.cos(np.radians(azimuth)), np.sin(np.radians(azimuth)), 0.0])
    return room_impulse_response(room, Placement(listener, source), hrirs, length=16000)


@pytest.mark.parametrize("hrtf", ["mit_kemar_normal_pinna.sofa", "th_koeln_ku100_lebedev2702.sofa"])
def test_rendered_responses_carry_interaural_cues(hrtf):
    """+90 deg (left) reaches the left ear first and louder; |ITD| 0.55-0.85 ms at +-90, ~0 at 0 and 180."""
    hrirs = read_sofa(HRTF / hrtf, 32000)
    room = Room(np.array([7.0, 6.0, 3.0]), 0.4)
    noise = np.random.default_rng(3).normal(size=(1, 1, 32000))
    import torch

    for azimuth, expected_sign in ((90.0, -1), (-90.0, 1), (0.0, 0), (180.0, 0)):
        response = brir_at(azimuth, 1.5, hrirs, room)
        direct = response[:, : int(0.004 * 32000) + int(np.argmax(np.abs(response).max(axis=0)))]
        binaural = convolve_rir(torch.from_numpy(noise), torch.from_numpy(direct[None].astype(np.float64)))
        gcc = binaural_features(binaural, mode="clean")["gcc"][0, 5:-5].mean(dim=0)
        lag = int(gcc.argmax()) - 64  # tau = t_L - t_R
        level = 10 * np.log10(np.sum(direct[0] ** 2) / np.sum(direct[1] ** 2))
        if expected_sign == 0:
            assert abs(lag) <= 2, azimuth
        else:
            assert np.sign(lag) == expected_sign, azimuth
            assert 0.55 <= abs(lag) / 32 <= 0.85, (azimuth, lag)  # milliseconds
            assert np.sign(level) == -expected_sign and abs(level) > 3, (azimuth, level)


def test_direct_to_reverberant_ratio_falls_with_distance():
    hrirs = read_sofa(HRTF / "mit_kemar_normal_pinna.sofa", 32000)
    room = Room(np.array([9.0, 8.0, 3.0]), 0.5)
    ratios = []
    for distance in (0.7, 1.5, 3.0):
        response = brir_at(30.0, distance, hrirs, room)
        onset = int(np.argmax(np.abs(response).max(axis=0)))
        split = onset + int(0.0025 * 32000)
        ratios.append(10 * np.log10(np.sum(response[:, :split] ** 2) / np.sum(response[:, split:] ** 2)))
    assert ratios[0] > ratios[1] > ratios[2], ratios


def tiny_protocol(tmp_path: Path, seed: int) -> Path:
    """A small synthetic protocol (the mini generator on a few clips) written next to the tests' data."""
    protocol = load_protocol("synth-binaural-mini").raw
    data = json.loads(json.dumps(protocol["data"]))
    data["seed"] = seed
    assets = shipped_dir("protocols")
    data["sounds"] = str(assets / "assets" / "sounds")
    for split in data["splits"].values():
        split["hrtf"] = str(assets / split["hrtf"])
        split.update(rooms=1, positions_per_room=6, clips=12)
    import yaml

    path = tmp_path / f"tiny-{seed}.yaml"
    path.write_text(yaml.safe_dump({"name": "tiny", "task": "train", "data": data}))
    return path


def build(tmp_path: Path, seed: int, name: str, monkeypatch) -> Path:
    monkeypatch.setenv("SELDKIT_CACHE", str(tmp_path / f"cache-{name}"))
    out = tmp_path / name
    assert main(["make-dataset", "--protocol", str(tiny_protocol(tmp_path, seed)), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.slow
def test_generated_data_set_is_reproducible_and_consistent(tmp_path, monkeypatch, capsys):
    first = build(tmp_path, 7, "first", monkeypatch)
    second = build(tmp_path, 7, "second", monkeypatch)
    other = build(tmp_path, 8, "other", monkeypatch)
    digests = json.loads((first / "checksums.json").read_text())
    assert digests == json.loads((second / "checksums.json").read_text())  # same seed: same bytes
    assert digests != json.loads((other / "checksums.json").read_text())

    index = read_dataset(first)
    assert len(index.split("train")) == 12 and len(index.split("test")) == 12
    reverbs = json.loads((first / "reverb.json").read_text())["data"]
    sensors = np.stack([parse_position(record["sensor_position"]) for record in reverbs])
    sources = np.stack([parse_position(record["source_position"]) for record in reverbs])
    targets = spatial_targets(sensors, sources, mode="clean")
    intended_azimuth = np.round(np.array([record["azimuth_deg"] for record in reverbs])) % 360
    np.testing.assert_array_equal(targets.azimuth, intended_azimuth)
    np.testing.assert_array_equal(targets.elevation, np.round([record["elevation_deg"] for record in reverbs]) + 90)
    np.testing.assert_array_equal(
        targets.distance, np.round(2 * np.array([record["distance_m"] for record in reverbs]))
    )
    dataset = BinauralDataset(
        index, "test", clip_samples=index.info["clip_samples"], rir_samples=index.info["rir_samples"]
    )
    assert dataset[0]["waveform"].shape == (1, 32000)

    # idempotent: a second run verifies and reuses; a damaged file is noticed and the set rebuilt
    capsys.readouterr()
    protocol = tiny_protocol(tmp_path, 7)
    assert main(["make-dataset", "--protocol", str(protocol), "--out", str(first), "--quiet"]) == 0
    assert "verified existing" in capsys.readouterr().out
    victim = next((first / "binaural" / "train").glob("*.npy"))
    victim.write_bytes(b"damaged")
    assert main(["make-dataset", "--protocol", str(protocol), "--out", str(first), "--quiet"]) == 0
    assert "built" in capsys.readouterr().out
    assert json.loads((first / "checksums.json").read_text()) == digests
    shutil.rmtree(tmp_path / "other")


def test_published_layout_protocol_asks_for_paths(capsys):
    assert main(["make-dataset", "--protocol", "spatialsoundqa-train"]) == 2
    assert "--set audio_index=PATH" in capsys.readouterr().err
