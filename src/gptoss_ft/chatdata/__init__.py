"""Training data: sources, formats, and the gpt-oss chat format.

The trainer calls `load_examples` and `sft_kwargs`; nothing here imports the training stack at
module level, so `gptoss-ft data check` and the launcher's pre-flight check stay light.
"""

from gptoss_ft.chatdata.sources import load_examples, sft_kwargs

__all__ = ["load_examples", "sft_kwargs"]
