"""Binaural front-ends: the recorded outputs of the published front-ends (reference mode, float64 and float32,
with the validity masks and tolerances of ``tests/fixtures/features/README.md``), librosa's mel matrix, and
physical checks independent of any recorded data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seldkit.features import Frontend, binaural_features, convolve_rir, slaney_mel_matrix, stft
from seldkit.features.frontend import STACKS, resize_time
from seldkit.features.spatial import cross_phasor
from tests.golden import REPO

DATA = REPO / "tests" / "fixtures" / "features"
SHORT = np.load(DATA / "short.npz")
CLIP = np.load(DATA / "clip10s.npz")
LEFT_ONLY = 6  # its reference GCC is decided by IEEE signed zeros: not compared (see the README)


def test_mel_matrix_equals_librosa_and_the_recorded_one():
    librosa = pytest.importorskip("librosa")
    ours = slaney_mel_matrix()
    theirs = librosa.filters.mel(sr=32000, n_fft=1024, n_mels=128, fmin=50, fmax=14000).T
    np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(ours, np.load(DATA / "params.npz")["melW"])
    for n_mels, fmin, fmax in ((64, 0.0, 16000.0), (40, 20.0, 8000.0)):
        other = librosa.filters.mel(sr=32000, n_fft=1024, n_mels=n_mels, fmin=fmin, fmax=fmax).T
        np.testing.assert_allclose(slaney_mel_matrix(n_mels=n_mels, fmin=fmin, fmax=fmax), other, atol=1e-6, rtol=0)


def test_stft_equals_the_reference_dft():
    probe = np.load(DATA / "stft_probe.npz")
    ours = stft(torch.from_numpy(probe["binaural"])).numpy()
    reference = probe["stft"]
    # The reference builds its DFT kernels with np.power (errors up to 1e-11): ~8e-12 of the peak.
    assert np.abs(ours - reference).max() <= 2e-11 * np.abs(reference).max()


def test_convolution_is_the_exact_linear_convolution():
    rng = np.random.default_rng(0)
    mono, rir = rng.normal(size=(3, 1, 5003)), rng.normal(size=(3, 2, 777))
    ours = convolve_rir(torch.from_numpy(mono), torch.from_numpy(rir)).numpy()
    for clip in range(3):
        for channel in range(2):
            exact = np.convolve(mono[clip, 0], rir[clip, channel])[:5003]
            np.testing.assert_allclose(ours[clip, channel], exact, atol=1e-10, rtol=0)
    np.testing.assert_allclose(
        convolve_rir(torch.from_numpy(SHORT["mono"]).double(), torch.from_numpy(SHORT["rir"])).numpy(),
        SHORT["binaural"],
        atol=1e-12,
        rtol=0,
    )


def compare(features: dict, expected, *, precision: str, suffix: str = "", skip_gcc: tuple[int, ...] = ()) -> None:
    """The README's comparison rules for one precision (``f64`` or ``f32``)."""
    band_ok = expected[f"band_ok{'_f64' if precision == 'f64' else ''}{suffix}"]
    frame_ok = expected[f"frame_ok{suffix}"].copy()
    nbad = expected[f"gcc_nbad{'_f64' if precision == 'f64' else ''}{suffix}"]
    logmel, reference_logmel = features["logmel"].double().numpy(), expected[f"logmel{suffix}"]
    if precision == "f64":
        logmel_atol = 2e-5 if reference_logmel.dtype == np.float32 else 1e-4
        assert np.abs(logmel - reference_logmel).max() <= logmel_atol + 1e-4 * (reference_logmel.dtype == np.float32)
        ipd_atol, gcc_extra = 1e-7, 1e-5
    else:
        both = np.stack([band_ok, band_ok], axis=1)
        assert np.abs(logmel - reference_logmel)[both].max() <= 2e-3
        ipd_atol, gcc_extra = 3e-5, 2e-5
    for name in ("ipd_cos_mel", "ipd_sin_mel"):
        difference = np.abs(features[name].double().numpy() - expected[f"{name}{suffix}"])[band_ok]
        assert difference.max() <= ipd_atol, name
    for index in skip_gcc:
        frame_ok[index] = False
    gcc_difference = np.abs(features["gcc"].double().numpy() - expected[f"gcc{suffix}"]).max(axis=-1)
    assert (gcc_difference - 2 * nbad / 1024)[frame_ok].max() <= gcc_extra


def test_short_signals_float64():
    features = binaural_features(torch.from_numpy(SHORT["binaural"]))
    compare(features, SHORT, precision="f64", skip_gcc=(LEFT_ONLY,))
    log_ild = np.log(features["ild"].numpy())
    assert np.abs(log_ild - np.log(SHORT["ild"])).max() <= 1e-4


def test_short_signals_float32():
    features = binaural_features(torch.from_numpy(SHORT["binaural"]).float())
    assert features["gcc"].dtype == torch.float32
    compare(features, SHORT, precision="f32", skip_gcc=(LEFT_ONLY,))
    log_ild = np.log(features["ild"].double().numpy())
    assert np.abs(log_ild - np.log(SHORT["ild"]))[SHORT["band_ok"]].max() <= 2e-3


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_ten_second_clips_through_the_whole_frontend(dtype):
    """The loader output (mono sources + 2 s impulse responses) through convolution, features and resize."""
    waveforms = torch.from_numpy(CLIP["waveforms"]).to(dtype)
    reverbs = torch.from_numpy(CLIP["reverbs"]).to(dtype)
    binaural = convolve_rir(waveforms, reverbs)
    np.testing.assert_allclose(
        binaural.double().numpy(), CLIP["binaural"], atol=2e-6 if dtype == torch.float32 else 1e-7
    )
    precision = "f64" if dtype == torch.float64 else "f32"
    features = binaural_features(binaural)
    compare(features, CLIP, precision=precision)
    resized = binaural_features(binaural, resize_to=1024)
    assert resized["logmel"].shape == (2, 2, 1024, 128) and resized["gcc"].shape == (2, 1024, 128)
    compare(resized, CLIP, precision=precision, suffix="_1024")
    # ILD after bicubic resizing is compared relative to the largest of the four source taps.
    ild_rtol = 1e-5 if dtype == torch.float64 else 2e-3
    band_ok = CLIP["band_ok_f64_1024" if dtype == torch.float64 else "band_ok_1024"]
    source = np.abs(CLIP["ild"].astype(np.float64))
    position = np.arange(1024) * (source.shape[1] - 1) / 1023
    taps = np.clip(np.floor(position)[:, None].astype(int) + np.arange(-1, 3)[None, :], 0, source.shape[1] - 1)
    scale = source[:, taps, :].max(axis=2)
    difference = np.abs(resized["ild"].double().numpy() - CLIP["ild_1024"])
    assert (difference <= ild_rtol * scale + 1e-30)[band_ok].all()


def test_frontend_stacks_and_autocast():
    waveforms = torch.from_numpy(CLIP["waveforms"][:, :, :64000]).float()
    reverbs = torch.from_numpy(CLIP["reverbs"]).float()
    for kind, channels in (("spatialast", 4), ("dspast", 6)):
        frontend = Frontend(kind)
        plain = frontend(waveforms, reverbs)
        assert plain.shape == (2, channels, 1024, 128) and plain.dtype == torch.float32
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            inside = frontend(waveforms, reverbs)
        assert inside.dtype == torch.float32
        torch.testing.assert_close(inside, plain, rtol=0, atol=0)
        half = frontend(waveforms.bfloat16(), reverbs)
        assert half.dtype == torch.float32
    features = binaural_features(convolve_rir(waveforms, reverbs))
    stacked = Frontend("dspast", resize_to=None)(waveforms, reverbs)
    for index, name in enumerate(STACKS["dspast"]):
        expected = features["logmel"][:, int(name[-1] == "R")] if name.startswith("logmel") else features[name]
        torch.testing.assert_close(stacked[:, index], expected)


def test_resize_to_the_model_frames():
    exact = torch.randn(1, 1024, 128)
    assert resize_time(exact, 1024) is exact
    assert resize_time(torch.randn(1, 2, 50, 128), 1024).shape == (1, 2, 1024, 128)
    assert resize_time(torch.randn(1, 1100, 128), 1024).shape == (1, 1024, 128)


def delayed_pair(delay: int, gain_db: float = 0.0, n: int = 32000, seed: int = 0) -> torch.Tensor:
    noise = torch.from_numpy(np.random.default_rng(seed).normal(size=n + 200))
    left = noise[100 : 100 + n]
    right = noise[100 - delay : 100 - delay + n] * 10 ** (-gain_db / 20)  # right = left delayed by `delay`
    return torch.stack([left, right]).unsqueeze(0)


@pytest.mark.parametrize("mode", ["reference", "clean"])
@pytest.mark.parametrize("delay", [-9, -3, 0, 5, 17])
def test_gcc_peak_at_minus_the_delay_of_the_right_channel(mode, delay):
    """A source reaching R k samples later than L peaks at lag tau = t_L - t_R = -k."""
    gcc = binaural_features(delayed_pair(delay), mode=mode)["gcc"][0, 5:-5]
    peaks = gcc.argmax(dim=-1) - 64
    assert bool((peaks == -delay).all())


@pytest.mark.parametrize("gain_db", [0.0, 6.0, 20.0])
def test_level_difference(gain_db):
    pair = delayed_pair(0, gain_db)
    features = binaural_features(pair, mode="reference")
    # Bands well above the guards (the clean 1e-10 power floor; the reference's + 1e-16 next to e^{logmel_R},
    # which is comparable to it once logmel_R drops below about -30): there the level difference decides.
    audible = features["logmel"][0, 1, 5:-5] > -20.0
    clean = binaural_features(pair, mode="clean")["ild"][0, 5:-5][audible]
    torch.testing.assert_close(clean, torch.full_like(clean, gain_db), atol=1e-5, rtol=0)  # power dB difference
    reference = features["ild"][0, 5:-5][audible]
    # reference: exp of the magnitude-dB difference (gain_db / 2), e.g. 6.02 dB -> e^3.01 = 20.3
    expected = torch.full_like(reference, float(np.exp(gain_db / 2)))
    torch.testing.assert_close(reference, expected, rtol=1e-6, atol=0)
    assert float(audible.float().mean()) > 0.5


def test_pure_tone_phase_difference():
    """A tone centred on FFT bin k, delayed by d samples in R: IPD = -2 pi k d / 1024 at that bin."""
    k, d, n = 96, 3, 16000
    t = torch.arange(n + d, dtype=torch.float64)
    tone = torch.cos(2 * np.pi * k * t / 1024 + 0.4)
    pair = torch.stack([tone[d:], tone[:-d]]).unsqueeze(0)
    spectrum = stft(pair)
    magnitude = spectrum.abs()
    cross_real, cross_imag = cross_phasor(spectrum, magnitude, epsilon=None)
    expected = -2 * np.pi * k * d / 1024
    assert torch.allclose(cross_real[0, 2:-2, k], torch.tensor(np.cos(expected), dtype=torch.float64), atol=1e-9)
    assert torch.allclose(-cross_imag[0, 2:-2, k], torch.tensor(np.sin(expected), dtype=torch.float64), atol=1e-9)


def test_float32_agrees_with_float64_on_valid_bins():
    pair = delayed_pair(4, 3.0, seed=2)
    high = binaural_features(pair)
    low = binaural_features(pair.float())
    for name, atol in (("logmel", 2e-3), ("ipd_cos_mel", 3e-5), ("ipd_sin_mel", 3e-5), ("gcc", 2e-5)):
        torch.testing.assert_close(low[name].double(), high[name], atol=atol, rtol=0, msg=name)


def test_clean_mode_is_finite_on_silence():
    features = binaural_features(torch.zeros(1, 2, 8000), mode="clean")
    for name, value in features.items():
        assert bool(torch.isfinite(value).all()), name
    assert float(features["gcc"].abs().max()) == 0.0 and float(features["ild"].abs().max()) == 0.0
    assert float(features["ipd_cos_mel"].abs().max()) == 0.0


def test_cao_gcc_variant():
    """Cao et al.'s GCC-PHAT (2048-sample window, 96 lags, mirrored lag sign), recorded for comparison."""
    from seldkit.features.spatial import gcc_phat_cao

    ours = gcc_phat_cao(torch.from_numpy(SHORT["binaural"])).numpy()
    # Signals whose every bin carries signal (the sine's and left-only's empty bins hold round-off phases).
    for index in (0, 1, 2, 3, 5, 7):
        np.testing.assert_allclose(ours[index], SHORT["gcc_cao"][index], atol=1e-8, rtol=0)
    assert ours[0, 5:-5].argmax(axis=-1).tolist() == [48 + 7] * 16  # tau = t_R - t_L = +7
    clip = gcc_phat_cao(torch.from_numpy(CLIP["binaural"]).double()).numpy()
    valid = CLIP["frame_ok"] & (CLIP["gcc_nbad_f64"] == 0)
    # the recorded clip audio is float32-rounded; the reference GCC came from the float64 signal
    assert np.abs(clip - CLIP["gcc_cao"]).max(axis=-1)[valid].max() <= 1e-3


def test_scaled_mode_against_a_per_band_loop():
    """Scaled mode: each band's phase features are the weighted mean of cos / sin IPD over its bins (a loop over bands
    here), the GCC is standardised per clip, and everything else is clean mode's."""
    pair = delayed_pair(2, 2.0, seed=5)
    clean = binaural_features(pair, mode="clean")
    scaled = binaural_features(pair, mode="scaled")
    for name in ("logmel", "ild"):
        torch.testing.assert_close(scaled[name], clean[name], rtol=0, atol=0)
    spectrum = stft(pair).numpy()
    phase = np.angle(spectrum[:, 0] * np.conj(spectrum[:, 1]))  # left relative to right, as the cross phasor
    weights = slaney_mel_matrix().astype(np.float64)
    for band in (0, 17, 64, 127):
        bins = weights[:, band]
        expected_cos = (np.cos(phase) * bins).sum(-1) / bins.sum()
        expected_sin = (-np.sin(phase) * bins).sum(-1) / bins.sum()
        np.testing.assert_allclose(scaled["ipd_cos_mel"][..., band].numpy(), expected_cos, atol=1e-9)
        np.testing.assert_allclose(scaled["ipd_sin_mel"][..., band].numpy(), expected_sin, atol=1e-9)
    assert float(scaled["ipd_cos_mel"].abs().max()) <= 1 + 1e-9
    gcc = scaled["gcc"].numpy()
    for clip, raw in zip(gcc, clean["gcc"].numpy()):
        np.testing.assert_allclose([clip.mean(), clip.std(ddof=1)], [0.0, 1.0], atol=1e-4)
        np.testing.assert_allclose(clip, (raw - raw.mean()) / (raw.std(ddof=1) + 1e-6), atol=1e-9)
    silent = binaural_features(torch.zeros(1, 2, 8000), mode="scaled")
    assert all(bool(torch.isfinite(value).all()) for value in silent.values())
