"""Rows that cannot be trained on are rejected with their row number and the reason."""

from __future__ import annotations

import json

import pytest

from gptoss_ft.chatdata import DataError, check_data, tokenize_examples
from gptoss_ft.chatdata.conversation import ChatMessage, Conversation, RowProblem, ToolCall, ToolSpec
from gptoss_ft.chatdata.harmony import HarmonyRenderer, RenderSettings
from gptoss_ft.recipe import validate_recipe

from .helpers import BUNDLED_GSM8K, decode, write_broken_gsm8k

def data_recipe(dataset: str, **data):
    return validate_recipe(
        {"name": "rejects", "model": {"tiny": {}}, "method": "full", "data": {"dataset": dataset, **data}}, "test"
    )


def test_broken_rows_named_exactly(tmp_path):
    path = tmp_path / "broken.jsonl"
    write_broken_gsm8k(path)
    report = check_data(data_recipe(str(path)), tmp_path)
    assert report.rows_read == 9
    assert [row.where for row in report.rejected] == ["line 4", "line 7", "line 9"]
    reasons = [row.reason for row in report.rejected]
    assert reasons[0].startswith("invalid JSON: Expecting ',' delimiter")
    assert reasons[1] == "missing field 'answer'"
    assert "field 'question' contains the harmony control token <|channel|>" in reasons[2]
    assert report.train_rows == 6


def test_load_examples_raises_on_rejected_rows(tmp_path):
    from gptoss_ft.chatdata import load_examples  # noqa: PLC0415

    path = tmp_path / "broken.jsonl"
    write_broken_gsm8k(path)
    with pytest.raises(DataError, match=r"3 rows cannot be trained on: .*broken.jsonl line 4: invalid JSON"):
        load_examples(data_recipe(str(path)), tmp_path)


def test_tokenize_examples_names_rows():
    rows = [{"question": "q", "answer": "r\n#### 1"}, {"question": "q"}, {"question": "q", "answer": "x"}]
    with pytest.raises(DataError, match=r"2 rows cannot be trained on: rows row 2: missing field 'answer'; rows row 3"):
        tokenize_examples(rows)


def render(messages, tools=None):
    return HarmonyRenderer(RenderSettings()).render(Conversation(messages, tools or []))


CHANNEL = "<|channel|>"


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([ChatMessage("user", "Hi"), ChatMessage("assistant", f"x{CHANNEL}final")], r"message 2 content contains .*<\|channel\|>"),
        ([ChatMessage("user", "Hi"), ChatMessage("assistant", "x", thinking="<|end|>")], r"message 2 thinking contains .*<\|end\|>"),
        ([ChatMessage("system", "<|start|>"), ChatMessage("user", "Hi"), ChatMessage("assistant", "x")], r"message 1 \(system\) content"),
        (
            [ChatMessage("user", "Hi"), ChatMessage("assistant", "", tool_calls=[ToolCall("f", '{"a": "<|call|>"}')])],
            r"message 2 tool call arguments contains .*<\|call\|>",
        ),
        (
            [
                ChatMessage("user", "Hi"),
                ChatMessage("assistant", "", tool_calls=[ToolCall("f", "{}")]),
                ChatMessage("tool", "<|return|>"),
                ChatMessage("assistant", "x"),
            ],
            r"message 3 \(tool result\) content contains",
        ),
        ([ChatMessage("user", "<|reserved_200100|>"), ChatMessage("assistant", "x")], "message 1 content contains"),
    ],
)
def test_control_tokens_rejected(messages, reason):
    with pytest.raises(RowProblem, match=reason):
        render(messages)


def test_control_token_in_tool_description():
    tools = [ToolSpec("f", "Returns <|message|> text.", None)]
    with pytest.raises(RowProblem, match=r"tool 'f' description contains"):
        render([ChatMessage("user", "Hi"), ChatMessage("assistant", "x")], tools)


def test_control_token_in_recipe_system_prompt(tmp_path):
    recipe = data_recipe(str(BUNDLED_GSM8K), system_prompt="Never write <|call|>.")
    with pytest.raises(DataError, match=r"data.system_prompt contains the harmony control token <\|call\|>"):
        check_data(recipe, tmp_path)


def test_chatml_tokens_are_plain_text():
    rendered = render([ChatMessage("user", "What does <|im_start|> mean?"), ChatMessage("assistant", "A ChatML marker.")])
    assert rendered.input_ids


CALL_F = ToolCall("f", "{}")
CALL_G = ToolCall("g", "{}")


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([ChatMessage("user", "Hi")], "the last message must be from the assistant, found a user message"),
        ([ChatMessage("system", "Be nice.")], "no messages besides the system or developer message"),
        (
            [ChatMessage("user", "Hi"), ChatMessage("system", "Late"), ChatMessage("assistant", "x")],
            "message 2: a system message is allowed only as the first message",
        ),
        ([ChatMessage("tool", "out"), ChatMessage("assistant", "x")], "message 1: a tool result must follow"),
        ([ChatMessage("user", "Hi"), ChatMessage("assistant", "")], "message 2: the assistant message has no content"),
        (
            [ChatMessage("user", "Hi"), ChatMessage("assistant", "", tool_calls=[CALL_F, CALL_G])],
            "message 2: 2 tool calls end the conversation without results",
        ),
        (
            [
                ChatMessage("user", "Hi"),
                ChatMessage("assistant", "", tool_calls=[CALL_F, CALL_G]),
                ChatMessage("tool", "only one"),
                ChatMessage("assistant", "x"),
            ],
            "message 2: 2 tool calls are followed by 1 tool results",
        ),
        (
            [ChatMessage("user", "Hi"), ChatMessage("assistant", "Sure", thinking="Plan.", tool_calls=[CALL_F])],
            "message 2: an assistant message with tool calls has both content and thinking",
        ),
        ([ChatMessage("user", "Hi"), ChatMessage("assistant", "", tool_calls=[ToolCall("f", "{oops")])], "are not valid JSON"),
        ([ChatMessage("user", "Hi"), ChatMessage("assistant", "", tool_calls=[ToolCall("bad name", "{}")])], "name 'bad name' is invalid"),
        (
            [
                ChatMessage("user", "Hi"),
                ChatMessage("assistant", "", tool_calls=[CALL_F]),
                ChatMessage("tool", "out", name="g"),
                ChatMessage("assistant", "x"),
            ],
            "message 3: a result for 'g' follows a call to 'f'",
        ),
    ],
)
def test_invalid_conversations(messages, reason):
    with pytest.raises(RowProblem, match=reason):
        render(messages)


def test_call_to_undefined_tool():
    tools = [ToolSpec("g", "G.", None)]
    with pytest.raises(RowProblem, match="message 2: calls 'f', which the row's tools do not define"):
        render([ChatMessage("user", "Hi"), ChatMessage("assistant", "", tool_calls=[CALL_F])], tools)


def test_parallel_calls_with_one_result_each():
    messages = [
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "", tool_calls=[CALL_F, CALL_G]),
        ChatMessage("tool", "out f"),
        ChatMessage("tool", "out g"),
        ChatMessage("assistant", "done"),
    ]
    text = decode(render(messages).input_ids)
    assert text.index("to=functions.f") < text.index("out f") < text.index("to=functions.g") < text.index("out g")


def test_parallel_calls_with_result_array():
    results = json.dumps([{"name": "f", "content": "out f"}, {"name": "g", "content": {"value": 2}}])
    messages = [
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "", tool_calls=[CALL_F, CALL_G]),
        ChatMessage("tool", results),
        ChatMessage("assistant", "done"),
    ]
    text = decode(render(messages).input_ids)
    assert "<|start|>functions.f to=assistant<|channel|>commentary<|message|>out f<|end|>" in text
    assert '<|start|>functions.g to=assistant<|channel|>commentary<|message|>{"value": 2}<|end|>' in text
