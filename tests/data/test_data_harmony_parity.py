"""Our harmony rendering against openai-harmony 0.0.8, token for token, with the real o200k vocabulary.

Both sides get the same system message (identity, knowledge cutoff, date, reasoning effort) and
the same developer message. Where openai-harmony and the gpt-oss chat template disagree by
design, the test names the difference and states which side we follow:

- Reasoning of earlier turns: openai-harmony's `auto_drop_analysis` (on by default) drops the
  analysis messages before the *first* final message. In a three-turn conversation it keeps the
  second turn's reasoning, and in a single turn with a tool call it drops the reasoning of the
  turn being trained. We follow the gpt-oss chat template (drop the reasoning of every turn that
  ended with a final answer) and the harmony guide (keep reasoning across tool calls within the
  last turn), so these tests give openai-harmony the messages we keep, with dropping off.
- A developer message without tools: openai-harmony writes no blank line before <|end|>, the
  chat template writes "\\n\\n". We follow openai-harmony (see tests/trainer/test_data_template.py).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai_harmony import Conversation as HarmonyConversation
from openai_harmony import DeveloperContent, Message, Role, ToolDescription

from gptoss_ft.chatdata.conversation import ChatMessage, Conversation, ToolCall, ToolSpec
from gptoss_ft.chatdata.formats import detect_format, to_conversation
from gptoss_ft.chatdata.harmony import (
    CONTROL_TOKEN_PATTERN,
    HARMONY_TOKEN_IDS,
    HarmonyRenderer,
    RenderSettings,
    developer_message_text,
    encode_text,
)

from .harmony_reference import harmony_messages, harmony_training_tokens
from .helpers import BUNDLED_GSM8K, FIXTURES, SHARED_DATASETS

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Gets the current weather.\nUse it for any city.",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and country"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer", "default": 1},
        },
        "required": ["location"],
    },
}


def render(messages: list[ChatMessage], tools: list[dict] | None = None, **options: object) -> list[int]:
    specs = [ToolSpec(tool["name"], tool.get("description", ""), tool.get("parameters")) for tool in tools or []]
    return HarmonyRenderer(RenderSettings(**options)).render(Conversation(messages, specs)).input_ids


def test_harmony_token_ids(harmony_encoding):
    for text, token_id in HARMONY_TOKEN_IDS.items():
        assert harmony_encoding.encode(text, allowed_special="all") == [token_id], text


def test_control_pattern_covers_special_tokens(harmony_encoding):
    for token in harmony_encoding.special_tokens_set:
        assert CONTROL_TOKEN_PATTERN.fullmatch(token), token


TRICKY_TEXTS = [
    "",
    "Hello, world!",
    "  leading and trailing  ",
    "line one\nline two\r\n\n\n  indented\ttab",
    "numbers 1234567 3.14159 -42 1e10",
    "unicode: naïve café 東京 Привет مرحبا 🤖👍🏽",
    "code:\n    def f(x):\n        return x ** 2\n",
    "<|im_start|>user<|im_end|> is ChatML, not harmony",
    "'s 't 're 've 'm 'll 'd I'M YOU'RE",
    "\u00a0non-breaking\u2009thin\u3000ideographic spaces",
]


@pytest.mark.parametrize("text", TRICKY_TEXTS)
def test_text_encoding_matches_harmony(harmony_encoding, text):
    assert encode_text(text) == harmony_encoding.encode(text, disallowed_special=())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_random_text_encoding_matches_harmony(harmony_encoding, text):
    assert encode_text(text) == harmony_encoding.encode(text, disallowed_special=())


def test_single_turn(harmony_encoding):
    ours = render([ChatMessage("user", "What is 2 + 2?"), ChatMessage("assistant", "2 + 2 = 4.")])
    expected = harmony_training_tokens(harmony_encoding, [("user", "What is 2 + 2?"), ("final", "2 + 2 = 4.")])
    assert ours == expected


def test_single_turn_reasoning(harmony_encoding):
    ours = render([ChatMessage("user", "What is 2 + 2?"), ChatMessage("assistant", "4", thinking="Simple sum.")])
    expected = harmony_training_tokens(
        harmony_encoding, [("user", "What is 2 + 2?"), ("analysis", "Simple sum."), ("final", "4")]
    )
    assert ours == expected


@pytest.mark.parametrize("effort", ["low", "medium", "high"])
def test_reasoning_effort_and_date(harmony_encoding, effort):
    messages = [ChatMessage("user", "Hi"), ChatMessage("assistant", "Hello!", thinking="Greet back.")]
    ours = render(messages, reasoning_effort=effort, current_date="2031-02-28")
    expected = harmony_training_tokens(
        harmony_encoding, [("user", "Hi"), ("analysis", "Greet back."), ("final", "Hello!")], date="2031-02-28", effort=effort
    )
    assert ours == expected


@pytest.mark.parametrize("role", ["system", "developer"])
def test_system_or_developer_message_becomes_instructions(harmony_encoding, role):
    messages = [
        ChatMessage(role, "Answer in French.\nBe brief."),
        ChatMessage("user", "Hello"),
        ChatMessage("assistant", "Bonjour", thinking="French greeting."),
    ]
    expected = harmony_training_tokens(
        harmony_encoding,
        [("user", "Hello"), ("analysis", "French greeting."), ("final", "Bonjour")],
        instructions="Answer in French.\nBe brief.",
    )
    assert render(messages) == expected


def test_recipe_system_prompt_and_identity(harmony_encoding):
    messages = [ChatMessage("user", "Hello"), ChatMessage("assistant", "Hi")]
    ours = render(messages, system_prompt="Always be polite.", model_identity="You are a test model.")
    expected = harmony_training_tokens(
        harmony_encoding, [("user", "Hello"), ("final", "Hi")], instructions="Always be polite.", identity="You are a test model."
    )
    assert ours == expected


def test_multi_turn_drops_earlier_reasoning(harmony_encoding):
    messages = [
        ChatMessage("user", "q1"),
        ChatMessage("assistant", "a1", thinking="t1"),
        ChatMessage("user", "q2"),
        ChatMessage("assistant", "a2", thinking="t2"),
        ChatMessage("user", "q3"),
        ChatMessage("assistant", "a3", thinking="t3"),
    ]
    kept = [
        ("user", "q1"), ("final", "a1"), ("user", "q2"), ("final", "a2"),
        ("user", "q3"), ("analysis", "t3"), ("final", "a3"),
    ]  # fmt: skip
    assert render(messages) == harmony_training_tokens(harmony_encoding, kept)

    # openai-harmony's own dropping keeps t2: it drops analysis only before the first final.
    everything = [
        ("user", "q1"), ("analysis", "t1"), ("final", "a1"), ("user", "q2"), ("analysis", "t2"),
        ("final", "a2"), ("user", "q3"), ("analysis", "t3"), ("final", "a3"),
    ]  # fmt: skip
    harmony_default = harmony_encoding.render_conversation_for_training(
        HarmonyConversation.from_messages(harmony_messages(everything))
    )
    assert "t2" in harmony_encoding.decode(harmony_default)
    assert "t2" not in harmony_encoding.decode(render(messages))


def test_tool_chain_keeps_reasoning_in_last_turn(harmony_encoding):
    messages = [
        ChatMessage("system", "Use the tools."),
        ChatMessage("user", "Weather in Paris?"),
        ChatMessage("assistant", "", thinking="Need the weather tool.", tool_calls=[ToolCall("get_weather", '{"location": "Paris"}')]),
        ChatMessage("tool", '{"temperature": 21}'),
        ChatMessage("assistant", "It is 21 degrees.", thinking="Report it."),
    ]
    spec = [
        ("user", "Weather in Paris?"),
        ("analysis", "Need the weather tool."),
        ("call", "get_weather", '{"location": "Paris"}'),
        ("tool", "get_weather", '{"temperature": 21}'),
        ("analysis", "Report it."),
        ("final", "It is 21 degrees."),
    ]
    expected = harmony_training_tokens(harmony_encoding, spec, instructions="Use the tools.", tools=[WEATHER_TOOL])
    assert render(messages, tools=[WEATHER_TOOL]) == expected

    # openai-harmony's own dropping removes both analysis messages of this single turn.
    harmony_default = harmony_encoding.render_conversation_for_training(
        HarmonyConversation.from_messages(harmony_messages(spec, instructions="Use the tools.", tools=[WEATHER_TOOL]))
    )
    assert "Need the weather tool." not in harmony_encoding.decode(harmony_default)


def test_tool_call_ends_conversation(harmony_encoding):
    messages = [
        ChatMessage("user", "Weather in Oslo?"),
        ChatMessage("assistant", "", thinking="Call it.", tool_calls=[ToolCall("get_weather", '{"location": "Oslo"}')]),
    ]
    spec = [("user", "Weather in Oslo?"), ("analysis", "Call it."), ("call", "get_weather", '{"location": "Oslo"}')]
    assert render(messages, tools=[WEATHER_TOOL]) == harmony_training_tokens(harmony_encoding, spec, tools=[WEATHER_TOOL])


def test_earlier_tool_turn_loses_reasoning(harmony_encoding):
    messages = [
        ChatMessage("user", "Weather in Rome?"),
        ChatMessage("assistant", "", thinking="Look it up.", tool_calls=[ToolCall("get_weather", '{"location": "Rome"}')]),
        ChatMessage("tool", '{"temperature": 25}'),
        ChatMessage("assistant", "25 degrees.", thinking="Answer."),
        ChatMessage("user", "Thanks!"),
        ChatMessage("assistant", "You are welcome.", thinking="Polite reply."),
    ]
    spec = [
        ("user", "Weather in Rome?"),
        ("call", "get_weather", '{"location": "Rome"}'),
        ("tool", "get_weather", '{"temperature": 25}'),
        ("final", "25 degrees."),
        ("user", "Thanks!"),
        ("analysis", "Polite reply."),
        ("final", "You are welcome."),
    ]
    assert render(messages, tools=[WEATHER_TOOL]) == harmony_training_tokens(harmony_encoding, spec, tools=[WEATHER_TOOL])


def test_tool_without_parameters(harmony_encoding):
    tools = [{"name": "get_location", "description": "Gets the location of the user."}]
    messages = [
        ChatMessage("user", "Where am I?"),
        ChatMessage("assistant", "", tool_calls=[ToolCall("get_location", "{}")]),
        ChatMessage("tool", "Berlin"),
        ChatMessage("assistant", "You are in Berlin."),
    ]
    spec = [("user", "Where am I?"), ("call", "get_location", "{}"), ("tool", "get_location", "Berlin"), ("final", "You are in Berlin.")]
    assert render(messages, tools=tools) == harmony_training_tokens(harmony_encoding, spec, tools=tools)


def _llamafactory_spec(row: dict) -> tuple[list[tuple], str, list[dict]]:
    """Spell out what we render for a LLaMA-Factory row, independently of chatdata's splitting."""
    messages = row["messages"]
    instructions = messages[0]["content"][0]["value"]
    tools = [tool["function"] for tool in json.loads(row["tools"])]
    flat: list[tuple] = []
    index = 1
    while index < len(messages):
        message = messages[index]
        parts = message["content"]
        if message["role"] == "user":
            flat.append(("user", parts[0]["value"]))
            index += 1
            continue
        reasoning = "".join(part["value"] for part in parts if part["type"] == "reasoning")
        calls = [json.loads(part["value"]) for part in parts if part["type"] == "tool_call"]
        if not calls:
            flat.append(("answer", reasoning, "".join(part["value"] for part in parts if part["type"] == "text")))
            index += 1
            continue
        results = []
        if index + 1 < len(messages) and messages[index + 1]["role"] == "tool":
            for item in json.loads(messages[index + 1]["content"][0]["value"]):
                if isinstance(item, dict) and set(item) <= {"name", "content", "tool_call_id"} and "content" in item:
                    content = item["content"]
                    results.append(content if isinstance(content, str) else json.dumps(content, ensure_ascii=False))
                elif len(calls) > 1:
                    results.append(json.dumps(item, ensure_ascii=False))
                else:
                    results.append(messages[index + 1]["content"][0]["value"])
            index += 1
        for position, call in enumerate(calls):
            flat.append(("call_with_reasoning", reasoning if position == 0 else "", call))
            if position < len(results):
                flat.append(("tool", call["name"], results[position]))
        index += 1

    last_earlier_answer = max((i for i, item in enumerate(flat[:-1]) if item[0] == "answer"), default=-1)
    spec: list[tuple] = []
    for position, item in enumerate(flat):
        keep_reasoning = position > last_earlier_answer
        if item[0] == "answer":
            if keep_reasoning and item[1]:
                spec.append(("analysis", item[1]))
            spec.append(("final", item[2]))
        elif item[0] == "call_with_reasoning":
            if keep_reasoning and item[1]:
                spec.append(("analysis", item[1]))
            spec.append(("call", item[2]["name"], json.dumps(item[2]["arguments"], ensure_ascii=False)))
        else:
            spec.append(item)
    return spec, instructions, tools


LLAMAFACTORY_ROWS = [json.loads(line) for line in (FIXTURES / "llamafactory-reason-tool-use-8.jsonl").open()]


@pytest.mark.parametrize("number", [1, 2, 3, 4, 6, 7, 8])
def test_llamafactory_rows_match_harmony(harmony_encoding, number):
    row = LLAMAFACTORY_ROWS[number - 1]
    conversation = to_conversation(row, detect_format(row, {}, {}))
    ours = HarmonyRenderer(RenderSettings()).render(conversation).input_ids
    spec, instructions, tools = _llamafactory_spec(row)
    assert ours == harmony_training_tokens(harmony_encoding, spec, instructions=instructions, tools=tools)


@pytest.mark.skipif(not (SHARED_DATASETS / "gsm8k/train.jsonl").is_file(), reason="the shared GSM8K file is not here")
def test_gsm8k_rows_match_harmony(harmony_encoding):
    renderer = HarmonyRenderer(RenderSettings())
    with (SHARED_DATASETS / "gsm8k/train.jsonl").open() as handle:
        rows = [json.loads(line) for _, line in zip(range(300), handle)]
    for number, row in enumerate(rows, start=1):
        conversation = to_conversation(row, detect_format(row, {}, {}))
        assistant = conversation.messages[1]
        spec = [("user", conversation.messages[0].content), ("analysis", assistant.thinking), ("final", assistant.content)]
        assert renderer.render(conversation).input_ids == harmony_training_tokens(harmony_encoding, spec), f"row {number}"


# ---------------------------------------------------------------------------------------------
# Tool definitions: JSON schema to harmony's TypeScript-like text

TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
# openai-harmony 0.0.8 parses JSON with serde_json's fast float parser, which reads some numbers
# with many digits or a large exponent one unit off in the last place (5.01626822346376e132
# comes back as 5.0162682234637596e132). Our text keeps the exact number, so the generated
# floats stay where that parser is exact.
FLOATS = st.integers(-(10**12), 10**12).map(lambda value: value / 1000)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), FLOATS, TEXT)


def _schemas() -> st.SearchStrategy:
    def extend(children: st.SearchStrategy) -> st.SearchStrategy:
        return st.one_of(
            st.fixed_dictionaries(
                {"type": st.just("object")},
                optional={
                    "properties": st.dictionaries(TEXT, children, max_size=4),
                    "required": st.lists(TEXT, max_size=3),
                    "description": TEXT,
                },
            ),
            st.fixed_dictionaries({"type": st.just("array")}, optional={"items": children, "description": TEXT}),
            st.fixed_dictionaries(
                {"oneOf": st.lists(children, min_size=1, max_size=3)},
                optional={"description": TEXT, "default": JSON_SCALARS, "nullable": st.booleans()},
            ),
        )

    leaves = st.fixed_dictionaries(
        {"type": st.sampled_from(["string", "number", "integer", "boolean", "null", "unknown"])},
        optional={
            "description": TEXT,
            "default": st.one_of(JSON_SCALARS, st.lists(JSON_SCALARS, max_size=3)),
            "enum": st.lists(st.one_of(TEXT, st.integers()), max_size=3),
            "nullable": st.booleans(),
            "title": TEXT,
            "examples": st.lists(st.one_of(TEXT, st.integers()), max_size=2),
        },
    ) | st.fixed_dictionaries({"type": st.lists(st.sampled_from(["string", "integer", "null"]), max_size=3)})
    return st.recursive(leaves, extend, max_leaves=8)


def _harmony_developer_text(encoding, tools: list[dict]) -> str:
    developer = DeveloperContent.new().with_function_tools(
        [ToolDescription.new(tool["name"], tool["description"], parameters=tool.get("parameters")) for tool in tools]
    )
    tokens = encoding.render(Message.from_role_and_content(Role.DEVELOPER, developer))
    return encoding.decode(tokens).removeprefix("<|start|>developer<|message|>").removesuffix("<|end|>")


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schema=_schemas(), description=TEXT)
def test_schema_to_typescript_matches_harmony(harmony_encoding, schema, description):
    tools = [{"name": "tool", "description": description, "parameters": schema}]
    ours = developer_message_text(None, [("tool", description, schema)])
    assert ours == _harmony_developer_text(harmony_encoding, tools)


@pytest.mark.parametrize("value", [0.5, 1.0, 1e15, 1e16, 1.5e-5, 1e-6, -2.25, 123456.789, 1e300, 5e-324])
def test_float_defaults_match_harmony(harmony_encoding, value):
    schema = {"type": "object", "properties": {"x": {"type": "number", "default": value}}}
    tools = [{"name": "tool", "description": "", "parameters": schema}]
    assert developer_message_text(None, [("tool", "", schema)]) == _harmony_developer_text(harmony_encoding, tools)


def test_llamafactory_tool_definitions_match_harmony(harmony_encoding):
    path = SHARED_DATASETS / "llamafactory/reason_tool_use_demo_50.jsonl"
    rows = [json.loads(line) for line in path.open()] if path.is_file() else LLAMAFACTORY_ROWS
    for row in rows:
        tools = [tool["function"] for tool in json.loads(row["tools"])]
        if not tools:
            continue  # no Tools section at all, in our rendering as in the chat template
        definitions = [(tool["name"], tool["description"], tool.get("parameters")) for tool in tools]
        assert developer_message_text(None, definitions) == _harmony_developer_text(harmony_encoding, tools)


def test_bundled_slice_renders_like_harmony(harmony_encoding):
    row = json.loads(BUNDLED_GSM8K.open().readline())
    conversation = to_conversation(row, detect_format(row, {}, {}))
    spec = [("user", conversation.messages[0].content), ("analysis", conversation.messages[1].thinking), ("final", "72")]
    assert HarmonyRenderer(RenderSettings()).render(conversation).input_ids == harmony_training_tokens(harmony_encoding, spec)
