"""JSON from outside (request bodies, webhook calls, WebSocket messages), decoded within bounds.

`json.loads` recurses once per nesting level: 1000 `[` are a RecursionError, which no `JSONDecodeError` handler
catches, and a document just under Python's limit still reaches code that recurses again (GraphQL's variable
coercion). No payload the platform accepts nests deeper than a handful of levels, so a bound far above that and
far below the interpreter's is checked before decoding, in one linear scan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

MAX_NESTING = 32

# A JSON string (escapes included): brackets inside one do not nest anything.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


class UnacceptableJson(ValueError):
    """The payload is not JSON the platform will read: not UTF-8, not JSON, or nested too deeply."""


def _refuse_constant(name: str) -> Any:
    raise UnacceptableJson(f"{name} is not JSON")


def nesting_depth(text: str, *, stop_above: int = MAX_NESTING) -> int:
    """How deeply `text`'s arrays and objects nest (counting stops past `stop_above`)."""
    depth = deepest = 0
    for bracket in _BRACKET.finditer(_STRING.sub("", text)):
        if bracket.group() in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        else:
            depth -= 1
    return deepest


def loads(data: bytes | str, *, parse_float: Callable[[str], Any] = float, max_nesting: int = MAX_NESTING) -> Any:
    """`data` decoded, or UnacceptableJson saying why not (NaN and Infinity, which Python accepts, are not JSON)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise UnacceptableJson("the body is not UTF-8") from error
    else:
        text = data
    if nesting_depth(text, stop_above=max_nesting) > max_nesting:
        raise UnacceptableJson(f"the body nests arrays and objects deeper than {max_nesting} levels")
    try:
        return json.loads(text, parse_float=parse_float, parse_constant=_refuse_constant)
    except (json.JSONDecodeError, RecursionError) as error:
        raise UnacceptableJson("the body is not valid JSON") from error
