"""The only module that calls SkyPilot's Python SDK.

Every call goes through the SDK (request ids resolved with `sky.stream_and_get` or `sky.get`),
never the `sky` command. SkyPilot's exceptions are turned into `SkyPilotError` with one line that
names what failed and what to run next.
"""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import sky
from sky import exceptions as sky_exceptions

from gptoss_ft.errors import SkyPilotError

__all__ = ["SkyPilotError", "clusters", "down", "jobs", "launch", "read_logs", "tail_logs"]


@dataclass(frozen=True)
class ClusterInfo:
    name: str
    status: str
    resources: str


@dataclass(frozen=True)
class JobInfo:
    job_id: int
    name: str
    status: str


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


@contextmanager
def _translated_errors(cluster: str | None = None) -> Iterator[None]:
    """Turn SkyPilot's exceptions into SkyPilotError with the next step to take."""
    try:
        yield
    except sky_exceptions.ApiServerConnectionError:
        raise SkyPilotError(
            "cannot reach the SkyPilot API server; start a local one with `sky api start` "
            "or check SKYPILOT_API_SERVER_ENDPOINT"
        ) from None
    except sky_exceptions.ClusterDoesNotExist:
        raise SkyPilotError(
            f"cluster {cluster!r} does not exist; `gptoss-ft status` lists your clusters"
        ) from None
    except sky_exceptions.ClusterNotUpError as exc:
        raise SkyPilotError(f"cluster {cluster!r} is not up: {_first_line(exc)}") from None
    except sky_exceptions.InvalidClusterNameError as exc:
        raise SkyPilotError(f"invalid cluster name: {_first_line(exc)}") from None
    except sky_exceptions.ResourcesUnavailableError as exc:
        raise SkyPilotError(
            f"no enabled infra offers these resources: {_first_line(exc)}. "
            "Enable a cloud that has them (`sky check`) or change resources.accelerators"
        ) from None
    except sky_exceptions.NotSupportedError as exc:
        raise SkyPilotError(f"not supported: {_first_line(exc)}") from None
    except sky_exceptions.RequestCancelled:
        raise SkyPilotError("the SkyPilot request was cancelled") from None
    except sky_exceptions.CloudError as exc:
        raise SkyPilotError(f"SkyPilot could not query the cloud: {_first_line(exc)}") from None
    except Exception as exc:
        # Any other error SkyPilot raises on purpose still becomes one line; bugs elsewhere propagate.
        if type(exc).__module__.split(".")[0] == "sky":
            raise SkyPilotError(f"SkyPilot failed: {_first_line(exc)}") from None
        raise


def _to_task(task_config: dict[str, Any], secrets: dict[str, str] | None) -> Any:
    # from_yaml_config pops keys from the dict it gets: hand it a copy. Secret values go in as
    # overrides of the YAML's null placeholders; update_secrets after parsing leaves the
    # placeholder behind and the launch fails with "No value available for secret(s)".
    return sky.Task.from_yaml_config(
        copy.deepcopy(task_config), secrets_overrides=sorted((secrets or {}).items())
    )


def launch(
    task_config: dict[str, Any],
    *,
    cluster: str,
    secrets: dict[str, str] | None = None,
    dryrun: bool = False,
    down: bool = False,
    idle_minutes: int | None = None,
    output: IO[str] | None = None,
) -> int | None:
    """Launch the task on `cluster` and return the job id (None for a dry run).

    The request's log (provisioning, and SkyPilot's plan on a dry run) streams to `output`.
    """
    task = _to_task(task_config, secrets)
    with _translated_errors(cluster):
        request_id = sky.launch(
            task,
            cluster_name=cluster,
            dryrun=dryrun,
            down=down,
            idle_minutes_to_autostop=idle_minutes,
        )
        try:
            result = sky.stream_and_get(request_id, output_stream=output)
        except KeyboardInterrupt:
            # The request keeps running on the API server unless it is cancelled.
            sky.api_cancel(request_id, silent=True)
            raise
    if dryrun or result is None:
        return None
    job_id, _handle = result
    return job_id


def tail_logs(cluster: str, job_id: int | None, *, follow: bool, output: IO[str] | None = None) -> int:
    """Stream a job's log; return SkyPilot's exit code (0 when the job succeeded)."""
    with _translated_errors(cluster):
        return sky.tail_logs(cluster, job_id, follow=follow, output_stream=output)


def read_logs(cluster: str, job_id: int | None, *, tail: int = 0) -> str:
    """Return a finished or running job's log so far as text."""
    buffer = io.StringIO()
    with _translated_errors(cluster):
        sky.tail_logs(cluster, job_id, follow=False, tail=tail, output_stream=buffer)
    return buffer.getvalue()


def clusters(names: list[str] | None = None) -> list[ClusterInfo]:
    """Return SkyPilot's records for `names` (all clusters when None)."""
    with _translated_errors():
        records = sky.get(sky.status(cluster_names=names))
    result = []
    for record in records:
        status = record["status"]
        result.append(
            ClusterInfo(
                name=record["name"],
                status=getattr(status, "value", str(status)),
                resources=str(record.get("resources_str") or ""),
            )
        )
    return result


def jobs(cluster: str) -> list[JobInfo]:
    with _translated_errors(cluster):
        records = sky.get(sky.queue(cluster, skip_finished=False))
    result = []
    for record in records:
        status = record["status"] if isinstance(record, dict) else record.status
        job_id = record["job_id"] if isinstance(record, dict) else record.job_id
        name = record.get("job_name") if isinstance(record, dict) else getattr(record, "job_name", "")
        result.append(JobInfo(job_id=int(job_id), name=str(name or ""), status=getattr(status, "value", str(status))))
    return result


def down(cluster: str, *, graceful: bool = False) -> None:
    """Tear down `cluster`; with graceful, wait for MOUNT_CACHED uploads to finish first."""
    with _translated_errors(cluster):
        sky.get(sky.down(cluster, graceful=graceful))
