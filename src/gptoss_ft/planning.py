"""Check before launch that a recipe's model fits in the GPU memory it requests.

The estimate counts only the model states (weights, gradients, optimizer states); activations
come on top, so a recipe whose states take more than `MAX_STATE_FRACTION` of the GPU memory is
rejected. It is a floor, not a promise that the run fits.
"""

from __future__ import annotations

from dataclasses import dataclass

from gptoss_ft.recipe import Recipe, RecipeError

# Total parameters (not active ones) of the released checkpoints, from their model cards.
KNOWN_MODEL_PARAMETERS = {
    "openai/gpt-oss-20b": 20.9e9,
    "openai/gpt-oss-120b": 116.8e9,
}

# Memory per GPU in GB, as sold.
GPU_MEMORY_GB = {
    "H100": 80,
    "H100-MEGA": 80,
    "H200": 141,
    "B200": 180,
    "GH200": 96,
    "A100-80GB": 80,
    "A100": 40,
    "L40S": 48,
    "L4": 24,
    "A10G": 24,
    "MI300X": 192,
}

# Full fine-tuning with AdamW in mixed precision: bf16 weights (2 bytes) and gradients (2),
# an fp32 master copy (4) and two fp32 moments (8).
FULL_BYTES_PER_PARAMETER = 16
# LoRA keeps the base weights frozen in bf16; the adapter's own states are negligible next to them.
LORA_BYTES_PER_PARAMETER = 2
# Leave at least this share of each GPU for activations, buffers and the CUDA context.
MAX_STATE_FRACTION = 0.9


@dataclass(frozen=True)
class MemoryPlan:
    parameters: float
    total_state_gb: float
    per_gpu_state_gb: float
    gpu_memory_gb: int
    gpus: int

    @property
    def fits(self) -> bool:
        return self.per_gpu_state_gb <= MAX_STATE_FRACTION * self.gpu_memory_gb


def plan_memory(recipe: Recipe) -> MemoryPlan | None:
    """Estimate per-GPU model-state memory, or None when the model or GPU is not known."""
    parameters = KNOWN_MODEL_PARAMETERS.get(recipe.model.id or "")
    accelerators = recipe.resources.accelerators
    if parameters is None or accelerators is None:
        return None
    gpu_name = accelerators.split(":")[0]
    gpu_memory = GPU_MEMORY_GB.get(gpu_name)
    if gpu_memory is None:
        return None
    gpus = recipe.gpus_per_node * recipe.resources.num_nodes
    bytes_per_parameter = FULL_BYTES_PER_PARAMETER if recipe.method == "full" else LORA_BYTES_PER_PARAMETER
    total_gb = parameters * bytes_per_parameter / 1e9
    # Only FSDP shards the states; DDP and a single process keep a whole copy on every GPU.
    shards = gpus if recipe.distributed.strategy == "fsdp" else 1
    return MemoryPlan(parameters, total_gb, total_gb / shards, gpu_memory, gpus)


def check_fits(recipe: Recipe, source: str) -> MemoryPlan | None:
    """Raise RecipeError when the recipe's model states cannot fit in its GPUs."""
    if recipe.model.id in KNOWN_MODEL_PARAMETERS and recipe.resources.accelerators is None:
        raise RecipeError(
            f"{recipe.model.id} needs GPUs; set resources.accelerators, for example H100:8",
            source=source,
            key="resources.accelerators",
        )
    plan = plan_memory(recipe)
    if plan is None or plan.fits:
        return plan

    gpu_name = recipe.resources.accelerators.split(":")[0]  # type: ignore[union-attr]
    usable_per_gpu = MAX_STATE_FRACTION * plan.gpu_memory_gb
    if recipe.distributed.strategy == "fsdp":
        per_node = usable_per_gpu * recipe.gpus_per_node
        nodes_needed = int(-(-plan.total_state_gb // per_node))
        fix = f"set resources.num_nodes: {nodes_needed} or larger GPUs (for example H200:8)"
    else:
        fix = "set distributed.strategy: fsdp to shard the states over the GPUs"
    raise RecipeError(
        f"{recipe.model.id} {recipe.method} fine-tuning does not fit: its weights"
        f"{', gradients and AdamW states' if recipe.method == 'full' else ''} take about "
        f"{plan.total_state_gb:,.0f} GB, which is {plan.per_gpu_state_gb:,.0f} GB per GPU on "
        f"{recipe.resources.num_nodes} node(s) of {recipe.resources.accelerators} with "
        f"{recipe.distributed.strategy}, over the {usable_per_gpu:.0f} GB usable on a "
        f"{plan.gpu_memory_gb} GB {gpu_name}; {fix}",
        source=source,
        key="resources",
    )
