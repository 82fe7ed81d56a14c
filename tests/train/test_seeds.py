"""``train-reference --seeds N``: N runs from consecutive seeds in seed0/, seed1/, ..., their summary, continuing,
and the folders a run of several seeds refuses."""

from __future__ import annotations

import contextlib
import io
import json
import statistics
from pathlib import Path

import pytest
import torch
import yaml

from seldkit.cli.main import main
from seldkit.errors import InputError
from seldkit.metrics.metadata import CLIP_METRICS
from seldkit.protocols import load_protocol
from seldkit.train.seeds import train_seeds
from tests.command import run_cli

RUN_FILES = (
    "run.json",
    "checkpoint.pt",
    "predictions.csv",
    "references.csv",
    "clips.csv",
    "chance_predictions.csv",
    "results.json",
    "results.md",
    "log.jsonl",
)


pytestmark = pytest.mark.usefixtures("tiny_cache")


@pytest.fixture(scope="module")
def two_seeds(tiny_folder, protocol) -> tuple[Path, str]:
    """A finished ``--seeds 2`` run of the tiny protocol (its seed is 3) and what the command printed."""
    out = tiny_folder / "two-seeds"
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed):
        patch.setenv("SELDKIT_CACHE", str(tiny_folder / "cache"))
        argv = ["train-reference", "dspast", "--protocol", str(protocol), "--out", str(out), "--seeds", "2"]
        assert main([*argv, "--quiet"]) == 0
    return out, printed.getvalue()


def final_state(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)["model"]


def test_two_seeds_write_two_run_folders_and_their_summary(two_seeds):
    out, printed = two_seeds
    assert sorted(path.name for path in out.iterdir()) == ["results.json", "results.md", "seed0", "seed1", "seeds.json"]
    for run in ("seed0", "seed1"):
        for name in RUN_FILES:
            assert (out / run / name).is_file(), (run, name)
    description = json.loads((out / "seeds.json").read_text())
    protocol_hash = json.loads((out / "seed0" / "run.json").read_text())["protocol"]["hash"]
    assert description["model"] == "dspast" and description["recipe"] == "dspast"
    assert description["seeds"] == [3, 4] and description["protocol"]["hash"] == protocol_hash
    assert [json.loads((out / run / "run.json").read_text())["seed"] for run in ("seed0", "seed1")] == [3, 4]
    # different seeds train different models on the same test clips
    assert (out / "seed0" / "predictions.csv").read_text() != (out / "seed1" / "predictions.csv").read_text()
    assert (out / "seed0" / "references.csv").read_bytes() == (out / "seed1" / "references.csv").read_bytes()
    assert (out / "seed0" / "clips.csv").read_bytes() == (out / "seed1" / "clips.csv").read_bytes()

    document = json.loads((out / "results.json").read_text())
    per_seed = [json.loads((out / run / "results.json").read_text()) for run in ("seed0", "seed1")]
    assert document["n_seeds"] == 2 and document["n"] == per_seed[0]["n"] == 16
    assert [seed["seed"] for seed in document["seeds"]] == [3, 4]
    for part, read in (("metrics", lambda run: run["metrics"]), ("chance", lambda run: run["chance"]["metrics"])):
        for name in CLIP_METRICS:
            values = [read(run)[name] for run in per_seed]
            assert [seed[part][name] for seed in document["seeds"]] == values
            summary = document["aggregate"][part][name]
            assert summary["mean"] == pytest.approx(statistics.mean(values), rel=1e-12)
            assert summary["sd"] == pytest.approx(statistics.stdev(values), rel=1e-12, abs=1e-15)
            assert (summary["min"], summary["max"], summary["n"]) == (min(values), max(values), 2)
    assert document["aggregate"]["metrics"]["MAE"]["sd"] > 0  # the seeds did not train the same model

    table = (out / "results.md").read_text()
    assert "| 3 (seed0) |" in table and "| 4 (seed1) |" in table and "| mean ± sd |" in table
    lines = printed.splitlines()
    assert any(line.strip().startswith("seed 3 (seed0/)") and "MAE" in line for line in lines)
    assert any(line.strip().startswith("seed 4 (seed1/)") for line in lines)
    mae = document["aggregate"]["metrics"]["MAE"]
    assert any(line.split()[:1] == ["MAE"] and f"{mae['mean']:.2f} ± {mae['sd']:.2f}" in line for line in lines)


def test_continuing_skips_finished_seeds_and_resumes_the_unfinished_one(tmp_path, protocol, two_seeds, capsys):
    straight, _ = two_seeds
    out = tmp_path / "interrupted"
    steps = {"count": 0}

    def interrupt(trainer) -> None:
        if trainer.config.seed == 4:  # mid-run of the second seed
            steps["count"] += 1
            if steps["count"] == 6:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_seeds("dspast", n_seeds=2, protocol=protocol, out=out, progress=False, on_step=interrupt)
    assert (out / "seed0" / "results.json").is_file() and not (out / "seed1" / "results.json").exists()
    assert not (out / "results.json").exists()
    finished = {name: (out / "seed0" / name).stat().st_mtime_ns for name in ("results.json", "checkpoint.pt")}

    code, printed, err = run_cli(
        capsys, "train-reference", "dspast", "--protocol", protocol, "--out", out, "--seeds", "2", "--quiet"
    )
    assert code == 0, err
    assert "seed 3 " in printed and "finished before: skipped" in printed
    assert "seed 4: continuing the unfinished run" in printed
    assert {name: (out / "seed0" / name).stat().st_mtime_ns for name in finished} == finished  # not trained again
    for run in ("seed0", "seed1"):  # the resumed seed ends where the straight one did
        expected, resumed = final_state(straight / run), final_state(out / run)
        for key in expected:
            torch.testing.assert_close(resumed[key], expected[key], rtol=0, atol=0, msg=key)
    assert (
        json.loads((out / "results.json").read_text())["aggregate"]
        == json.loads((straight / "results.json").read_text())["aggregate"]
    )


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["dspast", "--seeds", "3"], "holds 2 seeds (3, 4) of dspast"),
        (["spatialast", "--seeds", "2"], "holds 2 seeds (3, 4) of dspast"),
        (["dspast"], "holds the runs of several training seeds (seeds.json)"),
    ],
)
def test_a_folder_of_seeds_refuses_another_count_or_model(two_seeds, protocol, capsys, argv, says):
    out, _ = two_seeds
    before = sorted(str(path) for path in out.rglob("*"))
    code, _, err = run_cli(capsys, "train-reference", *argv, "--protocol", protocol, "--out", out, "--quiet")
    assert code == 2 and says in err and str(out) in err, err
    assert len(err.strip().splitlines()) == 1
    assert sorted(str(path) for path in out.rglob("*")) == before


def test_finished_seeds_and_a_single_run_folder_are_refused(two_seeds, protocol, capsys):
    out, _ = two_seeds
    code, _, err = run_cli(
        capsys, "train-reference", "dspast", "--protocol", protocol, "--out", out, "--seeds", "2", "--quiet"
    )
    assert code == 2 and "finished runs of every seed" in err and len(err.strip().splitlines()) == 1
    code, _, err = run_cli(
        capsys, "train-reference", "dspast", "--protocol", protocol, "--out", out / "seed0", "--seeds", "2"
    )
    assert code == 2 and "holds the run of one seed (run.json)" in err and len(err.strip().splitlines()) == 1


def test_the_protocol_sets_the_seeds_and_the_option_overrides_it(tmp_path, protocol, capsys):
    from seldkit.train.config import TrainConfig

    content = yaml.safe_load(protocol.read_text())
    content["training"]["seeds"] = 3
    content["training"]["spatialast"]["seeds"] = 2  # a recipe may override it
    path = tmp_path / "seeds.yaml"
    path.write_text(yaml.safe_dump(content))
    loaded = load_protocol(path)
    assert loaded.train.recipe("dspast", protocol_name="p").seeds == 3
    assert loaded.train.recipe("spatialast", protocol_name="p").seeds == 2
    assert load_protocol(protocol).train.recipe("dspast", protocol_name="p").seeds == 1
    assert TrainConfig.__dataclass_fields__["seeds"].default == 1
    # --seeds 1 overrides training.seeds: 3, an ordinary run folder
    out = tmp_path / "one"
    code, _, err = run_cli(
        capsys, "train-reference", "dspast", "--protocol", path, "--out", out, "--seeds", "1", "--quiet"
    )
    assert code == 0, err
    assert (out / "run.json").is_file() and not (out / "seeds.json").exists()


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (0, "training.seeds must be >= 1, not 0"),
        (101, "training.seeds must be <= 100, not 101"),
        (True, "training.seeds must be a whole number, not a boolean (true)"),
        (2.5, "training.seeds must be a whole number, not the number 2.5"),
    ],
)
def test_bad_seed_counts_name_the_file_and_key(tmp_path, protocol, value, says):
    content = yaml.safe_load(protocol.read_text())
    content["training"]["seeds"] = value
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(content))
    with pytest.raises(InputError) as raised:
        load_protocol(path)
    assert str(raised.value) == f"{path}: {says}"


@pytest.mark.parametrize("text", ["0", "101", "two"])
def test_bad_seeds_option_is_a_usage_error(protocol, tmp_path, capsys, text):
    with pytest.raises(SystemExit) as raised:
        run_cli(capsys, "train-reference", "dspast", "--protocol", protocol, "--out", tmp_path / "x", "--seeds", text)
    assert raised.value.code == 2
    assert "--seeds" in capsys.readouterr().err and not (tmp_path / "x").exists()
