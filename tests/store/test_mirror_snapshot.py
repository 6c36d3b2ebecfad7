"""The mirror's in-memory snapshot: indexed like the file, shared while in use and the
mirror unchanged, read again after any write that changes an account."""

from __future__ import annotations

import gc
from pathlib import Path

from recotap_desktop.store.mirror import AccountMirror, MirrorAccount


def _acc(i: int, **over: object) -> dict[str, object]:
    item: dict[str, object] = {"rtp_aid": f"aid{i}", "externalId": f"ext{i}",
                               "domain": f"c{i}.example.org", "name": f"Company {i}"}
    item.update(over)
    return item


def _mirror(tmp_path: Path) -> AccountMirror:
    mirror = AccountMirror(tmp_path / "m.sqlite")
    mirror.replace_all([[_acc(i) for i in range(5)], [_acc(9, externalId="ext1")]],
                       sync_timestamp="2026-12-01T00:00:00Z", lists_custom_fields=False)
    return mirror


def test_snapshot_indexes_every_account(tmp_path: Path) -> None:
    snap = _mirror(tmp_path).snapshot()
    got = snap.by_domains(["c1.example.org", "nope.org"])
    assert list(got) == ["c1.example.org"]
    acc = got["c1.example.org"]
    assert isinstance(acc, MirrorAccount)
    assert (acc.rtp_aid, acc.external_id, acc.name, acc.key) == (
        "aid1", "ext1", "Company 1", "aid:aid1")
    assert acc.custom_fields is None and acc.raw == {}  # not listed; lookups leave raw out
    # an externalId may sit on several accounts (the External API does not make it unique)
    assert sorted(a.domain for a in snap.by_external_ids(["ext1"])["ext1"]) == [
        "c1.example.org", "c9.example.org"]
    assert snap.by_rtp_aids(["aid4"])["aid4"].domain == "c4.example.org"


def test_the_same_snapshot_while_in_use_and_unchanged(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    first = mirror.snapshot()
    assert mirror.snapshot() is first
    assert AccountMirror(mirror.path).snapshot() is first  # any object of the same file
    # a delta that changes nothing leaves it
    mirror.apply_delta([[]], sync_timestamp="2026-12-02T00:00:00Z")
    assert mirror.snapshot() is first
    # a delta that changes an account: read again, with the change
    mirror.apply_delta([[_acc(2, name="Renamed")]], sync_timestamp="2026-12-03T00:00:00Z")
    second = mirror.snapshot()
    assert second is not first
    assert second.by_domains(["c2.example.org"])["c2.example.org"].name == "Renamed"
    assert first.by_domains(["c2.example.org"])["c2.example.org"].name == "Company 2"
    # a full pull: a new file, read again
    mirror.replace_all([[_acc(7)]], sync_timestamp="2026-12-04T00:00:00Z",
                       lists_custom_fields=False)
    third = mirror.snapshot()
    assert list(third.domains) == ["c7.example.org"]


def test_nothing_keeps_a_snapshot_alive_but_its_users(tmp_path: Path) -> None:
    mirror = _mirror(tmp_path)
    first_id = id(mirror.snapshot())
    gc.collect()
    from recotap_desktop.store import mirror as mirror_mod

    assert not any(id(s) == first_id for s in mirror_mod._SNAPSHOTS.values())


def test_a_missing_mirror_gives_an_empty_snapshot(tmp_path: Path) -> None:
    snap = AccountMirror(tmp_path / "none.sqlite").snapshot()
    assert snap.domains == {} and snap.by_domains(["a.org"]) == {}
