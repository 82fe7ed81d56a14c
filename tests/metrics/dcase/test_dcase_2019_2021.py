"""DCASE 2019, 2020 and 2021: against plain loop scorers written from the READMEs, seldkit's documented defaults
where the official code silently skips, misreads or crashes, the per-group breakdown, and year recognition."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np
import pytest

from seldkit.errors import InputError
from seldkit.io.dcase import detect_year, pair_folders, read_dcase_file
from seldkit.metrics.dcase.evaluate import DcaseAccumulator, score_recordings
from seldkit.protocols import load_protocol, with_settings
from seldkit.scoring.dcase import score_dcase_folders
from tests import naive_dcase_2019_2021 as naive
from tests.command import run_cli
from tests.dcase_scenes import write_scene, write_scene_2019
from tests.golden import REPO

DCASE = REPO / "metrics" / "regression" / "dcase"
CONFIGS = {2019: ("default",), 2020: ("polar", "cartesian"), 2021: ("polar", "cartesian")}
CONFIGS_GROUPS = {2019: ("split", "ov", "ir"), 2020: ("ov", "ir"), 2021: ("room",)}  # the official breakdowns


def golden_case(year: int, case_id: str) -> dict:
    cases = json.loads((DCASE / str(year) / "expected.json").read_text())["cases"]
    return next(case for case in cases if case["id"] == case_id)


def seldkit_metrics(folder: Path, year: int, config: str, **settings) -> dict[str, float]:
    protocol = with_settings(load_protocol(f"dcase{year}-task3"), configuration=config, **settings)
    return score_dcase_folders(folder / "pred", folder / "ref", protocol).score.metrics


def naive_metrics(folder: Path, year: int, config: str) -> dict[str, float]:
    names = sorted(path.name for path in (folder / "ref").glob("*.csv"))
    if year == 2019:
        return naive.score_2019(
            [
                (naive.read_2019_reference(folder / "ref" / n), naive.read_2019_prediction(folder / "pred" / n))
                for n in names
            ]
        )
    scorer = naive.score_2020 if year == 2020 else naive.score_2021
    pairs = [(naive.read_rows(folder / "ref" / n), naive.read_rows(folder / "pred" / n)) for n in names]
    return scorer(pairs, polar=config == "polar")


def assert_close(got: dict[str, float], expected: dict[str, float | str | None], angle: float = 1e-6) -> None:
    assert set(got) == set(expected)
    for name, value in expected.items():
        if value is None:
            assert math.isnan(got[name]), name
        elif value == "inf" or (isinstance(value, float) and math.isinf(value)):
            assert got[name] == math.inf, name
        else:
            tolerance = angle if name in ("DE", "LE_CD") else 1e-9
            assert got[name] == pytest.approx(value, rel=1e-9, abs=tolerance), name


@pytest.mark.parametrize(
    ("year", "case_id"),
    [
        (2019, "multi_file_mix"),
        (2019, "azimuth_wraparound"),
        (2020, "same_class_2_errors_11_and_8"),
        (2021, "tie_equidistant"),
    ],
)
def test_plain_loops_reproduce_the_official_outputs(year, case_id):
    """The plain scorers used as the independent reference agree with the official code."""
    case = golden_case(year, case_id)
    for config in CONFIGS[year]:
        angle = 1e-3 if config == "cartesian" else 1e-4
        assert_close(
            naive_metrics(DCASE / str(year) / "cases" / case_id, year, config),
            case["results"][config]["metrics"],
            angle,
        )


@pytest.mark.parametrize(("year", "case_id"), [(2019, "random_004"), (2020, "random_006"), (2021, "random_003")])
def test_multi_file_case_equals_the_plain_loops(year, case_id):
    """One multi-file golden case per year: seldkit's vectorised scores equal the per-frame (2019) or per-segment
    (2020, 2021) loops written from the README, in every configuration, and both equal the official values."""
    folder = DCASE / str(year) / "cases" / case_id
    case = golden_case(year, case_id)
    assert len(case["files"]) >= 2
    for config in CONFIGS[year]:
        ours = seldkit_metrics(folder, year, config)
        assert_close(ours, naive_metrics(folder, year, config), angle=1e-9)
        assert_close(ours, case["results"][config]["metrics"], angle=1e-3 if config == "cartesian" else 1e-4)


@pytest.mark.parametrize("seed", range(4))
def test_random_scenes_equal_the_plain_loops(tmp_path, seed):
    """Random scenes with overlaps, same-class pairs, wrong classes and rows past the 60 s window."""
    rng = np.random.default_rng(100 + seed)
    for year, n_classes in ((2020, 14), (2021, 12)):
        folder = tmp_path / str(year)
        write_scene(
            folder,
            rng,
            year=2022,
            n_files=int(rng.integers(1, 4)),
            n_frames=int(rng.integers(100, 700)),
            n_classes=n_classes,
        )
        for config in CONFIGS[year]:
            assert_close(seldkit_metrics(folder, year, config), naive_metrics(folder, year, config), angle=1e-9)
    folder = tmp_path / "2019"
    write_scene_2019(folder, rng, n_files=int(rng.integers(1, 4)))
    assert_close(seldkit_metrics(folder, 2019, "default"), naive_metrics(folder, 2019, "default"), angle=1e-9)


@pytest.mark.parametrize(
    ("year", "case_id", "config"),
    [(2019, "random_004", "default"), (2020, "random_009", "cartesian"), (2021, "random_007", "polar")],
)
def test_accumulating_in_batches_equals_one_pass(year, case_id, config):
    folder = DCASE / str(year) / "cases" / case_id
    pairs, _ = pair_folders(folder / "pred", folder / "ref")
    references = [read_dcase_file(pair.reference, year=year, role="reference") for pair in pairs]
    predictions = [read_dcase_file(pair.prediction, year=year, role="prediction") for pair in pairs]
    whole = score_recordings(references, predictions, year=year, config=config)
    accumulator = DcaseAccumulator(year, config)
    for reference, prediction in zip(references, predictions):
        accumulator.update([reference], [prediction])
    assert accumulator.compute().metrics == whole.metrics


def copy_case(tmp_path: Path, year: int, case_id: str) -> Path:
    target = tmp_path / f"{year}_{case_id}"
    shutil.copytree(DCASE / str(year) / "cases" / case_id, target)
    return target


def score_cli(capsys, folder: Path, year: int, *options: object) -> tuple[int, str, str]:
    return run_cli(
        capsys, "score", folder / "pred", "--ref", folder / "ref", "--protocol", f"dcase{year}-task3", *options
    )


def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# Official silent skips and misreadings: an error by default, the official result under --dcase-compat.
SILENT = [
    (2019, "negative_frame_index", ("column 'frame'", "-1 is out of range", "row 97 (line 97)")),
    (2019, "pred_class_minus1", ("column 'class'", "-1 is out of range (0..10)")),
    (2019, "pred_with_track_column", ("row has 5 fields; this format has 4", "line 1")),
    (2020, "pred_with_distance_7col", ("row has 7 fields; this format has 6",)),
    (2020, "class_index_out_of_range", ("column 'class'", "out of range (0..13)")),
    (2021, "pred_with_distance_7col", ("row has 7 fields; this format has 6",)),
    (2021, "pred_polar_5col", ("row has 5 fields; this format has 6",)),
    (2021, "class_index_out_of_range", ("column 'class'", "out of range (0..11)")),
]


@pytest.mark.parametrize(("year", "case_id", "fragments"), SILENT, ids=[f"{y}-{c}" for y, c, _ in SILENT])
def test_official_silent_misreadings_are_errors_unless_compat(tmp_path, capsys, year, case_id, fragments):
    folder = copy_case(tmp_path, year, case_id)
    code, out, err = score_cli(capsys, folder, year)
    assert_one_line_error(code, out, err, golden_case(year, case_id)["files"][0], *fragments)
    assert "row " in err or "line " in err
    config = CONFIGS[year][0]
    compat = seldkit_metrics(folder, year, config, compat=True)
    assert_close(compat, golden_case(year, case_id)["results"][config]["metrics"])


def test_2021_polar_prediction_in_the_cartesian_configuration_stays_an_error(tmp_path, capsys):
    folder = copy_case(tmp_path, 2021, "pred_polar_5col")
    code, out, err = score_cli(capsys, folder, 2021, "--config", "cartesian", "--dcase-compat")
    assert_one_line_error(code, out, err, "row has 5 fields; this format has 6")


@pytest.mark.parametrize("year", [2020, 2021])
def test_reference_without_prediction(tmp_path, capsys, year):
    """Scored as all misses by default; skipped (as the official code does) under --dcase-compat."""
    folder = copy_case(tmp_path, year, "missing_prediction_file")
    default_json, compat_json = tmp_path / "default.json", tmp_path / "compat.json"
    code, out, _ = score_cli(capsys, folder, year, "--json", default_json)
    assert code == 0 and "scored as all misses" in out
    code, out, _ = score_cli(capsys, folder, year, "--dcase-compat", "--json", compat_json)
    assert code == 0 and "skipped, as the official code does" in out
    default, compat = json.loads(default_json.read_text()), json.loads(compat_json.read_text())
    assert_close(compat["metrics"], golden_case(year, "missing_prediction_file")["results"]["polar"]["metrics"])
    assert default["counters"]["FN"] > compat["counters"]["FN"]


def test_2019_reference_without_prediction(tmp_path, capsys):
    """The official 2019 script refuses to score: so does --dcase-compat; the default scores it as misses."""
    folder = copy_case(tmp_path, 2019, "missing_prediction_file")
    code, out, err = score_cli(capsys, folder, 2019)
    assert code == 0 and "scored as all misses" in out
    code, out, err = score_cli(capsys, folder, 2019, "--dcase-compat")
    assert_one_line_error(code, out, err, "without prediction", "refuses to score")


# Where the official code crashes: exit 2 with one line naming the file, and the row and column where it can.
CRASHES = [
    (2019, "pred_class_11", ("column 'class'", "11 is out of range", "row 97 (line 97)")),
    (2019, "pred_float_values", ("column 'azimuth'", "30.4 is not an integer", "row 1 (line 1)")),
    (2019, "pred_header_line", ("line 1", "not a number")),
    (2019, "ref_unknown_class_name", ("row 1 (line 2)", "column 'sound_event_recording'", "'dog' is not a class")),
    (2020, "pred_polar_5col", ("row 1 (line 1)", "row has 5 fields; this format has 6")),
    (2020, "pred_header_line", ("line 1", "not a number")),
    (2021, "pred_header_line", ("line 1", "not a number")),
    (2020, "pred_file_without_reference", ("has no reference file",)),
    (2021, "pred_file_without_reference", ("has no reference file",)),
]


@pytest.mark.parametrize(("year", "case_id", "fragments"), CRASHES, ids=[f"{y}-{c}" for y, c, _ in CRASHES])
def test_official_crashes_are_one_line_errors(tmp_path, capsys, year, case_id, fragments):
    folder = copy_case(tmp_path, year, case_id)
    for compat in ((), ("--dcase-compat",)):
        code, out, err = score_cli(capsys, folder, year, *compat)
        assert_one_line_error(code, out, err, ".csv", *fragments)


HOSTILE_2019_REFERENCES = {
    "wrong column count": ("speech,1.0,2.0,10,20", "row has 5 fields; this format has 6", None),
    "decimal elevation": ("speech,1.0,2.0,10.5,20,1", "10.5 is not an integer", "ele"),
    "offset before onset": ("speech,3.0,2.0,10,20,1", "ends", "end_time"),
    "azimuth off the grid": ("speech,1.0,2.0,10,180,1", "out of range", "azi"),
    "negative onset": ("speech,-1.0,2.0,10,20,1", "out of range", "start_time"),
    "not a number": ("speech,abc,2.0,10,20,1", "not a number", "start_time"),
    "blank line": ("", "blank line", None),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE_2019_REFERENCES))
def test_hostile_2019_reference_rows(tmp_path, capsys, kind):
    line, fragment, column = HOSTILE_2019_REFERENCES[kind]
    folder = copy_case(tmp_path, 2019, "random_000")
    (reference,) = (folder / "ref").glob("*.csv")
    lines = reference.read_text().splitlines()
    lines.insert(2, line)
    reference.write_text("\n".join(lines) + "\n")
    code, out, err = score_cli(capsys, folder, 2019)
    assert_one_line_error(code, out, err, reference.name, "row 2 (line 3)", fragment)
    if column:
        assert f"column '{column}'" in err


def test_2019_reference_header(tmp_path):
    """The default checks the header line (a first line that is an event is read as one); --dcase-compat drops line 1
    unread, as the official loader does."""
    folder = copy_case(tmp_path, 2019, "random_000")
    (reference,) = (folder / "ref").glob("*.csv")
    lines = reference.read_text().splitlines()
    reference.write_text("\n".join(lines[1:]) + "\n")
    protocol = load_protocol("dcase2019-task3")
    default = score_dcase_folders(folder / "pred", folder / "ref", protocol).score.metrics
    assert_close(default, golden_case(2019, "random_000")["results"]["default"]["metrics"])
    compat = score_dcase_folders(folder / "pred", folder / "ref", with_settings(protocol, compat=True)).score
    assert (
        compat.totals.counts["Nref"].sum()
        < score_dcase_folders(folder / "pred", folder / "ref", protocol).score.totals.counts["Nref"].sum()
    )
    reference.write_text("class,onset,offset,ele,azi,dist\n" + "\n".join(lines[1:]) + "\n")
    with pytest.raises(InputError, match="header"):
        score_dcase_folders(folder / "pred", folder / "ref", protocol)


def test_compat_drops_other_column_counts_line_by_line(tmp_path, capsys):
    """The official 2020-2022 loaders drop each line of another column count; errors still name the right line."""
    folder = copy_case(tmp_path, 2021, "random_004")
    (prediction,) = (folder / "pred").glob("*.csv")
    lines = prediction.read_text().splitlines()
    with_extra = [lines[0], "7,1,0,0.1,0.2,0.3,1.5", *lines[1:]]
    prediction.write_text("\n".join(with_extra) + "\n")
    expected = golden_case(2021, "random_004")["results"]["polar"]["metrics"]
    assert_close(seldkit_metrics(folder, 2021, "polar", compat=True), expected)
    with_extra[5] = with_extra[5].replace(",", ",x", 1)
    prediction.write_text("\n".join(with_extra) + "\n")
    code, out, err = score_cli(capsys, folder, 2021, "--dcase-compat")
    assert_one_line_error(code, out, err, prediction.name, "(line 6)")


def test_fixed_window_rows_past_60_s_are_noted(tmp_path, capsys):
    for year in (2019, 2020, 2021):
        folder = copy_case(tmp_path, year, "frames_beyond_60s")
        code, out, _ = score_cli(capsys, folder, year)
        assert code == 0 and "outside the fixed 60 s window" in out


def test_empty_reference_is_scored_over_the_fixed_window(tmp_path, capsys):
    """Unlike 2022-2024, the official 2019-2021 code scores an empty reference: the false alarms count."""
    for year in (2019, 2020, 2021):
        folder = DCASE / str(year) / "cases" / "empty_reference"
        config = CONFIGS[year][0]
        assert_close(
            seldkit_metrics(folder, year, config), golden_case(year, "empty_reference")["results"][config]["metrics"]
        )


def test_per_group_breakdown_in_the_results_json(tmp_path, capsys):
    for year, case_id in ((2019, "multi_file_mix"), (2020, "multi_file_mix"), (2021, "random_003")):
        folder = DCASE / str(year) / "cases" / case_id
        out_json = tmp_path / f"{year}.json"
        code, out, _ = score_cli(capsys, folder, year, "--json", out_json)
        assert code == 0 and "recordings" in out and f"{next(iter(CONFIGS_GROUPS[year]))} " in out
        groups = json.loads(out_json.read_text())["groups"]
        expected = golden_case(year, case_id)["results"][CONFIGS[year][0]]["groups"]
        assert set(groups) == set(expected)
        for group, entries in expected.items():
            assert set(groups[group]) == set(entries)
            for key, entry in entries.items():
                assert sorted(groups[group][key]["files"]) == sorted(entry["files"])
                assert_close(groups[group][key]["metrics"], entry["metrics"], angle=1e-4)
    folder = DCASE / "2020" / "cases" / "nonstandard_file_names"
    code, out, _ = score_cli(capsys, folder, 2020, "--json", out_json)
    assert code == 0 and "no per-ov breakdown" in out and "foldF_roomR_mixMMM_ovO.csv" in out
    assert "groups" not in json.loads(out_json.read_text())


def test_year_recognition(capsys):
    for year, case_id in ((2019, "random_000"), (2020, "random_004")):
        folder = DCASE / str(year) / "cases" / case_id
        assert detect_year(folder / "pred", folder / "ref") == year
    # 2021 and 2022 share the 2020 formats: without DCASE2020 file names (or class 13) the year must be named.
    for year in (2021, 2022):
        folder = DCASE / str(year) / "cases" / "random_003"
        code, out, err = run_cli(capsys, "score", folder / "pred", "--ref", folder / "ref")
        assert_one_line_error(code, out, err, "dcase2020-task3, dcase2021-task3, dcase2022-task3", "--protocol")


def test_options_of_the_earlier_years(capsys):
    folder = DCASE / "2020" / "cases" / "random_004"
    code, out, _ = score_cli(capsys, folder, 2020, "--config", "cartesian")
    assert code == 0 and "configuration cartesian" in out
    code, _, err = score_cli(capsys, folder, 2020, "--average", "macro")
    assert code == 2 and "no macro-averaged variant" in err
    code, _, err = score_cli(capsys, DCASE / "2019" / "cases" / "random_004", 2019, "--config", "polar")
    assert code == 2 and "no configuration 'polar'" in err and "default" in err


@pytest.mark.parametrize(("year", "case_id"), [(2019, "random_004"), (2020, "random_006"), (2021, "random_003")])
def test_compare_and_report_on_a_multi_file_case(tmp_path, capsys, year, case_id):
    """`compare` resamples the recordings of these years; `report` shows the per-group breakdown."""
    folder = DCASE / str(year) / "cases" / case_id
    worse = tmp_path / "worse"
    worse.mkdir()
    for prediction in (folder / "pred").glob("*.csv"):
        lines = prediction.read_text().splitlines()
        (worse / prediction.name).write_text("".join(line + "\n" for index, line in enumerate(lines) if index % 3))
    out = tmp_path / "comparison.json"
    protocol = ("--protocol", f"dcase{year}-task3")
    code, _, err = run_cli(
        capsys,
        "compare",
        folder / "pred",
        worse,
        "--ref",
        folder / "ref",
        *protocol,
        "--resamples",
        "50",
        "--json",
        out,
    )
    assert code == 0, err
    comparison = json.loads(out.read_text())["comparison"]
    assert set(comparison["metrics"]) == set(golden_case(year, case_id)["results"][CONFIGS[year][0]]["metrics"])
    assert comparison["n"] == len(golden_case(year, case_id)["files"])
    pytest.importorskip("matplotlib")
    html = tmp_path / "report.html"
    code, _, err = run_cli(capsys, "report", folder / "pred", "--ref", folder / "ref", *protocol, "--out", html)
    assert code == 0, err
    assert "Per group" in html.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("year", [2019, 2020, 2021])
def test_verify_another_implementation_on_the_earlier_years(capsys, year):
    """`verify --impl-python` reads these suites' cases (2019 event lists included) and the plain loop scorers pass
    every case they take."""
    code, out, err = run_cli(
        capsys,
        "verify",
        "--suite",
        f"dcase/{year}",
        "--impl-python",
        "tests.regression.adapters.dcase2019_2021_loops:score",
    )
    assert code == 0, out + err
    row = next(line for line in out.splitlines() if line.startswith(f"dcase/{year}"))
    assert row.split()[3] == "0"  # failed
