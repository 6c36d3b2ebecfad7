"""Lenient parsing of answers into the frozen models; error attributes."""

from __future__ import annotations

import dataclasses

import pytest

from recotap_desktop.api import (
    Account,
    AmbiguousOutcome,
    CancelledError,
    Conflict,
    CustomField,
    ItemResult,
    MappingResult,
    RateLimited,
    RequestRejected,
    TransportError,
)
from recotap_desktop.api.models import NO_ANSWER_ERROR, parse_bulk_results


def test_account_tolerates_missing_and_odd_fields() -> None:
    account = Account.from_json({"name": "acme", "domain": "acme.com",
                                 "rtp_account_score": "not a number",
                                 "rtp_g2_intent_score": True, "rtp_website_intent_score": 130,
                                 "rtp_journey_stage": "", "customFields": ["odd"]})
    assert account.external_id is None and account.rtp_aid is None
    assert account.account_score is None and account.g2_intent_score is None
    assert account.website_intent_score == 130  # not clamped (§11 #14)
    assert account.journey_stage == ""
    assert account.custom_fields == {}
    assert hash(account)  # usable in sets despite the dict fields
    with pytest.raises(dataclasses.FrozenInstanceError):
        account.name = "x"  # type: ignore[misc]


def test_custom_field_lenient() -> None:
    field = CustomField.from_json({"key": "A_C", "options": "not-a-list", "description": None})
    assert field.options == () and field.description is None and field.label == ""


def test_item_result_status_defaults() -> None:
    assert ItemResult.from_json(0, {"error": "bad"}).status == "failed"
    assert ItemResult.from_json(0, {}).status == "unknown"
    assert ItemResult.from_json(0, {"status": " Created "}).status == "created"
    assert ItemResult.from_json(0, {"status": "created"}).ok
    assert not ItemResult.from_json(0, {"status": "failed"}).ok
    result = ItemResult.from_json(2, {"status": "created", "rtp_aid": 5, "externalId": None,
                                      "other": "x"})
    assert result.ids == {"rtp_aid": "5"} and result.index == 2
    assert result.raw["other"] == "x"


def test_parse_bulk_results_positions() -> None:
    items = [{"domain": "a.com"}, {"domain": "b.com", "externalId": "2"}]
    result = parse_bulk_results([{"status": "created"}], items, attempts=3,
                                possibly_repeated=True)
    assert result.items[1] == ItemResult(1, "failed", NO_ANSWER_ERROR,
                                         {"domain": "b.com", "externalId": "2"})
    assert result.attempts == 3 and result.possibly_repeated


def test_mapping_result_lenient() -> None:
    result = MappingResult.from_json({"matched": "2", "notFound": ["x.com", None, 3]})
    assert (result.matched, result.updated, result.not_found) == (2, 0, ["x.com", "3"])
    assert MappingResult.from_json(None).not_found == []


def test_error_attributes() -> None:
    cancelled = CancelledError("Stopped by the user.")
    assert cancelled.message == "Stopped by the user." and not cancelled.possibly_repeated
    assert CancelledError().message == "Cancelled."
    ambiguous = AmbiguousOutcome("lost", possibly_repeated=False)
    assert ambiguous.possibly_repeated is True and ambiguous.kind == "timeout"
    assert isinstance(ambiguous, TransportError)
    conflict = Conflict("c", status_code=409, server_message="s", details=["d"],
                        properties=["p"], is_validation=False)
    assert isinstance(conflict, RequestRejected)
    assert (conflict.status_code, conflict.server_message, conflict.details, conflict.properties,
            conflict.is_validation) == (409, "s", ["d"], ["p"], False)
    assert "409" in repr(conflict)
    limited = RateLimited("r", status_code=429, retry_after=2.5)
    assert limited.retry_after == 2.5 and limited.path == ""
