"""Edition detection (issue 18, finding 8): both base paths are probed with the key.

respx answers per path, so each combination of the two editions' outcomes is decided
here without a server; tests/e2e/test_cli_detect_edition.py runs the same probes
against sandboxes that serve one edition each.
"""

from __future__ import annotations

import httpx
import pytest
import respx

from recotap_desktop.api.detect import ProbeOutcome, candidate_bases, detect_edition
from recotap_desktop.domain.editions import Edition

ROOT = "https://eapi.example.test/api/v1/"
CRM_SEG = ROOT + "crm/segments"
EXT_SEG = ROOT + "segments"
OK = {"data": [], "hasNextPage": False}


def _err(status: int, msg: str) -> httpx.Response:
    return httpx.Response(status, json={"statusCode": status, "message": msg, "path": "/x"})


@pytest.fixture
def router():
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as r:
        yield r


def test_candidates_are_siblings_of_the_given_url() -> None:
    assert candidate_bases(ROOT + "crm/") == {Edition.CRM: ROOT + "crm/", Edition.EXTERNAL: ROOT}
    assert candidate_bases(ROOT) == {Edition.CRM: ROOT + "crm/", Edition.EXTERNAL: ROOT}
    defaults = candidate_bases(None)
    assert defaults[Edition.CRM].endswith("/api/v1/crm/")
    assert defaults[Edition.EXTERNAL].endswith("/api/v1/")


@pytest.mark.parametrize("typed", [ROOT, ROOT + "crm/"])
def test_only_the_external_path_answers(router: respx.MockRouter, typed: str) -> None:
    router.get(CRM_SEG).mock(return_value=_err(404, "Cannot GET /api/v1/crm/segments"))
    ext = router.get(EXT_SEG).mock(return_value=httpx.Response(200, json=OK))
    found = detect_edition("k-1", base_url=typed, preferred="crm")
    assert found.chosen is not None and found.chosen.rules.edition is Edition.EXTERNAL
    assert found.chosen.base_url == ROOT
    assert ext.calls.last.request.headers["x-api-key"] == "k-1"
    assert found.outcome_of("crm") is ProbeOutcome.NOT_FOUND
    assert "External API" in found.message


def test_only_the_crm_path_answers(router: respx.MockRouter) -> None:
    router.get(CRM_SEG).mock(return_value=httpx.Response(200, json=OK))
    router.get(EXT_SEG).mock(return_value=_err(404, "Cannot GET"))
    found = detect_edition("k", base_url=ROOT, preferred="external")
    assert found.rules is not None and found.rules.edition is Edition.CRM
    assert not found.both_answered


@pytest.mark.parametrize("preferred", ["crm", "external"])
def test_both_answer_keeps_the_preferred_edition(router: respx.MockRouter, preferred: str) -> None:
    router.get(CRM_SEG).mock(return_value=httpx.Response(200, json=OK))
    router.get(EXT_SEG).mock(return_value=httpx.Response(200, json=OK))
    found = detect_edition("k", base_url=ROOT, preferred=preferred)
    assert found.rules is not None and found.rules.name == preferred
    assert found.both_answered and "Advanced" in found.message


def test_key_refused_says_401_not_path(router: respx.MockRouter) -> None:
    router.get(CRM_SEG).mock(return_value=_err(404, "Cannot GET"))
    router.get(EXT_SEG).mock(return_value=_err(401, "Invalid API key"))
    found = detect_edition("bad", base_url=ROOT)
    assert found.chosen is None
    assert found.outcome_of("external") is ProbeOutcome.KEY_REFUSED
    assert "refused the API key (401)" in found.message


def test_neither_path_known_says_404_and_names_both(router: respx.MockRouter) -> None:
    router.get(CRM_SEG).mock(return_value=_err(404, "Cannot GET"))
    router.get(EXT_SEG).mock(return_value=_err(404, "Cannot GET"))
    found = detect_edition("k", base_url=ROOT)
    assert found.chosen is None
    assert "(404)" in found.message and CRM_SEG in found.message and EXT_SEG in found.message


def test_unreachable_says_so(router: respx.MockRouter) -> None:
    router.get(CRM_SEG).mock(side_effect=httpx.ConnectError("refused"))
    router.get(EXT_SEG).mock(side_effect=httpx.ConnectError("refused"))
    found = detect_edition("k", base_url=ROOT)
    assert {p.outcome for p in found.probes} == {ProbeOutcome.UNREACHABLE}
    assert found.message.startswith("Could not reach eapi.example.test")
