"""Run the trainer tests offline, with the built tokenizer cached in a temporary folder.

The test modules import the training stack inside the tests, after `offline_environment` has set
the variables that huggingface_hub reads at import time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

OFFLINE_VARIABLES = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}


@pytest.fixture(scope="session", autouse=True)
def offline_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point XDG_CACHE_HOME at a session folder and turn the hub off, for this and child processes."""
    cache_dir = tmp_path_factory.mktemp("xdg-cache")
    values = {"XDG_CACHE_HOME": str(cache_dir), **OFFLINE_VARIABLES}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    yield cache_dir
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def trainer_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture gptoss_ft's INFO lines, where the metrics and resume decisions go."""
    caplog.set_level("INFO", logger="gptoss_ft")
    return caplog
