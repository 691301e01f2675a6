"""Convert dataset rows in the supported formats to conversations.

Formats (`data.format`), detected from the first row when `auto`:

- `messages`: a list of chat messages (`role`, `content`, and `thinking` on assistant messages),
  with optional `tool_calls`, `tool` messages and a row-level `tools` list. Content may also be a
  list of parts: `{"type": "text", "text"|"value": ...}`, and in LLaMA-Factory's form
  `{"type": "reasoning", "value": ...}` and `{"type": "tool_call", "value": "<JSON>"}`.
  ShareGPT rows (`conversations` with `from`/`value`, roles human and gpt) are read as messages.
- `prompt_completion`: `prompt` and `completion`, each a string or a list of messages.
- `alpaca`: `instruction`, optional `input`, `output`, and optional `system` and `history`.
- `gsm8k`: `question` and `answer`; the answer's text before the last `####` is the reasoning
  (calculator notes such as `<<48/2=24>>` removed), the text after it the final answer.

`data.fields` renames the columns and message keys, `data.roles` maps other role names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gptoss_ft.chatdata.conversation import ROLES, ChatMessage, Conversation, RowProblem, ToolCall, ToolSpec

# The default name of each field; `data.fields` maps any of them to the dataset's own name.
FIELD_DEFAULTS = {
    "messages": "messages",
    "role": "role",
    "content": "content",
    "thinking": "thinking",
    "tool_calls": "tool_calls",
    "tools": "tools",
    "prompt": "prompt",
    "completion": "completion",
    "instruction": "instruction",
    "input": "input",
    "output": "output",
    "system": "system",
    "history": "history",
    "question": "question",
    "answer": "answer",
}
SHAREGPT_ROLES = {"human": "user", "gpt": "assistant", "system": "system", "observation": "tool"}
_CALCULATOR_NOTE = re.compile(r"<<[^<>]*>>")


@dataclass(frozen=True)
class RowFormat:
    """How to read the rows of one dataset: the format, field names and role names."""

    format: str
    fields: Mapping[str, str] = field(default_factory=dict)
    roles: Mapping[str, str] = field(default_factory=dict)

    def name(self, key: str) -> str:
        return self.fields.get(key, FIELD_DEFAULTS[key])


def detect_format(row: Mapping[str, Any], fields: Mapping[str, str], roles: Mapping[str, str]) -> RowFormat:
    """Pick the format whose fields the row has; raise RowProblem when none fits."""
    probe = RowFormat("messages", fields, roles)
    if probe.name("messages") in row:
        return probe
    if "messages" not in fields and isinstance(row.get("conversations"), list):
        sharegpt_fields = {"messages": "conversations", "role": "from", "content": "value", **fields}
        return RowFormat("messages", sharegpt_fields, {**SHAREGPT_ROLES, **roles})
    for name, required in (
        ("prompt_completion", ("prompt", "completion")),
        ("alpaca", ("instruction", "output")),
        ("gsm8k", ("question", "answer")),
    ):
        candidate = RowFormat(name, fields, roles)
        if all(candidate.name(key) in row for key in required):
            return candidate
    keys = ", ".join(sorted(map(str, row))[:12]) or "none"
    raise RowProblem(
        f"cannot detect the format from the row's fields ({keys}); expected messages, prompt and "
        "completion, instruction and output, or question and answer. Set data.format and data.fields"
    )


def to_conversation(row: Any, row_format: RowFormat) -> Conversation:
    """Convert one dataset row; raise RowProblem with the reason when it does not fit."""
    if not isinstance(row, Mapping):
        raise RowProblem(f"expected a JSON object, got {_type_name(row)}")
    converter = _CONVERTERS[row_format.format]
    return converter(row, row_format)


def _messages_row(row: Mapping[str, Any], row_format: RowFormat) -> Conversation:
    messages = _required(row, row_format, "messages")
    return Conversation(_read_messages(messages, row_format, first_number=1), _read_tools(row, row_format))


def _prompt_completion_row(row: Mapping[str, Any], row_format: RowFormat) -> Conversation:
    prompt = _required(row, row_format, "prompt")
    completion = _required(row, row_format, "completion")
    messages = _system_messages(row, row_format)
    if isinstance(prompt, str):
        messages.append(ChatMessage("user", prompt, origin=_origin(row_format, "prompt")))
    else:
        messages += _read_messages(prompt, row_format, first_number=len(messages) + 1, label="prompt")
    if isinstance(completion, str):
        thinking = _optional_text(row, row_format, "thinking")
        messages.append(ChatMessage("assistant", completion, thinking=thinking, origin=_origin(row_format, "completion")))
    else:
        messages += _read_messages(completion, row_format, first_number=len(messages) + 1, label="completion")
    return Conversation(messages, _read_tools(row, row_format))


def _alpaca_row(row: Mapping[str, Any], row_format: RowFormat) -> Conversation:
    instruction = _required_text(row, row_format, "instruction")
    extra_input = _optional_text(row, row_format, "input")
    output = _required_text(row, row_format, "output")
    messages = _system_messages(row, row_format)
    history = row.get(row_format.name("history"))
    if history:
        if not isinstance(history, list) or not all(
            isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(text, str) for text in pair)
            for pair in history
        ):
            raise RowProblem(f"field {row_format.name('history')!r} must be a list of [instruction, output] pairs")
        origin = _origin(row_format, "history")
        for user_text, assistant_text in history:
            messages += [ChatMessage("user", user_text, origin=origin), ChatMessage("assistant", assistant_text, origin=origin)]
    # NOTE: instruction and input are joined by a blank line; datasets that expect another
    # separator can put both into the instruction field.
    user_text = f"{instruction}\n\n{extra_input}" if extra_input else instruction
    thinking = _optional_text(row, row_format, "thinking")
    user_origin = _origin(row_format, "instruction") + (f" or {row_format.name('input')!r}" if extra_input else "")
    messages += [
        ChatMessage("user", user_text, origin=user_origin),
        ChatMessage("assistant", output, thinking=thinking, origin=_origin(row_format, "output")),
    ]
    return Conversation(messages)


def _gsm8k_row(row: Mapping[str, Any], row_format: RowFormat) -> Conversation:
    question = _required_text(row, row_format, "question")
    answer = _required_text(row, row_format, "answer")
    reasoning, separator, final = answer.rpartition("####")
    if not separator:
        raise RowProblem(f"field {row_format.name('answer')!r} has no '#### <final answer>' line")
    final = final.strip()
    if not final:
        raise RowProblem(f"field {row_format.name('answer')!r} has nothing after '####'")
    thinking = _CALCULATOR_NOTE.sub("", reasoning).strip() or None
    answer_origin = _origin(row_format, "answer")
    return Conversation(
        [
            ChatMessage("user", question.strip(), origin=_origin(row_format, "question")),
            ChatMessage("assistant", final, thinking=thinking, origin=answer_origin),
        ]
    )


_CONVERTERS: dict[str, Callable[[Mapping[str, Any], RowFormat], Conversation]] = {
    "messages": _messages_row,
    "prompt_completion": _prompt_completion_row,
    "alpaca": _alpaca_row,
    "gsm8k": _gsm8k_row,
}


# ---------------------------------------------------------------------------------------------
# Fields


def _required(row: Mapping[str, Any], row_format: RowFormat, key: str) -> Any:
    name = row_format.name(key)
    if name not in row or row[name] is None:
        raise RowProblem(f"missing field {name!r}")
    return row[name]


def _required_text(row: Mapping[str, Any], row_format: RowFormat, key: str) -> str:
    value = _required(row, row_format, key)
    if not isinstance(value, str):
        raise RowProblem(f"field {row_format.name(key)!r} must be a string, got {_type_name(value)}")
    if not value.strip():
        raise RowProblem(f"field {row_format.name(key)!r} is empty")
    return value


def _optional_text(row: Mapping[str, Any], row_format: RowFormat, key: str) -> str | None:
    value = row.get(row_format.name(key))
    if value is None:
        return None
    if not isinstance(value, str):
        raise RowProblem(f"field {row_format.name(key)!r} must be a string, got {_type_name(value)}")
    return value or None


def _system_messages(row: Mapping[str, Any], row_format: RowFormat) -> list[ChatMessage]:
    system = _optional_text(row, row_format, "system")
    return [ChatMessage("system", system, origin=_origin(row_format, "system"))] if system else []


def _origin(row_format: RowFormat, key: str) -> str:
    return f"field {row_format.name(key)!r}"


def _type_name(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", type(None): "null"}.get(type(value), type(value).__name__)


# ---------------------------------------------------------------------------------------------
# Messages


def _read_messages(
    messages: Any, row_format: RowFormat, *, first_number: int, label: str | None = None
) -> list[ChatMessage]:
    field_name = label or row_format.name("messages")
    if not isinstance(messages, list) or not messages:
        raise RowProblem(f"field {field_name!r} must be a non-empty list of messages")
    return [_read_message(message, row_format, first_number + offset) for offset, message in enumerate(messages)]


def _read_message(message: Any, row_format: RowFormat, number: int) -> ChatMessage:
    if not isinstance(message, Mapping):
        raise RowProblem(f"message {number} must be an object, got {_type_name(message)}")
    role_key = row_format.name("role")
    raw_role = message.get(role_key)
    if not isinstance(raw_role, str):
        raise RowProblem(f"message {number} has no {role_key!r}")
    role = row_format.roles.get(raw_role, raw_role)
    if role not in ROLES:
        raise RowProblem(
            f"message {number}: unknown role {raw_role!r}; map it to one of {', '.join(ROLES)} with data.roles"
        )

    content, part_thinking, part_calls = _read_content(message.get(row_format.name("content")), number)
    thinking = message.get(row_format.name("thinking"))
    if thinking is not None and not isinstance(thinking, str):
        raise RowProblem(f"message {number}: thinking must be a string, got {_type_name(thinking)}")
    if thinking and part_thinking:
        raise RowProblem(f"message {number} has reasoning both in thinking and in its content parts")
    thinking = thinking or part_thinking
    if thinking and role != "assistant":
        raise RowProblem(f"message {number}: only assistant messages may have thinking")

    calls = part_calls + _read_tool_calls(message.get(row_format.name("tool_calls")), number)
    if calls and role != "assistant":
        raise RowProblem(f"message {number}: only assistant messages may have tool calls")
    name = message.get("name") if role == "tool" else None
    if name is not None and not isinstance(name, str):
        raise RowProblem(f"message {number}: name must be a string")
    return ChatMessage(role, content, thinking=thinking or None, tool_calls=calls, name=name)


def _read_content(content: Any, number: int) -> tuple[str, str | None, list[ToolCall]]:
    """Return the text, the reasoning and the tool calls of a message's content."""
    if content is None:
        return "", None, []
    if isinstance(content, str):
        return content, None, []
    if not isinstance(content, list):
        raise RowProblem(f"message {number}: content must be a string or a list of parts, got {_type_name(content)}")
    texts: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    for part in content:
        if not isinstance(part, Mapping):
            raise RowProblem(f"message {number}: a content part must be an object")
        kind = part.get("type")
        value = part.get("text", part.get("value"))
        if kind in ("text", "reasoning", "thinking") and not isinstance(value, str):
            raise RowProblem(f"message {number}: a {kind} part has no text")
        if kind == "text":
            texts.append(value)
        elif kind in ("reasoning", "thinking"):
            reasoning.append(value)
        elif kind == "tool_call":
            calls.append(_parse_call(part.get("value"), number))
        else:
            raise RowProblem(f"message {number}: content part type {kind!r} is not supported")
    # NOTE: several parts of one kind are joined without a separator, so their text stays as written.
    return "".join(texts), "".join(reasoning) or None, calls


def _read_tool_calls(raw_calls: Any, number: int) -> list[ToolCall]:
    if raw_calls is None:
        return []
    if not isinstance(raw_calls, list):
        raise RowProblem(f"message {number}: tool_calls must be a list")
    return [_parse_call(call, number) for call in raw_calls]


def _parse_call(raw: Any, number: int) -> ToolCall:
    """Read a call as `{"name", "arguments"}`, OpenAI's `{"function": {...}}` or its JSON text."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise RowProblem(f"message {number}: a tool call is not valid JSON") from None
    if isinstance(raw, Mapping) and isinstance(raw.get("function"), Mapping):
        raw = raw["function"]
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise RowProblem(f"message {number}: a tool call has no function name")
    arguments = raw.get("arguments", {})
    if not isinstance(arguments, str):
        # Written as the gpt-oss chat template writes dict arguments (json.dumps defaults).
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(raw["name"], arguments)


def _read_tools(row: Mapping[str, Any], row_format: RowFormat) -> list[ToolSpec]:
    raw = row.get(row_format.name("tools"))
    if raw is None or raw == "" or raw == []:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise RowProblem(f"field {row_format.name('tools')!r} is not valid JSON") from None
    if not isinstance(raw, list):
        raise RowProblem(f"field {row_format.name('tools')!r} must be a list of tool definitions")
    tools = []
    for position, tool in enumerate(raw, start=1):
        if isinstance(tool, Mapping) and isinstance(tool.get("function"), Mapping):
            tool = tool["function"]
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise RowProblem(f"tool {position} has no name")
        description = tool.get("description") or ""
        if not isinstance(description, str):
            raise RowProblem(f"tool {tool['name']!r}: description must be a string")
        tools.append(ToolSpec(tool["name"], description, tool.get("parameters")))
    return tools
