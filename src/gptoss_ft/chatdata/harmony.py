"""Render a conversation in gpt-oss's harmony format to token ids and a loss mask.

The renderer needs neither transformers nor openai-harmony: text is encoded with the o200k_base
BPE of the `bpe-openai` package, and the harmony special tokens are written by their fixed ids
in the o200k_harmony encoding. Tests check both against openai-harmony 0.0.8.

The reasoning (`thinking`) of an assistant message goes to the analysis channel, and its answer
to the final channel. A final answer ends a turn, and the reasoning of turns before the last one
is dropped, as the gpt-oss chat template (TRL 1.16) drops it. Within the last turn, reasoning
before a tool call is kept, where that template drops it, because OpenAI's harmony guide
(articles/openai-harmony.md in openai/openai-cookbook) passes it back to the model after each
call. Each message is tokenized the way openai-harmony renders it. Where openai-harmony and the chat template
disagree (a developer message without tools, tool calls, tool results), the tokens are harmony's.
tests/data/test_data_harmony_parity.py and tests/trainer/test_data_template.py name each difference.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from typing import Any

from gptoss_ft.chatdata.conversation import ChatMessage, Conversation, RowProblem, ToolCall
from gptoss_ft.chatdata.typescript import render_tool_namespace

# o200k_harmony ids of the harmony formatting tokens (openai-harmony 0.0.8).
START = 200006  # <|start|>
END = 200007  # <|end|>
MESSAGE = 200008  # <|message|>
CHANNEL = 200005  # <|channel|>
RETURN = 200002  # <|return|>
CALL = 200012  # <|call|>
CONSTRAIN = 200003  # <|constrain|>
ENDOFTEXT = 199999  # <|endoftext|>

HARMONY_TOKEN_IDS = {
    "<|start|>": START,
    "<|end|>": END,
    "<|message|>": MESSAGE,
    "<|channel|>": CHANNEL,
    "<|return|>": RETURN,
    "<|call|>": CALL,
    "<|constrain|>": CONSTRAIN,
    "<|endoftext|>": ENDOFTEXT,
}

# Text that a gpt-oss tokenizer would read as a harmony special token. openai-harmony encodes it
# as plain text, the gpt-oss tokenizer of transformers as the special token, so such rows are
# rejected instead of being rendered one way here and another way elsewhere.
CONTROL_TOKEN_PATTERN = re.compile(
    r"<\|(?:start|end|message|channel|constrain|return|call|refusal|startoftext|endoftext|endofprompt"
    r"|untrusted|end_untrusted|meta_end|reserved_\d+)\|>"
)

DEFAULT_MODEL_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
# The gpt-oss chat template writes this cutoff into every system message.
KNOWLEDGE_CUTOFF = "2024-06"
VALID_CHANNELS = "# Valid channels: analysis, commentary, final. Channel must be included for every message."
FUNCTION_CALLS_NOTE = "Calls to these tools must go to the commentary channel: 'functions'."
TOOL_NAME_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,128}")


@dataclass(frozen=True)
class RenderSettings:
    """The parts of the rendering that a recipe chooses."""

    current_date: str = "2025-08-05"
    reasoning_effort: str = "medium"
    model_identity: str = DEFAULT_MODEL_IDENTITY
    # Developer instructions for rows that have no system or developer message.
    system_prompt: str | None = None
    # "last": train the assistant messages after the last user message; "all": every one.
    train_turns: str = "last"


@dataclass
class Rendered:
    input_ids: list[int]
    # 1 where the token is trained on (its label is kept), 0 for prompt tokens.
    assistant_masks: list[int]


@functools.lru_cache(maxsize=1)
def o200k_encoding() -> Any:
    """Load the o200k_base BPE of bpe-openai (about 0.6 s on a 2-core CPU)."""
    import bpe_openai  # noqa: PLC0415 - loads the vocabulary, so only when rendering

    return bpe_openai.get_encoding("o200k_base")


def encode_text(text: str) -> list[int]:
    """Encode plain text with o200k_base; special-token text is encoded as ordinary text."""
    try:
        return o200k_encoding().encode_ordinary(text)
    except ValueError as exc:  # bpe-openai rejects a single text of 1,000,000 characters or more
        raise RowProblem(f"a text of {len(text):,} characters cannot be encoded: {exc}") from None


@functools.lru_cache(maxsize=4096)
def _encode_header(text: str) -> tuple[int, ...]:
    return tuple(encode_text(text))


def check_text(text: str, label: str) -> str:
    """Return `text`, or raise RowProblem when it contains a harmony control token."""
    if "<|" in text:
        match = CONTROL_TOKEN_PATTERN.search(text)
        if match:
            raise RowProblem(
                f"{label} contains the harmony control token {match.group()}, which would be read as "
                "formatting; remove it or write it differently"
            )
    return text


def system_message_text(settings: RenderSettings, *, has_tools: bool) -> str:
    """Return the harmony system message: identity, knowledge cutoff, date, reasoning, channels."""
    channels = VALID_CHANNELS + (f"\n{FUNCTION_CALLS_NOTE}" if has_tools else "")
    return (
        f"{settings.model_identity}\nKnowledge cutoff: {KNOWLEDGE_CUTOFF}\nCurrent date: {settings.current_date}"
        f"\n\nReasoning: {settings.reasoning_effort}\n\n{channels}"
    )


def developer_message_text(instructions: str | None, tools: list[tuple[str, str, Any]]) -> str:
    """Return the developer message as openai-harmony writes it: instructions, then tools."""
    sections = []
    if instructions:
        sections += ["# Instructions", instructions]
    if tools:
        sections.append(render_tool_namespace(tools))
    return "\n\n".join(sections)


@dataclass
class _Segment:
    """One harmony message: `<|start|>author[ to=recipient][<|channel|>channel][ type]<|message|>text<end>`."""

    author: str
    text: str
    end: int
    channel: str | None = None
    recipient: str | None = None
    constrained_json: bool = False
    assistant: bool = False


@dataclass
class _Item:
    """A message after tool calls are split into one call per message."""

    kind: str  # "user", "tool", "final" or "call"
    number: int  # 1-based position of the source message in the row
    origin: str | None = None  # the dataset field the text came from, for errors
    text: str = ""
    thinking: str | None = None
    call: ToolCall | None = None
    tool_name: str = ""


class HarmonyRenderer:
    """Render conversations with fixed settings; caches the system message tokens."""

    def __init__(self, settings: RenderSettings) -> None:
        self.settings = settings
        self._system_tokens: dict[bool, list[int]] = {}
        check_text(settings.model_identity, "model_identity")
        if settings.system_prompt:
            check_text(settings.system_prompt, "system_prompt")

    def render(self, conversation: Conversation) -> Rendered:
        instructions, body, offset = self._split_instructions(conversation.messages)
        tools = self._tool_definitions(conversation)
        items = _expand_items(body, offset, defined_tools={name for name, _, _ in tools} if tools else None)
        segments = []
        developer_text = developer_message_text(instructions, tools)
        if developer_text:
            segments.append(_Segment("developer", developer_text, END))
        segments += self._conversation_segments(items)
        return self._encode(segments, has_tools=bool(tools))

    def _split_instructions(self, messages: list[ChatMessage]) -> tuple[str | None, list[ChatMessage], int]:
        """Return the developer instructions, the remaining messages and how many were taken."""
        if messages and messages[0].role in ("system", "developer"):
            first = messages[0]
            text = check_text(first.content, first.origin or f"message 1 ({first.role}) content")
            return (text or None), messages[1:], 1
        return self.settings.system_prompt or None, messages, 0

    def _tool_definitions(self, conversation: Conversation) -> list[tuple[str, str, Any]]:
        definitions = []
        seen = set()
        for tool in conversation.tools:
            if not TOOL_NAME_PATTERN.fullmatch(tool.name):
                raise RowProblem(f"tool name {tool.name!r} is invalid: use letters, digits, '_', '.' or '-'")
            if tool.name in seen:
                raise RowProblem(f"tool {tool.name!r} is defined twice")
            seen.add(tool.name)
            check_text(tool.description, f"tool {tool.name!r} description")
            if tool.parameters is not None:
                check_text(json.dumps(tool.parameters, ensure_ascii=False), f"tool {tool.name!r} parameters")
            definitions.append((tool.name, tool.description, tool.parameters))
        return definitions

    def _conversation_segments(self, items: list[_Item]) -> list[_Segment]:
        # A final answer ends a turn. Reasoning is rendered only in the turn that ends the
        # conversation: the reasoning of earlier turns is dropped, as gpt-oss does at inference.
        final_indexes = [index for index, item in enumerate(items[:-1]) if item.kind == "final"]
        current_turn_start = final_indexes[-1] + 1 if final_indexes else 0

        segments = []
        for index, item in enumerate(items):
            label = f"message {item.number}"
            keep_thinking = index >= current_turn_start and bool(item.thinking)
            if item.kind == "user":
                segments.append(_Segment("user", check_text(item.text, _part(item, "content")), END))
            elif item.kind == "tool":
                text = check_text(item.text, f"{label} (tool result) content")
                segments.append(
                    _Segment(f"functions.{item.tool_name}", text, END, channel="commentary", recipient="assistant")
                )
            elif item.kind == "final":
                if keep_thinking:
                    segments.append(self._analysis(item))
                text = check_text(item.text, _part(item, "content"))
                is_last = index == len(items) - 1
                segments.append(
                    _Segment("assistant", text, RETURN if is_last else END, channel="final", assistant=True)
                )
            else:
                if keep_thinking:
                    segments.append(self._analysis(item))
                assert item.call is not None
                segments.append(
                    _Segment(
                        "assistant",
                        check_text(item.call.arguments, f"{label} tool call arguments"),
                        CALL,
                        channel="commentary",
                        recipient=f"functions.{item.call.name}",
                        constrained_json=True,
                        assistant=True,
                    )
                )
        return segments

    @staticmethod
    def _analysis(item: _Item) -> _Segment:
        thinking = check_text(item.thinking or "", _part(item, "thinking"))
        return _Segment("assistant", thinking, END, channel="analysis", assistant=True)

    def _encode(self, segments: list[_Segment], *, has_tools: bool) -> Rendered:
        """Encode the system message and the segments; mark the tokens of trained segments."""
        trained_segments = self._trained_segments(segments)
        input_ids = list(self._system(has_tools))
        masks = [0] * len(input_ids)
        previous_assistant = False
        for index, segment in enumerate(segments):
            header = [START, *_encode_header(segment.author)]
            rest: list[int] = []
            if segment.recipient is not None:
                rest += _encode_header(f" to={segment.recipient}")
            if segment.channel is not None:
                rest += [CHANNEL, *_encode_header(segment.channel)]
            if segment.constrained_json:
                rest += [*_encode_header(" "), CONSTRAIN, *_encode_header("json")]
            rest += [MESSAGE, *encode_text(segment.text), segment.end]

            trained = index in trained_segments
            if trained and previous_assistant:
                # Within one assistant turn the model writes the next <|start|>assistant itself.
                header_mask = 1
            else:
                # The serving side writes <|start|>assistant before the model's turn: a prompt token.
                header_mask = 0
            input_ids += header + rest
            masks += [header_mask] * len(header) + [1 if trained else 0] * len(rest)
            previous_assistant = segment.assistant
        return Rendered(input_ids=input_ids, assistant_masks=masks)

    def _trained_segments(self, segments: list[_Segment]) -> set[int]:
        """Return the indexes of the assistant segments whose tokens are trained."""
        assistant_indexes = [index for index, segment in enumerate(segments) if segment.assistant]
        if self.settings.train_turns == "all":
            return set(assistant_indexes)
        last_user = max((index for index, segment in enumerate(segments) if segment.author == "user"), default=-1)
        return {index for index in assistant_indexes if index > last_user}

    def _system(self, has_tools: bool) -> list[int]:
        if has_tools not in self._system_tokens:
            text = system_message_text(self.settings, has_tools=has_tools)
            self._system_tokens[has_tools] = [START, *encode_text("system"), MESSAGE, *encode_text(text), END]
        return self._system_tokens[has_tools]


def _part(item: _Item, part: str) -> str:
    """Name a part of a message for errors: "message 3 thinking", or "field 'answer' (thinking)"."""
    if item.origin is None:
        return f"message {item.number} {part}"
    return item.origin if part == "content" else f"{item.origin} ({part})"


# ---------------------------------------------------------------------------------------------
# Splitting tool calls


def _expand_items(body: list[ChatMessage], offset: int, defined_tools: set[str] | None) -> list[_Item]:
    """Check the message order and split each assistant message into one item per tool call."""
    if not body:
        raise RowProblem("the conversation has no messages besides the system or developer message")
    last = body[-1]
    if last.role != "assistant":
        raise RowProblem(f"the last message must be from the assistant, found a {last.role} message")

    items: list[_Item] = []
    index = 0
    while index < len(body):
        message = body[index]
        number = index + offset + 1
        if message.role in ("system", "developer"):
            raise RowProblem(f"message {number}: a {message.role} message is allowed only as the first message")
        if message.role == "tool":
            raise RowProblem(f"message {number}: a tool result must follow an assistant message with tool calls")
        if message.role == "user":
            if message.thinking:
                raise RowProblem(f"message {number}: only assistant messages may have thinking")
            items.append(_Item("user", number, message.origin, text=message.content))
            index += 1
            continue
        if not message.tool_calls:
            if not message.content:
                raise RowProblem(f"message {number}: the assistant message has no content")
            items.append(_Item("final", number, message.origin, text=message.content, thinking=message.thinking or None))
            index += 1
            continue

        results_end = index + 1
        while results_end < len(body) and body[results_end].role == "tool":
            results_end += 1
        items += _call_items(message, number, body[index + 1 : results_end], index + offset + 2, defined_tools)
        index = results_end
    return items


def _call_items(
    message: ChatMessage,
    number: int,
    results: list[ChatMessage],
    first_result_number: int,
    defined_tools: set[str] | None,
) -> list[_Item]:
    if message.content and message.thinking:
        raise RowProblem(
            f"message {number}: an assistant message with tool calls has both content and thinking; "
            "the gpt-oss template renders either one as the reasoning before the call, so keep one"
        )
    for call in message.tool_calls:
        _check_call(call, number, defined_tools)
    calls = message.tool_calls
    texts = _result_texts(calls, results, number, first_result_number)

    items = []
    for position, call in enumerate(calls):
        thinking = (message.thinking or message.content or None) if position == 0 else None
        items.append(_Item("call", number, thinking=thinking, call=call))
        if position < len(texts):
            tool_name, text, result_number = texts[position]
            items.append(_Item("tool", result_number, text=text, tool_name=tool_name))
    return items


def _check_call(call: ToolCall, number: int, defined_tools: set[str] | None) -> None:
    if not TOOL_NAME_PATTERN.fullmatch(call.name):
        raise RowProblem(f"message {number}: tool call name {call.name!r} is invalid")
    if defined_tools is not None and call.name not in defined_tools:
        raise RowProblem(f"message {number}: calls {call.name!r}, which the row's tools do not define")
    try:
        json.loads(call.arguments)
    except ValueError:
        raise RowProblem(f"message {number}: the arguments of the call to {call.name!r} are not valid JSON") from None


def _result_texts(
    calls: list[ToolCall], results: list[ChatMessage], number: int, first_result_number: int
) -> list[tuple[str, str, int]]:
    """Pair each call with its result: (function name, result text, message number of the result)."""
    if not results:
        if len(calls) > 1:
            raise RowProblem(
                f"message {number}: {len(calls)} tool calls end the conversation without results; gpt-oss "
                "stops after each call (<|call|>) to wait for its result, so give each call its result "
                "before the next call, or keep one call"
            )
        return []
    if len(results) == len(calls):
        return [
            (*_single_result(call, result, first_result_number + position), first_result_number + position)
            for position, (call, result) in enumerate(zip(calls, results))
        ]
    if len(results) == 1:
        parts = _split_result(results[0].content, len(calls))
        if parts is not None:
            paired = []
            for call, (name, text) in zip(calls, parts):
                if name is not None and name != call.name:
                    raise RowProblem(
                        f"message {first_result_number}: a result for {name!r} follows a call to {call.name!r}"
                    )
                paired.append((call.name, text, first_result_number))
            return paired
    raise RowProblem(
        f"message {number}: {len(calls)} tool calls are followed by {len(results)} tool results; gpt-oss "
        "needs one result per call, as one tool message each or as a JSON array with one item per call"
    )


def _single_result(call: ToolCall, result: ChatMessage, result_number: int) -> tuple[str, str]:
    """Return the function name and text of the tool message that follows one call."""
    name, text = result.name, result.content
    parts = _split_result(text, 1)
    if parts is not None:
        # A one-item array in LLaMA-Factory's {"name", "content"} form: keep the content only.
        name, text = parts[0][0] or name, parts[0][1]
    if name is not None and name != call.name:
        raise RowProblem(f"message {result_number}: a result for {name!r} follows a call to {call.name!r}")
    return call.name, text


def _split_result(content: str, count: int) -> list[tuple[str | None, str]] | None:
    """Split a tool message that carries the results of `count` calls; None when it cannot be split.

    LLaMA-Factory writes the results of parallel calls as one JSON array with one item per call,
    either `{"name": ..., "content": ...}` (optionally with "tool_call_id") or the bare result.
    A single call keeps its result as written unless the item is in the {"name", "content"} form.
    """
    try:
        parsed = json.loads(content)
    except ValueError:
        return None
    if not isinstance(parsed, list) or len(parsed) != count:
        return None
    parts: list[tuple[str | None, str]] = []
    for item in parsed:
        if _is_named_result(item):
            text = item["content"] if isinstance(item["content"], str) else json.dumps(item["content"], ensure_ascii=False)
            parts.append((item.get("name"), text))
        elif count > 1:
            parts.append((None, json.dumps(item, ensure_ascii=False)))
        else:
            return None
    return parts


def _is_named_result(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and "content" in item
        and ("name" in item or "tool_call_id" in item)
        and set(item) <= {"name", "content", "tool_call_id"}
    )
