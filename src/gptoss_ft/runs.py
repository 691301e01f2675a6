"""Records of the runs this tool launched, kept in $GPTOSS_FT_HOME/runs.json.

A record is written before SkyPilot is called, so an interrupted launch still shows in
`gptoss-ft status`. Records never hold secret values.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from gptoss_ft.staging import state_dir


@dataclass
class RunRecord:
    cluster: str
    recipe: str
    source: str
    launched_at: str
    job_id: int | None = None
    bucket: str | None = None
    state: str = "launching"  # launching, submitted, interrupted, failed-to-launch


def _records_path() -> Path:
    return state_dir() / "runs.json"


def load_records() -> dict[str, RunRecord]:
    path = _records_path()
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, json.JSONDecodeError):
        # A damaged record file must not block status or down; it is rewritten on the next launch.
        return {}
    records = {}
    for name, data in raw.items():
        try:
            records[name] = RunRecord(**data)
        except TypeError:
            continue
    return records


def save_record(record: RunRecord) -> None:
    records = load_records()
    records[record.cluster] = record
    _write(records)


def remove_record(cluster: str) -> None:
    records = load_records()
    if records.pop(cluster, None) is not None:
        _write(records)


def _write(records: dict[str, RunRecord]) -> None:
    path = _records_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps({name: asdict(record) for name, record in records.items()}, indent=2)
    # Write a temporary file and rename it, so a crash never leaves half a file.
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".runs-", suffix=".json")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(payload)
    os.replace(temporary, path)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
