"""Worked example of ``--impl-command``: a lab's command-line scorer with the per-recording averaging mistake.

``python per_file_command.py PREDS_DIR REF_DIR CONFIG OUT.json`` writes the metrics of
:func:`tests.regression.adapters.dcase2024_frames.score_per_file` (official names) to OUT.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root, for `tests`

from seldkit.regression.golden_cases import read_csv_rows_folder  # noqa: E402
from tests.regression.adapters.dcase2024_frames import score_per_file  # noqa: E402

if __name__ == "__main__":
    predictions, references, config, out = sys.argv[1:5]
    metrics = score_per_file(
        read_csv_rows_folder(Path(predictions)), read_csv_rows_folder(Path(references)), config=config
    )
    Path(out).write_text(json.dumps(metrics), encoding="utf-8")
