"""DCASE Task 3 scoring: against a plain per-frame implementation, seldkit's documented defaults where the
official code silently skips or fails, and one clear line for bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from seldkit.errors import InputError
from seldkit.io.dcase import detect_year
from seldkit.protocols import load_protocol, with_settings
from seldkit.scoring.dcase import score_dcase_folders
from tests import naive_dcase
from tests.command import run_cli
from tests.dcase_scenes import write_scene
from tests.golden import REPO

DCASE = REPO / "metrics" / "regression" / "dcase"


def golden_case(year: int, case_id: str) -> dict:
    cases = json.loads((DCASE / str(year) / "expected.json").read_text())["cases"]
    return next(case for case in cases if case["id"] == case_id)


def score(folder: Path, year: int, **settings) -> dict:
    protocol = (
        with_settings(load_protocol(f"dcase{year}-task3"), **settings)
        if settings
        else load_protocol(f"dcase{year}-task3")
    )
    return score_dcase_folders(folder / "pred", folder / "ref", protocol).score.metrics


def naive_pairs(folder: Path) -> list[tuple[list, list]]:
    return [
        (naive_dcase.read_rows(reference), naive_dcase.read_rows(folder / "pred" / reference.name))
        for reference in sorted((folder / "ref").glob("*.csv"))
    ]


def assert_metrics_close(got: dict, expected: dict) -> None:
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-6, nan_ok=True), name


@pytest.mark.parametrize("case_id", ["random_000", "random_003", "multi_file_mix", "same_class_3_ref_2_pred"])
def test_naive_reference_reproduces_golden(case_id):
    """The plain implementation used as the independent reference agrees with the official outputs."""
    for year, scorer in ((2022, naive_dcase.score_2022), (2024, naive_dcase.score_2024)):
        expected = golden_case(year, case_id)["results"]["macro"]["metrics"]
        naive = scorer(naive_pairs(DCASE / str(year) / "cases" / case_id))
        for name, value in expected.items():
            tolerance = 1e-3 if name in ("LE_CD", "DOAE_CD") else 1e-6
            assert naive[name] == pytest.approx(value, abs=tolerance), (year, name)


@pytest.mark.parametrize("seed", range(6))
def test_vectorised_equals_per_frame_loops(tmp_path, seed):
    rng = np.random.default_rng(seed)
    for year, scorer in ((2024, naive_dcase.score_2024), (2022, naive_dcase.score_2022)):
        folder = tmp_path / str(year)
        write_scene(folder, rng, year=year, n_files=int(rng.integers(1, 5)), n_frames=int(rng.integers(30, 200)))
        assert_metrics_close(score(folder, year), scorer(naive_pairs(folder)))


def copy_case(tmp_path: Path, year: int, case_id: str) -> Path:
    target = tmp_path / case_id
    shutil.copytree(DCASE / str(year) / "cases" / case_id, target)
    return target


def test_reference_without_prediction_counts_as_misses_by_default(tmp_path, capsys):
    folder = copy_case(tmp_path, 2024, "missing_prediction_file")
    default_json, compat_json = tmp_path / "default.json", tmp_path / "compat.json"
    code, out, _ = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--json", default_json)
    assert code == 0 and "scored as all misses" in out
    code, out, _ = run_cli(
        capsys, "score", folder / "pred", "--ref", folder / "ref", "--dcase-compat", "--json", compat_json
    )
    assert code == 0 and "skipped, as the official code does" in out
    default, compat = json.loads(default_json.read_text()), json.loads(compat_json.read_text())
    expected = golden_case(2024, "missing_prediction_file")["results"]["macro"]["metrics"]
    assert compat["metrics"]["F_20"] == pytest.approx(expected["F_20"], rel=1e-9)
    assert sum(default["counters"]["FN"]) > sum(compat["counters"]["FN"])
    assert default["protocol"]["hash"] != compat["protocol"]["hash"]


def test_class_index_out_of_range_is_an_error_by_default(tmp_path, capsys):
    folder = copy_case(tmp_path, 2024, "class_index_out_of_range")
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref")
    assert code == 2 and "column 'class'" in err and "out of range" in err and "row " in err
    assert len(err.strip().splitlines()) == 1
    code, _, _ = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--dcase-compat")
    assert code == 0


def test_2022_prediction_in_another_format(tmp_path, capsys):
    folder = copy_case(tmp_path, 2022, "pred_in_2023_format")
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--protocol", "dcase2022-task3")
    assert code == 2 and "7 fields; this format has 6" in err
    code, out, _ = run_cli(
        capsys, "score", folder / "pred", "--ref", folder / "ref", "--protocol", "dcase2022-task3", "--dcase-compat"
    )
    assert code == 0


def test_2025_file_without_header(tmp_path):
    folder = copy_case(tmp_path, 2025, "missing_header")
    protocol = load_protocol("dcase2025-task3")
    default = score_dcase_folders(folder / "pred", folder / "ref", protocol).score.totals
    compat = score_dcase_folders(folder / "pred", folder / "ref", with_settings(protocol, compat=True)).score.totals
    assert compat.counts["FN"].sum() == default.counts["FN"].sum() + 1  # the official loader drops one event


def test_empty_reference_scores_nothing_with_a_note(tmp_path, capsys):
    folder = copy_case(tmp_path, 2024, "empty_reference")
    code, out, _ = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--protocol", "dcase2024-task3")
    assert code == 0 and "without events" in out and "0 reference events scored" in out


def test_distance_needed_by_the_2024_challenge_metric(tmp_path, capsys):
    folder = copy_case(tmp_path, 2024, "distance_absent")
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--protocol", "dcase2024-task3")
    assert code == 2 and "no distance column" in err
    code, out, _ = run_cli(
        capsys,
        "score",
        folder / "pred",
        "--ref",
        folder / "ref",
        "--protocol",
        "dcase2024-task3",
        "--config",
        "macro_nodist",
    )
    assert code == 0 and "configuration macro_nodist" in out


def test_prediction_without_reference_is_an_error(tmp_path, capsys):
    folder = copy_case(tmp_path, 2024, "random_000")
    shutil.copy(folder / "pred" / "file_00.csv", folder / "pred" / "stray.csv")
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref")
    assert code == 2 and "stray.csv" in err and "no reference" in err


def test_split_subfolders_and_trailing_blank_lines(tmp_path):
    folder = copy_case(tmp_path, 2024, "random_000")
    split = folder / "ref" / "dev-test-synth"
    split.mkdir()
    for path in list((folder / "ref").glob("*.csv")):
        shutil.move(path, split / path.name)
    other = folder / "ref" / "dev-train"
    other.mkdir()
    (other / "unrelated.csv").write_text("0,1,0,10,10,100\n5,1,0,10,10,100\n")
    prediction = folder / "pred" / "file_00.csv"
    prediction.write_text(prediction.read_text() + "\n\n")
    report = score_dcase_folders(folder / "pred", folder / "ref", load_protocol("dcase2024-task3"))
    expected = golden_case(2024, "random_000")["results"]["macro"]["metrics"]
    assert report.score.metrics["SELD"] == pytest.approx(expected["SELD"], rel=1e-9)
    assert any("dev-train" in note for note in report.notes)


BAD_ROWS = {
    "non-numeric": ("3,1,0,abc,10,100", "azimuth", "not a number"),
    "NaN": ("3,1,0,10,nan,100", "elevation", "finite"),
    "negative frame": ("-3,1,0,10,10,100", "frame", "out of range"),
    "fractional class": ("3,1.5,0,10,10,100", "class", "not an integer"),
    "elevation out of range": ("3,1,0,10,95,100", "elevation", "out of range"),
    "negative distance": ("3,1,0,10,10,-100", "distance", "out of range"),
    "short row": ("3,1,0,10,10", None, "5 fields"),
}


@pytest.mark.parametrize("kind", sorted(BAD_ROWS))
def test_bad_reference_rows(tmp_path, capsys, kind):
    line, column, fragment = BAD_ROWS[kind]
    folder = copy_case(tmp_path, 2024, "random_005")
    reference = folder / "ref" / "file_00.csv"
    lines = reference.read_text().splitlines()
    lines[2] = line
    reference.write_text("\n".join(lines) + "\n")
    out_json = tmp_path / "out.json"
    code, out, err = run_cli(
        capsys, "score", folder / "pred", "--ref", folder / "ref", "--protocol", "dcase2024-task3", "--json", out_json
    )
    assert code == 2 and out == "" and not out_json.exists()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "file_00.csv" in err and "row 3 (line 3)" in err and fragment in err
    if column:
        assert f"column '{column}'" in err


@pytest.mark.parametrize("year", [2019, 2020, 2023, 2024, 2025])
def test_year_is_recognised_from_the_files(year):
    folder = DCASE / str(year) / "cases" / "random_000"
    assert detect_year(folder / "pred", folder / "ref") == year


def test_micro_average_and_jackknife_json(tmp_path, capsys):
    folder = DCASE / "2022" / "cases" / "random_003"
    out_json = tmp_path / "r.json"
    code, out, _ = run_cli(
        capsys,
        "score",
        folder / "pred",
        "--ref",
        folder / "ref",
        "--protocol",
        "dcase2022-task3",
        "--ci",
        "jackknife",
        "--json",
        out_json,
    )
    assert code == 0 and "jackknife, 3 recordings" in out
    document = json.loads(out_json.read_text())
    case = golden_case(2022, "random_003")
    # The point value is the full-set value (the official jackknife path returns the last leave-one-out one).
    assert document["metrics"]["SELD"] == pytest.approx(case["results"]["macro"]["metrics"]["SELD"], rel=1e-9)
    for name, (low, high) in case["jackknife"]["ci"].items():
        assert document["intervals"]["metrics"][name]["low"] == pytest.approx(low, rel=1e-8, abs=1e-9)
        assert document["intervals"]["metrics"][name]["high"] == pytest.approx(high, rel=1e-8, abs=1e-9)
    code, out, _ = run_cli(
        capsys,
        "score",
        folder / "pred",
        "--ref",
        folder / "ref",
        "--protocol",
        "dcase2022-task3",
        "--average",
        "micro",
        "--json",
        out_json,
    )
    micro = json.loads(out_json.read_text())
    assert micro["configuration"] == "micro"
    assert micro["metrics"]["F_20"] == pytest.approx(case["results"]["micro"]["metrics"]["F_20"], rel=1e-9)


def test_option_misuse_is_a_usage_error(capsys):
    folder = DCASE / "2024" / "cases" / "random_000"
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--ci", "100")
    assert code == 2 and "jackknife" in err
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref", "--config", "nope")
    assert code == 2 and "no configuration 'nope'" in err
    code, _, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref" / "file_00.csv")
    assert code == 2 and "two folders" in err


STARSS22 = REPO / "tests" / "fixtures" / "starss22"


def test_real_starss22_output_equals_per_frame_loops():
    """A real system's output on real annotations (split subfolders, as in the DCASE layout)."""
    protocol = load_protocol("dcase2022-task3")
    report = score_dcase_folders(STARSS22 / "predictions", STARSS22 / "metadata_dev", protocol)
    assert report.score.n_files == 11 and not report.notes
    pairs = [
        (naive_dcase.read_rows(reference), naive_dcase.read_rows(STARSS22 / "predictions" / reference.name))
        for reference in sorted((STARSS22 / "metadata_dev").glob("*/*.csv"))
    ]
    assert_metrics_close(report.score.metrics, naive_dcase.score_2022(pairs))
    # Its formats are those of 2020 and 2021 too, and its names are not DCASE2020's: the year must be named.
    with pytest.raises(InputError, match="pass --protocol dcase2020-task3, dcase2021-task3, dcase2022-task3"):
        detect_year(STARSS22 / "predictions", STARSS22 / "metadata_dev")


@pytest.mark.parametrize(
    ("year", "case", "config"),
    [
        (2022, "random_008", "macro"),
        (2023, "random_008", "micro"),
        (2024, "random_009", "macro"),
        (2024, "random_009", "macro_segment_nodist"),
        (2025, "random_009", "macro_audio"),
    ],
)
def test_accumulating_in_batches_and_merging_equals_one_pass(year, case, config):
    """Recordings counted in batches and accumulators merged (as separate processes would) give the one-pass
    score: the same counters, file by file, and the same metrics."""
    from seldkit.io.dcase import pair_folders, read_dcase_file
    from seldkit.metrics.dcase.evaluate import DcaseAccumulator, score_recordings

    folder = DCASE / str(year) / "cases" / case
    pairs, _ = pair_folders(folder / "pred", folder / "ref")
    references = [read_dcase_file(pair.reference, year=year, role="reference") for pair in pairs]
    predictions = [read_dcase_file(pair.prediction, year=year, role="prediction") for pair in pairs]
    whole = score_recordings(references, predictions, year=year, config=config)
    first, second = DcaseAccumulator(year, config), DcaseAccumulator(year, config)
    first.update(references[:1], predictions[:1])
    first.update(references[1:2], predictions[1:2])
    second.update(references[2:], predictions[2:])
    second.update([], [])
    merged = first.merge(second).compute()
    assert merged.n_files == whole.n_files == len(pairs) >= 3
    assert merged.metrics == whole.metrics  # exactly: the same pooled counts
    for name, values in whole.counters.counts.items():
        np.testing.assert_array_equal(merged.counters.counts[name], values)
    for name, values in whole.counters.sums.items():
        np.testing.assert_array_equal(merged.counters.sums[name], values)
