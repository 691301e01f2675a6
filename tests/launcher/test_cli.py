"""The CLI as a user runs it: exit codes, one-line errors, no tracebacks, fast startup."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from gptoss_ft.recipe import preset_path

CLI = [sys.executable, "-m", "gptoss_ft"]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    text = " ".join(lines)
    assert text.startswith("error:"), result.stderr
    for needle in needles:
        assert needle in text


def test_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from gptoss_ft.cli import app; "
        "heavy = [m for m in ('sky', 'torch', 'transformers', 'trl') if m in sys.modules]; "
        "print(heavy)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_render_prints_valid_task() -> None:
    result = run_cli("render", "20b", "--method", "lora")
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    assert config["resources"]["accelerators"] == "H100:2"
    assert config["name"] == "gptoss-20b-lora"


def test_render_accelerate_config() -> None:
    result = run_cli("render", "120b", "--method", "lora", "--accelerate")
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["distributed_type"] == "FSDP"


def test_unknown_override_one_line() -> None:
    result = run_cli("render", "tiny", "--set", "training.lr=1")
    assert_one_line_error(result, "--set", "training.lr", "unknown key", "learning_rate")


def test_bad_method_rejected() -> None:
    result = run_cli("render", "tiny", "--method", "qlora")
    assert result.returncode == 2
    assert "qlora" in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_cluster_name_rejected() -> None:
    result = run_cli("render", "tiny", "-c", "bad name; rm -rf ~")
    assert_one_line_error(result, "invalid cluster name")


def test_memory_error_before_provisioning() -> None:
    result = run_cli("launch", "120b", "--method", "full", "--set", "resources.num_nodes=2", "--dryrun")
    assert_one_line_error(result, "does not fit", "num_nodes: 4")


def test_recipe_file_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [oops\n")
    assert_one_line_error(run_cli("render", "--recipe", str(broken)), "broken.yaml", "invalid YAML")
    assert_one_line_error(run_cli("render", "--recipe", str(tmp_path)), "is a directory")
    assert_one_line_error(run_cli("render", "--recipe", str(tmp_path / "nope.yaml")), "file not found")


def test_recipes_ls_show_cp(tmp_path: Path) -> None:
    listing = run_cli("recipes", "ls")
    assert listing.returncode == 0
    for name in ("20b-lora", "120b-full", "tiny-lora"):
        assert name in listing.stdout

    shown = run_cli("recipes", "show", "120b-full")
    assert shown.stdout == preset_path("120b-full").read_text()

    copied = run_cli("recipes", "cp", "20b-lora", str(tmp_path / "mine.yaml"))
    assert copied.returncode == 0, copied.stderr
    assert (tmp_path / "mine.yaml").read_text() == preset_path("20b-lora").read_text()
    assert "gptoss-ft launch --recipe" in copied.stdout

    again = run_cli("recipes", "cp", "20b-lora", str(tmp_path / "mine.yaml"))
    assert_one_line_error(again, "already exists", "--force")
    assert_one_line_error(run_cli("recipes", "show", "30b-lora"), "no preset named '30b-lora'")


@pytest.mark.parametrize("name", ["20b-lora", "tiny-full"])
def test_copied_recipe_renders(tmp_path: Path, name: str) -> None:
    target = tmp_path / "copy.yaml"
    assert run_cli("recipes", "cp", name, str(target)).returncode == 0
    result = run_cli("render", "--recipe", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("render", "20b", "-c", "[/x]"), "invalid cluster name '[/x]'"),
        (("render", "tiny", "-c", ""), "invalid cluster name ''"),
        (("render", "20b", "--set", 'model.id="x\\nnum_nodes: 3 #"'), "model.id"),
        (("render", "20b", "--set", 'model.id="a\\u2028b"'), "model.id"),
        (("render", "tiny", "--set", "output.dir=../../etc"), "must not contain '..'"),
        (("render", "tiny", "--set", "envs={hf_token: x}"), "hf_token is a secret"),
        (("render", "--recipe", "/dev/zero"), "not a regular file"),
        (("train", "/nonexistent/recipe.yaml"), "file not found"),
    ],
)
def test_hostile_cli_input_one_line(args: tuple[str, ...], needle: str) -> None:
    assert_one_line_error(run_cli(*args), needle)


def test_recipe_path_cannot_add_yaml_keys(tmp_path: Path) -> None:
    recipe = tmp_path / "x\nnum_nodes: 4 #.yaml"
    recipe.write_text(preset_path("tiny-lora").read_text())
    result = run_cli("render", "--recipe", str(recipe))
    assert result.returncode == 0, result.stderr
    assert "num_nodes" not in yaml.safe_load(result.stdout)
    assert "\\nnum_nodes: 4" in result.stdout


def test_duplicate_yaml_keys_rejected(tmp_path: Path) -> None:
    recipe = tmp_path / "dup.yaml"
    recipe.write_text("name: a\nname: b\n")
    assert_one_line_error(run_cli("render", "--recipe", str(recipe)), "'name' appears twice")
