"""The launch flow behind `gptoss-ft launch`: checks, run record, SkyPilot, log streaming."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import IO

from rich.console import Console

from gptoss_ft import skypilot
from gptoss_ft.metrics import parse_metrics, training_records
from gptoss_ft.prepare import PreparedLaunch, local_secrets, prepare_launch, without_secrets
from gptoss_ft.runs import RunRecord, now, save_record


class _Tee(io.TextIOBase):
    """A text stream that writes through to `target` and keeps a copy."""

    def __init__(self, target: IO[str]) -> None:
        self.target = target
        self.copy = io.StringIO()

    def write(self, text: str) -> int:
        self.target.write(text)
        self.target.flush()
        return self.copy.write(text)

    def flush(self) -> None:
        self.target.flush()


def prepare(
    *,
    model: str | None,
    method: str | None,
    recipe_file: Path | None,
    overrides: list[str],
    infra: str | None,
    cluster: str | None,
    check_data: bool,
    console: Console,
) -> PreparedLaunch:
    """Load, check, stage and render; print what will be launched."""
    prepared = prepare_launch(
        model=model,
        method=method,
        recipe_file=recipe_file,
        overrides=overrides,
        infra=infra,
        cluster=cluster,
    )
    recipe = prepared.recipe
    resources = recipe.resources
    console.print(
        f"{recipe.name}: {recipe.model.id or 'tiny gpt-oss'} {recipe.method} "
        f"on {recipe.hardware} ({recipe.distributed.strategy}), infra {resources.infra or 'any enabled'}, "
        f"cluster {prepared.cluster}"
    )
    if prepared.memory is None and resources.accelerators and recipe.model.id:
        console.print(
            f"warning: memory check skipped: no figures for {recipe.model.id} on {resources.accelerators}"
        )
    if prepared.memory is not None:
        console.print(
            f"model states: about {prepared.memory.per_gpu_state_gb:,.0f} GB per GPU of "
            f"{prepared.memory.gpu_memory_gb} GB (activations come on top)"
        )
    if resources.num_nodes > 1 and recipe.output.bucket is None:
        # Only the main process writes checkpoints, so the other nodes cannot read them back.
        console.print(
            f"warning: {resources.num_nodes} nodes without output.bucket: checkpoints "
            "land on node 0's disk only, and resuming needs them on every node. Set output.bucket."
        )
    if check_data:
        _check_local_data(prepared, console)
    return prepared


def _check_local_data(prepared: PreparedLaunch, console: Console) -> None:
    from gptoss_ft.chatdata.check import check_recipe_data  # noqa: PLC0415
    from gptoss_ft.chatdata.sources import DataError, local_data_files  # noqa: PLC0415

    report = check_recipe_data(prepared.recipe, prepared.source.resolve().parent)
    if report.rows_read == 0 and not local_data_files(prepared.recipe, prepared.source.resolve().parent):
        console.print("data check: no local data; hub datasets are read on the cluster")
    elif report.valid_rows == 0:
        raise DataError(
            f"data check: the local data has no row to train on ({report.rows_read:,} rows read); "
            "`gptoss-ft data check` shows why"
        )
    else:
        console.print(f"data check: {report.summary_line()}")


def dry_run(prepared: PreparedLaunch, *, console: Console) -> None:
    """Show the rendered task and SkyPilot's plan for it; provision nothing."""
    console.print(f"task YAML checked by SkyPilot's parser; workdir staged at {prepared.stage_dir}")
    secrets, missing = local_secrets(prepared.recipe)
    task_config = without_secrets(prepared.task_config, missing)
    console.print("SkyPilot's plan:")
    skypilot.launch(task_config, cluster=prepared.cluster, secrets=secrets, dryrun=True, output=sys.stdout)
    console.print("dry run: nothing provisioned. Run the same command without --dryrun to launch.")


def launch(
    prepared: PreparedLaunch,
    *,
    detach: bool,
    down: bool,
    idle_minutes: int | None,
    console: Console,
) -> int:
    """Launch and, unless detached, stream the job's log; return SkyPilot's job exit code."""
    recipe = prepared.recipe
    secrets, missing = local_secrets(recipe)
    if missing:
        console.print(f"secrets not set in the local environment, so not sent: {', '.join(missing)}")
    task_config = without_secrets(prepared.task_config, missing)

    record = RunRecord(
        cluster=prepared.cluster,
        recipe=recipe.name,
        source=str(prepared.source),
        launched_at=now(),
        bucket=recipe.output.bucket,
    )
    # Written before SkyPilot is called, so an interrupted launch still shows in `status`.
    save_record(record)
    try:
        job_id = skypilot.launch(
            task_config,
            cluster=prepared.cluster,
            secrets=secrets,
            down=down,
            idle_minutes=idle_minutes,
            output=sys.stdout,
        )
    except KeyboardInterrupt:
        record.state = "interrupted"
        save_record(record)
        console.print(
            f"launch interrupted. The cluster may exist already: "
            f"`gptoss-ft status` shows it, `gptoss-ft down {prepared.cluster}` removes it."
        )
        raise
    except skypilot.SkyPilotError:
        record.state = "failed-to-launch"
        save_record(record)
        raise
    record.job_id = job_id
    record.state = "submitted"
    save_record(record)

    console.print(f"job {job_id} submitted on cluster {prepared.cluster}")
    if detach:
        console.print(
            f"follow it: gptoss-ft logs {prepared.cluster}; progress: gptoss-ft status; "
            f"tear down: gptoss-ft down {prepared.cluster}"
        )
        return 0
    tee = _Tee(sys.stdout)
    exit_code = skypilot.tail_logs(prepared.cluster, job_id, follow=True, output=tee)
    _print_training_summary(tee.copy.getvalue(), console)
    if not down:
        console.print(f"the cluster stays up: gptoss-ft down {prepared.cluster}")
    return exit_code


def _print_training_summary(log_text: str, console: Console) -> None:
    records = training_records(parse_metrics(log_text))
    if not records:
        return
    first, last = records[0], records[-1]
    line = f"loss: {first.values['loss']:.4f} at step {first.step} -> {last.values['loss']:.4f} at step {last.step}"
    accuracy_first = first.get("mean_token_accuracy")
    accuracy_last = last.get("mean_token_accuracy")
    if accuracy_first is not None and accuracy_last is not None:
        line += f"; mean token accuracy {accuracy_first:.3f} -> {accuracy_last:.3f}"
    console.print(line)
