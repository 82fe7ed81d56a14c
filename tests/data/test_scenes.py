"""Scenes of the synthetic generator: overlapping sources, background noise at a set SNR, the procedural classes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from seldkit.data.layout import BinauralDataset, collate, read_dataset
from seldkit.data.sources import PROCEDURAL_LABELS, procedural_classes
from seldkit.errors import InputError
from seldkit.features.convolution import add_background, convolve_rir
from seldkit.protocols import audioset_classes
from seldkit.train.loop import model_inputs
from tests.data.test_data import build


def test_every_procedural_class_draws_a_distinct_audible_signal():
    audioset = audioset_classes()
    classes = procedural_classes({name: mid for mid, name in audioset.names.items()}, tuple(PROCEDURAL_LABELS))
    assert [source.name for source in classes] == list(PROCEDURAL_LABELS)
    assert len({source.mids for source in classes}) == len(classes)  # one AudioSet class each
    for source in classes:
        first = source.draw(np.random.default_rng(1), 16_000)
        again = source.draw(np.random.default_rng(1), 16_000)
        other = source.draw(np.random.default_rng(2), 16_000)
        assert first.shape == (16_000,) and first.dtype == np.float32 and np.all(np.isfinite(first))
        np.testing.assert_array_equal(first, again)  # drawn from the generator alone
        assert not np.array_equal(first, other)  # each clip its own parameters
        assert np.sqrt(np.mean(first.astype(np.float64) ** 2)) > 1e-3 * np.max(np.abs(first)) > 0


@pytest.mark.slow
def test_overlapping_sources_and_backgrounds(tmp_path, monkeypatch):
    root = build(tmp_path, 11, "scenes", monkeypatch)
    info = json.loads((root / "dataset.json").read_text())
    assert set(info["splits"]) == {"train", "validation", "test"}
    audio = {record["id"]: record for record in json.loads((root / "audio.json").read_text())["data"]}
    reverbs = {record["fname"]: record for record in json.loads((root / "reverb.json").read_text())["data"]}
    pairs = json.loads((root / "manifest.json").read_text())["pairs"]

    mixed = [record for record in audio.values() if "+" in record["class"]]
    assert 0 < len(mixed) < len(audio)  # the mini protocol mixes about half of the clips
    names_to_mids = {name: mids for name, mids in info["class_names"].items()}
    for record in audio.values():
        parts = record["class"].split("+")
        assert len(parts) == len(set(parts))  # a second source is of another class
        expected = list(dict.fromkeys(mid for part in parts for mid in names_to_mids[part]))
        assert record["label"] == expected  # the clip carries the labels of every source in it

    low, high = 5.0, 30.0
    for pair in pairs:
        room = reverbs[pair["reverb"]]["room"]
        assert pair["noise"].startswith(f"noise/{room}_")  # the background of the response's room
        assert low <= pair["snr_db"] <= high
        background = np.load(root / pair["noise"])
        assert background.shape == (2, info["clip_samples"]) and background.dtype == np.float32
        np.testing.assert_allclose(np.mean(background.astype(np.float64) ** 2), 1.0, rtol=1e-5)
    correlation = np.corrcoef(background)[0, 1]
    assert abs(correlation) < 0.99  # the ears hear different mixtures: a spatial background, not a mono one

    # the loader renders and adds the background at the pair's SNR; the channel swap swaps it too
    index = read_dataset(root)
    dataset = BinauralDataset.for_evaluation(index, "test")
    items = [dataset[position] for position in range(4)]
    batch = collate(items)
    audio_in, reverbs_in = model_inputs(batch, torch.device("cpu"))
    assert reverbs_in is None and audio_in.shape == (4, 2, info["clip_samples"])
    clean = convolve_rir(batch["waveform"].double(), batch["reverb"].double())
    for row, item in enumerate(items):
        added = audio_in[row].double() - clean[row]
        snr = 10 * np.log10(float(clean[row].square().mean()) / float(added.square().mean()))
        assert snr == pytest.approx(index.split("test")[row].snr_db, abs=1e-3)
        assert torch.allclose(added / added.norm(), item["noise"].double() / item["noise"].double().norm(), atol=1e-5)

    # hostile data: a background path leaving the data set, a damaged background file
    manifest = root / "manifest.json"
    original = manifest.read_text()
    escaping = json.loads(original)
    escaping["pairs"][0]["noise"] = "../../etc/passwd"
    manifest.write_text(json.dumps(escaping))
    with pytest.raises(InputError, match=r"pairs\[0\].noise must be a path inside"):
        read_dataset(root)
    manifest.write_text(original)
    victim = root / pairs[0]["noise"]
    victim.write_bytes(b"not an array")
    damaged = BinauralDataset.for_evaluation(read_dataset(root), pairs[0]["split"])
    position = [pair.noise for pair in damaged.pairs].index(pairs[0]["noise"])
    with pytest.raises(InputError, match="cannot read this file") as error:
        damaged[position]
    assert error.value.file == str(victim)


def test_add_background_sets_the_snr_against_a_naive_computation():
    rng = np.random.default_rng(0)
    signal, noise = rng.normal(size=(3, 2, 1000)), rng.normal(size=(3, 2, 1000)) * [[[0.1]], [[3.0]], [[0.0]]]
    snr = np.array([0.0, 17.5, 10.0])
    mixed = add_background(torch.tensor(signal), torch.tensor(noise), torch.tensor(snr)).numpy()
    for row in range(2):
        added = mixed[row] - signal[row]
        measured = 10 * np.log10(np.sum(signal[row] ** 2) / np.sum(added**2))
        assert measured == pytest.approx(snr[row], abs=1e-9)
    np.testing.assert_array_equal(mixed[2], signal[2])  # a silent background adds nothing
    infinite = add_background(torch.tensor(signal), torch.tensor(noise), torch.full((3,), float("inf")))
    np.testing.assert_array_equal(infinite.numpy(), signal)
