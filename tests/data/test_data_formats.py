"""Each input format, its detection and the field and role mapping."""

from __future__ import annotations

import json

import pytest

from gptoss_ft.chatdata.conversation import ChatMessage, RowProblem, ToolCall
from gptoss_ft.chatdata.formats import FIELD_DEFAULTS, RowFormat, detect_format, to_conversation
from gptoss_ft.recipe import DATA_FIELD_NAMES

from .helpers import FIXTURES


def convert(row, fields=None, roles=None, data_format=None):
    fields = fields or {}
    roles = roles or {}
    row_format = RowFormat(data_format, fields, roles) if data_format else detect_format(row, fields, roles)
    return row_format.format, to_conversation(row, row_format)


def test_field_names_agree_with_recipe():
    assert set(FIELD_DEFAULTS) == set(DATA_FIELD_NAMES)


def test_gsm8k_conversion():
    row = {
        "question": "  Natalia sold 48 clips in April and half as many in May. How many in all? ",
        "answer": "In May she sold 48/2 = <<48/2=24>>24 clips.\nIn all: 48+24 = <<48+24=72>>72.\n#### 72",
    }
    data_format, conversation = convert(row)
    assert data_format == "gsm8k"
    user, assistant = conversation.messages
    assert user == ChatMessage("user", "Natalia sold 48 clips in April and half as many in May. How many in all?", origin="field 'question'")
    assert assistant.role == "assistant"
    assert assistant.thinking == "In May she sold 48/2 = 24 clips.\nIn all: 48+24 = 72."
    assert assistant.content == "72"


def test_gsm8k_uses_last_separator():
    _, conversation = convert({"question": "q", "answer": "a #### b\nreally\n#### 7"})
    assert conversation.messages[1].thinking == "a #### b\nreally"
    assert conversation.messages[1].content == "7"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({"question": "q"}, "missing field 'answer'"),
        ({"question": "q", "answer": "no separator"}, "has no '#### <final answer>' line"),
        ({"question": "q", "answer": "reasoning ####  "}, "nothing after '####'"),
        ({"question": "q", "answer": 7}, "must be a string"),
    ],
)
def test_gsm8k_invalid(row, reason):
    with pytest.raises(RowProblem, match=reason):
        convert(row, data_format="gsm8k")


def test_messages_with_thinking_and_developer():
    row = {
        "messages": [
            {"role": "developer", "content": "Answer in French.", "thinking": None},
            {"role": "user", "content": "Hello", "thinking": None},
            {"role": "assistant", "content": "Bonjour", "thinking": "Greeting in French."},
        ]
    }
    data_format, conversation = convert(row)
    assert data_format == "messages"
    assert [message.role for message in conversation.messages] == ["developer", "user", "assistant"]
    assert conversation.messages[2].thinking == "Greeting in French."


def test_messages_openai_tool_calls():
    row = {
        "messages": [
            {"role": "user", "content": "Weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'}},
                    {"type": "function", "function": {"name": "get_time", "arguments": {"zone": "CET"}}},
                ],
            },
            {"role": "tool", "name": "get_weather", "content": "rain"},
        ],
        "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather.", "parameters": {}}}],
    }
    _, conversation = convert(row)
    assert conversation.messages[1].tool_calls == [
        ToolCall("get_weather", '{"city": "Oslo"}'),
        ToolCall("get_time", '{"zone": "CET"}'),
    ]
    assert conversation.messages[2].name == "get_weather"
    assert conversation.tools[0].name == "get_weather"
    assert conversation.tools[0].parameters == {}


def test_llamafactory_content_parts():
    row = json.loads((FIXTURES / "llamafactory-reason-tool-use-8.jsonl").open().readlines()[1])
    _, conversation = convert(row)
    assistant = conversation.messages[2]
    assert assistant.content == ""
    assert assistant.thinking.startswith("Alright, the user wants information")
    assert assistant.tool_calls == [ToolCall("get_movie_details", '{"title": "Inception"}')]
    assert [tool.name for tool in conversation.tools] == ["get_movie_details", "calculate_discount"]


def test_sharegpt_detected():
    row = {"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}
    data_format, conversation = convert(row)
    assert data_format == "messages"
    assert [(m.role, m.content) for m in conversation.messages] == [("user", "Hi"), ("assistant", "Hello")]


def test_custom_fields_and_roles():
    row = {"dialog": [{"speaker": "client", "text": "Hi"}, {"speaker": "agent", "text": "Hello", "cot": "Greet."}]}
    fields = {"messages": "dialog", "role": "speaker", "content": "text", "thinking": "cot"}
    roles = {"client": "user", "agent": "assistant"}
    data_format, conversation = convert(row, fields, roles)
    assert data_format == "messages"
    assert conversation.messages[1] == ChatMessage("assistant", "Hello", thinking="Greet.")


def test_unknown_role_names_the_fix():
    with pytest.raises(RowProblem, match="unknown role 'bot'.*data.roles"):
        convert({"messages": [{"role": "user", "content": "Hi"}, {"role": "bot", "content": "Hello"}]})


def test_prompt_completion_strings():
    data_format, conversation = convert({"prompt": "2+2?", "completion": "4", "system": "Be exact."})
    assert data_format == "prompt_completion"
    assert [(m.role, m.content) for m in conversation.messages] == [("system", "Be exact."), ("user", "2+2?"), ("assistant", "4")]


def test_prompt_completion_conversational():
    row = {
        "prompt": [{"role": "user", "content": "2+2?"}],
        "completion": [{"role": "assistant", "content": "4", "thinking": "Add."}],
    }
    _, conversation = convert(row)
    assert conversation.messages[1] == ChatMessage("assistant", "4", thinking="Add.")


def test_alpaca_with_input_and_history():
    row = {
        "instruction": "Translate to French.",
        "input": "Good morning",
        "output": "Bonjour",
        "system": "You translate.",
        "history": [["Translate to French: yes", "oui"]],
    }
    data_format, conversation = convert(row)
    assert data_format == "alpaca"
    assert [(m.role, m.content) for m in conversation.messages] == [
        ("system", "You translate."),
        ("user", "Translate to French: yes"),
        ("assistant", "oui"),
        ("user", "Translate to French.\n\nGood morning"),
        ("assistant", "Bonjour"),
    ]


def test_alpaca_without_input():
    _, conversation = convert({"instruction": "Say hi.", "input": "", "output": "Hi"})
    assert conversation.messages[0].content == "Say hi."


def test_declared_format_overrides_detection():
    row = {"q": "What is 3+3?", "a": "3+3=6\n#### 6"}
    _, conversation = convert(row, fields={"question": "q", "answer": "a"}, data_format="gsm8k")
    assert conversation.messages[1].content == "6"


def test_undetectable_row():
    with pytest.raises(RowProblem, match="cannot detect the format.*data.format"):
        convert({"text": "plain text"})


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ({"role": "user", "content": [{"type": "image", "url": "x"}]}, "content part type 'image' is not supported"),
        ({"role": "user", "content": "Hi", "thinking": "no"}, "only assistant messages may have thinking"),
        ({"role": "user", "content": 5}, "content must be a string or a list of parts"),
        ({"content": "Hi"}, "has no 'role'"),
    ],
)
def test_invalid_messages(message, reason):
    with pytest.raises(RowProblem, match=reason):
        convert({"messages": [message, {"role": "assistant", "content": "ok"}]})
