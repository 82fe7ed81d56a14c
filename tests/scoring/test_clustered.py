"""Clustered paired bootstrap: clips that share an independent unit (an impulse response, a room) are resampled
together. Checked on simulated systems whose difference varies between clusters by a known amount: the
clustered 95 % intervals hold the true difference at about their level, clip-level intervals do not, and
without cluster structure the two agree."""

from __future__ import annotations

import json

import numpy as np
import pytest

from seldkit.metrics.clip import PerClipInputs
from seldkit.metrics.paired import paired_difference
from seldkit.metrics.stats import clip_metric_samples, cluster_indices
from tests.command import run_cli

CLUSTERS, PER_CLUSTER, DELTA = 30, 10, 2.0


def clustered_pair(rng: np.random.Generator, *, between: float, shared: float = 10.0):
    """Angles of systems A and B on CLUSTERS x PER_CLUSTER clips.

    Both share a cluster difficulty (sd ``shared``) and a clip difficulty; B's error differs from A's by DELTA plus a
    cluster effect of sd ``between`` (the between-cluster variance of the difference) plus clip noise.
    """
    groups = np.repeat(np.arange(CLUSTERS), PER_CLUSTER)
    difficulty = 60.0 + rng.normal(0.0, shared, CLUSTERS)[groups] + rng.normal(0.0, 5.0, groups.size)
    angles_a = difficulty + rng.normal(0.0, 3.0, groups.size)
    angles_b = difficulty + DELTA + rng.normal(0.0, between, CLUSTERS)[groups] + rng.normal(0.0, 3.0, groups.size)
    make = lambda angles: PerClipInputs(groups.size, None, None, angles, None)  # noqa: E731
    return make(angles_a), make(angles_b), groups


def interval(system_a, system_b, groups, *, seed: int, n_resamples: int = 300):
    samples = [
        clip_metric_samples(system, mode="continuous", n_resamples=n_resamples, seed=seed, groups=groups)[0]["MAE"]
        for system in (system_a, system_b)
    ]
    result = paired_difference(
        "MAE", float(system_a.angles.mean()), float(system_b.angles.mean()), samples[0], samples[1]
    )
    return result.low, result.high


def test_clustered_intervals_cover_the_true_difference_and_clip_intervals_do_not():
    """400 simulated evaluations with a between-cluster sd of 4 degrees in the difference (true B - A = DELTA):
    clustered intervals cover DELTA in 91-98 % of them; clip-level ones, too narrow, far less often."""
    rng = np.random.default_rng(5)
    covered = {"clusters": 0, "clips": 0}
    repeats = 400
    for repeat in range(repeats):
        system_a, system_b, groups = clustered_pair(rng, between=4.0)
        for name, grouping in (("clusters", groups), ("clips", None)):
            low, high = interval(system_a, system_b, grouping, seed=repeat)
            covered[name] += low <= DELTA <= high
    assert 0.91 <= covered["clusters"] / repeats <= 0.98, covered
    assert covered["clips"] / repeats < 0.75, covered


def test_clustered_intervals_are_wider_with_cluster_structure_and_equal_without():
    rng = np.random.default_rng(8)
    ratios = {"with": [], "without": []}
    for repeat in range(60):
        for name, between, shared in (("with", 4.0, 10.0), ("without", 0.0, 0.0)):
            system_a, system_b, groups = clustered_pair(rng, between=between, shared=shared)
            clustered = np.subtract(*reversed(interval(system_a, system_b, groups, seed=repeat)))
            clip_level = np.subtract(*reversed(interval(system_a, system_b, None, seed=repeat)))
            ratios[name].append(clustered / clip_level)
    assert np.mean(ratios["with"]) > 2.0, np.mean(ratios["with"])
    assert 0.9 <= np.mean(ratios["without"]) <= 1.1, np.mean(ratios["without"])


def test_one_clip_per_cluster_is_the_clip_bootstrap():
    rng = np.random.default_rng(2)
    system = PerClipInputs(50, rng.random((50, 3)), rng.random((50, 3)) < 0.3, rng.exponential(20.0, 50), None)
    plain, plain_ap = clip_metric_samples(system, mode="continuous", n_resamples=64, seed=4)
    singletons, singleton_ap = clip_metric_samples(
        system, mode="continuous", n_resamples=64, seed=4, groups=np.arange(50)
    )
    for name in plain:  # the same draws; the products may round differently in the last bit
        np.testing.assert_allclose(plain[name], singletons[name], rtol=1e-12, atol=0)
    np.testing.assert_array_equal(plain_ap, singleton_ap)


def test_a_resample_of_clusters_equals_scoring_the_duplicated_clusters():
    """Every resample's MAE and ER20 equal the plain metrics of the clips of the drawn clusters, repeated."""
    from seldkit.metrics.stats import clustered_count_blocks

    rng = np.random.default_rng(9)
    groups = cluster_indices([f"room{index % 7}" for index in range(40)])
    angles = rng.exponential(25.0, 40)
    system = PerClipInputs(40, None, None, angles, None)
    samples, _ = clip_metric_samples(system, mode="continuous", n_resamples=20, seed=1, groups=groups)
    counts = next(iter(clustered_count_blocks(groups, 20, seed=1)))
    for row in range(20):
        repeated = np.repeat(angles, counts[row])
        assert samples["MAE"][row] == pytest.approx(repeated.mean(), rel=1e-12)
        assert samples["ER20"][row] == pytest.approx(np.mean(repeated > 20.0), rel=1e-12)


def write_clip_files(folder, rng):
    ids = [f"c{index:03d}" for index in range(60)]
    rooms = [f"room{index // 10}" for index in range(60)]
    azimuth = rng.uniform(0, 360, 60)
    (folder / "ref.csv").write_text(
        "clip_id,labels,azimuth,elevation\n" + "".join(f"{i},,{a:.3f},0\n" for i, a in zip(ids, azimuth))
    )
    for name, spread in (("a", 30.0), ("b", 20.0)):
        predicted = azimuth + rng.normal(0.0, spread, 60)
        (folder / f"{name}.csv").write_text(
            "clip_id,azimuth,elevation\n" + "".join(f"{i},{a:.3f},0\n" for i, a in zip(ids, predicted))
        )
    (folder / "clips.csv").write_text("clip_id,room\n" + "".join(f"{i},{r}\n" for i, r in zip(ids, rooms)))
    return ids


def test_compare_resamples_the_groups_of_a_metadata_file(tmp_path, capsys):
    write_clip_files(tmp_path, np.random.default_rng(0))
    files = [str(tmp_path / name) for name in ("a.csv", "b.csv")]
    options = ["--ref", str(tmp_path / "ref.csv"), "--protocol", "clip-continuous", "--resamples", "200"]
    code, out, err = run_cli(
        capsys,
        "compare",
        *files,
        *options,
        "--group-by",
        "room",
        "--groups",
        str(tmp_path / "clips.csv"),
        "--json",
        str(tmp_path / "grouped.json"),
    )
    assert code == 0, err
    assert "6 clusters of clips (room)" in out
    document = json.loads((tmp_path / "grouped.json").read_text())
    assert document["comparison"]["method"] == "paired percentile bootstrap over clusters of clips (room)"
    assert document["comparison"]["n"] == 6 and document["inputs"]["groups"]["column"] == "room"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ("drop-row", "1 clips of the references have no 'room' here (first: 'c059')"),
        ("no-column", "room"),
        ("one-room", "at least two 'room' values"),
        ("no-file", "--group-by COLUMN and --groups FILE go together"),
    ],
)
def test_bad_groups_are_refused(tmp_path, capsys, change, says):
    write_clip_files(tmp_path, np.random.default_rng(0))
    clips = tmp_path / "clips.csv"
    lines = clips.read_text().splitlines()
    if change == "drop-row":
        clips.write_text("\n".join(lines[:-1]) + "\n")
    elif change == "no-column":
        clips.write_text(
            "\n".join(line.split(",")[0] + ",x" for line in lines).replace("clip_id,x", "clip_id,other", 1)
        )
    elif change == "one-room":
        clips.write_text("clip_id,room\n" + "".join(f"{line.split(',')[0]},r\n" for line in lines[1:]))
    extra = ["--group-by", "room"] + ([] if change == "no-file" else ["--groups", str(clips)])
    files = [str(tmp_path / name) for name in ("a.csv", "b.csv")]
    code, _, err = run_cli(
        capsys, "compare", *files, "--ref", str(tmp_path / "ref.csv"), "--protocol", "clip-continuous", *extra
    )
    assert code == 2 and says in err and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1


def test_groups_are_refused_where_the_task_resamples_its_own_units(tmp_path):
    from seldkit.errors import InputError
    from seldkit.io.clip import ClipGroups
    from seldkit.protocols import load_protocol
    from seldkit.tasks import compare_systems
    from tests.golden import REPO

    starss = REPO / "tests" / "fixtures" / "starss22"
    groups = ClipGroups(tmp_path / "clips.csv", "room")
    with pytest.raises(InputError, match="--group-by applies to clip-level comparisons, not to dcase"):
        compare_systems(
            starss / "predictions",
            starss / "predictions",
            starss / "metadata_dev",
            load_protocol("dcase2022-task3"),
            groups=groups,
        )
