"""Tool definitions in the TypeScript-like form that gpt-oss reads in its developer message.

The conversion follows openai-harmony 0.0.8 (`json_schema_to_typescript` in its encoding.rs) case
for case, including its quirks, because gpt-oss was trained on that renderer's output. Tests compare
the result with openai-harmony on the tools of real datasets and on generated schemas.
"""

from __future__ import annotations

import json
import math
from typing import Any

# The JSON of harmony's Rust side (serde_json) prints floats with ryu: shortest digits, decimal
# notation while the decimal point falls within 16 digits of the first digit, else scientific.
_MAX_DECIMAL_DIGITS = 16


def format_json_float(value: float) -> str:
    """Format a float as serde_json does; NaN and infinities become null, as there.

    NOTE: openai-harmony 0.0.8 parses JSON numbers inexactly: it reads some floats of many digits
    or a large exponent one unit off in the last place. Such a default then differs in its last
    digits from harmony's text, because this function prints the exact value.
    """
    if not math.isfinite(value):
        return "null"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    mantissa, _, exponent_text = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # Position of the decimal point relative to the first significant digit.
    point = len(whole.lstrip("0")) if whole.strip("0") else -(len(fraction) - len(fraction.lstrip("0")))
    point += int(exponent_text or 0)
    digits = digits.rstrip("0") or "0"
    length = len(digits)
    if length <= point <= _MAX_DECIMAL_DIGITS:
        return f"{sign}{digits}{'0' * (point - length)}.0"
    if 0 < point <= _MAX_DECIMAL_DIGITS:
        return f"{sign}{digits[:point]}.{digits[point:]}"
    if -5 < point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    exponent = point - 1
    if length == 1:
        return f"{sign}{digits}e{exponent}"
    return f"{sign}{digits[0]}.{digits[1:]}e{exponent}"


def format_json(value: Any) -> str:
    """Serialize a JSON value compactly, byte for byte as serde_json's Display does."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_json_float(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(format_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{format_json(str(key))}:{format_json(item)}" for key, item in value.items()) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def rust_lines(text: str) -> list[str]:
    """Split like Rust's `str::lines`: at \n or \r\n, without a final empty line.

    A \r that no \n follows stays in the line.
    """
    parts = text.split("\n")
    last = parts.pop()
    lines = [part[:-1] if part.endswith("\r") else part for part in parts]
    if last:
        lines.append(last)
    return lines


def _get(schema: Any, key: str) -> Any:
    # serde_json's Value::get: None for a missing key and for a schema that is not an object.
    return schema.get(key) if isinstance(schema, dict) else None


def _has(schema: Any, key: str) -> bool:
    return isinstance(schema, dict) and key in schema


def _is_enum(schema: Any) -> bool:
    values = _get(schema, "enum")
    return isinstance(values, list) and bool(values)


def _is_nullable(schema: Any) -> bool:
    return _get(schema, "nullable") is True


def _default_comment(schema: dict[str, Any], *, quote_enum_strings: bool) -> str:
    """Return `default: ...` the way harmony writes it for this schema's default value."""
    default = schema["default"]
    if isinstance(default, str) and not _is_enum(schema):
        return f'default: "{default}"'
    if isinstance(default, str) and not quote_enum_strings:
        return f"default: {default}"
    return f"default: {format_json(default)}"


def schema_to_typescript(schema: Any, indent: str = "") -> str:
    """Convert a JSON schema to harmony's TypeScript-like type text."""
    one_of = _get(schema, "oneOf")
    if isinstance(one_of, list):
        return _one_of_to_typescript(one_of, indent)

    types = _get(schema, "type")
    if isinstance(types, list):
        names = ["number" if name == "integer" else name for name in types if isinstance(name, str)]
        if names:
            return " | ".join(names)
    if not isinstance(types, str):
        return "any"
    if types == "object":
        return _object_to_typescript(schema, indent)
    if types == "string":
        values = _get(schema, "enum")
        if isinstance(values, list):
            options = [f'"{value}"' for value in values if isinstance(value, str)]
            if options:
                return " | ".join(options)
        return "string"
    if types in ("number", "integer"):
        return "number"
    if types == "boolean":
        return "boolean"
    if types == "array":
        if _has(schema, "items"):
            return f"{schema_to_typescript(schema['items'], indent)}[]"
        return "Array<any>"
    return "any"


def _one_of_to_typescript(variants: list[Any], indent: str) -> str:
    out = ""
    for variant in variants:
        out += f"\n{indent} | "
        text = schema_to_typescript(variant, f"{indent}   ")
        if _is_nullable(variant) and "null" not in text:
            text += " | null"
        out += text
        comments = []
        description = _get(variant, "description")
        if isinstance(description, str):
            comments.append(description)
        if _has(variant, "default"):
            comments.append(_default_comment(variant, quote_enum_strings=True))
        if comments:
            out += " // " + " ".join(comments)
    return out


def _object_to_typescript(schema: dict[str, Any], indent: str) -> str:
    out = ""
    description = schema.get("description")
    if isinstance(description, str):
        out += f"{indent}// {description}\n"
    out += "{\n"
    properties = schema.get("properties")
    if isinstance(properties, dict):
        required_list = schema.get("required")
        required = {name for name in required_list if isinstance(name, str)} if isinstance(required_list, list) else set()
        for key, value in properties.items():
            optional = "" if key in required else "?"
            out += _property_comments(value, indent)
            variants = _get(value, "oneOf")
            if isinstance(variants, list):
                out += _one_of_property(key, optional, value, variants, indent)
                continue
            text = schema_to_typescript(value, f"{indent}    ")
            if _is_nullable(value) and "null" not in text:
                text += " | null"
            out += f"{indent}{key}{optional}: {text},"
            if not _has(value, "oneOf") and _has(value, "default"):
                out += " // " + _default_comment(value, quote_enum_strings=False)
            out += "\n"
    out += f"{indent}}}"
    return out


def _property_comments(value: Any, indent: str) -> str:
    """Return the title, description and examples comments written above a property."""
    out = ""
    title = _get(value, "title")
    if isinstance(title, str):
        out += f"{indent}// {title}\n{indent}//\n"
    # A oneOf property writes its description itself, next to the variants.
    if not _has(value, "oneOf"):
        description = _get(value, "description")
        if isinstance(description, str):
            out += f"{indent}// {description}\n"
    examples = _get(value, "examples")
    if isinstance(examples, list) and examples:
        out += f"{indent}// Examples:\n"
        for example in examples:
            if isinstance(example, str):
                out += f'{indent}// - "{example}"\n'
    return out


def _one_of_property(key: str, optional: str, value: dict[str, Any], variants: list[Any], indent: str) -> str:
    out = ""
    description = value.get("description")
    property_description = description if isinstance(description, str) else None
    first_description = _get(variants[0], "description") if variants else None
    # harmony skips the property's description when the first variant repeats it.
    described_above = property_description is not None and first_description != property_description
    if described_above:
        out += f"{indent}// {property_description}\n"
    if "default" in value:
        out += f"{indent}// {_default_comment(value, quote_enum_strings=False)}\n"
    out += f"{indent}{key}{optional}:\n"
    for index, variant in enumerate(variants):
        out += f"{indent} | "
        text = schema_to_typescript(variant, f"{indent}   ")
        if _is_nullable(variant) and "null" not in text:
            text += " | null"
        out += text
        comments = []
        variant_description = _get(variant, "description")
        if not (index == 0 and described_above) and isinstance(variant_description, str):
            if variant_description != property_description:
                comments.append(variant_description)
        if _has(variant, "default"):
            comments.append(_default_comment(variant, quote_enum_strings=False))
        if comments:
            out += " // " + " ".join(comments)
        out += "\n"
    out += f"{indent},\n"
    return out


def render_tool_namespace(tools: list[tuple[str, str, Any]]) -> str:
    """Return the `# Tools` section for function tools given as (name, description, parameters).

    `parameters` is None for a tool that takes no arguments, which harmony writes as `() => any`.
    """
    lines = ["## functions\n", "namespace functions {\n"]
    for name, description, parameters in tools:
        lines.extend(f"// {line}" for line in rust_lines(description))
        if parameters is None:
            lines.append(f"type {name} = () => any;\n")
        else:
            lines.append(f"type {name} = (_: {schema_to_typescript(parameters)}) => any;\n")
    lines.append("} // namespace functions")
    return "# Tools\n\n" + "\n".join(lines)
