"""Which file column feeds which target field, and fixed values for the rest.

A :class:`ColumnMapping` is plain data that round-trips through JSON, so the GUI
and the CLI can remember it per file layout (:func:`header_signature`) and the
sync history can store the one used for a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["MAPPING_FORMAT_VERSION", "ColumnMapping", "header_signature"]

MAPPING_FORMAT_VERSION = 1
#: The conventions a mapping may choose for a column (records.formats).
_CONVENTIONS = ("DMY", "MDY", "YMD", "point", "comma")


@dataclass
class ColumnMapping:
    """Field name → file header, plus field name → constant raw value.

    A constant fills a field for every row. When a field has both a column and a
    constant, the constant is the default used where that column's cell is empty.
    ``formats``: field name → how its column is written, as the user chose it
    (``"DMY"``, ``"MDY"``, ``"YMD"`` for dates; ``"point"``, ``"comma"`` for numbers;
    see :mod:`recotap_desktop.records.formats`); other columns are inferred.
    """

    columns: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)

    # -- JSON ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (the JSON object :meth:`to_json` writes)."""
        return {
            "version": MAPPING_FORMAT_VERSION,
            "columns": dict(sorted(self.columns.items())),
            "constants": dict(sorted(self.constants.items())),
            **({"formats": dict(sorted(self.formats.items()))} if self.formats else {}),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnMapping:
        """Inverse of :meth:`to_dict`; raises ``ValueError`` on a malformed object."""
        if not isinstance(data, Mapping):
            raise ValueError("A column mapping must be a JSON object.")
        version = data.get("version", MAPPING_FORMAT_VERSION)
        if not isinstance(version, int) or version > MAPPING_FORMAT_VERSION:
            raise ValueError(
                f"This column mapping was saved by a newer version (format {version!r})."
            )
        columns = _str_dict(data.get("columns", {}), "columns")
        constants = _str_dict(data.get("constants", {}), "constants")
        formats = _str_dict(data.get("formats", {}), "formats")
        bad = sorted(v for v in formats.values() if v not in _CONVENTIONS)
        if bad:
            raise ValueError(
                f"Column mapping “formats” must be one of {', '.join(_CONVENTIONS)}, "
                f"not {bad[0]!r}."
            )
        return cls(columns=columns, constants=constants, formats=formats)

    def to_json(self) -> str:
        """Stable JSON text (sorted keys), suitable for storing in the sync history."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ColumnMapping:
        """Parse :meth:`to_json` output; raises ``ValueError`` on bad JSON or shape."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"The column mapping is not valid JSON: {exc.msg}.") from None
        return cls.from_dict(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write JSON to ``path`` atomically (temporary file + replace)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.to_json())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ColumnMapping:
        """Read a mapping written by :meth:`save`."""
        return cls.from_json(Path(path).read_text(encoding="utf-8"))

    # -- helpers ---------------------------------------------------------------
    def for_headers(self, headers: Iterable[str]) -> ColumnMapping:
        """A copy without columns that ``headers`` does not contain (a remembered
        mapping applied to a file whose layout changed a little)."""
        present = set(headers)
        columns = {f: h for f, h in self.columns.items() if h in present}
        return ColumnMapping(
            columns=columns,
            constants=dict(self.constants),
            formats={f: c for f, c in self.formats.items() if f in columns},
        )

    def is_used(self, field_name: str) -> bool:
        """True when the field has a column or a constant."""
        return field_name in self.columns or field_name in self.constants


def _str_dict(value: Any, what: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValueError(f"Column mapping “{what}” must map names to texts.")
    return dict(value)


def header_signature(headers: Iterable[str]) -> str:
    """Stable hash of a file's header set, to remember a mapping per file layout.

    Column order and surrounding spaces do not matter; spelling and case do (a
    mapping refers to headers by their exact text). 32 hex characters.
    """
    names = sorted({h.strip() for h in headers})
    digest = hashlib.sha256(json.dumps(names, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:32]
