"""Protocols: YAML files that fix everything that decides a number.

A protocol is named (a file ``protocols/<name>.yaml`` shipped with seldkit) or given as a path. Loading
resolves it — file references such as class lists are read and inlined — and hashes the resolved content, so
two results are comparable exactly when their protocol hashes are equal. The ``description`` does not enter
the hash: rewording the documentation does not change any number.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from seldkit.errors import InputError
from seldkit.protocol_settings import (
    BootstrapSettings,
    ClipSettings,
    DcaseSettings,
    QaSettings,
    TaskSettings,
    TrainSettings,
)
from seldkit.resources import shipped_dir

if TYPE_CHECKING:
    from seldkit.io.fields import Fields

PROTOCOL_SUFFIX = ".yaml"
SHIPPED_PREFIX = "seldkit:protocols/"
_Settings = TypeVar("_Settings", ClipSettings, DcaseSettings, QaSettings, TrainSettings)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_MAX_ASSET_BYTES = {"class list": 16 << 20, "class names": 16 << 20, "HRTF set": 512 << 20, "sound labels": 16 << 20}
_NOT_HASHED = frozenset({"description"})


@dataclass(frozen=True)
class ClassSet:
    """A protocol's fixed class list (ids in output order) and, where known, display names."""

    ids: tuple[str, ...]
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Protocol:
    """A loaded protocol: its name, task and source, the resolved content and its hash, the task's typed settings."""

    name: str
    task: str
    source: str
    content: dict[str, Any]  # resolved content, as hashed (plus the description); only the parser reads it
    hash: str  # sha256 hex digest of the canonical JSON of the hashed content
    settings: TaskSettings  # the typed settings of the task: what scoring and training read
    classes: ClassSet | None = None  # None: the class set comes from the prediction file
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the YAML as written (re-resolved on changes)
    path: Path | None = field(default=None, repr=False)

    @property
    def short_hash(self) -> str:
        """The first 12 hex digits of the hash."""
        return self.hash[:12]

    @property
    def clip(self) -> ClipSettings:
        """The settings of a ``clip`` protocol; an :class:`InputError` for a protocol of another task."""
        return self._settings(ClipSettings, "clip")

    @property
    def dcase(self) -> DcaseSettings:
        """The settings of a ``dcase`` protocol; an :class:`InputError` for a protocol of another task."""
        return self._settings(DcaseSettings, "dcase")

    @property
    def qa(self) -> QaSettings:
        """The settings of a ``qa`` protocol; an :class:`InputError` for a protocol of another task."""
        return self._settings(QaSettings, "qa")

    @property
    def train(self) -> TrainSettings:
        """The settings of a ``train`` protocol; an :class:`InputError` for a protocol of another task."""
        return self._settings(TrainSettings, "train")

    def _settings(self, kind: type[_Settings], task: str) -> _Settings:
        if not isinstance(self.settings, kind):
            raise InputError(f"protocol {self.name!r} is a {self.task} protocol, not a {task} protocol")
        return self.settings

    def summary(self) -> dict[str, str]:
        """What a results file records about the protocol."""
        return {"name": self.name, "task": self.task, "hash": f"sha256:{self.hash}", "source": self.source}


SUMMARY_KEYS = ("name", "task", "hash", "source")  # the keys of Protocol.summary()
_SUMMARY_HASH = re.compile(r"sha256:[0-9a-f]{64}")


def read_protocol_summary(fields: Fields, *, task: str | None = None) -> dict[str, str]:
    """A recorded :meth:`Protocol.summary` read from the section ``fields``, checked (of ``task`` when given).

    A missing or extra key, a value that is not text, another task or a hash that is not sha256:<64 hex digits> is
    an :class:`InputError` naming the file and the field.
    """
    summary = {key: fields.string(key, nonempty=key != "source") for key in SUMMARY_KEYS}
    if task is not None and summary["task"] != task:
        raise fields.error("task", f"must be {task!r}, not {summary['task'][:40]!r}")
    if not _SUMMARY_HASH.fullmatch(summary["hash"]):
        raise fields.error("hash", f"must be sha256:<64 hex digits>, not {summary['hash'][:80]!r}")
    fields.finish()
    return summary


def available_protocols() -> list[str]:
    """Names of the protocols shipped with seldkit."""
    return sorted(path.stem for path in shipped_dir("protocols").glob(f"*{PROTOCOL_SUFFIX}"))


def is_protocol_name(text: str) -> bool:
    """Whether ``text`` has the form of a shipped protocol's name (letters, digits, ``.``, ``_``, ``-``; no path)."""
    return bool(_NAME.fullmatch(text)) and not text.endswith((".yaml", ".yml"))


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A shipped protocol by name, or a protocol file by path.

    A :class:`~pathlib.Path`, or text with a path separator or a ``.yaml`` / ``.yml`` suffix, is a file: it is
    recorded as that path, never as a shipped protocol. Anything else must be the name of a shipped protocol
    (a file called ``clip`` in the current folder does not shadow the shipped ``clip``).
    """
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or not is_protocol_name(text):
        candidate = Path(text)
        if not text or not (
            candidate.suffix in (".yaml", ".yml") or "/" in text or os.sep in text or (os.altsep and os.altsep in text)
        ):
            raise InputError(
                f"unknown protocol {text!r}: a shipped protocol is named by letters, digits, '.', '_' "
                f"and '-' (known: {', '.join(available_protocols())}); a protocol file by a path ending in .yaml"
            )
        return _load_file(candidate, source=text)
    shipped = shipped_dir("protocols") / f"{text}{PROTOCOL_SUFFIX}"
    if not shipped.is_file():
        known = ", ".join(available_protocols())
        raise InputError(f"unknown protocol {text!r} (known: {known}; or give a .yaml file)")
    return _load_file(shipped, source=f"{SHIPPED_PREFIX}{shipped.name}")


def protocol_from_summary(summary: Any, *, file: str | Path | None = None) -> Protocol:
    """The protocol a results file or run description recorded, loaded again; its content must still hash as recorded.

    ``summary`` is what :meth:`Protocol.summary` wrote: the protocol is loaded as shipped by name, or from the
    recorded file.
    """
    from seldkit.io.fields import Fields

    fields = Fields(summary, file=file, where="protocol")
    name, source, recorded = fields.string("name"), fields.string("source", ""), fields.string("hash")
    if source.startswith(SHIPPED_PREFIX):
        shipped_name = source[len(SHIPPED_PREFIX) :].removesuffix(PROTOCOL_SUFFIX)
        if not is_protocol_name(shipped_name):
            raise fields.error("source", f"is not a shipped protocol: {source!r}")
        protocol = load_protocol(shipped_name)
    elif source:
        protocol = load_protocol(Path(source))
    else:
        protocol = load_protocol(name)
    if f"sha256:{protocol.hash}" != recorded:
        raise InputError(
            f"the protocol {name!r} here ({protocol.source}) differs from the one recorded (its hash "
            f"{recorded[:19]} is now sha256:{protocol.short_hash}); results are comparable only under "
            "the same protocol",
            file=file,
        )
    return protocol


@functools.cache
def audioset_classes() -> ClassSet:
    """The 355 AudioSet classes of the binaural evaluation, in model output order, with display names.

    They are the class list of the ``bat-encoder`` protocols, which the reference models predict and the data
    generator labels.
    """
    classes = load_protocol("bat-encoder").classes
    assert classes is not None
    return classes


def protocol_hash(content: Mapping[str, Any]) -> str:
    """sha256 of the canonical JSON form (sorted keys, no spaces) of ``content`` without its description."""
    hashed = {key: value for key, value in content.items() if key not in _NOT_HASHED}
    canonical = json.dumps(hashed, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _load_file(path: Path, *, source: str) -> Protocol:
    from seldkit.io.fields import Fields
    from seldkit.io.yamlfile import read_yaml_file

    raw = read_yaml_file(path, what="protocol file")
    if not isinstance(raw, dict):
        raise InputError("a protocol is a YAML mapping (key: value)", file=str(path))
    top = Fields(raw, file=path)
    top.string("name")
    task = top.string("task")
    if "description" in raw and not isinstance(raw["description"], str):
        raise top.error("description", "must be text")
    resolver = _RESOLVERS.get(task)
    if resolver is None:
        known = ", ".join(sorted(_RESOLVERS))
        raise InputError(f"unsupported protocol task {task!r} (this version knows: {known})", file=str(path))
    content, classes, settings = resolver(raw, path)
    return Protocol(
        name=raw["name"],
        task=task,
        source=source,
        content=content,
        hash=protocol_hash(content),
        settings=settings,
        classes=classes,
        raw=raw,
        path=path,
    )


def with_settings(protocol: Protocol, **settings: Any) -> Protocol:
    """The protocol with some top-level settings changed (e.g. another DCASE configuration, another embedder).

    The content is resolved again and the hash follows.
    """
    unknown = set(settings) - _OVERRIDABLE[protocol.task]
    if unknown:
        raise ValueError(f"cannot override {sorted(unknown)} of a {protocol.task} protocol")
    raw = {**protocol.raw, **settings}
    path = protocol.path if protocol.path is not None else Path(protocol.source)
    content, classes, task_settings = _RESOLVERS[protocol.task](raw, path)
    return Protocol(
        name=protocol.name,
        task=protocol.task,
        source=protocol.source,
        content=content,
        hash=protocol_hash(content),
        settings=task_settings,
        classes=classes,
        raw=raw,
        path=path,
    )


def _top(raw: dict[str, Any], path: Path) -> Fields:
    """The protocol's top-level fields, with the keys every task has already asked for."""
    from seldkit.io.fields import Fields

    fields = Fields(raw, file=path)
    fields.string("name")
    fields.string("task")
    fields.raw("description", "")
    return fields


def _description(raw: dict[str, Any]) -> str:
    return str(raw.get("description") or "").strip()


def _resolve_dcase(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None, TaskSettings]:
    from seldkit.metrics.dcase.years import YEAR_RULES

    fields = _top(raw, path)
    year = fields.integer("year")
    if year not in YEAR_RULES:
        raise fields.error("year", f"must be one of {', '.join(map(str, YEAR_RULES))}, not {year}")
    rules = YEAR_RULES[year]
    name = fields.string("configuration", rules.challenge_config.name)
    try:
        config = rules.config(name)
    except KeyError as error:
        raise fields.error("configuration", str(error.args[0])) from None
    compat = fields.boolean("compat", False)
    fields.finish()
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
        "description": _description(raw),
        "year": year,
        "configuration": config.name,
        "compat": compat,
        "official_source": rules.official_source,
        "n_classes": rules.n_classes,
        "frames_per_second": rules.frames_per_second,
        "metric": metric,
    }
    if rules.fixed_window is not None:  # only the years that have one: the other protocols hash as before
        content["window_frames"] = rules.fixed_window
    if config.level == "sed-doa":  # no location-aware threshold: detection and localisation are scored apart
        metric["doa_threshold_deg"] = None
        metric["frames_per_block"] = config.frames_per_block
        metric["doa_grid_deg"] = 10
    return content, None, DcaseSettings(year=year, configuration=config.name, compat=compat)


def _resolve_clip(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None, TaskSettings]:
    fields = _top(raw, path)
    metric_fields = fields.section("metrics")
    metrics = {
        "mode": metric_fields.string("mode", choices=("reference", "continuous")),
        "error_threshold_deg": metric_fields.number(
            "error_threshold_deg", 20.0, minimum=0.0, maximum=180.0, exclusive_minimum=True
        ),
        "distance_tolerance_m": metric_fields.number("distance_tolerance_m", 0.5, minimum=0.0, exclusive_minimum=True),
    }
    metric_fields.finish()
    bootstrap = _resolve_bootstrap(fields)
    content: dict[str, Any] = {
        "name": raw["name"],
        "task": "clip",
        "description": _description(raw),
        "metrics": metrics,
        "bootstrap": bootstrap,
    }
    classes = None
    if fields.has("classes"):
        classes = _resolve_classes(fields.section("classes"), path, names_required=False)
        content["classes"] = list(classes.ids)
    fields.finish()
    settings = ClipSettings(
        metrics["mode"], metrics["error_threshold_deg"], metrics["distance_tolerance_m"], BootstrapSettings(**bootstrap)
    )
    return content, classes, settings


def _resolve_qa(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None, TaskSettings]:
    fields = _top(raw, path)
    embedder = fields.string("embedder", "minilm", choices=("minilm", "trigram256"))
    bootstrap = _resolve_bootstrap(fields)
    classes = _resolve_classes(fields.section("classes"), path, names_required=True)
    fields.finish()
    content: dict[str, Any] = {
        "name": raw["name"],
        "task": "qa",
        "description": _description(raw),
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
    return content, classes, QaSettings(embedder=embedder, bootstrap=BootstrapSettings(**bootstrap))


def _resolve_bootstrap(fields: Fields) -> dict[str, Any]:
    section = fields.section("bootstrap", optional=True)
    bootstrap = {
        "level": section.number(
            "level", 0.95, minimum=0.0, maximum=1.0, exclusive_minimum=True, exclusive_maximum=True
        ),
        "seed": section.integer("seed", 0, minimum=0, maximum=2**32 - 1),
    }
    section.finish()
    return bootstrap


def _resolve_classes(spec: Fields, path: Path, *, names_required: bool) -> ClassSet:
    ids = _read_class_ids(_asset(path, spec.string("file"), "class list", spec), path)
    names: dict[str, str] = {}
    if names_required or spec.has("names"):
        names_file = _asset(path, spec.string("names"), "class names", spec)
        names = _read_class_names(names_file, path)
        missing = [class_id for class_id in ids if class_id not in names]
        if names_required and missing:
            raise InputError(
                f"no display name for class {missing[0]!r} of the class list ({len(missing)} missing)",
                file=str(names_file),
            )
    spec.finish()
    return ClassSet(ids=ids, names={class_id: names[class_id] for class_id in ids if class_id in names})


def _asset(protocol_path: Path, reference: str, kind: str, fields: Fields) -> Path:
    """A file a protocol names, relative to the protocol file: it must be a regular file of a sensible size."""
    file = protocol_path.parent / reference
    try:
        info = file.stat()
    except OSError:
        raise InputError(
            f"{kind} {reference!r} not found (paths are relative to the protocol file)", file=str(protocol_path)
        ) from None
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{kind} {reference!r} is not a regular file", file=str(protocol_path))
    if info.st_size > _MAX_ASSET_BYTES[kind]:
        raise InputError(
            f"{kind} {reference!r} is larger than {_MAX_ASSET_BYTES[kind] >> 20} MiB", file=str(protocol_path)
        )
    return file


def _resolve_train(raw: dict[str, Any], path: Path) -> tuple[dict[str, Any], ClassSet | None, TaskSettings]:
    """Training protocols: a data section (generator and its parameters), the model size and the recipes.

    Files the data section names (HRIR sets, the sounds' label list) enter the hash by their sha256, so a
    changed asset changes the protocol.
    """
    from seldkit.train.config import read_recipes

    fields = _top(raw, path)
    data = fields.section("data")
    generator = data.string("generator", choices=("synthetic-binaural", "published-layout"))
    assets: dict[str, str] = {}
    if generator == "synthetic-binaural":
        for split in _check_synthetic_data(data).values():
            assets[split["hrtf"]] = _digest(_asset(path, split["hrtf"], "HRTF set", data), path)
        sounds = data.mapping["sounds"]
        assets[f"{sounds}/labels.csv"] = _digest(_asset(path, f"{sounds}/labels.csv", "sound labels", data), path)
    else:
        _check_published_data(data)
    data.finish()
    fields.raw("model", None)
    fields.raw("training", None)
    fields.finish()
    content = {
        "name": raw["name"],
        "task": "train",
        "description": _description(raw),
        "data": json.loads(json.dumps(raw["data"])),  # a deep copy
        "assets": assets,
    }
    for key in ("model", "training"):
        if key in raw:
            content[key] = raw[key]
    recipes = read_recipes(content, file=path)
    for config in recipes.values():
        evaluation = config.evaluation_protocol
        if evaluation not in available_protocols() or load_protocol(evaluation).classes is None:
            raise InputError(
                f"training.evaluation_protocol must name a shipped clip protocol with a class list "
                f"(bat-encoder, bat-encoder-continuous), not {evaluation!r}",
                file=str(path),
            )
    settings = TrainSettings(generator=generator, data=content["data"], assets=assets, recipes=recipes)
    return content, None, settings


def _check_synthetic_data(data: Fields) -> dict[str, dict[str, Any]]:
    """The synthetic generator's parameters; returns the splits (as written)."""
    data.integer("seed", minimum=0, maximum=2**32 - 1)
    data.integer("sample_rate", 32_000, minimum=8_000, maximum=192_000)
    data.number("clip_seconds", minimum=0.0, maximum=120.0, exclusive_minimum=True)
    data.number("rir_seconds", minimum=0.0, maximum=10.0, exclusive_minimum=True)
    data.interval("distance_m", positive=True, maximum=100.0)
    data.interval("elevation_deg", minimum=-90.0, maximum=90.0)
    data.integer("max_image_order", 20, minimum=0, maximum=100)
    data.string("sounds")
    _check_procedural(data)
    data.number("overlap", 0.0, minimum=0.0, maximum=1.0)
    if data.raw("noise_snr_db", None) is not None:
        data.interval("noise_snr_db", minimum=-30.0, maximum=100.0)
    splits = data.named_sections("splits")
    for name, split in splits.items():
        if not is_protocol_name(name):
            raise data.error("splits", f"has a split name {name!r} that is not a plain name (letters, digits, ., _, -)")
        split.integer("clips", minimum=1, maximum=10_000_000)
        split.integer("rooms", minimum=1, maximum=100_000)
        split.integer("positions_per_room", minimum=1, maximum=100_000)
        split.string("hrtf")
        split.interval("rt60", positive=True, maximum=20.0)
        for axis, (low, _) in enumerate(split.intervals("room_size", count=3, maximum=1000.0)):
            if low < 1.0:
                raise split.error(
                    f"room_size[{axis}]", f"must start at 1 m or more (a listener needs room), not {low:g}"
                )
        split.number("class_skew", 0.0, minimum=0.0, maximum=10.0)
        split.finish()
    return {name: dict(split.mapping) for name, split in splits.items()}


def _check_procedural(data: Fields) -> None:
    """``procedural``: true (the original five procedural classes), false, or a list of procedural class names."""
    from seldkit.data.sources import PROCEDURAL_LABELS

    value = data.raw("procedural", True)
    if isinstance(value, bool):
        return
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise data.error("procedural", "must be true, false or a list of procedural class names")
    unknown = [name for name in value if name not in PROCEDURAL_LABELS]
    if unknown or len(set(value)) != len(value):
        problem = f"names an unknown class {unknown[0]!r}" if unknown else "names a class twice"
        raise data.error("procedural", f"{problem} (the classes: {', '.join(PROCEDURAL_LABELS)})")


def _check_published_data(data: Fields) -> None:
    data.integer("sample_rate", 32_000, minimum=8_000, maximum=192_000)
    data.number("clip_seconds", minimum=0.0, maximum=120.0, exclusive_minimum=True)
    data.number("rir_seconds", minimum=0.0, maximum=10.0, exclusive_minimum=True)
    from seldkit.data.build import PUBLISHED_SETTINGS

    for key in PUBLISHED_SETTINGS:  # paths (and the evaluation seed) of the user's copy, usually given with --set
        if data.raw(key, None) is not None:
            data.string(key)


def _digest(file: Path, protocol_path: Path) -> str:
    try:
        digest = hashlib.sha256()
        with open(file, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()
    except OSError as error:
        raise InputError(
            f"cannot read the asset {file.name}: {error.strerror or error}", file=str(protocol_path)
        ) from None


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
    except OSError as error:
        raise InputError(
            f"cannot read the class list {path.name}: {error.strerror or error}", file=str(protocol_path)
        ) from None
    except UnicodeDecodeError:
        raise InputError("the class list is not UTF-8 text", file=str(path)) from None
    ids = tuple(line.strip() for line in lines if line.strip())
    if not ids:
        raise InputError("the class list is empty", file=str(path))
    seen: set[str] = set()
    for class_id in ids:
        if class_id in seen:
            raise InputError(f"class list holds the id {class_id!r} twice", file=str(path))
        seen.add(class_id)
    return ids


def _read_class_names(path: Path, protocol_path: Path) -> dict[str, str]:
    """Display names from an AudioSet-style ``index,mid,display_name`` CSV."""
    import csv

    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"mid", "display_name"} <= set(reader.fieldnames):
                raise InputError("class names file needs the columns mid and display_name", file=str(path))
            names = {}
            for row in reader:
                if row.get("mid") is None or row.get("display_name") is None:
                    raise InputError("row with missing fields", file=str(path), row=reader.line_num - 1)
                names[row["mid"]] = row["display_name"]
            return names
    except OSError as error:
        raise InputError(
            f"cannot read the class names {path.name}: {error.strerror or error}", file=str(protocol_path)
        ) from None
    except (UnicodeDecodeError, csv.Error) as error:
        raise InputError(f"not a readable CSV file: {error}", file=str(path)) from None
