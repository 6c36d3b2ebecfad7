"""Message parts are joined as sentences (finding 14)."""

from __future__ import annotations

import pytest
from api_testkit import Api, error_response

from recotap_desktop.api import RecotapClient, RequestRejected
from recotap_desktop.api.sentences import join_sentences, sentence


@pytest.mark.parametrize(("text", "expected"), [
    ("Account with domain acme.com already exists", "Account with domain acme.com already exists."),
    ("Done.", "Done."),
    ("Really?", "Really?"),
    ("Named (sales.v2)", "Named (sales.v2)."),
    ("He said 'stop.'", "He said 'stop.'"),
    ("  ", ""),
])
def test_sentence(text: str, expected: str) -> None:
    assert sentence(text) == expected


def test_join_sentences_adds_the_missing_full_stop_once() -> None:
    assert join_sentences("Account with domain acme.com already exists", "",
                          "To update existing accounts, send again.") == (
        "Account with domain acme.com already exists. To update existing accounts, send again.")


def test_a_rejection_without_a_full_stop_reads_as_a_sentence(
    api: Api, client: RecotapClient
) -> None:
    api.route("POST", "deals").mock(return_value=error_response(400, custom="Bad owner"))
    with pytest.raises(RequestRejected) as caught:
        client.push_deals([{"externalDealId": "d1"}])
    assert caught.value.message.endswith("(400): Bad owner.")
