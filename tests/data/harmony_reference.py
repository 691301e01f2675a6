"""Build openai-harmony conversations message by message, so that a test states what it renders."""

from __future__ import annotations

from typing import Any

from openai_harmony import (
    Author,
    Conversation,
    DeveloperContent,
    Message,
    ReasoningEffort,
    RenderConversationConfig,
    Role,
    SystemContent,
    ToolDescription,
)

# Every message is given explicitly, so harmony must not drop any of them.
KEEP_ALL = RenderConversationConfig(auto_drop_analysis=False)


def harmony_messages(
    spec: list[tuple[Any, ...]],
    *,
    date: str = "2025-08-05",
    effort: str = "medium",
    identity: str | None = None,
    instructions: str | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> list[Message]:
    """Return harmony messages for a spec of ("user", text), ("analysis", text), ("final", text),
    ("call", name, arguments) and ("tool", name, output), after the system and developer messages."""
    system = SystemContent.new().with_conversation_start_date(date).with_reasoning_effort(ReasoningEffort(effort.capitalize()))
    if identity is not None:
        system = system.with_model_identity(identity)
    messages = [Message.from_role_and_content(Role.SYSTEM, system)]
    if instructions or tools:
        developer = DeveloperContent.new()
        if instructions:
            developer = developer.with_instructions(instructions)
        if tools:
            developer = developer.with_function_tools(
                [ToolDescription.new(tool["name"], tool.get("description", ""), parameters=tool.get("parameters")) for tool in tools]
            )
        messages.append(Message.from_role_and_content(Role.DEVELOPER, developer))
    for kind, *rest in spec:
        if kind == "user":
            messages.append(Message.from_role_and_content(Role.USER, rest[0]))
        elif kind in ("analysis", "final"):
            messages.append(Message.from_role_and_content(Role.ASSISTANT, rest[0]).with_channel(kind))
        elif kind == "call":
            name, arguments = rest
            messages.append(
                Message.from_role_and_content(Role.ASSISTANT, arguments)
                .with_channel("commentary")
                .with_recipient(f"functions.{name}")
                .with_content_type("<|constrain|>json")
            )
        elif kind == "tool":
            name, output = rest
            messages.append(
                Message.from_author_and_content(Author.new(Role.TOOL, f"functions.{name}"), output)
                .with_channel("commentary")
                .with_recipient("assistant")
            )
        else:
            raise ValueError(f"unknown spec kind {kind!r}")
    return messages


def harmony_training_tokens(encoding: Any, spec: list[tuple[Any, ...]], **options: Any) -> list[int]:
    """Render a spec with openai-harmony's render_conversation_for_training, dropping nothing."""
    conversation = Conversation.from_messages(harmony_messages(spec, **options))
    return encoding.render_conversation_for_training(conversation, KEEP_ALL)
