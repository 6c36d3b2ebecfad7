"""Per-item results are paired with the items sent by identity, not by position."""

from __future__ import annotations

import pytest
from api_testkit import KEY, Api, ok

from recotap_desktop.api import RecotapClient
from recotap_desktop.api.models import NO_ANSWER_ERROR, parse_bulk_results


def test_reordered_account_results_follow_their_items(api: Api, client: RecotapClient) -> None:
    ident = client.rules.account_identity_field
    sent = [{"externalId": f"ext-{i}", "name": f"N{i}", "domain": f"d{i}.com"} for i in range(4)]
    answers = [{ident: sent[i][ident], "status": "created" if i != 2 else "failed",
                **({"error": "bad"} if i == 2 else {})} for i in range(4)]
    api.route("POST", "accounts").mock(return_value=ok({"results": answers[::-1]}))
    result = client.create_accounts(sent)
    assert [i.status for i in result.items] == ["created", "created", "failed", "created"]
    assert [i.ids[ident] for i in result.items] == [s[ident] for s in sent]
    assert [i.index for i in result.items] == [0, 1, 2, 3]


def test_domains_are_compared_normalised(mock) -> None:
    route = Api(mock, "external").route("POST", "accounts")
    sent = [{"name": "A", "domain": "acme.com"}, {"name": "B", "domain": "b.io"}]
    route.mock(return_value=ok({"results": [
        {"domain": "B.IO", "status": "failed", "error": "x"},
        {"domain": "https://www.acme.com/", "status": "created"}]}))
    with RecotapClient(KEY, edition="external") as client:
        result = client.create_accounts(sent)
    assert [i.status for i in result.items] == ["created", "failed"]


@pytest.mark.parametrize(("method", "path", "key", "field"), [
    ("push_deals", "deals", "deals", "externalDealId"),
    ("push_sales_activities", "sales-activities", "activities", "externalActivityId"),
    ("push_deal_stages", "deal-stages", "pipelines", "pipelineId"),
])
def test_reordered_results_of_every_bulk_endpoint(
    api: Api, client: RecotapClient, method: str, path: str, key: str, field: str
) -> None:
    sent = [{field: f"id.{i}"} for i in range(3)]
    api.route("POST", path).mock(return_value=ok({"results": [
        {field: "id.2", "status": "failed", "error": "two"},
        {field: "id.0", "status": "created"},
        {field: "id.1", "status": "skipped"}]}))
    result = getattr(client, method)(sent)
    assert [(i.status, i.ids[field]) for i in result.items] == [
        ("created", "id.0"), ("skipped", "id.1"), ("failed", "id.2")]


def test_a_result_for_an_item_not_sent_fails_the_item_left_out() -> None:
    sent = [{"externalDealId": "a"}, {"externalDealId": "b"}]
    data = {"results": [{"externalDealId": "b", "status": "upserted"},
                        {"externalDealId": "zzz", "status": "upserted"}]}
    result = parse_bulk_results(data, sent, keys=("externalDealId",))
    assert [i.status for i in result.items] == ["failed", "upserted"]
    assert "not in the request" in (result.items[0].error or "")
    assert "externalDealId zzz" in (result.items[0].error or "")
    assert result.strays == ["externalDealId zzz"]


def test_an_item_left_out_fails_with_the_no_answer_message() -> None:
    sent = [{"externalDealId": "a"}, {"externalDealId": "b"}]
    result = parse_bulk_results({"results": [{"externalDealId": "b", "status": "upserted"}]},
                                sent, keys=("externalDealId",))
    assert [(i.status, i.error) for i in result.items] == [
        ("failed", NO_ANSWER_ERROR), ("upserted", None)]


def test_position_is_the_fallback_only_for_results_without_identity() -> None:
    sent = [{"externalDealId": "a"}, {"externalDealId": "b"}]
    result = parse_bulk_results({"results": [{"status": "upserted"}, {"status": "failed"}]},
                                sent, keys=("externalDealId",))
    assert [i.status for i in result.items] == ["upserted", "failed"]


def test_items_sharing_an_identity_take_their_results_in_order() -> None:
    sent = [{"externalDealId": "a", "n": 1}, {"externalDealId": "a", "n": 2}]
    result = parse_bulk_results({"results": [
        {"externalDealId": "a", "status": "upserted"},
        {"externalDealId": "a", "status": "failed", "error": "x"}]},
        sent, keys=("externalDealId",))
    assert [i.status for i in result.items] == ["upserted", "failed"]
