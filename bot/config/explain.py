"""pydantic's complaints about a config file as sentences about the file: what to write,
not which Python type was expected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.config.procedures import DUTY, NOTIFY, OWNER, PLAYBOOK_NAME
from playbooks.messages import Text, raw, t

# What a platform's ids look like, for the sentence that asks for one quoted.
EXAMPLE_IDS = {
    "console": "alice",
    "slack": "U012345",
    "telegram": "123456789",
    "dingtalk": "manager4821",
    "feishu": "ou_7d8a6e6df7621556ce0d21922b676706",
    "discord": "80351110224678912",
    "mattermost": "8xq3fz6ctpdmpfqmwbzy1ekk9h",
}
# The patterns of the config models, as a person would say them.
PATTERN_HINTS = {
    OWNER: "write owner, a role, a duty of roles.yaml or @person",
    NOTIFY: 'write a channel ("#ops" or "slack:C0123"), owner, a role, a duty or @person',
    PLAYBOOK_NAME: "use lowercase letters, digits and '-', starting with a letter (like db-down)",
    DUTY: "use lowercase letters, digits and '-', starting with a letter (like devops)",
    r"^[a-z][a-z0-9_]{0,30}$": "use lowercase letters, digits and '_' (like test_pass_rate)",
    r"^\s*(>=|<=|>|<|=)\s*-?\d+(\.\d+)?\s*%?\s*$": "write a comparison and a number, like >= 95%",
    r"^[^\s#][^\s]*$": "write the platform's own id, like C0123ABCD or -1001234567890",
}


def explain(item: Mapping[str, Any]) -> Text:
    """pydantic's complaint as a sentence about the file, not about Python types."""
    return raw(_said(item)) if (said := _catalogued(item)) is None else said


def _catalogued(item: Mapping[str, Any]) -> Text | None:
    """The complaints the catalog has sentences for, in both languages."""
    loc = [part for part in item["loc"] if part != "[key]"]
    kind, value = item["type"], item.get("input")
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "this")
    what = name if not loc or isinstance(loc[-1], str) else f"each entry of {name}"
    if kind == "missing":
        return t("config.missing", name=name)
    if kind == "extra_forbidden":
        return t("config.not_a_setting", name=name)
    if kind == "string_type" and not isinstance(value, dict | list) and value is not None:
        if len(loc) == 4 and loc[0] == "people" and loc[2] == "identities":
            example = EXAMPLE_IDS.get(name, "U012345")
            return t("config.quoted_id", platform=name, value=_as_written(value), example=example)
        return t("config.quoted_text", what=what, value=_as_written(value), name=name)
    return None


def _said(item: Mapping[str, Any]) -> str:
    """The other complaints, in English (a validator's own sentence among them)."""
    loc = [part for part in item["loc"] if part != "[key]"]
    kind, value = item["type"], item.get("input")
    name = next((str(p) for p in reversed(loc) if isinstance(p, str)), "this")
    what = name if not loc or isinstance(loc[-1], str) else f"each entry of {name}"
    written = _as_written(value)
    ctx = item.get("ctx") or {}
    if kind == "string_type" and value is None:
        return f"{what} is empty; give it a value"
    if kind == "string_type":
        return f"{what} must be text, not a {_shape(value)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"{what} must be a whole number, like 3; {written} is not one"
    if kind in ("float_type", "float_parsing"):
        return f"{what} must be a number, like 0.5; {written} is not one"
    if kind in ("bool_type", "bool_parsing"):
        return f"{what} must be true or false; {written} is neither"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return (
            f"{what} must be a mapping (name: value lines indented under it), not {_shape(value)}"
        )
    if kind in ("list_type", "tuple_type", "set_type", "frozen_set_type"):
        return f"{what} must be a list, like [a, b], not {_shape(value)}"
    if kind in ("literal_error", "enum"):
        return f"{written} is not an option for {name}; use {ctx.get('expected', '')}"
    if kind == "too_short":
        least = int(ctx.get("min_length", 1))
        has = len(value) if isinstance(value, list | dict) else 0
        return (
            f"{what} needs at least {least} {'entry' if least == 1 else 'entries'}; "
            f"it has {has or 'none'}"
        )
    if kind == "string_too_short":
        return f"{what} is empty; give it a value"
    if kind == "string_too_long":
        return f"{what} is longer than the {ctx.get('max_length')} characters it may be"
    if kind == "string_pattern_mismatch":
        hint = PATTERN_HINTS.get(str(ctx.get("pattern")), "check how it is written")
        return f"{written} is not a {name} Shipwatch understands; {hint}"
    message = str(item["msg"]).removeprefix("Value error, ")
    if message.startswith("Input should be"):
        return f"{what} must be{message.removeprefix('Input should be')}; it is {written}"
    return message


def _as_written(value: Any) -> str:
    """A YAML scalar as the person typed it (or close): true, 12345, empty."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "empty"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict | list):
        return f"a {_shape(value)}"
    return str(value)


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return f"single value ({_as_written(value)})" if value is not None else "nothing"
