"""The one error a bad config gives: a ConfigError whose message starts with the offending key."""
from __future__ import annotations


class ConfigError(ValueError):
    """The workflow config is invalid; the message names the key."""


def key_path(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<top level>"
