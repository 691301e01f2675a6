"""Our harmony rendering against TRL's copy of the gpt-oss chat template (TRL 1.16).

The template is rendered by transformers with the same date (its `strftime_now` is pinned for
the test), reasoning effort and identity, then tokenized with the o200k vocabulary, special
tokens by their ids. Where the template and openai-harmony disagree, we follow openai-harmony,
because OpenAI publishes it as the renderer of the format gpt-oss was trained on. Each test
below applies one named difference to the template's text and then expects equal tokens:

1. A developer message without tools: the template ends the instructions with "\\n\\n" before
   <|end|>, openai-harmony does not.
2. A tool call: the template writes the content type as " json", openai-harmony as
   " <|constrain|>json".
3. A tool result: the template JSON-encodes the result string ("{\\"t\\": 21}"), openai-harmony
   writes it as it is.
4. Tool definitions: the template writes a default as `// default: c,` (the comma after the
   comment), openai-harmony as `, // default: c`.
5. Reasoning before a tool call in the last turn: the template drops it once a later final
   answer exists; the harmony guide keeps it until the turn's final answer, and so do we.
6. The loss mask (gptoss_training.jinja's generation markers): the template trains the
   <|start|>assistant that opens each assistant message. We leave that one out when the serving
   side writes it (at the start of the model's turn), because the model never predicts it there.
"""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

import trl
from gptoss_ft.chatdata.conversation import ChatMessage, Conversation, ToolCall, ToolSpec
from gptoss_ft.chatdata.harmony import HARMONY_TOKEN_IDS, HarmonyRenderer, RenderSettings, encode_text

chat_template_utils = pytest.importorskip("transformers.utils.chat_template_utils")

TEMPLATES = Path(trl.__file__).resolve().parent / "chat_templates"
SPECIAL = re.compile(r"(<\|(?:start|end|message|channel|constrain|return|call)\|>)")
WEATHER = {
    "name": "get_weather",
    "description": "Gets the current weather.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City"},
            "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
        },
        "required": ["location"],
    },
}


@pytest.fixture
def pinned_date(monkeypatch):
    class PinnedDateTime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2025, 8, 5, 12, 0)

    monkeypatch.setattr(chat_template_utils, "datetime", PinnedDateTime)


def render_template(messages, *, training=False, tools=None, **kwargs):
    """Return the template's text and its generation spans (character offsets)."""
    name = "gptoss_training.jinja" if training else "gptoss.jinja"
    texts, spans = chat_template_utils.render_jinja_template(
        [messages],
        tools=[{"type": "function", "function": tool} for tool in tools] if tools else None,
        chat_template=(TEMPLATES / name).read_text(),
        return_assistant_tokens_mask=training,
        **kwargs,
    )
    return texts[0], (spans[0] if spans else [])


def tokenize(text: str, spans=()) -> tuple[list[int], list[int]]:
    """Tokenize rendered text: special tokens by id, the text between them with o200k_base."""
    ids: list[int] = []
    mask: list[int] = []
    position = 0
    for piece in SPECIAL.split(text):
        start, position = position, position + len(piece)
        tokens = [HARMONY_TOKEN_IDS[piece]] if piece in HARMONY_TOKEN_IDS else encode_text(piece)
        inside = any(span_start <= start and position <= span_end for span_start, span_end in spans)
        ids += tokens
        mask += [int(inside)] * len(tokens)
    return ids, mask


def ours(messages: list[ChatMessage], tools=None, **settings):
    specs = [ToolSpec(tool["name"], tool["description"], tool["parameters"]) for tool in tools or []]
    return HarmonyRenderer(RenderSettings(**settings)).render(Conversation(messages, specs))


def as_template_messages(messages: list[ChatMessage]) -> list[dict]:
    converted = []
    for message in messages:
        item = {"role": message.role, "content": message.content}
        if message.thinking:
            item["thinking"] = message.thinking
        if message.tool_calls:
            item["tool_calls"] = [
                {"type": "function", "function": {"name": call.name, "arguments": json.loads(call.arguments)}}
                for call in message.tool_calls
            ]
        converted.append(item)
    return converted


PLAIN_CASES = {
    "single turn": [ChatMessage("user", "What is 2 + 2?"), ChatMessage("assistant", "4")],
    "reasoning": [ChatMessage("user", "What is 2 + 2?"), ChatMessage("assistant", "4", thinking="Add two and two.")],
    "multi turn": [
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!", thinking="Greet."),
        ChatMessage("user", "How are you?"),
        ChatMessage("assistant", "Fine, thanks.", thinking="Be polite."),
    ],
}


@pytest.mark.parametrize("case", PLAIN_CASES)
def test_plain_conversations_equal(pinned_date, case):
    messages = PLAIN_CASES[case]
    text, _ = render_template(as_template_messages(messages))
    assert tokenize(text)[0] == ours(messages).input_ids


@pytest.mark.parametrize("effort", ["low", "high"])
def test_reasoning_effort_and_identity_equal(pinned_date, effort):
    messages = PLAIN_CASES["reasoning"]
    text, _ = render_template(as_template_messages(messages), reasoning_effort=effort, model_identity="You are a test model.")
    assert tokenize(text)[0] == ours(messages, reasoning_effort=effort, model_identity="You are a test model.").input_ids


def test_template_date_is_today_unless_pinned():
    text, _ = render_template(as_template_messages(PLAIN_CASES["single turn"]))
    assert f"Current date: {datetime.datetime.now():%Y-%m-%d}" in text


@pytest.mark.parametrize("role", ["system", "developer"])
def test_developer_message_blank_line_difference(pinned_date, role):
    messages = [ChatMessage(role, "Be brief."), *PLAIN_CASES["reasoning"]]
    text, _ = render_template(as_template_messages(messages))
    assert "# Instructions\n\nBe brief.\n\n<|end|>" in text
    harmony_text = text.replace("Be brief.\n\n<|end|>", "Be brief.<|end|>")
    assert tokenize(harmony_text)[0] == ours(messages).input_ids


def test_tool_differences(pinned_date):
    messages = [
        ChatMessage("system", "Use tools."),
        ChatMessage("user", "Weather in Paris?"),
        ChatMessage("assistant", "", thinking="Need the weather.", tool_calls=[ToolCall("get_weather", '{"location": "Paris"}')]),
        ChatMessage("tool", '{"t": 21}'),
        ChatMessage("assistant", "21 degrees.", thinking="Report it."),
    ]
    text, _ = render_template(as_template_messages(messages), tools=[WEATHER])
    differences = [
        (" json<|message|>", " <|constrain|>json<|message|>"),
        ('<|message|>"{\\"t\\": 21}"<|end|>', '<|message|>{"t": 21}<|end|>'),
        ('unit?: "c" | "f", // default: c,\n', 'unit?: "c" | "f", // default: c\n'),
        (
            "<|start|>user<|message|>Weather in Paris?<|end|>",
            "<|start|>user<|message|>Weather in Paris?<|end|>"
            "<|start|>assistant<|channel|>analysis<|message|>Need the weather.<|end|>",
        ),
    ]
    for template_text, harmony_text in differences:
        assert text.count(template_text) == 1, template_text
        text = text.replace(template_text, harmony_text)
    assert tokenize(text)[0] == ours(messages, tools=[WEATHER]).input_ids


@pytest.mark.parametrize("case", ["reasoning", "multi turn"])
def test_training_mask_differs_by_the_opening_header(pinned_date, case):
    messages = PLAIN_CASES[case]
    text, spans = render_template(as_template_messages(messages), training=True)
    template_ids, template_mask = tokenize(text, spans)
    rendered = ours(messages, train_turns="all")
    assert template_ids == rendered.input_ids
    header = [HARMONY_TOKEN_IDS["<|start|>"], *encode_text("assistant")]
    differing = [i for i, (theirs, mine) in enumerate(zip(template_mask, rendered.assistant_masks)) if theirs != mine]
    span_starts = [i for i, mask in enumerate(rendered.assistant_masks) if mask and not rendered.assistant_masks[i - 1]]
    assert differing == [i for start in span_starts for i in range(start - len(header), start)]
    for start in span_starts:
        assert template_ids[start - len(header) : start] == header
