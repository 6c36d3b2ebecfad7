"""The change preview against a mirror of a pre-seeded sandbox: every planned action exact."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from recotap_desktop.domain.editions import rules_for
from recotap_desktop.engine.connection import ConnectionSpec
from recotap_desktop.engine.jobs import load_custom_fields
from recotap_desktop.engine.mirror import mirror_for, refresh_mirror
from recotap_desktop.engine.plan import ImportJob, ImportOptions, build_plan
from recotap_desktop.engine.preview import Planned, preview_plan, same_value
from recotap_desktop.files import sniff
from recotap_desktop.records import ConvertContext, get_kind
from recotap_desktop.sandbox import DEMO_API_KEY, SandboxServer

HEADERS = ["Company Domain Name", "Company name", "Record ID", "Account Owner", "Contract Value"]


def conn(server: SandboxServer, edition: str) -> ConnectionSpec:
    return ConnectionSpec(
        base_url=server.base_url(edition), edition=edition, api_key=DEMO_API_KEY, profile="test"
    )


def job_for(server: SandboxServer, edition: str, path: Path, kind: str = "accounts",
            **options: object) -> ImportJob:
    c = conn(server, edition)
    rules = rules_for(edition)
    fields = load_custom_fields(c)
    ctx = ConvertContext.build(rules, fields)
    mapping = get_kind(kind).automap(sniff(path).headers, ctx)
    return ImportJob(kind=kind, path=path, mapping=mapping, rules=rules, custom_fields=fields,
                     options=ImportOptions(**options))  # type: ignore[arg-type]


def write(path: Path, headers: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(headers)
        w.writerows(rows)
    return path


def mixed_file(server: SandboxServer, path: Path, edition: str) -> tuple[Path, dict[int, str]]:
    """Rows 2.. : unchanged, changed name, changed custom value, new; with the expected plan."""
    accounts = [a for a in server.state.all_accounts() if a["externalId"]][:40]
    rows: list[list[str]] = []
    expected: dict[int, str] = {}
    for i, acc in enumerate(accounts):
        name = acc["name"]
        owner = acc["customFields"].get("ACCOUNT_OWNER_C", "")
        value = acc["customFields"].get("CONTRACT_VALUE_C", "")
        plan = "unchanged"
        if i % 4 == 1:
            name = name + " Ltd"
            plan = "update"
        elif i % 4 == 2 and edition == "external":
            value = 123_456 if value != 123_456 else 654_321
            plan = "update"
        rows.append([acc["domain"], name, acc["externalId"], owner, str(value)])
        expected[len(rows) + 1] = plan
    for j in range(10):
        rows.append([f"new{j}.preview-example.org", f"New {j}", f"new-{j}", "", ""])
        expected[len(rows) + 1] = "create"
    if edition == "crm":
        # the CRM API cannot update an existing account through an account import
        expected = {r: ("conflict" if p == "update" else p) for r, p in expected.items()}
    return write(path, HEADERS, rows), expected


@pytest.mark.parametrize("edition", ["crm", "external"])
def test_every_planned_action_is_exact(sandbox: SandboxServer, tmp_path: Path,
                                       edition: str) -> None:
    path, expected = mixed_file(sandbox, tmp_path / "accounts.csv", edition)
    if edition == "crm":
        # custom values are not listed by the CRM API: rows sending them cannot be unchanged
        with path.open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        write(path, HEADERS[:3], [r[:3] for r in rows[1:]])
    plan = build_plan(job_for(sandbox, edition, path, upsert=True))
    assert plan.invalid_rows == 0
    mirror = mirror_for(conn(sandbox, edition), tmp_path)
    refresh_mirror(conn(sandbox, edition), mirror)
    preview = preview_plan(plan, mirror, mirror.info())
    got = {row: p.action.value for row, p in preview.rows.items()}
    assert got == expected
    changed_name = next(r for r, p in expected.items() if p in ("update", "conflict"))
    text = preview.rows[changed_name].changes_text()
    assert "name:" in text and " Ltd" in text and "\u2192" in text
    assert preview.counts["create"] == 10


def test_external_without_upsert_plans_changed_accounts_as_conflicts(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path, expected = mixed_file(sandbox, tmp_path / "accounts.csv", "external")
    plan = build_plan(job_for(sandbox, "external", path))
    mirror = mirror_for(conn(sandbox, "external"), tmp_path)
    refresh_mirror(conn(sandbox, "external"), mirror)
    got = {row: p.action.value for row, p in preview_plan(plan, mirror).rows.items()}
    assert got == {r: ("conflict" if p == "update" else p) for r, p in expected.items()}


def test_conflicts_are_named(sandbox: SandboxServer, tmp_path: Path) -> None:
    a, b = [x for x in sandbox.state.all_accounts() if x["externalId"]][:2]
    rows = [
        # crm: the domain belongs to an account with another externalId
        [a["domain"], a["name"], "some-other-id", "", ""],
        # crm: the externalId belongs to another domain
        ["elsewhere.preview-example.org", "X", b["externalId"], "", ""],
    ]
    path = write(tmp_path / "c.csv", HEADERS, rows)
    for edition, want in (("crm", ["conflict", "conflict"]), ("external", ["update", "conflict"])):
        plan = build_plan(job_for(sandbox, edition, path, upsert=True))
        mirror = mirror_for(conn(sandbox, edition), tmp_path)
        refresh_mirror(conn(sandbox, edition), mirror)
        preview = preview_plan(plan, mirror)
        assert [preview.rows[r].action.value for r in (2, 3)] == want, edition
        assert b["domain"] in preview.rows[3].note


def test_account_field_values_and_id_mappings(sandbox: SandboxServer, tmp_path: Path) -> None:
    accs = [x for x in sandbox.state.all_accounts() if x["externalId"]][:3]
    owner = accs[0]["customFields"].get("ACCOUNT_OWNER_C") or "Someone"
    sandbox.state.accounts[accs[0]["rtp_aid"]]["customFields"]["ACCOUNT_OWNER_C"] = owner
    rows = [
        [accs[0]["rtp_aid"], owner],           # unchanged
        [accs[1]["rtp_aid"], "A New Owner"],   # update
        ["0" * 24, "Nobody"],                  # not found
    ]
    path = write(tmp_path / "f.csv", ["Recotap account ID", "Account Owner"], rows)
    plan = build_plan(job_for(sandbox, "external", path, kind="account-fields"))
    assert plan.invalid_rows == 0, plan.problems
    mirror = mirror_for(conn(sandbox, "external"), tmp_path)
    refresh_mirror(conn(sandbox, "external"), mirror)
    preview = preview_plan(plan, mirror)
    assert [preview.rows[r].action for r in (2, 3, 4)] == [
        Planned.UNCHANGED, Planned.UPDATE, Planned.NOT_FOUND]
    assert "A New Owner" in preview.rows[3].changes_text()

    rows = [[accs[0]["domain"], accs[0]["externalId"]], [accs[1]["domain"], "moved-id"],
            ["nowhere.preview-example.org", "x"]]
    path = write(tmp_path / "m.csv", ["Domain", "External ID"], rows)
    plan = build_plan(job_for(sandbox, "external", path, kind="id-mappings"))
    preview = preview_plan(plan, mirror)
    assert [preview.rows[r].action for r in (2, 3, 4)] == [
        Planned.UNCHANGED, Planned.UPDATE, Planned.NOT_FOUND]


def test_same_value_reads_numbers_lists_and_blanks_as_values() -> None:
    assert same_value(75000, 75000.0)
    assert same_value(["a", "b"], ["b", "a"])
    assert same_value(None, "")
    assert not same_value("Acme", "acme")
    assert not same_value(1, True)
    assert not same_value(0, None)


def test_the_quick_unchanged_path_plans_as_the_full_comparison() -> None:
    """plan_items finds most rows unchanged in line; every row must get exactly the plan
    the full comparison (_plan_account_crm / _plan_account_external) gives it."""
    from recotap_desktop.engine import preview as pv
    from recotap_desktop.store.mirror import MirrorAccount, MirrorSnapshot

    def acc(aid: str, ext: str | None, domain: str, name: str) -> MirrorAccount:
        return MirrorAccount(aid, ext, domain, name, None, None, "aid:" + aid)

    snap = MirrorSnapshot([
        acc("1", "e1", "a.org", "A"), acc("2", "e2", "b.org", ""), acc("3", None, "c.org", "C"),
        acc("4", "e4", "d.org", "D"), acc("5", "e4", "d2.org", "D2"),  # e4 twice
        acc("6", "e6", "f.org", "F"), acc("7", "e7", "g.org", "None"),
    ])
    items: list[dict[str, object]] = [
        {"domain": "a.org", "name": "A", "externalId": "e1"},  # unchanged
        {"domain": "a.org", "name": "A2", "externalId": "e1"},  # renamed
        {"domain": "b.org", "name": None, "externalId": "e2"},  # no name either side
        {"domain": "b.org", "externalId": "e2"},  # name not sent
        {"domain": "c.org", "name": "C", "externalId": "e3"},  # adopts an account
        {"domain": "c.org", "name": "C"},  # no externalId
        {"domain": "d.org", "name": "D", "externalId": "e4"},  # e4 also on d2.org
        {"domain": "f.org", "name": "F", "externalId": "e1"},  # e1 belongs to a.org
        {"domain": "a.org", "name": "A", "externalId": "e1", "tags": ["x"]},  # not listed
        {"domain": "a.org", "name": "A", "externalId": "e1", "customFields": {"k": 1}},
        {"domain": "new.org", "name": "N", "externalId": "e9"},  # create
        {"domain": "g.org", "name": None, "externalId": "e7"},  # no name is not "None"
    ]
    for edition in ("crm", "external"):
        rules = rules_for(edition)
        for upsert in (True, False):
            quick = pv.plan_items("accounts", rules, items, snap, upsert=upsert)
            full = []
            for item in items:
                d, e = str(item["domain"]), str(item.get("externalId") or "")
                owners = snap.by_external_ids([e]).get(e, []) if e else []
                by_domain = snap.by_domains([d]).get(d)
                full.append(pv._plan_account_crm(item, d, by_domain, owners, d)
                            if rules.requires_external_id else
                            pv._plan_account_external(item, d, by_domain, owners, upsert, d))
            assert quick == full, (edition, upsert)
            assert Planned.UNCHANGED in {p.action for p in quick}


def test_a_date_field_compares_as_a_day(sandbox: SandboxServer, tmp_path: Path) -> None:
    """A date custom field: the app sends a day as a timestamp ("2026-08-27T00:00:00Z")
    while the server may list it as the day ("2026-08-27"): the same value, so the row
    is unchanged, not an update (and, without upsert, not a refused conflict). Another
    day is an update."""
    dated = [a for a in sandbox.state.all_accounts()
             if a["externalId"] and a["customFields"].get("RENEWAL_DATE_C")][:3]
    assert len(dated) == 3
    days = [str(a["customFields"]["RENEWAL_DATE_C"])[:10] for a in dated]
    rows = [[dated[0]["domain"], dated[0]["name"], dated[0]["externalId"], days[0]],
            [dated[1]["domain"], dated[1]["name"], dated[1]["externalId"],
             days[1] + "T00:00:00Z"],
            [dated[2]["domain"], dated[2]["name"], dated[2]["externalId"], "1999-01-02"]]
    path = write(tmp_path / "dates.csv", [*HEADERS[:3], "Renewal Date"], rows)
    for upsert in (True, False):
        plan = build_plan(job_for(sandbox, "external", path, upsert=upsert))
        assert plan.invalid_rows == 0
        mirror = mirror_for(conn(sandbox, "external"), tmp_path)
        refresh_mirror(conn(sandbox, "external"), mirror)
        preview = preview_plan(plan, mirror, mirror.info())
        got = {row: p.action.value for row, p in preview.rows.items()}
        assert got == {2: "unchanged", 3: "unchanged",
                       4: "update" if upsert else "conflict"}, preview.rows
        assert "RENEWAL_DATE_C" in preview.rows[4].changes_text()


def test_same_value_reads_days_and_instants_only_for_date_fields() -> None:
    assert same_value("2026-08-27T00:00:00Z", "2026-08-27", date=True)
    assert same_value("2026-08-27T00:00:00.000Z", "2026-08-27T02:00:00+02:00", date=True)
    assert not same_value("2026-08-27T00:00:00Z", "2026-08-28", date=True)
    assert not same_value("2026-08-27T10:00:00Z", "2026-08-27", date=True)
    assert not same_value("not a date", "2026-08-27", date=True)
    # a text field holding such strings compares them as text
    assert not same_value("2026-08-27T00:00:00Z", "2026-08-27")
