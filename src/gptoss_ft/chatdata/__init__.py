"""Training data: sources, formats, and the gpt-oss (harmony) chat format.

The trainer calls `load_examples` and `sft_kwargs`; `gptoss-ft data check` and the launcher call
`check_data` and `check_recipe_data`. Nothing here imports the training stack at module level,
so the launcher's environment (without transformers) can check local data.
"""

from gptoss_ft.chatdata.check import CheckReport, check_data, check_recipe_data
from gptoss_ft.chatdata.examples import load_examples, sft_kwargs, tokenize_examples
from gptoss_ft.chatdata.sources import DataError, local_data_files, stage_local_files

__all__ = [
    "CheckReport",
    "DataError",
    "check_data",
    "check_recipe_data",
    "load_examples",
    "local_data_files",
    "sft_kwargs",
    "stage_local_files",
    "tokenize_examples",
]
