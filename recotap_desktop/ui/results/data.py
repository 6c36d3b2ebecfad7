"""Compact, column-wise storage of a run's per-row results (Qt-free).

One million rows must load in a few times the cost of building a list of tuples and
filter in well under a second, so nothing here is per-row Python objects beyond the
cell strings themselves:

* row numbers in an ``array('i')``;
* final states as a ``bytearray`` of small codes (index into :attr:`ResultsData.state_names`);
* messages interned: an ``array('i')`` of indexes into a list of distinct texts;
* input columns and id columns as one Python list of strings per column.

Rows arrive in chunks of row lists (``[*input values, row, state, message, *ids]``, the
shape of :func:`recotap_desktop.engine.report.iter_report_rows`); each chunk is turned
into columns with ``zip(*chunk)`` and appended with C-level ``map``/``extend`` calls.

Filtering (state set + free text) and sorting produce an ``array('i')`` of storage
indexes; the Qt model shows that array. Free-text search lowercases each column once
into one joined string plus an offsets array, then finds matches with ``str.find``.
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, compress, islice
from operator import itemgetter
from typing import Any

from recotap_desktop.engine.report import ID_PREFIX, MESSAGE_COLUMN, ROW_COLUMN, STATE_COLUMN
from recotap_desktop.engine.states import SUCCESS_STATES, RowState

#: Rows handed to the storage at a time while loading.
CHUNK = 5_000
#: Separator of cells in the joined search text (cannot be typed in a search box).
_SEP = "\x1f"
#: State names in their display order (codes are indexes into this tuple, then unknowns).
STATE_ORDER: tuple[str, ...] = tuple(s.value for s in RowState)
SUCCESS_NAMES = frozenset(s.value for s in SUCCESS_STATES)
#: States that are "not successful" (the default failure filter).
PROBLEM_NAMES = frozenset(STATE_ORDER) - SUCCESS_NAMES


class _Interner(dict[str, int]):
    """``text -> index``; unknown texts get the next index (called from C via ``map``)."""

    def __init__(self, initial: Iterable[str] = ()) -> None:
        super().__init__()
        self.texts: list[str] = []
        for text in initial:
            self.__missing__(text)

    def __missing__(self, key: str) -> int:
        index = len(self.texts)
        self.texts.append(key)
        self[key] = index
        return index


def _id_title(key: str) -> str:
    # The item as sent (or, in a dry run, as it would be): beside the values as read.
    return "As sent (JSON)" if key == "payload" else key


@dataclass
class ResultsData:
    """The rows of one run, stored column-wise. Build with :meth:`from_rows`."""

    input_headers: list[str]
    id_keys: list[str]
    rows: array[int] = field(default_factory=lambda: array("i"))
    states: bytearray = field(default_factory=bytearray)
    message_index: array[int] = field(default_factory=lambda: array("i"))
    messages: list[str] = field(default_factory=list)
    inputs: list[list[str]] = field(default_factory=list)
    ids: list[list[str]] = field(default_factory=list)
    state_names: list[str] = field(default_factory=lambda: list(STATE_ORDER))
    run: Any = None
    #: Rows that "Retry failed rows" would send (engine ``retryable_rows``); 0: none.
    retryable: int = 0
    _state_interner: _Interner = field(default_factory=lambda: _Interner(STATE_ORDER))
    _message_interner: _Interner = field(default_factory=lambda: _Interner([""]))
    _search_cache: dict[int, tuple[str, array[int]]] = field(default_factory=dict)
    _in_order: tuple[int, bool] | None = None

    # ------------------------------------------------------------------ building
    @classmethod
    def empty(cls, input_headers: Sequence[str] = (), id_keys: Sequence[str] = ()) -> ResultsData:
        """No rows yet, with these columns."""
        data = cls(list(input_headers), list(id_keys))
        data.inputs = [[] for _ in data.input_headers]
        data.ids = [[] for _ in data.id_keys]
        data.messages = data._message_interner.texts
        data.state_names = data._state_interner.texts
        return data

    @classmethod
    def from_report(
        cls,
        headers: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        progress: Callable[[int], None] | None = None,
        chunk: int = CHUNK,
    ) -> ResultsData:
        """Load report rows (``[*inputs, row, state, message, *ids]`` under ``headers``)."""
        n_inputs = list(headers).index(ROW_COLUMN)
        if list(headers[n_inputs : n_inputs + 3]) != [ROW_COLUMN, STATE_COLUMN, MESSAGE_COLUMN]:
            raise ValueError("not a results table: row, state and message columns expected")
        id_keys = [h.removeprefix(ID_PREFIX) for h in headers[n_inputs + 3 :]]
        data = cls.empty(headers[:n_inputs], id_keys)
        if isinstance(rows, list):  # already in memory: slices are cheaper than islice
            blocks: Iterable[Sequence[Sequence[Any]]] = (
                rows[i : i + chunk] for i in range(0, len(rows), chunk)
            )
        else:
            it = iter(rows)
            blocks = iter(lambda: list(islice(it, chunk)), [])
        for block in blocks:
            data.add_chunk(block)
            if progress is not None:
                progress(len(data))
        return data

    def add_chunk(self, block: Sequence[Sequence[Any]]) -> None:
        """Append rows shaped like the report rows (see :meth:`from_report`)."""
        if not block:
            return
        # One C-level pass per column (itemgetter + map): no per-row containers are built,
        # which keeps the garbage collector out of the way (zip(*block) is 3x slower here).
        k = len(self.input_headers)
        for c, target in enumerate(self.inputs):
            target.extend(map(itemgetter(c), block))
        self.rows.extend(map(itemgetter(k), block))
        self.states.extend(map(self._state_interner.__getitem__, map(itemgetter(k + 1), block)))
        self.message_index.extend(
            map(self._message_interner.__getitem__, map(itemgetter(k + 2), block))
        )
        for c, target in enumerate(self.ids, start=k + 3):
            target.extend(map(itemgetter(c), block))  # ids are texts (report rows)
        self._search_cache.clear()

    def __len__(self) -> int:
        return len(self.rows)

    # ------------------------------------------------------------------ columns
    @property
    def column_titles(self) -> list[str]:
        """Row, State, Message, the input headers, then the ids. An id named like an input
        column (the file's ``externalId`` and the one Recotap stored) is titled "Recotap
        externalId", so no header appears twice (issue 18: 6)."""
        taken = set(self.input_headers)
        ids = [f"Recotap {k}" if k in taken else _id_title(k) for k in self.id_keys]
        return ["Row", "State", "Message", *self.input_headers, *ids]

    def cell(self, index: int, column: int) -> str | int:
        """The value at storage ``index`` in display ``column``."""
        if column == 0:
            return self.rows[index]
        if column == 1:
            return self.state_names[self.states[index]]
        if column == 2:
            return self.messages[self.message_index[index]]
        column -= 3
        k = len(self.inputs)
        if column < k:
            return self.inputs[column][index]
        return self.ids[column - k][index]

    def text_column(self, column: int) -> Sequence[str] | None:
        """The strings of a display column (None for row numbers, states and messages)."""
        column -= 3
        if column < 0:
            return None
        k = len(self.inputs)
        return self.inputs[column] if column < k else self.ids[column - k]

    # ------------------------------------------------------------------ counts
    def counts(self) -> dict[str, int]:
        """Rows per state (only states present), in display order."""
        out: dict[str, int] = {}
        for code, name in enumerate(self.state_names):
            n = self.states.count(code)
            if n:
                out[name] = n
        return out

    # ------------------------------------------------------------------ filtering
    def state_mask(self, states: Iterable[str] | None) -> bytes | None:
        """A 0/1 byte per row for rows whose state is in ``states`` (None: all rows)."""
        if states is None:
            return None
        wanted = set(states)
        table = bytes(
            1 if i < len(self.state_names) and self.state_names[i] in wanted else 0
            for i in range(256)
        )
        return bytes(self.states.translate(table))

    def _search_text(self, column: int) -> tuple[str, array[int]]:
        cached = self._search_cache.get(column)
        if cached is None:
            if column == 2:
                values: Iterable[str] = map(self.messages.__getitem__, self.message_index)
            else:
                col = self.text_column(column)
                assert col is not None
                values = col
            lowered = list(map(str.lower, values))
            starts = array("q", accumulate(map(len, lowered), lambda a, b: a + b + 1, initial=0))
            cached = (_SEP.join(lowered), starts)
            self._search_cache[column] = cached
        return cached

    def text_mask(self, needle: str) -> bytes:
        """A 0/1 byte per row for rows with ``needle`` (case-insensitive) in any text cell,
        the message, the state or (digits only) the row number."""
        n = len(self.rows)
        needle = needle.strip().lower()
        if not needle:
            return b"\x01" * n
        mask = bytearray(n)
        if needle.isdigit():
            try:
                mask[self.rows.index(int(needle))] = 1
            except (ValueError, OverflowError):
                pass
        parts: list[bytes] = [bytes(mask)]
        states = [name for name in self.state_names if needle in name]
        if states:
            smask = self.state_mask(states)
            assert smask is not None
            parts.append(smask)
        hits = [1 if needle in text.lower() else 0 for text in self.messages]
        if any(hits):
            parts.append(bytes(map(hits.__getitem__, self.message_index)))
        for column in range(3, 3 + len(self.inputs) + len(self.ids)):
            text, starts = self._search_text(column)
            pos = text.find(needle)
            while pos != -1:
                row = bisect_right(starts, pos) - 1
                mask[row] = 1
                pos = text.find(needle, starts[row + 1] if row + 1 < len(starts) else len(text))
        parts[0] = bytes(mask)
        return _or(parts, n)

    def select(
        self,
        states: Iterable[str] | None = None,
        text: str = "",
        order: array[int] | None = None,
    ) -> array[int] | None:
        """Storage indexes of the rows to show, in ``order``; None means every row in
        storage order (no index array is built for the common unfiltered case)."""
        n = len(self.rows)
        smask = self.state_mask(states)
        tmask = self.text_mask(text) if text.strip() else None
        if smask is None and tmask is None:
            return order
        if smask is not None and tmask is not None:
            mask = _and(smask, tmask, n)
        elif smask is not None:
            mask = smask
        else:
            assert tmask is not None
            mask = tmask
        if order is None:
            return array("i", compress(range(n), mask))
        return array("i", compress(order, map(mask.__getitem__, order)))

    # ------------------------------------------------------------------ sorting
    def rows_in_order(self) -> bool:
        """True when storage order is row-number order (the usual case; checked once)."""
        if self._in_order is None or self._in_order[0] != len(self.rows):
            rows = self.rows
            self._in_order = (len(rows), all(map(operator.lt, rows, islice(rows, 1, None))))
        return self._in_order[1]

    def sort_order(self, column: int, descending: bool = False) -> array[int] | None:
        """Storage indexes sorted by a display column (stable); None when that is the
        storage order itself (row numbers, ascending)."""
        if column == 0 and not descending and self.rows_in_order():
            return None
        n = len(self.rows)
        keys: Sequence[Any]
        if column == 0:
            keys = self.rows
        elif column == 1:
            keys = self.states  # codes follow the display order of the states
        elif column == 2:
            by_text = sorted(range(len(self.messages)), key=lambda i: self.messages[i].casefold())
            rank_of = [0] * len(self.messages)
            for r, i in enumerate(by_text):
                rank_of[i] = r
            keys = list(map(rank_of.__getitem__, self.message_index))
        else:
            col = self.text_column(column)
            assert col is not None
            keys = _numeric_keys(col) or list(map(str.casefold, col))
        order = sorted(range(n), key=keys.__getitem__, reverse=descending)
        return array("i", order)

    def iter_rows(self, indexes: Iterable[int], columns: Sequence[int]) -> Iterator[list[Any]]:
        """Cells of ``columns`` for the given storage indexes (for copy)."""
        for i in indexes:
            yield [self.cell(i, c) for c in columns]


def _or(masks: Sequence[bytes], n: int) -> bytes:
    """Byte-wise OR of 0/1 masks (as one big integer: C speed)."""
    total = 0
    for m in masks:
        total |= int.from_bytes(m, "little")
    return total.to_bytes(n, "little")


def _and(a: bytes, b: bytes, n: int) -> bytes:
    """Byte-wise AND of two 0/1 masks."""
    return (int.from_bytes(a, "little") & int.from_bytes(b, "little")).to_bytes(n, "little")


def _numeric_keys(col: Sequence[str]) -> list[float] | None:
    """Float keys when the column holds numbers (judged on its first 200 cells), else None."""
    sample = [v for v in islice(col, 200) if v.strip()]
    if not sample:
        return None
    try:
        for v in sample:
            float(v.replace(",", ""))
    except ValueError:
        return None
    keys: list[float] = []
    for v in col:
        try:
            keys.append(float(v.replace(",", "")) if v.strip() else float("-inf"))
        except ValueError:
            keys.append(float("inf"))
    return keys


def prepare_search(data: ResultsData) -> None:
    """Build the lower-case search text of every column now (e.g. on the loading worker)."""
    for column in range(3, 3 + len(data.inputs) + len(data.ids)):
        data._search_text(column)


def load_run(history: Any, run_id: int, progress: Callable[[int], None] | None = None
             ) -> ResultsData:
    """Read a run's results from the history (and its file, if still there)."""
    from recotap_desktop.engine.jobs import retryable_rows
    from recotap_desktop.engine.report import iter_report_rows

    headers, rows = iter_report_rows(history, run_id)
    data = ResultsData.from_report(headers, rows, progress=progress)
    data.run = history.get_run(run_id)
    data.retryable = len(retryable_rows(history, run_id))
    prepare_search(data)
    return data
