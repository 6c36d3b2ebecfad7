"""A local copy of one connection's accounts, as ``GET /accounts`` lists them (Qt-free).

The mirror is what lets the app say *before* sending what a file will do (create,
update which value, change nothing) and, after a request whose answer was lost, what was
there before. It is one SQLite file per connection (name, base URL, edition) under
``<data dir>/mirrors/``, private to the user (0600), holding for every account the
listed fields: ``rtp_aid``, ``externalId``, ``domain`` (normalised), ``name``, the
custom-field values where the edition lists them, the ``rtp_`` scores, and the whole item
as the server sent it (``raw``, so an export can be written from the mirror alone).

Two ways in, both all-or-nothing, so a refresh that fails or is cancelled leaves the
previous mirror exactly as it was (and its age says how old it is):

* :meth:`AccountMirror.replace_all` (a full pull) writes a new file beside the old one and
  swaps it in with one ``os.replace`` after it is complete;
* :meth:`AccountMirror.apply_delta` (a delta pull) upserts the changed accounts by
  ``rtp_aid`` (the domain when the server sent no id) in one transaction, together with
  the new sync point.

The sync point is the ``syncTimestamp`` of the first page of the pull that completed:
the next refresh sends it as ``lastSync`` (recotap-api.md §6), so a refresh when nothing
changed costs one request. Deletions are never signalled by the API; a full pull (the
"Refresh all" action, or any pull after :data:`FULL_PULL_AFTER`) drops what is gone.

Nothing here talks HTTP; :mod:`recotap_desktop.engine.mirror` drives the refresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from recotap_desktop.domain.domains import normalise_domain
from recotap_desktop.errors import UserError
from recotap_desktop.store.platform_checks import make_private_file

__all__ = [
    "FULL_PULL_AFTER",
    "AccountMirror",
    "MirrorAccount",
    "MirrorError",
    "MirrorInfo",
    "MirrorSnapshot",
    "mirror_path",
]

#: A mirror older than this is pulled again in full (deleted accounts drop out).
FULL_PULL_AFTER = timedelta(days=7)
#: Domains or ids per ``IN (...)`` lookup (well under SQLite's variable limit).
_LOOKUP_CHUNK = 500
_SCHEMA = 1
#: The sync time, or a callable giving it once the pull is complete.
SyncTime = Callable[[], str | None] | str | None

_DDL = (
    """CREATE TABLE IF NOT EXISTS accounts (
        rtp_aid TEXT,
        external_id TEXT,
        domain TEXT NOT NULL,
        name TEXT NOT NULL,
        custom_json TEXT,
        raw_json TEXT NOT NULL,
        key TEXT PRIMARY KEY
    )""",
    "CREATE INDEX IF NOT EXISTS accounts_domain ON accounts(domain)",
    "CREATE INDEX IF NOT EXISTS accounts_external_id ON accounts(external_id)",
    "CREATE INDEX IF NOT EXISTS accounts_rtp_aid ON accounts(rtp_aid)",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT)",
)


class MirrorError(UserError):
    """The mirror file cannot be read or written; ``message`` says which and why."""

    def __init__(self, message: str, path: Path | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path


class MirrorAccount(NamedTuple):
    """One account as the server last listed it: a row of the mirror, in its columns'
    order (a tuple, so a snapshot of 100 000 accounts is built without a Python call per
    account).

    ``custom_fields`` is ``None`` when the edition does not list custom-field values (the
    CRM API): they are unknown, not empty.
    """

    rtp_aid: str | None
    external_id: str | None
    domain: str
    name: str
    #: The custom-field values as stored (JSON text; ``None``: not listed), read on demand.
    custom_json: str | None
    #: The item as listed (JSON text; ``None`` from lookups, which read only the fields
    #: above), read on demand as :attr:`raw`.
    raw_json: str | None
    key: str

    @property
    def custom_fields(self) -> dict[str, Any] | None:
        """The custom-field values, or ``None`` when the edition does not list them."""
        if self.custom_json is None:
            return None
        value = json.loads(self.custom_json)
        return value if isinstance(value, dict) else {}

    @property
    def raw(self) -> dict[str, Any]:
        """The item as listed (``{}`` from lookups)."""
        if self.raw_json is None:
            return {}
        value = json.loads(self.raw_json)
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class MirrorInfo:
    """How complete and how old a mirror is."""

    path: Path
    count: int
    #: The server time the mirror is current to (``None``: never pulled).
    sync_timestamp: str | None
    #: When this machine last completed a refresh (UTC).
    refreshed_at: datetime | None
    #: When the last full pull completed (UTC).
    full_at: datetime | None
    #: Whether the edition lists custom-field values (known at the last full pull).
    lists_custom_fields: bool

    @property
    def exists(self) -> bool:
        return self.sync_timestamp is not None

    def age(self, now: datetime | None = None) -> timedelta | None:
        if self.refreshed_at is None:
            return None
        return (now or datetime.now(UTC)) - self.refreshed_at

    def describe_age(self, now: datetime | None = None) -> str:
        """``"never refreshed"``, ``"refreshed 3 minutes ago"``, ..."""
        age = self.age(now)
        if age is None:
            return "never refreshed"
        seconds = max(0, int(age.total_seconds()))
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if seconds >= size:
                n = seconds // size
                return f"refreshed {n} {unit}{'s' if n != 1 else ''} ago"
        return "refreshed just now"


class MirrorSnapshot:
    """Accounts in memory by domain, externalId and ``rtp_aid``; the lookups of
    :class:`AccountMirror` without a query each."""

    def __init__(self, accounts: Iterable[MirrorAccount] = ()) -> None:
        self.domains: dict[str, MirrorAccount] = {}
        self.external_ids: dict[str, list[MirrorAccount]] = {}
        self.aids: dict[str, MirrorAccount] = {}
        self._by_values: dict[tuple[str, str, str], MirrorAccount] | None = None
        self.extend(accounts)

    def add(self, account: MirrorAccount) -> None:
        self.extend((account,))

    def extend(self, accounts: Iterable[MirrorAccount]) -> None:
        """Index ``accounts`` (a later account with the same domain or id wins)."""
        batch = accounts if isinstance(accounts, list) else list(accounts)
        self._by_values = None
        self.domains.update({a.domain: a for a in batch})
        self.aids.update({a.rtp_aid: a for a in batch if a.rtp_aid})
        ids = self.external_ids
        for a in batch:
            ext = a.external_id
            if ext:
                found = ids.get(ext)
                if found is None:
                    ids[ext] = [a]
                else:
                    found.append(a)

    def by_values(self) -> dict[tuple[str, str, str], MirrorAccount]:
        """Accounts by ``(domain, name, externalId)``, for those whose ``externalId`` no
        other account has: a row with these three values names exactly this account (by
        its domain and by its id) and changes none of them. Built on first use."""
        if self._by_values is None:
            domains = self.domains
            self._by_values = {
                (a.domain, a.name, ext): a
                for ext, accs in self.external_ids.items() if len(accs) == 1
                for a in accs if domains.get(a.domain) is a
            }
        return self._by_values

    def by_domains(self, domains: Iterable[str]) -> dict[str, MirrorAccount]:
        """Accounts by domain; ``domains`` must be normalised (as the preview's are)."""
        get = self.domains.get
        return {d: a for d in domains if (a := get(d)) is not None}

    def by_external_ids(self, ids: Iterable[str]) -> dict[str, list[MirrorAccount]]:
        get = self.external_ids.get
        return {i: a for i in ids if (a := get(i))}

    def by_rtp_aids(self, aids: Iterable[str]) -> dict[str, MirrorAccount]:
        get = self.aids.get
        return {i: a for i in aids if (a := get(i)) is not None}


def mirror_path(data_dir: Path, profile: str, base_url: str, edition: str) -> Path:
    """The mirror file of one connection: readable name plus a digest of URL and edition."""
    digest = hashlib.sha256(f"{base_url}\n{edition}".encode()).hexdigest()[:12]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", profile).strip("._")[:40] or "connection"
    return Path(data_dir) / "mirrors" / f"{slug}-{edition}-{digest}.sqlite"


def account_key(item: Mapping[str, Any]) -> str | None:
    """The mirror's key of a listed account: ``rtp_aid``, else the normalised domain."""
    aid = item.get("rtp_aid")
    if isinstance(aid, str) and aid:
        return "aid:" + aid
    domain = normalise_domain(str(item.get("domain") or ""))
    return "domain:" + domain if domain else None


def listed_row(item: Mapping[str, Any], lists_custom: bool) -> tuple[Any, ...] | None:
    """The mirror's row of a listed account (``None`` without an id or domain)."""
    key = account_key(item)
    if key is None:
        return None
    aid = item.get("rtp_aid") or None
    ext = item.get("externalId")
    custom = item.get("customFields") if lists_custom else None
    return (
        str(aid) if aid else None,
        str(ext) if ext not in (None, "") else None,
        normalise_domain(str(item.get("domain") or "")),
        str(item.get("name") or ""),
        json.dumps(custom if isinstance(custom, Mapping) else {}, sort_keys=True)
        if lists_custom
        else None,
        json.dumps(item, sort_keys=True, default=str),
        key,
    )


_account = MirrorAccount._make  # a row of _COLUMNS or _LOOKUP_COLUMNS


#: Snapshots in use, by mirror file and generation (see :meth:`AccountMirror.snapshot`).
_SNAPSHOTS: weakref.WeakValueDictionary[tuple[str, str | None], MirrorSnapshot] = (
    weakref.WeakValueDictionary())

_COLUMNS = "rtp_aid, external_id, domain, name, custom_json, raw_json, key"
#: Lookups leave the raw item out (a preview of 100 000 rows needs only the fields).
_LOOKUP_COLUMNS = "rtp_aid, external_id, domain, name, custom_json, NULL, key"
_UPSERT = f"INSERT OR REPLACE INTO accounts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(text)
    return None


class AccountMirror:
    """The mirror file of one connection. Cheap to create; opens SQLite per operation.

    Reads see the last completed refresh. Writers are serialised per object; two
    processes refreshing the same mirror are serialised by SQLite (a delta) or the last
    ``os.replace`` wins (two full pulls of the same server: both complete and equal).
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    @classmethod
    def for_connection(
        cls, data_dir: Path, profile: str, base_url: str, edition: str
    ) -> AccountMirror:
        return cls(mirror_path(data_dir, profile, base_url, edition))

    # -- plumbing ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, path: Path | None = None, *, create: bool = False
                 ) -> Iterator[sqlite3.Connection]:
        target = path or self.path
        if not create and not target.exists():
            raise FileNotFoundError(target)
        try:
            if create:
                target.parent.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(OSError):
                    make_private_file(target)
            conn = sqlite3.connect(str(target), timeout=10.0, isolation_level=None)
        except (OSError, sqlite3.Error) as exc:
            raise MirrorError(
                f"The local copy of the accounts ({target}) cannot be opened: {exc}.", target
            ) from exc
        try:
            conn.execute("PRAGMA synchronous=NORMAL")
            for statement in _DDL:
                conn.execute(statement)
            yield conn
        except sqlite3.Error as exc:
            raise MirrorError(
                f"The local copy of the accounts ({target}) cannot be used: {exc}. "
                "Refresh it in full to rebuild it.",
                target,
            ) from exc
        finally:
            conn.close()

    def _meta(self, conn: sqlite3.Connection) -> dict[str, str]:
        return {name: value for name, value in conn.execute("SELECT name, value FROM meta")}

    # -- reading ----------------------------------------------------------------------

    def info(self) -> MirrorInfo:
        """Size and age; a mirror never pulled has ``sync_timestamp`` ``None``."""
        try:
            with self._connect() as conn:
                meta = self._meta(conn)
                count = conn.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]
        except FileNotFoundError:
            return MirrorInfo(self.path, 0, None, None, None, False)
        return MirrorInfo(
            path=self.path,
            count=int(count),
            sync_timestamp=meta.get("sync_timestamp"),
            refreshed_at=_parse_time(meta.get("refreshed_at")),
            full_at=_parse_time(meta.get("full_at")),
            lists_custom_fields=meta.get("lists_custom_fields") == "1",
        )

    def _lookup(self, column: str, values: Iterable[str]) -> dict[str, list[MirrorAccount]]:
        wanted = list(dict.fromkeys(v for v in values if v))
        found: dict[str, list[MirrorAccount]] = {}
        if not wanted:
            return found
        try:
            with self._connect() as conn:
                for i in range(0, len(wanted), _LOOKUP_CHUNK):
                    chunk = wanted[i : i + _LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    sql = f"SELECT {_LOOKUP_COLUMNS} FROM accounts WHERE {column} IN ({marks})"
                    index = _COLUMNS.split(", ").index(column)
                    for row in conn.execute(sql, chunk):
                        found.setdefault(row[index], []).append(_account(row))
        except FileNotFoundError:
            return {}
        return found

    def by_domains(self, domains: Iterable[str]) -> dict[str, MirrorAccount]:
        """Accounts by normalised domain (a domain is unique on the server)."""
        cleaned = (normalise_domain(d) for d in domains)
        return {d: accs[0] for d, accs in self._lookup("domain", cleaned).items()}

    def by_external_ids(self, ids: Iterable[str]) -> dict[str, list[MirrorAccount]]:
        """Accounts by ``externalId`` (the External API does not make it unique)."""
        return self._lookup("external_id", ids)

    def by_rtp_aids(self, aids: Iterable[str]) -> dict[str, MirrorAccount]:
        """Accounts by ``rtp_aid`` (``raw`` is left empty, as for every lookup)."""
        return {a: accs[0] for a, accs in self._lookup("rtp_aid", aids).items()}

    def snapshot(self) -> MirrorSnapshot:
        """Every account in memory, indexed (a preview of a large file: one read instead of
        a lookup per batch). About 300 bytes per account.

        While a snapshot is in use anywhere in the process and the mirror has not been
        written since (its ``generation``, new with every write that changes accounts),
        the same snapshot is returned: a preview made again after an option changed does
        not read 100 000 accounts again. Nothing keeps it alive but its users."""
        try:
            with self._connect() as conn:
                known = _SNAPSHOTS.get((str(self.path), self._meta(conn).get("generation")))
                if known is not None:
                    return known
                snap = MirrorSnapshot()
                conn.execute("BEGIN")  # the generation and the rows of one state
                generation = self._meta(conn).get("generation")
                cursor = conn.execute(f"SELECT {_LOOKUP_COLUMNS} FROM accounts")
                while rows := cursor.fetchmany(20_000):
                    snap.extend(list(map(_account, rows)))
                conn.execute("COMMIT")
        except FileNotFoundError:
            return MirrorSnapshot()
        if generation:
            _SNAPSHOTS[(str(self.path), generation)] = snap
        return snap

    def iter_accounts(self, batch: int = 1000) -> Iterator[list[MirrorAccount]]:
        """Every account in ``rtp_aid`` order, ``batch`` at a time."""
        try:
            with self._connect() as conn:
                cursor = conn.execute(f"SELECT {_COLUMNS} FROM accounts ORDER BY key")
                while rows := cursor.fetchmany(batch):
                    yield [_account(r) for r in rows]
        except FileNotFoundError:
            return

    # -- writing ----------------------------------------------------------------------

    def replace_all(
        self,
        pages: Iterable[Sequence[Mapping[str, Any]]],
        *,
        sync_timestamp: SyncTime,
        lists_custom_fields: bool,
        now: datetime | None = None,
    ) -> int:
        """Build a new mirror from ``pages`` (a full pull) and swap it in when complete.

        ``sync_timestamp`` may be a callable, read after the last page (the first page's
        time is only known once it arrived). Any exception from ``pages`` leaves the old
        mirror untouched and removes the partial file. Returns the number of accounts.
        """
        # A name of its own: two pulls of the same mirror at once (a preview and a run)
        # must not write one file; the last complete one to be swapped in wins.
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.{uuid.uuid4().hex}.new")
        count = 0
        try:
            with self._connect(tmp, create=True) as conn:
                conn.execute("PRAGMA journal_mode=OFF")
                conn.execute("BEGIN")
                for page in pages:
                    rows = [r for r in (listed_row(i, lists_custom_fields) for i in page) if r]
                    conn.executemany(_UPSERT, rows)
                    count += len(rows)
                stamp = sync_timestamp() if callable(sync_timestamp) else sync_timestamp
                when = (now or datetime.now(UTC)).isoformat()
                conn.executemany(
                    "INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)",
                    [
                        ("schema", str(_SCHEMA)),
                        ("sync_timestamp", stamp or ""),
                        ("refreshed_at", when),
                        ("full_at", when),
                        ("lists_custom_fields", "1" if lists_custom_fields else "0"),
                        ("generation", uuid.uuid4().hex),
                    ],
                )
                conn.execute("COMMIT")
            with self._lock:
                try:
                    os.replace(tmp, self.path)
                except OSError as exc:
                    raise MirrorError(
                        f"The local copy of the accounts ({self.path}) cannot be replaced: "
                        f"{exc.strerror or exc}.", self.path) from exc
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return count

    def apply_delta(
        self,
        pages: Iterable[Sequence[Mapping[str, Any]]],
        *,
        sync_timestamp: SyncTime,
        now: datetime | None = None,
    ) -> int:
        """Upsert the accounts of a delta pull and move the sync point, in one transaction.

        An exception from ``pages`` rolls everything back. Returns the accounts received.
        """
        count = 0
        with self._lock, self._connect() as conn:
            lists_custom = self._meta(conn).get("lists_custom_fields") == "1"
            conn.execute("BEGIN IMMEDIATE")
            try:
                for page in pages:
                    rows = [r for r in (listed_row(i, lists_custom) for i in page) if r]
                    # An account whose domain moved to another id (or the reverse) must not
                    # stay twice: drop any other row holding the same domain.
                    conn.executemany(
                        "DELETE FROM accounts WHERE domain = ? AND key <> ?",
                        [(r[2], r[6]) for r in rows],
                    )
                    conn.executemany(_UPSERT, rows)
                    count += len(rows)
                stamp = sync_timestamp() if callable(sync_timestamp) else sync_timestamp
                meta = [("refreshed_at", (now or datetime.now(UTC)).isoformat())]
                if stamp:
                    meta.append(("sync_timestamp", stamp))
                if count or "generation" not in self._meta(conn):
                    meta.append(("generation", uuid.uuid4().hex))
                conn.executemany("INSERT OR REPLACE INTO meta(name, value) VALUES (?, ?)", meta)
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
                raise
        return count

    def size_on_disk(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

