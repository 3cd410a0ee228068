"""txids and refund ids are derived, never drawn: a retried step names the same charge and the same refund."""

from __future__ import annotations

import pytest

from pix.txid import END_TO_END_ID, REFUND_ID, TXID, refund_id, txid_for_order

E2E = "E12345678202009091221abcdef12345"


def test_a_txid_is_the_same_for_the_same_order_and_fits_the_api() -> None:
    txid = txid_for_order("01JORDER0000000000000000001")

    assert txid == txid_for_order("01JORDER0000000000000000001")
    assert TXID.fullmatch(txid)
    assert 26 <= len(txid) <= 35
    assert txid.startswith("VP")


def test_distinct_orders_get_distinct_txids() -> None:
    txids = {txid_for_order(f"order-{n}") for n in range(1000)}

    assert len(txids) == 1000


def test_a_txid_needs_an_order_id() -> None:
    with pytest.raises(ValueError, match="order id"):
        txid_for_order("")


def test_a_refund_id_is_the_same_for_the_same_pix_and_attempt() -> None:
    first = refund_id(E2E, 1)

    assert first == refund_id(E2E, 1)
    assert REFUND_ID.fullmatch(first)
    assert len(first) <= 35
    assert refund_id(E2E, 2) != first
    assert refund_id("E" + "9" * 31, 1) != first


@pytest.mark.parametrize("attempt", [0, -1, True])
def test_a_refund_attempt_is_counted_from_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="counted from 1"):
        refund_id(E2E, attempt)


@pytest.mark.parametrize("e2eid", ["", "E123", E2E + "0", "E1234567820200909122-abcdef12345"])
def test_a_refund_id_needs_a_valid_end_to_end_id(e2eid: str) -> None:
    assert not END_TO_END_ID.fullmatch(e2eid)
    with pytest.raises(ValueError, match="endToEndId"):
        refund_id(e2eid, 1)
