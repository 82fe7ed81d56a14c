"""Protocols: YAML files that fix everything that decides a number (SPEC §2.4).

A protocol is named (a file ``protocols/<name>.yaml`` shipped with seldkit) or given as a path. Loading
resolves it — file references such as class lists are read and inlined — and hashes the resolved content, so
two results are comparable exactly when their protocol hashes are equal. The ``description`` does not enter
the hash: rewording the documentation does not change any number.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seldkit.errors import InputError
from seldkit.resources import shipped_dir

PROTOCOL_SUFFIX = ".yaml"
_NOT_HASHED = frozenset({"description"})
_CLIP_METRIC_KEYS = {"mode", "error_threshold_deg", "distance_tolerance_m"}


@dataclass(frozen=True)
class ClassSet:
    """A protocol's fixed class list (ids in output order) and, where known, display names."""

    ids: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    name: str
    task: str
    source: str
    content: dict[str, Any]  # resolved content, as hashed (plus the description)
    hash: str  # sha256 hex digest of the canonical JSON of the hashed content
    classes: ClassSet | None = None  # None: the class set comes from the prediction file
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the YAML as written (re-resolved on changes)
    path: Path | None = field(default=None, repr=False)

    @property
    def short_hash(self) -> str:
        return self.hash[:12]

    def summary(self) -> dict[str, str]:
        """What a results file records about the protocol."""
        return {"name": self.name, "task": self.task, "hash": f"sha256:{self.hash}", "source": self.source}


def available_protocols() -> list[str]:
    """Names of the protocols shipped with seldkit."""
    return sorted(path.stem for path in shipped_dir("protocols").glob(f"*{PROTOCOL_SUFFIX}"))


def load_protocol(name_or_path: str | Path) -> Protocol:
    """Load a shipped protocol by name, or a protocol file by path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or candidate.is_file():
        if not candidate.is_file():
            raise InputError("protocol file not found", file=str(candidate))
        return _load_file(candidate, source=str(candidate))
    shipped = shipped_dir("protocols") / f"{name_or_path}{PROTOCOL_SUFFIX}"
    if not shipped.is_file():
        known = ", ".join(available_protocols())
        raise InputError(f"unknown protocol {str(name_or_path)!r} (known: {known}; or give a .yaml file)")
    return _load_file(shipped, source=f"seldkit:protocols/{shipped.name}")


def protocol_hash(content: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON form (sorted keys, no spaces) of ``content`` without its description."""
    hashed = {key: value for key, value in content.items() if key not in _NOT_HASHED}
    canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _load_file(path: Path, *, source: str) -> Protocol:
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"not a valid YAML protocol: {str(exc).splitlines()[0]}", file=str(path)) from None
    if not isinstance(raw, dict):
        raise InputError("a protocol is a YAML mapping", file=str(path))
    for key in ("name", "task"):
        if not isinstance(raw.get(key), str):
            raise InputError(f"protocol needs a string {key!r}", file=str(path))
    task = raw["task"]
    resolver = _RESOLVERS.get(task)
    if resolver is None:
        known = ", ".join(sorted(_RESOLVERS))
        raise InputError(f"unsupported protocol task {task!r} (this version knows: {known})", file=str(path))
    content, classes = resolver(raw, path)
    return Protocol(
        name=raw["name"],
        task=task,
        source=source,
        content=content,
        hash=protocol_hash(content),
        classes=classes,
        raw=raw,
        path=path,
    )


def with_settings(protocol: Protocol, **settings: Any) -> Protocol:
    """The protocol with some top-level settings changed (e.g. another DCASE configuration, another embedder);
    the content is resolved again and the hash follows."""
    unknown = set(settings) - _OVERRIDABLE[protocol.task]
    if unknown:
        raise ValueError(f"cannot override {sorted(unknown)} of a {protocol.task} protocol")
    raw = {**protocol.raw, **settings}
    path = protocol.path if protocol.path is not None else Path(protocol.source)
    content, classes = _RESOLVERS[protocol.task](raw, path)
    return Protocol(
        name=protocol.name,
        task=protocol.task,
        source=protocol.source,
        content=content,
        hash=protocol_hash(content),
        classes=classes,
        raw=raw,
        path=path,
    )


def _resolve_dcase(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None]:
    from seldkit.io.dcase import N_CLASSES
    from seldkit.metrics.dcase.years import YEAR_RULES

    _reject_unknown(raw, {"name", "task", "description", "year", "configuration", "compat"}, path, "protocol")
    year = raw.get("year")
    if year not in YEAR_RULES:
        raise InputError(f"year must be one of {', '.join(map(str, YEAR_RULES))}", file=str(path))
    rules = YEAR_RULES[year]
    name = raw.get("configuration", rules.challenge_config.name)
    try:
        config = rules.config(name)
    except KeyError as error:
        raise InputError(str(error.args[0]), file=str(path)) from None
    compat = raw.get("compat", False)
    if not isinstance(compat, bool):
        raise InputError("compat must be true or false", file=str(path))
    metric = {
        "level": config.level,
        "angle": config.angle,
        "average": config.average,
        "doa_threshold_deg": config.doa_threshold,
        "evaluate_distance": config.evaluate_distance,
        "relative_distance_threshold": config.relative_distance_threshold if config.evaluate_distance else None,
        "require_onscreen": config.require_onscreen,
    }
    content = {
        "name": raw["name"],
        "task": "dcase",
        "description": str(raw.get("description", "")).strip(),
        "year": year,
        "configuration": config.name,
        "compat": compat,
        "official_source": rules.official_source,
        "n_classes": N_CLASSES,
        "frames_per_second": 10,
        "metric": metric,
    }
    return content, None


def _resolve_clip(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None]:
    allowed = {"name", "task", "description", "metrics", "classes", "bootstrap"}
    _reject_unknown(raw, allowed, path, "protocol")
    metrics = dict(raw.get("metrics") or {})
    _reject_unknown(metrics, _CLIP_METRIC_KEYS, path, "metrics")
    if metrics.get("mode") not in ("reference", "continuous"):
        raise InputError("metrics.mode must be 'reference' or 'continuous'", file=str(path))
    metrics.setdefault("error_threshold_deg", 20.0)
    metrics.setdefault("distance_tolerance_m", 0.5)
    for key in ("error_threshold_deg", "distance_tolerance_m"):
        if not isinstance(metrics[key], (int, float)) or metrics[key] <= 0:
            raise InputError(f"metrics.{key} must be a positive number", file=str(path))
        metrics[key] = float(metrics[key])

    bootstrap = _resolve_bootstrap(raw, path)
    content: dict[str, Any] = {
        "name": raw["name"],
        "task": "clip",
        "description": str(raw.get("description", "")).strip(),
        "metrics": metrics,
        "bootstrap": bootstrap,
    }
    classes = None
    spec = raw.get("classes")
    if spec is not None:
        if not isinstance(spec, dict):
            raise InputError("classes needs a 'file' with one class id per line", file=str(path))
        classes = _resolve_classes(spec, path)
        content["classes"] = list(classes.ids)
    return content, classes


def _resolve_qa(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None]:
    _reject_unknown(raw, {"name", "task", "description", "classes", "embedder", "bootstrap"}, path, "protocol")
    embedder = raw.get("embedder", "minilm")
    if embedder not in ("minilm", "trigram256"):
        raise InputError("embedder must be 'minilm' or 'trigram256'", file=str(path))
    bootstrap = _resolve_bootstrap(raw, path)
    spec = raw.get("classes")
    if not isinstance(spec, dict) or "file" not in spec or "names" not in spec:
        raise InputError("a qa protocol needs classes.file (ids in output order) and classes.names", file=str(path))
    classes = _resolve_classes(spec, path)
    content: dict[str, Any] = {
        "name": raw["name"],
        "task": "qa",
        "description": str(raw.get("description", "")).strip(),
        "classes": list(classes.ids),
        "class_names": [classes.names.get(class_id, "") for class_id in classes.ids],
        "embedder": embedder,
        "rules": {
            "normalisation": "lower case, whitespace runs to one space, trimmed",
            "distance_tolerance_m": 0.5,
            "label_separator": "; ",
            "mAP_all_denominator": len(classes.ids),
        },
        "bootstrap": bootstrap,
    }
    return content, classes


def _resolve_bootstrap(raw: dict[str, Any], path: Path) -> dict[str, Any]:
    bootstrap = dict(raw.get("bootstrap") or {})
    _reject_unknown(bootstrap, {"level", "seed"}, path, "bootstrap")
    bootstrap.setdefault("level", 0.95)
    bootstrap.setdefault("seed", 0)
    if not 0.0 < float(bootstrap["level"]) < 1.0 or not isinstance(bootstrap["seed"], int):
        raise InputError("bootstrap.level must lie in (0, 1) and bootstrap.seed be an integer", file=str(path))
    return bootstrap


def _resolve_classes(spec: dict[str, Any], path: Path) -> ClassSet:
    if "file" not in spec:
        raise InputError("classes needs a 'file' with one class id per line", file=str(path))
    _reject_unknown(spec, {"file", "names"}, path, "classes")
    ids = _read_class_ids(path.parent / spec["file"], path)
    names = _read_class_names(path.parent / spec["names"], path) if "names" in spec else {}
    return ClassSet(ids=ids, names={class_id: names[class_id] for class_id in ids if class_id in names})


def _resolve_train(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None]:
    """Training protocols: a data section (generator and its parameters) and, later, model and curriculum.

    Files the data section names (HRIR sets, the sounds' label list) enter the hash by their sha256, so a
    changed asset changes the protocol.
    """
    _reject_unknown(raw, {"name", "task", "description", "data", "model", "training"}, path, "protocol")
    data = raw.get("data")
    if not isinstance(data, dict) or data.get("generator") not in ("synthetic-binaural", "published-layout"):
        raise InputError("a train protocol needs data.generator: synthetic-binaural or published-layout", file=str(path))
    data = json.loads(json.dumps(data))  # a deep copy
    assets: dict[str, str] = {}
    if data["generator"] == "synthetic-binaural":
        for split in data.get("splits", {}).values():
            assets[split["hrtf"]] = _digest(path.parent / split["hrtf"], path)
        assets[f"{data['sounds']}/labels.csv"] = _digest(path.parent / data["sounds"] / "labels.csv", path)
    content = {
        "name": raw["name"],
        "task": "train",
        "description": str(raw.get("description", "")).strip(),
        "data": data,
        "assets": assets,
    }
    for key in ("model", "training"):
        if key in raw:
            content[key] = raw[key]
    return content, None


def _digest(file: Path, protocol_path: Path) -> str:
    try:
        return hashlib.sha256(file.read_bytes()).hexdigest()
    except OSError:
        raise InputError(f"asset {file.name} not found", file=str(protocol_path)) from None


_RESOLVERS = {"clip": _resolve_clip, "dcase": _resolve_dcase, "qa": _resolve_qa, "train": _resolve_train}
_OVERRIDABLE = {
    "clip": {"metrics", "classes", "bootstrap"},
    "dcase": {"year", "configuration", "compat"},
    "qa": {"embedder", "bootstrap"},
    "train": {"data", "model", "training"},
}


def _read_class_ids(path: Path, protocol_path: Path) -> tuple[str, ...]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        raise InputError(f"class list {path.name} not found", file=str(protocol_path)) from None
    ids = tuple(line.strip() for line in lines if line.strip())
    if len(set(ids)) != len(ids):
        raise InputError("class list holds duplicate ids", file=str(path))
    return ids


def _read_class_names(path: Path, protocol_path: Path) -> dict[str, str]:
    """Display names from an AudioSet-style ``index,mid,display_name`` CSV."""
    import csv

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return {row["mid"]: row["display_name"] for row in csv.DictReader(handle)}
    except (OSError, KeyError):
        raise InputError(f"class names file {path.name} is missing or lacks mid/display_name", file=str(protocol_path)) from None


def _reject_unknown(mapping: Mapping[str, Any], allowed: set[str], path: Path, where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise InputError(f"unknown key {unknown[0]!r} in {where} (allowed: {', '.join(sorted(allowed))})", file=str(path))
