"""The metrics line that the launcher parses from the SkyPilot logs."""

from __future__ import annotations

import json


def test_metrics_line_keeps_numbers_only() -> None:
    import numpy as np

    from gptoss_ft.trainer.callbacks import format_metrics_line

    logs = {
        "loss": 6.1,
        "grad_norm": np.float32(1.5),
        "learning_rate": 0.0002,
        "num_tokens": 1234.0,
        "total_flos": 7,
        "epoch": 0.1,
        "is_best": True,
        "note": "text",
    }

    line = format_metrics_line(3, logs)

    marker, _, payload = line.partition(" ")
    assert marker == "GPTOSS_FT_METRICS"
    record = json.loads(payload)
    assert list(record) == ["step", "loss", "grad_norm", "learning_rate", "num_tokens", "total_flos", "epoch"]
    assert record["step"] == 3
    assert record["grad_norm"] == 1.5
    assert isinstance(record["total_flos"], int)
    assert line.startswith('GPTOSS_FT_METRICS {"step": 3, "loss": 6.1, ')
