"""Protocol loading, resolution and hashing."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from seldkit.errors import InputError
from seldkit.protocols import available_protocols, load_protocol, protocol_hash


def test_shipped_clip_protocols():
    assert {"clip", "clip-continuous", "bat-encoder", "bat-encoder-continuous"} <= set(available_protocols())
    for name, mode in [
        ("clip", "reference"),
        ("clip-continuous", "continuous"),
        ("bat-encoder", "reference"),
        ("bat-encoder-continuous", "continuous"),
    ]:
        protocol = load_protocol(name)
        assert protocol.name == name and protocol.task == "clip"
        assert protocol.content["metrics"]["mode"] == mode
    assert load_protocol("clip").classes is None


def test_bat_encoder_classes_are_the_355_mids_in_order():
    protocol = load_protocol("bat-encoder")
    from seldkit.resources import shipped_dir

    mids = (shipped_dir("protocols") / "assets" / "audioset" / "spatial_subset_mids.txt").read_text().split()
    assert list(protocol.classes.ids) == mids and len(mids) == 355
    assert protocol.classes.names["/m/09x0r"] == "Speech"


def test_hash_is_sha256_of_canonical_json_without_description():
    protocol = load_protocol("bat-encoder")
    hashed = {key: value for key, value in protocol.content.items() if key != "description"}
    canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert protocol.hash == hashlib.sha256(canonical.encode()).hexdigest()
    assert protocol_hash(dict(protocol.content, description="other words")) == protocol.hash


def test_equivalent_files_hash_equal_and_changes_change_hash(tmp_path):
    base = "name: mine\ntask: clip\nmetrics:\n  mode: reference\n"
    (tmp_path / "a.yaml").write_text(base + "description: one\n")
    (tmp_path / "b.yaml").write_text("description: two\n" + base + "  error_threshold_deg: 20\n")
    (tmp_path / "c.yaml").write_text(base + "  error_threshold_deg: 30\n")
    a, b, c = (load_protocol(tmp_path / f"{name}.yaml") for name in "abc")
    assert a.hash == b.hash != c.hash
    assert a.hash != load_protocol("clip").hash  # the name is part of the protocol


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("name: x\ntask: clip\nmetrics:\n  mode: fuzzy\n", "metrics.mode"),
        ("name: x\ntask: clip\nmetrics:\n  mode: reference\n  typo: 1\n", "unknown key 'metrics.typo'"),
        ("name: x\ntask: nope\n", "unsupported protocol task"),
        ("task: clip\n", "name is missing"),
        ("- a\n- b\n", "YAML mapping"),
        ("name: [unclosed\n", "line 2: not valid YAML"),
        ("name: x\ntask: clip\nmetrics:\n  mode: reference\nclasses:\n  file: missing.txt\n", "not found"),
    ],
)
def test_bad_protocol_files(tmp_path, text, fragment):
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=fragment.replace("[", r"\[")):
        load_protocol(path)


def test_unknown_protocol_name_lists_known():
    with pytest.raises(InputError, match="known: .*bat-encoder"):
        load_protocol("no-such-protocol")


def test_recorded_reference_runs_name_the_shipped_mini_protocol():
    """The README and reference_models record runs under synth-binaural-mini's hash: a change of the protocol
    needs those runs made again."""
    from tests.golden import REPO

    short = load_protocol("synth-binaural-mini").short_hash
    for document in (REPO / "README.md", REPO / "reference_models" / "README.md"):
        text = document.read_text(encoding="utf-8")
        hashes = set(re.findall(r"synth-binaural-mini \(sha256:([0-9a-f]{12})\)", text))
        assert hashes == {short}, (document.name, hashes)
