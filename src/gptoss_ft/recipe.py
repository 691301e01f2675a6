"""Recipe schema, preset discovery and `--set` overrides.

A recipe is one YAML file that describes a whole fine-tuning run: the model, the method, the
data, the hyperparameters, the cloud resources and the distributed setup. The launcher renders
it into a SkyPilot task, and the trainer on the cluster reads the same file.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

PRESETS_DIR = (Path(__file__).resolve().parent / "recipes").resolve()

# Names that reach cluster names, file names and shell commands are limited to this pattern.
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$"
ENV_NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
# Variables that always travel as SkyPilot secrets: setting them under `envs` is rejected.
DEFAULT_SECRETS = ("HF_TOKEN", "WANDB_API_KEY")
MAX_RECIPE_BYTES = 1024 * 1024


class RecipeError(ValueError):
    """An invalid recipe or override, with the file and key path it concerns."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None) -> None:
        self.source = source
        self.key = key
        self.detail = message
        prefix = ": ".join(part for part in (source, key) if part)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_numbers(cls, data: Any) -> Any:
        # pydantic reads true as 1 for int fields; a YAML boolean where a number belongs is a mistake.
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                numeric = field.annotation in (int, float, int | None, float | None)
                if numeric and isinstance(data.get(name), bool):
                    raise ValueError(f"{name}: expected a number, got {data[name]!r}")
        return data


class TinyModel(_Section):
    """A small `GptOssConfig` with random weights: the real architecture, trainable on a CPU."""

    num_hidden_layers: int = Field(2, ge=1, le=8)
    hidden_size: int = Field(64, ge=16, le=1024)
    intermediate_size: int = Field(64, ge=16, le=4096)
    num_attention_heads: int = Field(4, ge=1, le=64)
    num_key_value_heads: int = Field(2, ge=1, le=64)
    head_dim: int = Field(16, ge=8, le=256)
    num_local_experts: int = Field(4, ge=2, le=64)
    num_experts_per_tok: int = Field(2, ge=1, le=8)
    seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _check_shapes(self) -> TinyModel:
        if self.num_experts_per_tok > self.num_local_experts:
            raise ValueError("num_experts_per_tok must not exceed num_local_experts")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")
        return self


class ModelSection(_Section):
    # A hub id (org/name) or a local path: letters, digits and . _ - / ~ only.
    id: str | None = Field(None, min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.~/-]+$")
    tiny: TinyModel | None = None
    dtype: Literal["bfloat16", "float32"] = "bfloat16"
    # GptOss rejects sdpa; `eager` runs everywhere, the flash-attention kernel needs Hopper GPUs.
    attn_implementation: Literal["eager", "kernels-community/vllm-flash-attn3"] = "eager"

    @model_validator(mode="after")
    def _one_source(self) -> ModelSection:
        if (self.id is None) == (self.tiny is None):
            raise ValueError("set exactly one of model.id (a hub id or path) or model.tiny")
        return self


class LoraSection(_Section):
    r: int = Field(8, ge=1, le=1024)
    alpha: int = Field(16, ge=1, le=4096)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    # "all-linear" or a list of module names; the attention projections of gpt-oss are linear.
    target_modules: Literal["all-linear"] | list[str] = "all-linear"
    # Expert weights are 3-D parameters, not Linear modules, so LoRA reaches them only through
    # PEFT's target_parameters. Each entry is expanded to every decoder layer.
    target_parameters: list[str] = Field(
        default_factory=lambda: ["mlp.experts.gate_up_proj", "mlp.experts.down_proj"]
    )

    @field_validator("target_modules", "target_parameters")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            for name in value:
                if not re.fullmatch(r"[A-Za-z0-9_.]+", name):
                    raise ValueError(f"{name!r} is not a module or parameter name")
        return value


# Field names that `data.fields` may rename (gptoss_ft.chatdata.formats reads them).
DATA_FIELD_NAMES = (
    "messages", "role", "content", "thinking", "tool_calls", "tools", "prompt", "completion",
    "instruction", "input", "output", "system", "history", "question", "answer",
)
DATA_ROLES = ("system", "developer", "user", "assistant", "tool")
DataFormat = Literal["auto", "messages", "prompt_completion", "alpaca", "gsm8k"]


class DataSourceSection(_Section):
    """One dataset: where it is and how to read its rows."""

    # A hub dataset id (org/name), a local .jsonl, .json or .parquet file (relative to the
    # recipe file), or builtin:gsm8k-chat.
    dataset: str = Field(min_length=1, max_length=500)
    config: str | None = Field(None, max_length=200)  # hub datasets only
    split: str = Field("train", min_length=1, max_length=200)  # hub datasets only
    # auto: detected from the first row. messages, prompt_completion, alpaca or gsm8k.
    format: DataFormat = "auto"
    # The dataset's own names for the standard fields, e.g. {messages: conversations, role: from}.
    fields: dict[str, str] = Field(default_factory=dict)
    # The dataset's own role names mapped to system, developer, user, assistant or tool.
    roles: dict[str, str] = Field(default_factory=dict)

    @field_validator("fields")
    @classmethod
    def _field_names(cls, fields: dict[str, str]) -> dict[str, str]:
        for key, name in fields.items():
            if key not in DATA_FIELD_NAMES:
                raise ValueError(f"unknown field {key!r}; data.fields renames {', '.join(DATA_FIELD_NAMES)}")
            if not name:
                raise ValueError(f"data.fields.{key} is empty")
        return fields

    @field_validator("roles")
    @classmethod
    def _role_names(cls, roles: dict[str, str]) -> dict[str, str]:
        for name, role in roles.items():
            if role not in DATA_ROLES:
                raise ValueError(f"data.roles.{name}: {role!r} is not one of {', '.join(DATA_ROLES)}")
        return roles


class MixSourceSection(DataSourceSection):
    # How often each row is used: 1 every row once, 0.5 a random half, 2 every row twice.
    weight: float = Field(1.0, gt=0, le=1000)


class EvalSection(_Section):
    """Held-out evaluation data; eval loss is logged every `steps` optimizer steps."""

    # Rows held out of the training data: a count (an integer) or a fraction (below 1).
    size: int | float | None = None
    # Or a named split of the training dataset (a hub dataset), such as test.
    split: str | None = Field(None, min_length=1, max_length=200)
    # Or a separate dataset (a hub id or a local file), read like the training data.
    dataset: str | None = Field(None, min_length=1, max_length=500)
    config: str | None = Field(None, max_length=200)
    steps: int | None = Field(None, ge=1)  # unset: every training.save_steps

    @model_validator(mode="after")
    def _one_source(self) -> EvalSection:
        if self.size is not None and (self.split is not None or self.dataset is not None):
            raise ValueError("set data.eval.size, or data.eval.split / data.eval.dataset, not both")
        if self.size is None and self.split is None and self.dataset is None:
            raise ValueError("data.eval needs size (held-out rows), split or dataset")
        if isinstance(self.size, bool) or (isinstance(self.size, float) and not 0 < self.size < 1):
            raise ValueError(
                f"data.eval.size {self.size} is neither a row count nor a fraction: "
                "write an integer count such as 200, or a fraction between 0 and 1 such as 0.05"
            )
        if isinstance(self.size, int) and self.size < 1:
            raise ValueError("data.eval.size must be at least 1 row")
        if self.config is not None and self.dataset is None:
            raise ValueError("data.eval.config applies to data.eval.dataset only")
        return self


class DataSection(DataSourceSection):
    # Either one dataset (the keys above) or a weighted mix of several (each with the same keys).
    dataset: str | None = Field(None, min_length=1, max_length=500)  # type: ignore[assignment]
    mix: list[MixSourceSection] | None = Field(None, min_length=1, max_length=64)
    # Tokens per row, system message included. Longer rows are cut (truncate) or left out (drop).
    max_length: int = Field(1024, ge=16, le=131072)
    too_long: Literal["truncate", "drop"] = "truncate"
    # last: train the assistant messages after the last user message, each with its reasoning.
    # all: train every assistant message; earlier turns train without their reasoning, which
    # gpt-oss drops from the context once a turn has its final answer.
    train_turns: Literal["last", "all"] = "last"
    # The harmony system message of every row.
    reasoning_effort: Literal["low", "medium", "high"] = "medium"
    # Pinned, so that the same data tokenizes the same on every day (gpt-oss was released 2025-08-05).
    current_date: str = Field("2025-08-05", pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
    # The harmony guide advises keeping this identity and putting instructions in system_prompt.
    model_identity: str = Field(
        "You are ChatGPT, a large language model trained by OpenAI.", min_length=1, max_length=2000
    )
    # Developer instructions for rows that have no system or developer message of their own.
    system_prompt: str | None = Field(None, min_length=1, max_length=100_000)
    # Rejected for gpt-oss, see _no_packing.
    packing: bool = False
    eval: EvalSection | None = None

    @field_validator("current_date", mode="before")
    @classmethod
    def _calendar_date(cls, value: Any) -> Any:
        from datetime import date  # noqa: PLC0415

        # YAML reads an unquoted 2025-08-05 as a date.
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                date.fromisoformat(value)
            except ValueError:
                raise ValueError(f"{value!r} is not a calendar date (YYYY-MM-DD)") from None
        return value

    @field_validator("packing")
    @classmethod
    def _no_packing(cls, packing: bool) -> bool:
        if packing:
            raise ValueError(
                "packing is not supported for gpt-oss: GptOssModel (transformers 5.25) does not pass "
                "position_ids to its causal-mask builder, so with eager attention packed rows attend "
                "to each other (logits off by up to 0.50 against the row run alone); set packing: false"
            )
        return packing

    @model_validator(mode="after")
    def _one_source(self) -> DataSection:
        if self.mix is None:
            if self.dataset is None:
                raise ValueError("set data.dataset (one dataset) or data.mix (several)")
            return self
        if self.dataset is not None:
            raise ValueError("set data.dataset or data.mix, not both")
        # Compared with the defaults, not model_fields_set, so that a dumped recipe loads again.
        defaults = {"config": None, "split": "train", "format": "auto", "fields": {}, "roles": {}}
        per_source = [key for key, default in defaults.items() if getattr(self, key) != default]
        if per_source:
            raise ValueError(f"with data.mix, set {', '.join(per_source)} on each mix entry instead")
        if self.eval is not None and self.eval.split is not None and self.eval.dataset is None:
            raise ValueError("data.eval.split needs one dataset; with data.mix use data.eval.size or data.eval.dataset")
        return self


class TrainingSection(_Section):
    learning_rate: float = Field(2e-4, gt=0, lt=1)
    lr_scheduler_type: Literal[
        "cosine_with_min_lr", "cosine", "linear", "constant", "constant_with_warmup"
    ] = "cosine_with_min_lr"
    # Floor of the cosine schedule as a fraction of learning_rate (cosine_with_min_lr only).
    min_lr_rate: float = Field(0.1, ge=0, le=1)
    warmup_ratio: float = Field(0.03, ge=0, lt=1)
    num_train_epochs: float = Field(1.0, gt=0, le=1000)
    max_steps: int = Field(-1, ge=-1)  # -1: run num_train_epochs
    per_device_train_batch_size: int = Field(4, ge=1, le=4096)
    gradient_accumulation_steps: int = Field(4, ge=1, le=4096)
    gradient_checkpointing: bool = True
    weight_decay: float = Field(0.0, ge=0, le=1)
    max_grad_norm: float = Field(1.0, gt=0)
    seed: int = Field(42, ge=0)
    logging_steps: int = Field(1, ge=1)
    save_steps: int = Field(100, ge=1)
    save_total_limit: int | None = Field(2, ge=1)
    report_to: Literal["none", "wandb", "tensorboard"] = "none"


class OutputSection(_Section):
    # A relative dir resolves against the login user's home on the cluster, which outlives the
    # cluster on Slurm; an absolute dir is taken as it is.
    dir: str = Field("gptoss-ft-runs", min_length=1, max_length=500)

    @field_validator("dir")
    @classmethod
    def _plain_dir(cls, value: str) -> str:
        parts = value.split("/")
        if ".." in parts or value.startswith("~"):
            raise ValueError(
                f"{value!r} must not contain '..' or start with '~'; give a folder relative to the "
                "login home or an absolute path"
            )
        if any(not part.isprintable() for part in parts):
            raise ValueError(f"{value!r} contains control characters")
        return value
    # Object-store URI (s3://, gs://, r2://, ...) mounted at /checkpoints with MOUNT_CACHED so that
    # checkpoints survive preemption and `down`. Needs cloud credentials.
    bucket: str | None = Field(None, pattern=r"^(s3|gs|r2|cos|oci|https)://[A-Za-z0-9._/-]+$")


class ResourcesSection(_Section):
    accelerators: str | None = Field(None, pattern=r"^[A-Za-z0-9-]+:[1-9][0-9]?$")
    num_nodes: int = Field(1, ge=1, le=512)
    cpus: str | None = Field(None, pattern=r"^[0-9]+\+?$")
    memory: str | None = Field(None, pattern=r"^[0-9]+\+?$")
    disk_size: int | None = Field(None, ge=10, le=65536)  # GB
    disk_tier: Literal["low", "medium", "high", "ultra", "best"] | None = None
    network_tier: Literal["standard", "best"] | None = None
    # SkyPilot infra string: "aws", "gcp/us-central1", "slurm", "k8s". Unset: any enabled infra.
    infra: str | None = Field(None, pattern=r"^[A-Za-z0-9*][A-Za-z0-9_./*-]*$")
    use_spot: bool = False


class DistributedSection(_Section):
    # none: one process. ddp: one process per GPU, the whole model on each. fsdp: FSDP2 shards
    # parameters, gradients and optimizer states over every GPU of every node.
    strategy: Literal["none", "ddp", "fsdp"] = "none"
    mixed_precision: Literal["no", "bf16"] = "bf16"


class SetupSection(_Section):
    # pip requirement for torch on the cluster. A local version such as 2.13.0+cpu fails at once
    # when that wheel is missing instead of pulling a CUDA build of several GB.
    torch: str = Field("torch==2.13.0", pattern=r"^torch(==[0-9][0-9A-Za-z.+]*)?$")
    # Extra local folders of wheels for uv (--find-links), e.g. a machine's CPU torch wheel.
    find_links: list[str] = Field(default_factory=list, max_length=8)

    @field_validator("find_links")
    @classmethod
    def _absolute_paths(cls, paths: list[str]) -> list[str]:
        for path in paths:
            if not re.fullmatch(r"/[A-Za-z0-9_./-]*", path):
                raise ValueError(f"{path!r} is not an absolute path of letters, digits, '_', '.', '/' and '-'")
        return paths


class Recipe(_Section):
    name: str = Field(pattern=NAME_PATTERN)
    model: ModelSection
    method: Literal["lora", "full"]
    lora: LoraSection | None = None
    data: DataSection
    training: TrainingSection = Field(default_factory=TrainingSection)
    output: OutputSection = Field(default_factory=OutputSection)
    resources: ResourcesSection = Field(default_factory=ResourcesSection)
    distributed: DistributedSection = Field(default_factory=DistributedSection)
    setup: SetupSection = Field(default_factory=SetupSection)
    # Names of local environment variables sent to the cluster as SkyPilot secrets.
    secrets: list[str] = Field(default_factory=lambda: list(DEFAULT_SECRETS))
    # Plain environment variables for setup and run. Never put tokens here: use `secrets`.
    envs: dict[str, str] = Field(default_factory=dict)

    @field_validator("secrets")
    @classmethod
    def _secret_names(cls, names: list[str]) -> list[str]:
        for name in names:
            if not re.fullmatch(ENV_NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not an environment variable name")
        return names

    @field_validator("envs")
    @classmethod
    def _env_names(cls, envs: dict[str, str]) -> dict[str, str]:
        for name in envs:
            if not re.fullmatch(ENV_NAME_PATTERN, name):
                raise ValueError(f"{name!r} is not an environment variable name")
            if name.upper() in DEFAULT_SECRETS:
                raise ValueError(f"{name} is a secret: list it under `secrets` and export it locally")
        return envs

    @model_validator(mode="after")
    def _method_settings(self) -> Recipe:
        if self.method == "lora" and self.lora is None:
            self.lora = LoraSection()
        if self.method == "full" and self.lora is not None:
            raise ValueError("the lora section applies only to method: lora; remove it or set method: lora")
        if self.distributed.strategy != "none" and self.resources.accelerators is None:
            raise ValueError(
                f"distributed.strategy {self.distributed.strategy} needs GPUs: "
                "set resources.accelerators or use strategy: none"
            )
        overlap = set(self.envs) & set(self.secrets)
        if overlap:
            raise ValueError(f"{', '.join(sorted(overlap))} is listed under both envs and secrets")
        return self

    @property
    def hardware(self) -> str:
        """Nodes and accelerators as people write them: `4 x H100:8`, or `CPU`."""
        if self.resources.accelerators is None:
            return "CPU"
        return f"{self.resources.num_nodes} x {self.resources.accelerators}"

    @property
    def gpus_per_node(self) -> int:
        if self.resources.accelerators is None:
            return 0
        return int(self.resources.accelerators.split(":")[1])


# ---------------------------------------------------------------------------------------------
# Loading


def _format_validation_error(error: ValidationError, source: str) -> RecipeError:
    """Turn pydantic's first error into one line: file, key path, what is allowed."""
    first = error.errors()[0]
    key = ".".join(str(part) for part in first["loc"]) or None
    kind = first["type"]
    got = first.get("input")
    if kind == "extra_forbidden":
        parent = first["loc"][:-1]
        allowed = ", ".join(_allowed_keys(parent))
        message = f"unknown key; allowed keys here: {allowed}"
    elif kind == "missing":
        message = "required key is missing"
    else:
        message = first["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if not isinstance(got, (dict, list)) and got is not None:
            message += f" (got {_short_repr(got)})"
    return RecipeError(message, source=source, key=key)


def _short_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _allowed_keys(path: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Recipe
    for part in path:
        field = model.model_fields.get(str(part))
        inner = _section_type(field.annotation) if field else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _section_type(annotation: Any) -> type[BaseModel] | None:
    """Return the BaseModel class inside `X`, `X | None`, or None when there is none."""
    candidates = getattr(annotation, "__args__", None) or (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


class _NoAliasSafeLoader(yaml.SafeLoader):
    """A SafeLoader that rejects YAML aliases, so a small file cannot expand into a huge one."""

    def compose_node(self, parent: Any, index: Any) -> Any:  # type: ignore[override]
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.constructor.ConstructorError(
                None, None, "YAML aliases (*name) are not supported in recipes", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:  # type: ignore[override]
        seen = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def parse_yaml_text(text: str, source: str) -> dict[str, Any]:
    """Parse recipe YAML safely: no Python tags, no aliases, a mapping at the top."""
    try:
        data = yaml.load(text, Loader=_NoAliasSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(f"invalid YAML: {problem}", source=source, key=where) from None
    if data is None:
        raise RecipeError("the file is empty; copy a preset with `gptoss-ft recipes cp`", source=source)
    if not isinstance(data, dict):
        raise RecipeError(f"expected a mapping of keys at the top, got {type(data).__name__}", source=source)
    return data


def read_recipe_file(path: Path) -> dict[str, Any]:
    source = str(path)
    if path.is_dir():
        raise RecipeError("is a directory, expected a recipe YAML file", source=source)
    if path.exists() and not path.is_file():
        raise RecipeError("is not a regular file, expected a recipe YAML file", source=source)
    try:
        if path.stat().st_size > MAX_RECIPE_BYTES:
            raise RecipeError(f"is larger than {MAX_RECIPE_BYTES // 1024} KiB; a recipe is a short YAML file", source=source)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RecipeError(
            "file not found; `gptoss-ft recipes ls` lists the presets", source=source
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"cannot read the file: {exc}", source=source) from None
    return parse_yaml_text(text, source)


def validate_recipe(data: dict[str, Any], source: str) -> Recipe:
    try:
        return Recipe.model_validate(copy.deepcopy(data))
    except ValidationError as exc:
        raise _format_validation_error(exc, source) from None


def load_recipe(path: Path, overrides: list[str] | None = None) -> Recipe:
    """Read, override and validate a recipe file."""
    data = read_recipe_file(path)
    data = apply_overrides(data, overrides or [])
    try:
        return validate_recipe(data, str(path))
    except RecipeError as exc:
        overridden = {item.partition("=")[0].strip() for item in overrides or []}
        if exc.key in overridden:
            raise RecipeError(exc.detail, source="--set", key=exc.key) from None
        raise


# ---------------------------------------------------------------------------------------------
# Presets


def preset_names() -> list[str]:
    return sorted(path.stem for path in PRESETS_DIR.glob("*.yaml"))


def preset_path(name: str) -> Path:
    path = PRESETS_DIR / f"{name}.yaml"
    if not re.fullmatch(NAME_PATTERN, name) or not path.is_file():
        raise RecipeError(
            f"no preset named {name!r}; available: {', '.join(preset_names())}",
            source="presets",
        )
    return path


def resolve_recipe_path(model: str | None, method: str | None, recipe_file: Path | None) -> Path:
    """Map `MODEL --method M` to a preset file, or return the `--recipe` file."""
    if recipe_file is not None:
        if model is not None:
            raise RecipeError("give either MODEL or --recipe, not both")
        return recipe_file
    if model is None:
        raise RecipeError("missing MODEL (20b, 120b or tiny) or --recipe FILE")
    if model not in ("20b", "120b", "tiny"):
        raise RecipeError(f"unknown model {model!r}; choose 20b, 120b or tiny, or pass --recipe FILE")
    return preset_path(f"{model}-{method or 'lora'}")


# ---------------------------------------------------------------------------------------------
# Overrides


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply `key.path=value` overrides; each value is parsed as a YAML scalar or flow value."""
    result = copy.deepcopy(data)
    for override in overrides:
        key, sep, raw = override.partition("=")
        key = key.strip()
        if not sep or not key:
            raise RecipeError(
                f"invalid override {override!r}; expected key.path=value, "
                "for example --set training.learning_rate=1e-4",
                source="--set",
            )
        parts = key.split(".")
        _check_override_path(parts, key)
        value = parse_yaml_text(f"v: {raw}", f"--set {key}")["v"] if raw.strip() else ""
        node = result
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = value
    return result


def _check_override_path(parts: list[str], key: str) -> None:
    model: type[BaseModel] | None = Recipe
    for depth, part in enumerate(parts):
        if model is None:
            raise RecipeError(f"{'.'.join(parts[:depth])} has no sub-keys", source="--set", key=key)
        if part not in model.model_fields:
            allowed = ", ".join(model.model_fields)
            raise RecipeError(f"unknown key {part!r}; allowed keys here: {allowed}", source="--set", key=key)
        annotation = model.model_fields[part].annotation
        if getattr(annotation, "__origin__", None) is dict or annotation == dict[str, str]:
            # Free-form mappings such as envs take any sub-key, validated later.
            if len(parts) > depth + 2:
                raise RecipeError(f"{part} takes one level of keys", source="--set", key=key)
            return
        model = _section_type(annotation)


def dump_recipe(recipe: Recipe) -> str:
    """Serialize a validated recipe back to YAML, dropping unset optional sections."""
    data = recipe.model_dump(mode="json", exclude_none=True)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
