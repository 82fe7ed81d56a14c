"""Reports: every figure renders from small fixtures and shows what it claims; the command writes one HTML
file with the images embedded plus the PNGs; headless Chromium loads every image of a real report."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import numpy as np
import pytest

from seldkit.metrics.paired import compare_samples
from seldkit.report.figures import clip, comparison, dcase, qa, training
from seldkit.report.html import FigureItem, Report, Section, Table, png_bytes, write_report
from tests.command import run_cli
from tests.golden import REPO

STARSS22 = REPO / "tests" / "fixtures" / "starss22"
QA_CASE = REPO / "metrics" / "regression" / "qa" / "cases" / "random_medium"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bar_heights(axes) -> list[float]:
    return [patch.get_height() for patch in axes.patches]


def test_per_class_ap_is_sorted_and_skips_classes_without_positives():
    ap = np.array([0.2, np.nan, 0.9, 0.5])
    figure = clip.per_class_ap(
        ap, ["a", "b", "c", "d"], intervals=np.array([[0.1, 0.3], [np.nan] * 2, [0.8, 1.0], [0.4, 0.6]])
    )
    axes = figure.axes[0]
    widths = [patch.get_width() for patch in axes.patches]
    assert widths == [0.9, 0.5, 0.2]
    assert [label.get_text() for label in axes.get_yticklabels()] == ["c", "d", "a"]
    assert png_bytes(figure).startswith(PNG_SIGNATURE)


def test_per_class_ap_shows_best_and_worst_of_many_classes():
    ap = np.linspace(0.0, 1.0, 355)
    figure = clip.per_class_ap(ap, [f"class {i}" for i in range(355)])
    widths = [patch.get_width() for patch in figure.axes[0].patches]
    assert len(widths) == clip.MAX_CLASS_BARS and widths[0] == 1.0 and widths[-1] == 0.0


def test_angular_error_histogram_counts_and_cumulative_threshold():
    angles = np.array([1.0, 3.0, 12.0, 19.0, 25.0, 90.0, 179.0, 44.0])
    figure = clip.angular_errors(angles, threshold_deg=20.0)
    histogram, cumulative = figure.axes
    assert sum(bar_heights(histogram)) == len(angles)
    assert bar_heights(histogram)[0] == 2  # 0-5 degrees: 1 and 3
    x, y = cumulative.lines[0].get_data()
    assert np.allclose(x, np.sort(angles)) and y[-1] == 1.0
    assert "50.0 % within 20°" in cumulative.texts[0].get_text()


def test_error_by_azimuth_sector_means():
    azimuth = np.array([5.0, 10.0, 95.0, 350.0])
    angles = np.array([10.0, 30.0, 40.0, 7.0])
    figure = clip.error_by_azimuth(azimuth, angles, bins=4)
    heights = bar_heights(figure.axes[0])
    assert heights == [20.0, 40.0, 0.0, 7.0]  # sectors 0-90, 90-180, 180-270 (empty), 270-360


@pytest.mark.parametrize("mode", ["continuous", "reference"])
def test_distance_confusion_rows_and_error_by_distance(mode):
    from seldkit.metrics.clip import distance_wrong

    reference = np.array([0.6, 0.7, 1.2, 2.9])
    predicted = np.array([0.6, 1.6, 1.3, 1.0])
    wrong = distance_wrong(predicted, reference, mode=mode, tolerance_m=0.5)
    figure = clip.distance_errors(reference, predicted, wrong)
    confusion = figure.axes[0].images[0].get_array()
    assert confusion.shape == (6, 6)
    assert confusion[1, 1] == 0.5 and confusion[1, 3] == 0.5 and confusion[2, 2] == 1.0 and confusion[5, 2] == 1.0
    errors = next(axes for axes in figure.axes if axes.get_ylabel() == "mean absolute error (m)")
    assert np.allclose(bar_heights(errors), [0.45, 0.1, 1.9])
    rate = next(axes for axes in figure.axes if axes.get_ylabel().startswith("share counted wrong"))
    # per reference bin, the share the metric counts wrong: the figure and the DER of the table agree in both modes
    # (reference mode compares rounded 0.5 m classes: 0.7 -> class 1, 1.6 -> class 3, more than one apart)
    assert np.allclose(rate.lines[0].get_ydata(), [0.5, 0.0, 1.0])
    counts = np.array([2, 1, 1])
    assert np.dot(rate.lines[0].get_ydata(), counts) / counts.sum() == pytest.approx(wrong.mean())
    # 1.0 m against 1.6 m: 0.6 m off (wrong in continuous mode), neighbouring classes 2 and 3 (right in reference mode)
    single = clip.distance_errors(
        np.array([1.0]), np.array([1.6]), distance_wrong(np.array([1.6]), np.array([1.0]), mode=mode)
    )
    rate = next(axes for axes in single.axes if axes.get_ylabel().startswith("share counted wrong"))
    assert list(rate.lines[0].get_ydata()) == [1.0 if mode == "continuous" else 0.0]


def test_dcase_classwise_panels():
    classwise = {"F_20": np.array([0.5, np.nan, 0.2]), "LE_CD": np.array([10.0, 20.0, 30.0]), "SELD": np.ones(3)}
    figure = dcase.classwise_scores(classwise, ["a", "b", "c"])
    assert len(figure.axes) == 2
    assert bar_heights(figure.axes[0]) == [0.5, 0.0, 0.2] and figure.axes[0].texts[0].get_text() == "–"
    assert bar_heights(figure.axes[1]) == [10.0, 20.0, 30.0]


def test_qa_per_type_bars_follow_table_columns():
    per_type = {
        "CLASSIFICATION": {"mAP_all": 0.4},
        "DOA": {"direction_acc": 0.7, "DER": 0.3},
        "MIXUP_DIRECTION": {"accuracy": 0.55},
    }
    figure = qa.per_type_scores(per_type, {"DOA.direction_acc": (0.6, 0.8)})
    axes = figure.axes[0]
    assert np.allclose(bar_heights(axes), [40.0, 70.0, 30.0, 55.0])
    assert [label.get_text().split(":")[0] for label in axes.get_xticklabels()] == ["A", "B", "B", "E"]


def test_training_curves_mark_stages():
    history = [
        {"stage": "s1", "loss_sed": 1.0, "loss_distance": 2.0, "train_distance_acc": 0.1},
        {"stage": "s1", "loss_sed": 0.5, "loss_distance": 1.5, "train_distance_acc": 0.3},
        {"stage": "s2", "loss_sed": 0.2, "loss_distance": 1.0, "train_distance_acc": 0.6},
    ]
    figure = training.training_curves(history)
    losses, accuracies = figure.axes
    assert [line.get_label() for line in losses.lines if not line.get_label().startswith("_")] == ["distance", "sed"]
    assert [text.get_text() for text in losses.texts] == ["s1", "s2"]
    assert list(accuracies.lines[0].get_ydata()) == [0.1, 0.3, 0.6]


def test_feature_attention_bars_per_branch():
    gates = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    figure = training.feature_attention(gates, ("distance", "direction", "events"), ("gcc", "ild"))
    assert np.allclose(bar_heights(figure.axes[0]), gates.ravel())


def test_comparison_rows_per_metric():
    rng = np.random.default_rng(0)
    base = rng.normal(0, 1, 500)
    result = compare_samples(
        {"mAP": 0.5, "MAE": 30.0},
        {"mAP": 0.6, "MAE": 29.0},
        {"mAP": base, "MAE": base + 30},
        {"mAP": base + 0.1, "MAE": base + 29 + rng.normal(0, 3, 500)},
        unit="clips",
        n=100,
        level=0.95,
        n_resamples=500,
        seed=0,
    )
    figure = comparison.paired_differences(result)
    titles = [axes.get_title(loc="left") for axes in figure.axes]
    assert (
        len(titles) == 2 and titles[0].startswith("mAP") and "better: B" in titles[0] and "better: neither" in titles[1]
    )


def test_write_report_embeds_every_figure_and_writes_pngs(tmp_path):
    figure = clip.angular_errors(np.array([1.0, 50.0]))
    report = Report(
        "t",
        ("line <1>",),
        [Section("S", ["a <note>", Table(("x", "y"), (("1", "2"),)), FigureItem("angles", "caption", figure)])],
    )
    out = tmp_path / "r" / "report.html"
    images = write_report(report, out)
    text = out.read_text()
    assert [path.name for path in images] == ["angles.png"] and images[0].read_bytes().startswith(PNG_SIGNATURE)
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert [base64.b64decode(data) for data in embedded] == [images[0].read_bytes()]
    assert "line &lt;1&gt;" in text and "a &lt;note&gt;" in text
    assert sorted(path.name for path in out.parent.iterdir()) == ["report.html", "report_figures"]


def clip_fixture(tmp_path, noise: float, name: str):
    rng = np.random.default_rng(1 if name == "a" else 2)
    n, classes = 60, ["/m/09x0r", "/m/05zppz", "/m/02zsn"]
    truth = np.random.default_rng(0)
    targets = truth.random((n, 3)) < 0.4
    azimuth, elevation, distance = truth.uniform(0, 360, n), truth.uniform(-30, 30, n), truth.uniform(0.5, 4, n)
    reference = tmp_path / "ref.csv"
    if not reference.exists():
        rows = ["clip_id,labels,azimuth,elevation,distance"]
        for i in range(n):
            labels = ";".join(c for c, on in zip(classes, targets[i]) if on)
            rows.append(f"c{i},{labels},{azimuth[i]:.2f},{elevation[i]:.2f},{distance[i]:.2f}")
        reference.write_text("\n".join(rows) + "\n")
    rows = ["clip_id,azimuth,elevation,distance," + ",".join(classes)]
    for i in range(n):
        scores = ",".join(f"{v:.4f}" for v in np.clip(targets[i] * 0.6 + rng.uniform(0, noise, 3), 0, 1))
        rows.append(
            f"c{i},{(azimuth[i] + rng.normal(0, 60 * noise)) % 360:.2f},{elevation[i]:.2f},"
            f"{max(0.0, distance[i] + rng.normal(0, noise)):.2f},{scores}"
        )
    path = tmp_path / f"{name}.csv"
    path.write_text("\n".join(rows) + "\n")
    return path, reference


def test_report_command_on_predictions_with_comparison(tmp_path, capsys):
    a, reference = clip_fixture(tmp_path, 1.0, "a")
    b, _ = clip_fixture(tmp_path, 0.3, "b")
    out = tmp_path / "out" / "report.html"
    code, stdout, err = run_cli(
        capsys,
        "report",
        a,
        "--ref",
        reference,
        "--protocol",
        "clip-continuous",
        "--compare",
        b,
        "--out",
        out,
        "--resamples",
        "200",
    )
    assert code == 0, err
    names = sorted(path.stem for path in (tmp_path / "out" / "report_figures").glob("*.png"))
    assert names == ["angular_error", "comparison", "distance_errors", "error_by_azimuth", "per_class_ap"]
    assert out.read_text().count("data:image/png;base64,") == 5 and "5 figures" in stdout


def test_report_command_on_dcase_folders_and_results_json(tmp_path, capsys):
    out = tmp_path / "dcase.html"
    code, _, err = run_cli(
        capsys,
        "report",
        STARSS22 / "predictions",
        "--ref",
        STARSS22 / "metadata_dev",
        "--protocol",
        "dcase2022-task3",  # the 2022 formats are those of 2020 and 2021
        "--out",
        out,
    )
    assert code == 0, err
    assert sorted(path.stem for path in (tmp_path / "dcase_figures").glob("*.png")) == ["dcase_classwise"]
    assert "femaleSpeech" not in out.read_text()  # class names are in the figure, not the text
    assert "interval (jackknife)" in out.read_text()
    scored = tmp_path / "dcase.json"
    code, _, err = run_cli(
        capsys,
        "score",
        STARSS22 / "predictions",
        "--ref",
        STARSS22 / "metadata_dev",
        "--protocol",
        "dcase2022-task3",
        "--json",
        scored,
    )
    assert code == 0, err
    code, _, err = run_cli(capsys, "report", scored, "--out", tmp_path / "dcase-json.html")
    assert code == 0, err
    assert (tmp_path / "dcase-json_figures" / "dcase_classwise.png").is_file()

    results = tmp_path / "qa.json"
    code, _, err = run_cli(
        capsys,
        "score",
        QA_CASE / "answers.jsonl",
        "--ref",
        QA_CASE / "questions.json",
        "--embedder",
        "trigram256",
        "--json",
        results,
        "--ci",
        "100",
    )
    assert code == 0, err
    code, _, err = run_cli(capsys, "report", results, "--out", tmp_path / "qa.html")
    assert code == 0, err
    assert (tmp_path / "qa_figures" / "qa_per_type.png").is_file()

    clip_results = tmp_path / "clip.json"
    a, reference = clip_fixture(tmp_path, 0.5, "a")
    assert run_cli(capsys, "score", a, "--ref", reference, "--json", clip_results)[0] == 0
    code, stdout, err = run_cli(capsys, "report", clip_results, "--out", tmp_path / "clip.html")
    assert code == 0, err
    assert "note: Per-clip figures (angular and distance errors) need the predictions" in stdout


def test_report_bad_input_exits_2_without_output(tmp_path, capsys):
    out = tmp_path / "report.html"
    code, _, err = run_cli(capsys, "report", tmp_path / "nope.csv", "--ref", tmp_path / "ref.csv", "--out", out)
    assert code == 2 and "nope.csv" in err and err.count("\n") == 1
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    code, _, err = run_cli(capsys, "report", broken, "--out", out)
    assert code == 2 and "broken.json" in err
    code, _, err = run_cli(capsys, "report", STARSS22 / "predictions", "--out", out)
    assert code == 2 and "--ref" in err
    code, _, err = run_cli(capsys, "report", broken, "--out", tmp_path / "report.pdf")
    assert code == 2 and ".html" in err
    assert list(tmp_path.iterdir()) == [broken]


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.mark.skipif(chromium() is None, reason="Chromium is not installed (Debian package chromium)")
def test_headless_chromium_loads_every_image(tmp_path, capsys):
    a, reference = clip_fixture(tmp_path, 1.0, "a")
    b, _ = clip_fixture(tmp_path, 0.3, "b")
    out = tmp_path / "report.html"
    code, _, err = run_cli(
        capsys,
        "report",
        a,
        "--ref",
        reference,
        "--protocol",
        "clip-continuous",
        "--compare",
        b,
        "--out",
        out,
        "--resamples",
        "100",
    )
    assert code == 0, err
    # A copy of the report with a script that records, after loading, how many images decoded.
    probe = tmp_path / "probe.html"
    probe.write_text(
        out.read_text().replace(
            "</body>",
            "<script>window.addEventListener('load', () => { const images = [...document.images]; "
            "document.body.dataset.loaded = images.filter(i => i.complete && i.naturalWidth > 0).length"
            " + '/' + images.length; "
            "});</script></body>",
        )
    )
    completed = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=10000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    match = re.search(r'data-loaded="(\d+)/(\d+)"', completed.stdout)
    assert match, completed.stderr[-2000:]
    assert match.group(1) == match.group(2) == "5"


def test_report_shows_what_the_inputs_allow(tmp_path, capsys):
    """Class scores only, spatial columns only, and a single DCASE recording (no jackknife interval)."""
    a, reference = clip_fixture(tmp_path, 1.0, "a")
    rows = [line.split(",") for line in a.read_text().splitlines()]
    (tmp_path / "classes.csv").write_text("\n".join(",".join([row[0], *row[4:]]) for row in rows) + "\n")
    (tmp_path / "spatial.csv").write_text("\n".join(",".join(row[:4]) for row in rows) + "\n")
    unlabelled = tmp_path / "ref-spatial.csv"  # references with labels need class scores
    unlabelled.write_text(
        "\n".join(
            ",".join([row[0], "" if index else row[1], *row[2:]])
            for index, row in enumerate(line.split(",") for line in reference.read_text().splitlines())
        )
        + "\n"
    )
    cases = (
        ("classes", reference, ["per_class_ap"]),
        ("spatial", unlabelled, ["angular_error", "distance_errors", "error_by_azimuth"]),
    )
    for name, references, expected in cases:
        code, _, err = run_cli(
            capsys,
            "report",
            tmp_path / f"{name}.csv",
            "--ref",
            references,
            "--protocol",
            "clip-continuous",
            "--out",
            tmp_path / f"{name}.html",
            "--resamples",
            "50",
        )
        assert code == 0, err
        assert sorted(path.stem for path in (tmp_path / f"{name}_figures").glob("*.png")) == expected

    single_ref, single_pred = tmp_path / "ref", tmp_path / "pred"
    reference_file = sorted(STARSS22.glob("metadata_dev/*/*.csv"))[0]
    for folder, source in ((single_ref, reference_file), (single_pred, STARSS22 / "predictions" / reference_file.name)):
        folder.mkdir()
        shutil.copy(source, folder / source.name)
    code, _, err = run_cli(
        capsys,
        "report",
        single_pred,
        "--ref",
        single_ref,
        "--protocol",
        "dcase2022-task3",
        "--out",
        tmp_path / "one.html",
    )
    assert code == 0, err
    assert "jackknife" not in (tmp_path / "one.html").read_text()
