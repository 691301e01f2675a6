"""The loss mask: each trained turn's closing token is in it, and no prompt token is."""

from __future__ import annotations

import pytest

from gptoss_ft.chatdata.conversation import ChatMessage, Conversation, ToolCall, ToolSpec
from gptoss_ft.chatdata.harmony import CALL, END, RETURN, START, HarmonyRenderer, RenderSettings, encode_text

from .helpers import decode

ASSISTANT = encode_text("assistant")


def trained_spans(input_ids: list[int], masks: list[int]) -> list[str]:
    """Return the text of each run of trained tokens."""
    spans: list[list[int]] = []
    previous = 0
    for token, mask in zip(input_ids, masks):
        if mask and not previous:
            spans.append([])
        if mask:
            spans[-1].append(token)
        previous = mask
    return [decode(span) for span in spans]


def render(messages, tools=None, **options):
    return HarmonyRenderer(RenderSettings(**options)).render(Conversation(messages, tools or []))


def test_single_turn_mask():
    rendered = render([ChatMessage("user", "What is 2 + 2?"), ChatMessage("assistant", "4", thinking="Add.")])
    assert len(rendered.input_ids) == len(rendered.assistant_masks)
    spans = trained_spans(rendered.input_ids, rendered.assistant_masks)
    assert spans == ["<|channel|>analysis<|message|>Add.<|end|><|start|>assistant<|channel|>final<|message|>4<|return|>"]
    assert rendered.input_ids[-1] == RETURN
    assert rendered.assistant_masks[-1] == 1


def test_prompt_tokens_are_not_trained():
    rendered = render([ChatMessage("system", "Be brief."), ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello")])
    first_trained = rendered.assistant_masks.index(1)
    prompt = decode(rendered.input_ids[:first_trained])
    assert prompt.startswith("<|start|>system<|message|>")
    assert "<|start|>developer<|message|># Instructions\n\nBe brief.<|end|>" in prompt
    # The model's turn starts after the <|start|>assistant that the serving side writes.
    assert prompt.endswith("<|start|>user<|message|>Hi<|end|><|start|>assistant")
    assert rendered.input_ids[first_trained - len(ASSISTANT) - 1] == START
    assert set(rendered.assistant_masks[first_trained:]) == {1}


def test_multi_turn_last_trains_only_last_turn():
    messages = [
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "a1", thinking="t1"),
        ChatMessage("user", "q2"),
        ChatMessage("assistant", "a2", thinking="t2"),
    ]
    rendered = render(messages)
    assert trained_spans(rendered.input_ids, rendered.assistant_masks) == [
        "<|channel|>analysis<|message|>t2<|end|><|start|>assistant<|channel|>final<|message|>a2<|return|>"
    ]


def test_multi_turn_all_trains_every_turn():
    messages = [
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "a1", thinking="t1"),
        ChatMessage("user", "q2"),
        ChatMessage("assistant", "a2", thinking="t2"),
    ]
    rendered = render(messages, train_turns="all")
    spans = trained_spans(rendered.input_ids, rendered.assistant_masks)
    # The earlier turn is trained as rendered: its answer without its dropped reasoning, closed by <|end|>.
    assert spans == [
        "<|channel|>final<|message|>a1<|end|>",
        "<|channel|>analysis<|message|>t2<|end|><|start|>assistant<|channel|>final<|message|>a2<|return|>",
    ]


def test_tool_call_turn_mask():
    tools = [ToolSpec("lookup", "Looks up a word.", {"type": "object", "properties": {"word": {"type": "string"}}})]
    messages = [
        ChatMessage("user", "Define cat"),
        ChatMessage("assistant", "", thinking="Use lookup.", tool_calls=[ToolCall("lookup", '{"word": "cat"}')]),
        ChatMessage("tool", "a small feline"),
        ChatMessage("assistant", "A cat is a small feline.", thinking="Quote it."),
    ]
    rendered = render(messages, tools=tools)
    spans = trained_spans(rendered.input_ids, rendered.assistant_masks)
    assert spans == [
        "<|channel|>analysis<|message|>Use lookup.<|end|><|start|>assistant to=functions.lookup<|channel|>commentary "
        "<|constrain|>json<|message|>{\"word\": \"cat\"}<|call|>",
        "<|channel|>analysis<|message|>Quote it.<|end|><|start|>assistant<|channel|>final<|message|>A cat is a small feline.<|return|>",
    ]
    text = decode(rendered.input_ids)
    assert "<|start|>functions.lookup to=assistant<|channel|>commentary<|message|>a small feline<|end|>" in text
    assert "a small feline" not in "".join(spans[:1])


def test_call_without_reasoning_trains_recipient():
    messages = [ChatMessage("user", "Define dog"), ChatMessage("assistant", "", tool_calls=[ToolCall("lookup", "{}")])]
    rendered = render(messages)
    assert trained_spans(rendered.input_ids, rendered.assistant_masks) == [
        " to=functions.lookup<|channel|>commentary <|constrain|>json<|message|>{}<|call|>"
    ]
    assert rendered.input_ids[-1] == CALL


@pytest.mark.parametrize("train_turns", ["last", "all"])
def test_every_trained_span_ends_with_closing_token(train_turns):
    messages = [
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "", thinking="r1", tool_calls=[ToolCall("f", "{}"), ToolCall("g", "{}")]),
        ChatMessage("tool", "one"),
        ChatMessage("tool", "two"),
        ChatMessage("assistant", "a1"),
        ChatMessage("user", "q2"),
        ChatMessage("assistant", "a2", thinking="r2"),
    ]
    rendered = render(messages, train_turns=train_turns)
    closing = {END, RETURN, CALL}
    starts = [i for i, mask in enumerate(rendered.assistant_masks) if mask and not rendered.assistant_masks[i - 1]]
    ends = [i for i, mask in enumerate(rendered.assistant_masks) if mask and (i + 1 == len(rendered.assistant_masks) or not rendered.assistant_masks[i + 1])]
    # all: the call to f, the call to g, the answer a1 and the last turn.
    assert len(starts) == len(ends) == (1 if train_turns == "last" else 4)
    for start, end in zip(starts, ends):
        assert rendered.input_ids[end] in closing
        # Each trained span follows the <|start|>assistant that the serving side writes.
        assert rendered.input_ids[start - len(ASSISTANT) - 1 : start] == [START, *ASSISTANT]
