"""Parse the trainer's metric lines out of a job log.

The trainer logs one line per logging step: `GPTOSS_FT_METRICS {"step": 3, "loss": 6.1, ...}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

METRICS_MARKER = "GPTOSS_FT_METRICS "
_METRICS_LINE = re.compile(re.escape(METRICS_MARKER) + r"(\{.*\})")


@dataclass(frozen=True)
class StepMetrics:
    step: int
    values: dict[str, float]

    def get(self, name: str) -> float | None:
        return self.values.get(name)


def parse_metrics(log_text: str) -> list[StepMetrics]:
    """Return every metric record in `log_text`, in order; malformed lines are skipped."""
    records = []
    for match in _METRICS_LINE.finditer(log_text):
        try:
            data = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("step"), int):
            continue
        values = {k: float(v) for k, v in data.items() if k != "step" and isinstance(v, (int, float))}
        records.append(StepMetrics(step=data["step"], values=values))
    return records


def training_records(records: list[StepMetrics]) -> list[StepMetrics]:
    """Keep the records that carry a training loss (not eval or summary records)."""
    return [record for record in records if "loss" in record.values]
