"""`seldkit verify --impl-command / --impl-python`: other implementations checked against the golden cases.

The worked examples (tests/regression/adapters) are a lab's metric code: the published clip metrics written from
their definition, a per-frame DCASE 2024 scorer in the official naming, and each with a classic mistake. Correct
code passes every case it takes; the mistaken code fails exactly the cases that exercise the mistake, which are
found here from the case files, independently of the expected values.
"""

from __future__ import annotations

import csv
import shlex
import sys
from pathlib import Path

import pytest

import seldkit.regression
from seldkit.regression import cases
from seldkit.regression.golden_cases import RegressionCase
from tests.command import run_cli
from tests.regression.adapters import dcase2024_frames

ADAPTERS = Path(__file__).parent / "adapters"
NAMES = ADAPTERS / "official_names.yaml"
SCHEMA = Path(__file__).parents[1] / "fixtures" / "junit" / "junit-10.xsd"
PYTHON = shlex.quote(sys.executable)


# The documented pytest use: one test per case of a suite, for a lab's own scorer.
@pytest.mark.parametrize(
    "case", [case for case in cases("dcase/2024") if case.config == "macro"], ids=lambda case: case.id
)
def test_a_lab_scorer_against_every_macro_case(case: RegressionCase):
    if case.expected is None:
        pytest.skip(case.no_value)
    predictions, references = case.load()
    got = seldkit_names(dcase2024_frames.score(predictions, references, config=case.config))
    deviations = case.deviations(got)
    assert set(deviations) == set(case.expected)
    assert all(value <= 1 for value in deviations.values()), deviations


def seldkit_names(official: dict) -> dict:
    return {
        "ER_20": official["ER"],
        "F_20": official["F"] / 100,
        "DOAE_CD": official["LE"],
        "DistE_CD": official["DE"],
        "RDE_CD": official["RDE"],
        "LR_CD": official["LR"] / 100,
        "SELD": official["SELD"],
    }


def test_cases_carry_inputs_expected_values_and_tolerances():
    dcase = cases("dcase/2024")
    assert len(dcase) == 38 * 4  # 38 cases x 4 configurations
    first = dcase[0]
    assert first.predictions.is_dir() and first.references.is_dir()
    predictions, references = first.load()
    assert set(predictions) == {"clip_a.csv"} and predictions["clip_a.csv"].shape[1] in (6, 7)
    assert first.tolerances["DOAE_CD"].abs == 1e-3 and first.tolerances["F_20"].rel == 1e-9
    assert [case.expected for case in dcase if case.case == "empty_reference"] == [None] * 4
    clip = cases("clip")
    assert {case.config for case in clip} == {"reference", "continuous"}
    predictions, references = clip[0].load()
    assert list(references.columns[:2]) == ["clip_id", "labels"] and isinstance(references["labels"][0], str)
    assert predictions["clip_id"].tolist() == references["clip_id"].tolist() == ["clip_only"]
    assert len(cases("dcase")) == sum(len(cases(f"dcase/{year}")) for year in range(2019, 2026))
    qa = cases("qa")
    assert {case.config for case in qa} == {"trigram256", "minilm"} and len(qa) == 2 * 15
    answers, questions = qa[0].load()
    assert {"question_id", "question_type", "answer"} <= set(answers[0]) and isinstance(questions["data"], list)
    with pytest.raises(seldkit.errors.InputError, match="unknown suite 'dcase/1999'"):
        cases("dcase/1999")


def verify_python(capsys, suite: str, function: str, *options: object) -> tuple[int, str]:
    """``seldkit verify --suite SUITE --impl-python FUNCTION OPTIONS``: (exit code, standard output)."""
    code, out, _ = run_cli(capsys, "verify", "--suite", suite, "--impl-python", function, *options)
    return code, out


def test_the_published_clip_metrics_pass(capsys):
    code, out = verify_python(capsys, "clip", f"{ADAPTERS / 'bat_clip.py'}:score")
    assert code == 0, out
    assert suite_row(out, "clip") == {"cases": 36, "passed": 18, "failed": 0, "skipped": 18}
    assert "declined by the implementation: implements the published (reference) mode only" in out


def test_mean_over_classes_with_positives_fails_exactly_the_cases_with_an_empty_class(capsys):
    code, out = verify_python(capsys, "clip", "tests.regression.adapters.bat_clip:score_without_empty_classes")
    assert code == 1
    exercised = {
        f"{case.case}/reference" for case in cases("clip") if case.config == "reference" and has_empty_class(case)
    }
    assert len(exercised) >= 3
    assert failed_ids(out, "clip") == exercised
    assert "[events]: mAP: got " in out and "expected" in out and "x tolerance" in out
    assert "[direction]" not in out  # the mistake touches mAP only


def has_empty_class(case: RegressionCase) -> bool:
    with case.predictions.open() as handle:
        classes = [
            name for name in next(csv.reader(handle)) if name not in ("clip_id", "azimuth", "elevation", "distance")
        ]
    with case.references.open() as handle:
        active = {label for row in csv.DictReader(handle) for label in row["labels"].split(";") if label}
    return bool(classes) and not set(classes) <= active


def test_a_per_frame_scorer_in_official_names_passes(capsys):
    code, out = verify_python(
        capsys, "dcase/2024", "tests.regression.adapters.dcase2024_frames:score", "--names", NAMES
    )
    assert code == 0, out
    row = suite_row(out, "dcase/2024")
    assert row["failed"] == 0 and row["passed"] == 38 - 3  # every macro case with an official value
    assert "no expected value: the official code raises on this input" in out


def test_per_recording_averaging_fails_exactly_the_multi_recording_cases(capsys):
    code, out = verify_python(
        capsys, "dcase/2024", "tests.regression.adapters.dcase2024_frames:score_per_file", "--names", NAMES
    )
    assert code == 1
    assert failed_ids(out, "dcase/2024") == multi_recording_cases()
    assert "SELD: got " in out


def multi_recording_cases() -> set[str]:
    """Macro cases whose score pools two or more recordings that have a prediction file."""
    found = set()
    for case in cases("dcase/2024"):
        if case.config != "macro" or case.expected is None:
            continue
        scored = {path.name for path in case.references.glob("*.csv")} & {
            path.name for path in case.predictions.glob("*.csv")
        }
        if len(scored) >= 2:
            found.add(case.id)
    assert len(found) >= 3
    return found


@pytest.mark.slow
def test_seldkit_itself_through_the_command_passes_every_case(capsys, tmp_path):
    command = (
        f"{PYTHON} -m seldkit score {{preds}} --ref {{ref}} --protocol dcase2024-task3 --config {{config}} "
        "--dcase-compat --json {out}"
    )
    report = tmp_path / "report.xml"
    code, out, _ = run_cli(capsys, "verify", "--suite", "dcase/2024", "--impl-command", command, "--junit", report)
    assert code == 0, out
    assert suite_row(out, "dcase/2024") == {"cases": 152, "passed": 142, "failed": 0, "skipped": 10}
    assert_valid_junit(report)


def test_a_broken_command_fails_the_right_cases_and_the_junit_report_says_so(capsys, tmp_path):
    command = f"{PYTHON} {shlex.quote(str(ADAPTERS / 'per_file_command.py'))} {{preds}} {{ref}} {{config}} {{out}}"
    report = tmp_path / "report.xml"
    chosen = ("perfect_3classes/macro", "random_00[0-4]/macro", "multi_file_mix/macro", "empty_both/macro")
    options = [item for pattern in chosen for item in ("--case", pattern)]
    code, out, _ = run_cli(
        capsys,
        "verify",
        "--suite",
        "dcase/2024",
        "--impl-command",
        command,
        "--names",
        NAMES,
        *options,
        "--junit",
        report,
    )
    assert code == 1
    picked = {"perfect_3classes/macro", "multi_file_mix/macro"} | {f"random_00{n}/macro" for n in range(5)}
    assert failed_ids(out, "dcase/2024") == multi_recording_cases() & picked
    assert "[localisation]: DOAE_CD: got" in out

    suites = assert_valid_junit(report)
    testcases = [case for suite in suites for case in suite["testcase"]]
    # one test case per suite case x metric group; the case without expected values is one skipped test
    assert len(testcases) == 7 * 4 + 1
    failed = {case["@name"].split(" [")[0] for case in testcases if "failure" in case}
    assert failed == multi_recording_cases() & picked
    assert any("skipped" in case and case["@name"] == "empty_both/macro [all]" for case in testcases)
    assert all(case["@classname"] == "seldkit.dcase.2024" for case in testcases)


def test_junit_of_seldkit_itself(capsys, tmp_path):
    report = tmp_path / "own.xml"
    code, _, _ = run_cli(capsys, "verify", "--suite", "clip", "--junit", report)
    assert code == 0
    suites = assert_valid_junit(report)
    assert suites[0]["@name"] == "clip" and len(suites[0]["testcase"]) == 36


def assert_valid_junit(path: Path) -> list[dict]:
    """Validate ``path`` against the Jenkins JUnit schema; its ``testsuite`` elements as dictionaries."""
    xmlschema = pytest.importorskip("xmlschema")
    schema = xmlschema.XMLSchema(SCHEMA)
    schema.validate(path)
    document = schema.to_dict(path)
    return document["testsuite"]


def suite_row(out: str, suite: str) -> dict[str, int]:
    header = next(line for line in out.splitlines() if line.startswith("suite"))
    row = next(line for line in out.splitlines() if line.startswith(suite + " "))
    titles = header.split()[1:5]
    return dict(zip(titles, map(int, row.split()[1:5])))


def failed_ids(out: str, suite: str) -> set[str]:
    prefix = f"FAIL {suite}/"
    return {line[len(prefix) :].split(" [")[0] for line in out.splitlines() if line.startswith(prefix)}


# Hostile use: every problem of the options or files is exit 2 with one line naming it.


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("- ER\n- F\n", "a metric name map is a YAML mapping"),
        ("ER: ER_2O\n", "'ER_2O' is not a metric of the chosen suites"),
        ("F: {name: F_20, scale: 0}\n", "scale must be a finite non-zero number"),
        ("F: {name: F_20, factor: 2}\n", "give a metric name or {name: ..., scale: ...}"),
        ("ER: [ER_20]\n", "names are strings"),
        ("ER: &a ER_20\nF: *a\n", "names.yaml"),
    ],
)
def test_bad_name_maps(capsys, tmp_path, content, message):
    names = tmp_path / "names.yaml"
    names.write_text(content)
    code, _, err = run_cli(
        capsys, "verify", "--suite", "dcase/2024", "--impl-python", "tests.regression.adapters.dcase2024_frames:score",
        "--names", names,
    )  # fmt: skip
    assert code == 2 and message in err and str(names) in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--impl-python", "nocolon"], "MODULE:FUNCTION"),
        (["--impl-python", "no_such_module_here:score"], "cannot import no_such_module_here"),
        (["--impl-python", "tests.regression.adapters.bat_clip:nope"], "has no function 'nope'"),
        (["--impl-python", "missing.py:score"], "missing.py: not found"),
        (["--impl-command", "python x.py {preds} {ref} {output}"], "unknown placeholder {output}"),
        (["--impl-command", "python x.py {preds}"], "needs the placeholders {preds} and {ref}"),
        (["--impl-command", "no-such-program-xyz {preds} {ref}"], "'no-such-program-xyz' not found"),
        (["--impl-command", "python 'unclosed {preds} {ref}"], "cannot split the command line"),
        (["--names", "x.yaml"], "apply to --impl-command / --impl-python"),
        (["--impl-python", "tests.regression.adapters.bat_clip:score", "--case", "nothing*"], "no case matches"),
    ],
)
def test_bad_implementation_options(capsys, options, message):
    code, _, err = run_cli(capsys, "verify", "--suite", "clip", *options)
    assert code == 2 and message in err and "Traceback" not in err


def test_junit_into_a_folder_is_refused_before_running(capsys, tmp_path):
    code, _, err = run_cli(capsys, "verify", "--suite", "clip", "--junit", tmp_path)
    assert code == 2 and str(tmp_path) in err


def crashing(predictions, references):
    raise ValueError("index 7 is out of bounds\nfor axis 0")


def not_a_mapping(predictions, references):
    return [0.1, 0.2]


def wrong_names(predictions, references):
    return {"accuracy": 0.5}


def test_crashes_and_wrong_results_fail_the_case_with_the_reason(capsys):
    here = f"{Path(__file__)}"
    for function, reason in (
        ("crashing", "raised ValueError: index 7 is out of bounds for axis 0"),
        ("not_a_mapping", "returned list, not a mapping of metric names to values"),
        ("wrong_names", "returned none of the expected metrics"),
    ):
        code, out, _ = run_cli(
            capsys, "verify", "--suite", "clip", "--case", "single_clip/*", "--impl-python", f"{here}:{function}"
        )
        assert code == 1 and reason in out, out


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        (
            "import sys; sys.stderr.write('boom: no such frame\\n'); sys.exit(3)",
            "exited with status 3: boom: no such frame",
        ),
        ("import json, sys; json.dump({'skipped': 'polar input only'}, open(sys.argv[1], 'w'))", "skipped"),
        ("import sys; open(sys.argv[1], 'w').write('not json')", "wrote output that is not JSON"),
        ("pass", "wrote no JSON to {out}"),
    ],
)
def test_command_outcomes(capsys, tmp_path, script, expected):
    program = tmp_path / "impl.py"
    program.write_text(script)
    command = f"{PYTHON} {shlex.quote(str(program))} {{out}} {{preds}} {{ref}}"
    code, out, _ = run_cli(
        capsys, "verify", "--suite", "clip", "--case", "two_clips/reference", "--impl-command", command
    )
    if expected == "skipped":
        assert code == 1 and "skipped clip: declined by the implementation: polar input only" in out  # nothing passed
    else:
        assert code == 1 and expected in out, out


def test_command_output_on_stdout_and_placeholders_with_spaces(capsys, tmp_path):
    folder = tmp_path / "my impl"
    folder.mkdir()
    program = folder / "impl.py"
    program.write_text(
        "import json, sys\n"
        "params = json.load(open(sys.argv[3]))\n"
        "assert sys.argv[4] == 'reference' and params['mode'] == 'reference'\n"
        "print(json.dumps({'n_clips': 2}))\n"
    )
    command = f"{PYTHON} {shlex.quote(str(program))} {{preds}} {{ref}} {{params}} {{config}}"
    code, out, _ = run_cli(
        capsys, "verify", "--suite", "clip", "--case", "two_clips/reference", "--impl-command", command
    )
    assert code == 0, out
    assert suite_row(out, "clip") == {"cases": 1, "passed": 1, "failed": 0, "skipped": 0}


@pytest.mark.parametrize("perturb", [False, True])
def test_qa_scorer_through_the_command(capsys, tmp_path, perturb):
    """seldkit's own QA scorer passes every case it takes; a wrong E average fails exactly the E group."""
    program = tmp_path / "qa_impl.py"
    program.write_text(
        "import json, subprocess, sys\n"
        "preds, ref, embedder, out = sys.argv[1:5]\n"
        "subprocess.run([sys.executable, '-m', 'seldkit', 'score', preds, '--ref', ref, '--embedder', embedder,\n"
        "                '--json', out], check=True, capture_output=True)\n"
        f"if {perturb}:\n"
        "    document = json.load(open(out))\n"
        "    document['metrics']['E']['E_avg'] += 1e-6\n"
        "    json.dump(document, open(out, 'w'))\n"
    )
    command = f"{PYTHON} {shlex.quote(str(program))} {{preds}} {{ref}} {{config}} {{out}}"
    chosen = ("mixed_all_types/trigram256", "binary_yes_no_forms/trigram256", "error_key_mismatch/trigram256")
    options = [item for pattern in chosen for item in ("--case", pattern)]
    code, out, _ = run_cli(capsys, "verify", "--suite", "qa", "--impl-command", command, *options)
    assert suite_row(out, "qa") == {
        "cases": 3,
        "passed": 0 if perturb else 2,
        "failed": 2 if perturb else 0,
        "skipped": 1,
    }
    assert "no expected value: input to refuse (key_mismatch)" in out
    if perturb:
        assert code == 1
        failing = {line.split(": ")[0] for line in out.splitlines() if line.startswith("FAIL")}
        assert failing == {"FAIL qa/mixed_all_types/trigram256 [E]", "FAIL qa/binary_yes_no_forms/trigram256 [E]"}
        assert "E.E_avg: got" in out
    else:
        assert code == 0, out
