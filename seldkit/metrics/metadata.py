"""What every reported metric is: its direction, unit, display label and range.

The comparison reads the direction (which system an interval favours), and the terminal tables and reports
read the unit (fractions shown as percentages like the papers, angles in degrees, distances in the unit of the
year's files). A metric name may carry a prefix (``DOA.DER``, ``E.E_avg``): the part after the last ``.`` names
the metric.

>>> metric_info("ER20").higher_is_better, metric_info("CLASSIFICATION.mAP_all").display(0.5)
(False, '50.00 %')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Unit = Literal["fraction", "ratio", "degrees", "distance"]


@dataclass(frozen=True)
class MetricInfo:
    """A reported metric: its name, display label, direction, unit and range.

    Units: ``fraction`` in [0, 1], shown as a percentage; ``ratio``, a dimensionless number shown as it is (it may
    exceed 1, e.g. an error rate counting insertions); ``degrees``; ``distance`` (metres, or the unit of the year's
    files for DCASE).
    """

    name: str
    label: str
    higher_is_better: bool
    unit: Unit
    low: float = 0.0
    high: float | None = None

    @property
    def scale(self) -> float:
        """The factor a value is shown with: 100 for a fraction (shown as a percentage), else 1."""
        return 100.0 if self.unit == "fraction" else 1.0

    def symbol(self, distance_unit: str = "m") -> str:
        """The unit shown after a value: ``%``, nothing, ``°`` or ``distance_unit``."""
        return {"fraction": "%", "ratio": "", "degrees": "°", "distance": distance_unit}[self.unit]

    def display(self, value: float | None, *, digits: int = 2, distance_unit: str = "m") -> str:
        """``value`` for a table (``–`` where undefined)."""
        if value is None or value != value:
            return "–"
        symbol = self.symbol(distance_unit)
        return f"{value * self.scale:.{digits}f}" + (f" {symbol}" if symbol else "")


def _metric(
    name: str, higher_is_better: bool, unit: Unit, label: str | None = None, high: float | None = None
) -> MetricInfo:
    return MetricInfo(name, label or name, higher_is_better, unit, 0.0, 1.0 if unit == "fraction" else high)


METRICS: dict[str, MetricInfo] = {
    metric.name: metric
    for metric in (
        # clip level (spatial-encoder evaluation)
        _metric("mAP", True, "fraction"),
        _metric("ER20", False, "fraction"),
        _metric("MAE", False, "degrees", high=180.0),
        _metric("DER", False, "fraction"),
        # DCASE Task 3
        _metric("ER_20", False, "ratio"),
        _metric("F_20", True, "fraction"),
        _metric("LE_CD", False, "degrees", high=180.0),
        _metric("LR_CD", True, "fraction"),
        _metric("DOAE_CD", False, "degrees", high=180.0),
        _metric("DistE_CD", False, "distance"),
        _metric("RDE_CD", False, "ratio"),
        _metric("OnscreenAcc", True, "fraction"),
        _metric("SELD", False, "ratio"),
        # DCASE 2019: detection and localisation scored apart
        _metric("ER", False, "ratio", "ER (1 s blocks)"),
        _metric("F", True, "fraction", "F (1 s blocks)"),
        _metric("DE", False, "degrees", "DOA error", high=180.0),
        _metric("FR", True, "fraction", "frame recall"),
        # SpatialSoundQA
        _metric("mAP_all", True, "fraction", "mAP (all classes)"),
        _metric("mAP_present", True, "fraction", "mAP (present classes)"),
        _metric("direction_acc", True, "fraction", "direction accuracy"),
        _metric("accuracy", True, "fraction"),
        _metric("balanced_accuracy", True, "fraction", "balanced accuracy"),
        _metric("E_avg", True, "fraction"),
        _metric("E_balanced_avg", True, "fraction"),
    )
}


CLIP_METRICS = ("mAP", "ER20", "MAE", "DER")  # the clip-level metrics, in the order the papers report them


def metric_info(name: str) -> MetricInfo:
    """The metric ``name`` (a prefix up to the last ``.`` is ignored); unknown names are a ``KeyError``."""
    return METRICS[name.rsplit(".", 1)[-1]]
