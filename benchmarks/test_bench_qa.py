"""SpatialSoundQA scoring of 100,000 answers of mixed types with the real all-MiniLM-L6-v2 embedder.

Detection answers follow what a fine-tuned model writes: mostly a label list seen in training references,
sometimes a perturbed list or a sentence, so distinct answers are far fewer than questions (the number is
printed). seldkit embeds each distinct answer once; the baseline embeds every answer and loops over classes
with scikit-learn (run on a 4,000-question subset, in the same process).
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from benchmarks.benchdata import best_time, record_ratio, record_timing
from seldkit.io.qa import QUESTION_TYPES
from seldkit.metrics.qa.embedders import MiniLM, cosine_matrix
from seldkit.protocols import load_protocol, with_settings
from seldkit.scoring.qa import class_names, score_qa_files

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not MiniLM.available(), reason="the qa extra (all-MiniLM-L6-v2) is not installed"),
]

DIRECTIONS = [f"{a}, {b}, {c}" for a in ("left", "right") for b in ("front", "behind") for c in ("above", "below")]


def write_questions(folder, n_questions: int, seed: int, types: tuple[str, ...] = QUESTION_TYPES) -> tuple:
    rng = np.random.default_rng(seed)
    names = [name.lower() for name in class_names(load_protocol("spatialsoundqa")).names]
    label_sets = ["; ".join(rng.choice(names, size=rng.integers(1, 4), replace=False)) for _ in range(2000)]
    records, answers = [], []
    for question_id in range(n_questions):
        kind = types[question_id % len(types)]
        if kind in ("CLASSIFICATION", "MIXUP_SINGLE_CLASSIFICATION", "MIXUP_NONBINARY_SOURCE"):
            reference = label_sets[rng.integers(len(label_sets))]
            draw = rng.random()
            if draw < 0.7:
                answer = reference
            elif draw < 0.9:
                answer = "; ".join(reference.split("; ")[:1] + [names[rng.integers(len(names))]])
            else:
                answer = f"the sound of {reference.split('; ')[0]}"
        elif kind in ("DOA", "MIXUP_SINGLE_DOA"):
            distance = rng.integers(1, 20) / 2
            reference = f"{DIRECTIONS[rng.integers(8)]}; {distance}m"
            answer = (
                reference
                if rng.random() < 0.6
                else f"{DIRECTIONS[rng.integers(8)]}, {distance + 0.5 * rng.integers(-2, 3)} meters"
            )
        elif kind == "MIXUP_NONBINARY_DIRECTION":
            reference, answer = "left", ("to the left" if rng.random() < 0.8 else "right")
        elif kind == "MIXUP_NONBINARY_DISTANCE":
            reference, answer = "2m", f"{rng.integers(1, 5)}m"
        else:
            reference = "Yes" if rng.random() < 0.5 else "No"
            answer = reference if rng.random() < 0.8 else ("No" if reference == "Yes" else "Yes")
        records.append({"question_id": question_id, "question_type": kind, "answer": reference, "question": "?"})
        answers.append({"question_id": question_id, "question_type": kind, "answer": answer})
    (folder / "questions.json").write_text(json.dumps({"data": records}))
    (folder / "answers.jsonl").write_text("\n".join(json.dumps(answer) for answer in answers) + "\n")
    return folder / "answers.jsonl", folder / "questions.json"


def baseline_detection(pairs, embedder, class_matrix) -> tuple[float, np.ndarray, np.ndarray]:
    """Every answer embedded on its own batch slot (no de-duplication), AP per class with scikit-learn; returns
    (mAP over all classes, scores, targets)."""
    names = [name.lower() for name in class_names(load_protocol("spatialsoundqa")).names]
    lookup = {name: index for index, name in enumerate(names)}
    scores = cosine_matrix(embedder.embed([answer for _, answer in pairs]), class_matrix)
    targets = np.zeros(scores.shape, dtype=bool)
    for row, (reference, _) in enumerate(pairs):
        for label in reference.split("; "):
            targets[row, lookup[label]] = True
    return per_class_map(scores, targets), scores, targets


def per_class_map(scores: np.ndarray, targets: np.ndarray) -> float:
    """mAP over all classes (absent ones count 0) by a scikit-learn loop over classes."""
    aps = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for column in range(scores.shape[1]):
            if targets[:, column].any():
                aps.append(average_precision_score(targets[:, column], scores[:, column]))
    return float(np.sum(aps) / scores.shape[1])


def test_qa_100k(benchmark, tmp_path):
    answers, questions = write_questions(tmp_path, 100_000, seed=1)
    protocol = with_settings(load_protocol("spatialsoundqa"), embedder="minilm")
    start = time.perf_counter()
    report = benchmark.pedantic(lambda: score_qa_files(answers, questions, protocol), rounds=1, iterations=1)
    elapsed = time.perf_counter() - start  # includes loading the model on first use in this process
    per_type = report.scores.results["per_type"]
    distinct = sum(
        per_type[kind]["n_distinct_predictions"] for kind in ("CLASSIFICATION", "MIXUP_SINGLE_CLASSIFICATION")
    )
    benchmark.extra_info.update(seconds=elapsed, distinct_detection_answers=distinct)
    record_timing(f"QA 100,000 answers, MiniLM ({distinct} distinct detection answers), incl. model load", elapsed)

    # Ratio on detection questions: seldkit vs the baseline that embeds every answer and loops over classes.
    subset = tmp_path / "subset"
    subset.mkdir()
    sub_answers, sub_questions = write_questions(subset, 4_000, seed=2, types=("CLASSIFICATION",))
    ours = best_time(lambda: score_qa_files(sub_answers, sub_questions, protocol), rounds=1)
    subset_report = score_qa_files(sub_answers, sub_questions, protocol)
    from seldkit.metrics.qa.embedders import get_embedder

    embedder = get_embedder("minilm")
    class_matrix = embedder.embed_classes(class_names(protocol).names)
    records = {r["question_id"]: r for r in json.loads(sub_questions.read_text())["data"]}
    pairs = [
        (records[a["question_id"]]["answer"].lower(), a["answer"].lower())
        for a in map(json.loads, sub_answers.read_text().splitlines())
        if a["question_type"] == "CLASSIFICATION"
    ]
    baseline = best_time(lambda: baseline_detection(pairs, embedder, class_matrix), rounds=1)
    # The same function both ways. The baseline embeds repeated answers in other batches, so its vectors differ in
    # the last float32 bits and equal answers stop tying (seldkit embeds each distinct answer once, so they tie
    # exactly, as AP requires): scores agree to float32 noise, and the AP code agrees exactly on seldkit's scores.
    _, baseline_scores, baseline_targets = baseline_detection(pairs, embedder, class_matrix)
    scores, targets = subset_report.scores.detection["CLASSIFICATION"]
    assert np.array_equal(targets, baseline_targets)
    assert np.abs(scores - baseline_scores).max() < 1e-5
    assert subset_report.scores.results["per_type"]["CLASSIFICATION"]["mAP_all"] == pytest.approx(
        per_class_map(scores, targets), rel=1e-9, abs=1e-12
    )
    record_ratio("QA 4,000 detection answers (type A), MiniLM", ours, baseline)
