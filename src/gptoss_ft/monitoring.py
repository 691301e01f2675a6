"""Status and teardown of the runs this tool launched, joined with SkyPilot's own records."""

from __future__ import annotations

from dataclasses import dataclass

from gptoss_ft import skypilot
from gptoss_ft.errors import UserError
from gptoss_ft.metrics import parse_metrics, training_records
from gptoss_ft.runs import load_records, save_record
from gptoss_ft.staging import check_cluster_name

# Enough log lines to hold the latest metric line even with verbose library output between steps.
PROGRESS_LOG_LINES = 400


@dataclass(frozen=True)
class StatusRow:
    cluster: str
    recipe: str
    cluster_state: str
    job_id: int | None
    job_state: str
    step: int | None
    loss: float | None
    launched_at: str


def collect_status(*, read_progress: bool) -> list[StatusRow]:
    """Return one row per run launched by gptoss-ft that has not been torn down."""
    records = {name: record for name, record in load_records().items() if record.state != "down"}
    if not records:
        return []
    clusters = {info.name: info for info in skypilot.clusters(list(records))}

    rows = []
    for name, record in sorted(records.items()):
        info = clusters.get(name)
        cluster_state = info.status if info else "not found"
        job_state = record.state if record.job_id is None else ""
        step = loss = None
        if info is not None and info.status == "UP" and record.job_id is not None:
            job_state = _job_state(name, record.job_id)
            if read_progress:
                step, loss = _latest_progress(name, record.job_id)
        rows.append(
            StatusRow(name, record.recipe, cluster_state, record.job_id, job_state, step, loss, record.launched_at)
        )
    return rows


def _job_state(cluster: str, job_id: int) -> str:
    try:
        jobs = skypilot.jobs(cluster)
    except skypilot.SkyPilotError:
        return "unknown"
    for job in jobs:
        if job.job_id == job_id:
            return job.status
    return "not found"


def _latest_progress(cluster: str, job_id: int) -> tuple[int | None, float | None]:
    try:
        text = skypilot.read_logs(cluster, job_id, tail=PROGRESS_LOG_LINES)
    except skypilot.SkyPilotError:
        return None, None
    records = training_records(parse_metrics(text))
    if not records:
        return None, None
    return records[-1].step, records[-1].values["loss"]


def tear_down(cluster: str) -> str:
    """Tear down a cluster launched by gptoss-ft and return the line to print."""
    check_cluster_name(cluster)
    record = load_records().get(cluster)
    if record is None:
        raise UserError(
            f"cluster {cluster!r} was not launched by gptoss-ft; `gptoss-ft status` lists the runs "
            f"it launched (use SkyPilot itself for other clusters)"
        )
    if record.state == "down":
        return f"cluster {cluster} is already down"
    try:
        skypilot.down(cluster, graceful=record.bucket is not None)
    except skypilot.SkyPilotError:
        if not skypilot.clusters([cluster]):
            # SkyPilot has no record of it (torn down elsewhere, or autodown): the record is stale.
            record.state = "down"
            save_record(record)
            return f"cluster {cluster} is already down"
        raise
    record.state = "down"
    save_record(record)
    return f"cluster {cluster} is down; checkpoints in a bucket or the login user's home remain"
