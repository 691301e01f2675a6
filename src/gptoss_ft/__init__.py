"""gptoss-ft: fine-tune gpt-oss-20b and gpt-oss-120b through SkyPilot."""

__version__ = "0.1.0"
