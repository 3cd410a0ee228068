"""GraphQL documents built to make validation work hard: fragments that multiply, for the limits' tests and
`bench/validation.py`."""

from __future__ import annotations

from hypothesis import strategies as st

VEHICLE_FIELDS = ("id", "brand", "model", "year", "color", "price", "status")


def doubling(levels: int, root: str = "query { vehicles(first: 1) { edges { node { ...F%d } } } }") -> str:
    """The attack: fragment Fi spreads F(i-1) twice."""
    fragments = ["fragment F0 on Vehicle { id brand }"] + [
        f"fragment F{i} on Vehicle {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, levels)
    ]
    return root % (levels - 1) + " " + " ".join(fragments)


SPREAD_TIMES = st.sampled_from([1, 1, 1, 2, 3])


@st.composite
def vehicle_selection(draw: st.DrawFn, fragments: list[str], nesting: int = 0) -> str:
    items = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["field", "alias", "inline", "spread"] if fragments else ["field", "alias"]))
        if kind == "field":
            items.append(draw(st.sampled_from(VEHICLE_FIELDS)))
        elif kind == "alias":
            field = draw(st.sampled_from(VEHICLE_FIELDS))
            items.append(f"{field}{draw(st.integers(0, 3))}: {field}")
        elif kind == "inline" and nesting < 3:
            items.append("... on Vehicle { " + draw(vehicle_selection(fragments, nesting + 1)) + " }")
        elif kind == "spread":
            items.extend([f"...{draw(st.sampled_from(fragments))}"] * draw(SPREAD_TIMES))
    return " ".join(items) or "id"


def spread_of_previous(fragments: list[str], times: int) -> str:
    # Every fragment spreads the one before, so that the operation, spreading the last, uses them all.
    return " ".join([f"...{fragments[-1]}"] * times) if fragments else ""


@st.composite
def documents(draw: st.DrawFn) -> str:
    """Vehicle fragments spreading earlier ones (repeatedly, directly or inside inline fragments), query fragments
    that page vehicles and spread each other the same way, and one operation over them."""
    vehicle_fragments: list[str] = []
    definitions = []
    for index in range(draw(st.integers(1, 30))):
        body = draw(vehicle_selection(vehicle_fragments)) + " " + spread_of_previous(vehicle_fragments, 1)
        definitions.append(f"fragment V{index} on Vehicle {{ {body} }}")
        vehicle_fragments.append(f"V{index}")
    query_fragments: list[str] = []
    for index in range(draw(st.integers(0, 12))):
        node = draw(vehicle_selection(vehicle_fragments))
        parts = [f"p{index}: vehicles(first: 1) {{ edges {{ node {{ {node} }} }} }}"]
        if query_fragments:
            spreads = spread_of_previous(query_fragments, draw(SPREAD_TIMES))
            parts.append(spreads if draw(st.booleans()) else "... on Query { " + spreads + " }")
        definitions.append(f"fragment Q{index} on Query {{ {' '.join(parts)} }}")
        query_fragments.append(f"Q{index}")
    node = f"...{vehicle_fragments[-1]}"
    root = f"vehicles(first: 1) {{ edges {{ node {{ {node} }} }} }} " + spread_of_previous(query_fragments, 1)
    return "query Generated { " + root + " } " + " ".join(definitions)
