"""SpatialSoundQA scoring: parse rules on adversarial answers, embedders against their check values, both
answer forms, errors, and intervals."""

from __future__ import annotations

import json
from decimal import Decimal

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score

from seldkit.metrics.qa import embedders
from seldkit.metrics.qa.embedders import MiniLM, Trigram256, cosine_matrix
from seldkit.metrics.qa.text import (
    distance_correct,
    normalise,
    parse_direction,
    parse_distance,
    parse_partial_direction,
    parse_sources,
    parse_yes_no,
)
from seldkit.metrics.qa.weighted import e_column_metrics
from seldkit.protocols import load_protocol, with_settings
from seldkit.scoring.qa import class_names, score_qa_files
from tests.command import run_cli
from tests.golden import REPO

QA = REPO / "metrics" / "regression" / "qa"
EXPECTED = json.loads((QA / "expected.json").read_text())
needs_minilm = pytest.mark.skipif(not MiniLM.available(), reason="the qa extra (all-MiniLM-L6-v2) is not installed")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Left, front, above", ("left", "front", "above")),
        ("  the sound is on the LEFT,\tin FRONT and   above you ", ("left", "front", "above")),
        ("front-left, below", ("left", "front", "below")),
        ("left ... left, behind, below", ("left", "behind", "below")),
        ("left or right, front, above", None),
        ("left, back, above", None),  # 'back' is not 'behind'
        ("left, front", None),  # an axis missing
        ("left_front above", None),  # no word boundary inside left_front
        ("", None),
    ],
)
def test_direction_rule(answer, expected):
    assert parse_direction(normalise(answer)) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("2.5m", Decimal("2.5")),
        ("about 2.5 meters away", Decimal("2.5")),
        ("3 metres", Decimal("3")),
        ("1 metre", Decimal("1")),
        ("2.5m (2.5 meters)", Decimal("2.5")),
        ("2m (2.0 meters)", Decimal("2")),
        ("2 or 3 m", None),
        ("between 2m and 3m", None),
        ("2.5", None),
        ("250 cm", None),
        ("2.5 km", None),
        ("2.5ft", None),
        ("", None),
        ("left, front, above, 1.5 M", Decimal("1.5")),
    ],
)
def test_distance_rule(answer, expected):
    assert parse_distance(normalise(answer)) == expected


def test_distance_boundary_is_exact_decimal():
    assert distance_correct(Decimal("1.1"), Decimal("0.6"))  # float64: abs(1.1 - 0.6) > 0.5
    assert abs(1.1 - 0.6) > 0.5
    assert distance_correct(Decimal("2.5"), Decimal("3.0"))
    assert not distance_correct(Decimal("2.49"), Decimal("3.0"))


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Yes", "yes"),
        ("No.", "no"),
        ("Yes, yes.", "yes"),
        ("yes and no", None),
        ("yeah", None),
        ("nope", None),
        ("None", None),
        ("not sure", None),
        ("", None),
        ("  YES  ", "yes"),
    ],
)
def test_yes_no_rule(answer, expected):
    assert parse_yes_no(normalise(answer)) == expected


def test_nonbinary_rules():
    assert parse_partial_direction("to the left") == ("left", None, None)
    assert parse_partial_direction("left, front") == ("left", "front", None)
    assert parse_partial_direction("left or right") is None
    assert parse_partial_direction("back") is None  # no direction word at all
    assert parse_sources("dog; bark; dog") == frozenset({"dog", "bark"})
    assert parse_sources("") is None


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
def test_balanced_accuracy_equals_sklearn_with_unparseable_as_third_label():
    rng = np.random.default_rng(4)
    reference = rng.choice(["yes", "no"], size=60)
    answer = rng.choice(["yes", "no", "?"], size=60, p=[0.45, 0.4, 0.15])
    outcome = {"correct": answer == reference, "reference_yes": reference == "yes"}
    got = e_column_metrics(outcome, np.ones((1, 60)))["balanced_accuracy"][0]
    assert got == pytest.approx(balanced_accuracy_score(reference, answer), abs=1e-12)


def test_trigram256_check_values():
    record = EXPECTED["embedders"]["trigram256"]
    embedder = Trigram256()
    names = class_names(load_protocol("spatialsoundqa")).names
    matrix = embedder.embed_classes(names)
    assert embedder.matrix_digest(matrix) == record["class_counts_sha256"]
    checks = record["check_values"]
    for text, counts in checks["counts_of_text"].items():
        vector = embedder.embed([text])[0]
        assert {str(index): int(vector[index]) for index in np.flatnonzero(vector)} == counts
    probe = embedder.embed([checks["probe"]])
    for name, value in checks["cosine_probe_vs_classes"].items():
        assert cosine_matrix(probe, embedder.embed([name]))[0, 0] == pytest.approx(value, abs=5e-7)


@needs_minilm
def test_minilm_reproduces_the_reference_values():
    reference = json.loads(
        (REPO / "tests" / "fixtures" / "embedding_reference" / "all_minilm_l6_v2_reference.json").read_text()
    )
    embedder = MiniLM()
    measured = reference["measured_here"]
    vectors = embedder.embed(reference["docs_reference"]["sentences"])
    similarity = cosine_matrix(vectors, vectors)
    np.testing.assert_allclose(similarity, measured["similarity"], atol=5e-6)
    np.testing.assert_allclose(similarity, reference["docs_reference"]["similarity"], atol=5e-5)  # the docs, 4 decimals
    np.testing.assert_allclose(vectors[0, :8], measured["first_sentence_embedding_first8"], atol=5e-6)
    query = embedder.embed([measured["query"]])
    labels = embedder.embed(measured["labels"])
    np.testing.assert_allclose(cosine_matrix(query, labels)[0], measured["cosine_query_vs_labels"], atol=5e-6)
    golden = EXPECTED["embedders"]["minilm"]["check_values"]
    matrix = embedder.embed_classes(class_names(load_protocol("spatialsoundqa")).names)
    np.testing.assert_allclose(matrix[0, :8], golden["class0_first8"], atol=5e-6)


@pytest.mark.parametrize("case_id", ["mixed_all_types", "pair_order_and_shared_ids"])
def test_both_answer_forms_give_identical_results(tmp_path, capsys, case_id):
    folder = QA / "cases" / case_id
    documents = []
    for index, (predictions, references) in enumerate(
        [("answers.jsonl", "questions.json"), ("decode_pred", "decode_gt")]
    ):
        out_json = tmp_path / f"{index}.json"
        code, out, err = run_cli(
            capsys,
            "score",
            folder / predictions,
            "--ref",
            folder / references,
            "--embedder",
            "trigram256",
            "--json",
            out_json,
        )
        assert code == 0, err
        documents.append(json.loads(out_json.read_text())["metrics"])
    assert documents[0] == documents[1]
    expected = EXPECTED["cases"][case_id]["results"]["E"]
    assert set(documents[0]["E"]) == set(expected)
    for name, value in expected.items():
        got = documents[0]["E"][name]
        assert (got is None and value is None) or got == pytest.approx(value, abs=1e-12), name


@pytest.mark.parametrize("case_id", sorted(c for c in EXPECTED["cases"] if c.startswith("error_")))
def test_error_cases_exit_2_with_one_line(tmp_path, capsys, case_id):
    folder = QA / "cases" / case_id
    out_json = tmp_path / "r.json"
    code, out, err = run_cli(
        capsys,
        "score",
        folder / "answers.jsonl",
        "--ref",
        folder / "questions.json",
        "--embedder",
        "trigram256",
        "--json",
        out_json,
    )
    assert code == 2 and out == "" and not out_json.exists()
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    expected = EXPECTED["cases"][case_id]["expected_error"]["jsonl"]
    key = expected.get("key") or (expected.get("missing_predictions") or [""])[0]
    assert key in err


def test_malformed_answer_lines(tmp_path, capsys):
    folder = QA / "cases" / "perfect_answers"
    bad = tmp_path / "answers.jsonl"
    lines = (folder / "answers.jsonl").read_text().splitlines()
    lines[3] = '{"question_type": "DOA", "answer": "left"}'
    bad.write_text("\n".join(lines) + "\n")
    code, _, err = run_cli(capsys, "score", bad, "--ref", folder / "questions.json", "--embedder", "trigram256")
    assert code == 2 and "line 4" in err and "question_id" in err
    decode = tmp_path / "run_pred"
    decode.write_text((folder / "decode_pred").read_text().replace("\t", " ", 1))
    code, _, err = run_cli(
        capsys,
        "score",
        decode,
        "--ref",
        folder / "decode_gt",
        "--protocol",
        "spatialsoundqa",
        "--embedder",
        "trigram256",
    )
    assert code == 2 and "line 1" in err and "<TAB>" in err


def test_missing_model_gives_install_hint(monkeypatch, capsys):
    monkeypatch.setattr(embedders.MiniLM, "available", staticmethod(lambda: False))
    folder = QA / "cases" / "perfect_answers"
    code, _, err = run_cli(capsys, "score", folder / "answers.jsonl", "--ref", folder / "questions.json")
    assert code == 2 and "pip install 'seldkit[qa]'" in err


def test_bootstrap_intervals_are_seeded_and_cover_the_point(tmp_path):
    folder = QA / "cases" / "random_medium"
    protocol = with_settings(load_protocol("spatialsoundqa"), embedder="trigram256")
    first = score_qa_files(folder / "answers.jsonl", folder / "questions.json", protocol, n_resamples=300)
    again = score_qa_files(folder / "answers.jsonl", folder / "questions.json", protocol, n_resamples=300)
    assert first.intervals.bounds == again.intervals.bounds
    results = first.scores.results
    for question_type, values in results["per_type"].items():
        for metric in ("direction_acc", "DER", "accuracy", "mAP_present"):
            if metric in values:
                low, high = first.intervals.bounds[f"{question_type}.{metric}"]
                assert low <= values[metric] <= high, (question_type, metric)


def test_accumulating_in_batches_and_merging_equals_one_pass():
    from seldkit.io.qa import pair_items, read_answers_jsonl, read_question_file
    from seldkit.metrics.qa.scoring import QaAccumulator, prepare, score_questions

    folder = REPO / "metrics" / "regression" / "qa" / "cases" / "mixed_all_types"
    pairs = pair_items(read_question_file(folder / "questions.json"), read_answers_jsonl(folder / "answers.jsonl"))
    classes, embedder = class_names(load_protocol("spatialsoundqa")), Trigram256()
    whole = score_questions(prepare(pairs), classes, embedder)
    first, second = QaAccumulator(), QaAccumulator()
    first.update(pairs[:20])
    second.update(pairs[20:40])
    second.update(pairs[40:])
    assert first.merge(second).compute(classes, embedder).results == whole.results
