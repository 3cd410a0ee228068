"""JSON from outside is decoded within bounds: never a RecursionError, never NaN."""

from __future__ import annotations

from decimal import Decimal

import pytest

from runtime.untrusted_json import MAX_NESTING, UnacceptableJson, loads, nesting_depth


def test_ordinary_json_is_decoded() -> None:
    assert loads(b'{"query": "{ a }", "variables": {"input": {"items": [{"q": 1}]}}}') == {
        "query": "{ a }",
        "variables": {"input": {"items": [{"q": 1}]}},
    }
    assert loads('{"amount": 189900.10}', parse_float=Decimal) == {"amount": Decimal("189900.10")}


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ("[]", 1),
        ('{"a": [{"b": []}]}', 4),
        # Brackets inside strings nest nothing, escaped quotes included.
        ('["[[[[", "\\"]]]]{{{"]', 1),
    ],
)
def test_nesting_is_counted_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_as_deep_as_the_bound_is_accepted_and_one_more_is_not() -> None:
    assert loads("[" * MAX_NESTING + "]" * MAX_NESTING) is not None
    with pytest.raises(UnacceptableJson, match=f"deeper than {MAX_NESTING}"):
        loads("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": ' * 5000 + b"1" + b"}" * 5000,
        # Unbalanced: still refused, never a RecursionError.
        b"[" * 100_000,
        b"{not json",
        b"\xff\xfe{}",
        b'{"amount": NaN}',
        b"[Infinity]",
    ],
    ids=["deep-arrays", "deep-objects", "unbalanced", "not-json", "not-utf8", "nan", "infinity"],
)
def test_what_is_not_acceptable_json_is_refused_as_such(data: bytes) -> None:
    with pytest.raises(UnacceptableJson):
        loads(data)
