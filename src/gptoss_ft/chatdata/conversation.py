"""The chat conversation that every input format is converted to before rendering."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("system", "developer", "user", "assistant", "tool")


class RowProblem(ValueError):
    """A row that cannot be trained on. Its message states the reason, without the row number."""


@dataclass
class ToolCall:
    name: str
    arguments: str  # JSON text, rendered as it is


@dataclass
class ChatMessage:
    role: str
    content: str = ""
    # Reasoning of an assistant message, rendered to the analysis channel.
    thinking: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    # Function name of a tool message; None to take the name of the call it follows.
    name: str | None = None
    # Where the text came from when the row is not a list of messages, e.g. "field 'question'",
    # so that errors name the dataset's own field.
    origin: str | None = None


@dataclass
class ToolSpec:
    name: str
    description: str
    parameters: Any = None  # a JSON schema, or None for a tool without arguments


@dataclass
class Conversation:
    messages: list[ChatMessage]
    tools: list[ToolSpec] = field(default_factory=list)
