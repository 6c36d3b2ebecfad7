"""Work out what a file really is: format by magic bytes, text encoding, delimiter.

Detection looks at a sample (the first :data:`SAMPLE_SIZE` bytes); the chosen text
encoding is then confirmed over the whole file in fixed-size chunks (constant memory)
so that a stray byte at row 90 000 is found before anything is sent, not during the run.

Encoding order (first match wins):

1. a byte-order mark: UTF-32, UTF-8 (reported as ``utf-8-sig``), UTF-16 LE/BE
   (Excel's "Unicode text" is UTF-16 LE with a BOM and tabs);
2. NUL bytes without a BOM: UTF-16 without BOM if they sit in every other byte,
   otherwise the file is binary (:class:`FileProblem`);
3. strict UTF-8 (pure ASCII is reported as ``utf-8``);
4. ``cp1252`` when the text decodes and looks like Western text (accented letters
   scattered inside Latin words, € and smart quotes). ISO-8859-1 files are read as
   cp1252 too: both agree on every printable character;
5. charset-normalizer's best guess on the sample (Cyrillic, Greek, CJK legacy files);
6. ``cp1252``, then ``latin-1`` (which decodes any byte) as a last resort.

Delimiter: comma, semicolon, tab or pipe, chosen by the consistency of field counts
over the sample's records, parsed with quotes respected (``csv.Sniffer`` guesses from
character frequencies and is unreliable on real exports). An Excel ``sep=;`` first
line is honoured.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from .problems import FileProblem

__all__ = [
    "CANDIDATE_DELIMITERS",
    "SAMPLE_SIZE",
    "EncodingChoice",
    "classify",
    "decode_sample",
    "detect_delimiter",
    "detect_encoding",
    "parse_sep_line",
    "validate_encoding",
]

SAMPLE_SIZE = 64 * 1024
CHUNK_SIZE = 1024 * 1024
CANDIDATE_DELIMITERS: tuple[str, ...] = (",", ";", "\t", "|")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
_BINARY_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"MZ", "a Windows program"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_SAVE_AS = "Open it in Excel (or your CRM) and save it as .xlsx or as CSV."

Kind = Literal["csv", "xlsx"]


class EncodingChoice:
    """The chosen encoding: ``name`` (Python codec, as shown to users), ``codec`` used to
    decode the bytes after the BOM, and ``bom_len`` bytes to skip at the start."""

    __slots__ = ("bom_len", "codec", "name")

    def __init__(self, name: str, codec: str, bom_len: int) -> None:
        self.name = name
        self.codec = codec
        self.bom_len = bom_len

    def __repr__(self) -> str:
        return f"EncodingChoice({self.name!r}, bom_len={self.bom_len})"


# ---------------------------------------------------------------------------- format


def classify(path: Path, head: bytes) -> Kind:
    """Say whether ``path`` holds a workbook (``"xlsx"``) or text (``"csv"``) from its
    first bytes, whatever its extension; raise :class:`FileProblem` for anything else
    (old .xls, password-protected workbooks, images, archives, other Office files)."""
    name = path.name
    suffix = path.suffix.lower()
    if head.startswith(ZIP_MAGICS):
        return _classify_zip(path)
    if head.startswith(OLE2_MAGIC):
        if _ole2_is_encrypted(path) or (suffix in (".xlsx", ".xlsm") and not _ole2_is_xls(path)):
            raise FileProblem(
                f"{name} is password-protected (encrypted), so it cannot be read. "
                "Open it in Excel, enter the password and save an unprotected copy "
                "(File > Info > Protect Workbook > Encrypt with Password, clear the "
                "password), then choose that copy.",
                path=path,
            )
        raise FileProblem(
            f"{name} is an old-format Excel 97-2003 workbook (.xls), which is not "
            "supported. Open it in Excel and save it as Excel Workbook (.xlsx) or as "
            "CSV UTF-8, then choose the new file.",
            path=path,
        )
    for magic, what in _BINARY_MAGICS:
        if head.startswith(magic):
            raise FileProblem(
                f"{name} is {what}, not a spreadsheet or CSV file (despite its "
                f"'{path.suffix}' name). Choose the CSV or Excel file exported from your CRM.",
                path=path,
            )
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith((b"<!doctype html", b"<html", b"<table")):
        raise FileProblem(
            f"{name} is a web page (HTML), not a real spreadsheet, although it is named "
            f"'{path.suffix}' (some CRMs export reports this way). {_SAVE_AS}",
            path=path,
        )
    return "csv"


def _classify_zip(path: Path) -> Kind:
    name = path.name
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise FileProblem(
            f"{name} looks like an Excel workbook but it is damaged (incomplete or corrupt). "
            "If it came by e-mail or download, fetch it again; otherwise open it in Excel, "
            "let Excel repair it, and save a new copy.",
            path=path,
        ) from exc
    if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
        if "xl/workbook.bin" in names and "xl/workbook.xml" not in names:
            raise FileProblem(
                f"{name} is an Excel binary workbook (.xlsb), which is not supported. {_SAVE_AS}",
                path=path,
            )
        return "xlsx"
    if "word/document.xml" in names:
        what = "a Word document"
    elif any(n.startswith("ppt/") for n in names):
        what = "a PowerPoint presentation"
    elif "content.xml" in names:
        what = "an OpenDocument file (LibreOffice)"
    else:
        raise FileProblem(
            f"{name} is a ZIP archive, not a CSV file or an Excel workbook. Extract it "
            "first, then choose the CSV or .xlsx file inside.",
            path=path,
        )
    raise FileProblem(
        f"{name} is {what}, not a CSV file or an Excel workbook. {_SAVE_AS}",
        path=path,
    )


def _scan_for(path: Path, needles: Iterable[bytes]) -> bool:
    """True if any needle occurs in the file (read in chunks, constant memory)."""
    needles = tuple(needles)
    overlap = max(len(n) for n in needles) - 1
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_SIZE):
            window = tail + chunk
            if any(n in window for n in needles):
                return True
            tail = window[-overlap:]
    return False


def _ole2_is_encrypted(path: Path) -> bool:
    # Encrypted OOXML packages are CFB containers holding "EncryptionInfo" and
    # "EncryptedPackage" streams; directory names are UTF-16 LE.
    return _scan_for(path, ["EncryptedPackage".encode("utf-16-le")])


def _ole2_is_xls(path: Path) -> bool:
    return _scan_for(path, ["Workbook".encode("utf-16-le"), "Book\x00".encode("utf-16-le")])


# -------------------------------------------------------------------------- encoding


def detect_encoding(path: Path, sample: bytes, whole: bool) -> EncodingChoice:
    """Choose the text encoding of ``path`` from ``sample`` (its first bytes; ``whole``
    when the sample is the entire file) and confirm it over the whole file."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            codec = "utf-8" if name == "utf-8-sig" else name
            choice = EncodingChoice(name, codec, len(bom))
            validate_encoding(path, choice)
            return choice
    if b"\x00" in sample:
        utf16 = _utf16_without_bom(sample)
        if utf16 is None:
            raise FileProblem(
                f"{path.name} is a binary file, not text (it contains NUL bytes), so it "
                "cannot be read as CSV. Choose the CSV or Excel file exported from your "
                f"CRM, or {_SAVE_AS[0].lower()}{_SAVE_AS[1:]}",
                path=path,
            )
        choice = EncodingChoice(utf16, utf16, 0)
        validate_encoding(path, choice)
        return choice
    utf8_error = _utf8_error_offset(sample, final=whole)
    if utf8_error is None:
        bad = _first_invalid_chunk(path, "utf-8")
        if bad is None:
            return EncodingChoice("utf-8", "utf-8", 0)
        sample = sample + b"\n" + bad
    for name in _legacy_candidates(sample):
        choice = EncodingChoice(name, name, 0)
        if _first_invalid_chunk(path, name) is None:
            return choice
    return EncodingChoice("latin-1", "latin-1", 0)  # pragma: no cover - latin-1 never fails


def _utf16_without_bom(sample: bytes) -> str | None:
    even = sample[0::2]
    odd = sample[1::2]
    if not even or not odd:
        return None
    even_nul = even.count(0) / len(even)
    odd_nul = odd.count(0) / len(odd)
    if odd_nul > 0.3 and even_nul < 0.02:
        return "utf-16-le"
    if even_nul > 0.3 and odd_nul < 0.02:
        return "utf-16-be"
    return None


def _utf8_error_offset(data: bytes, *, final: bool) -> int | None:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    try:
        decoder.decode(data, final)
    except UnicodeDecodeError as exc:
        return exc.start
    return None


def _first_invalid_chunk(path: Path, codec: str) -> bytes | None:
    """Decode the whole file in chunks; return the bytes around the first error, or None."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(CHUNK_SIZE)
            try:
                decoder.decode(chunk, not chunk)
            except UnicodeDecodeError as exc:
                return chunk[max(0, exc.start - 2048) : exc.start + 2048]
            if not chunk:
                return None


def validate_encoding(path: Path, choice: EncodingChoice) -> None:
    """Decode the whole file with ``choice``; raise :class:`FileProblem` naming the line
    of the first undecodable byte."""
    decoder = codecs.getincrementaldecoder(choice.codec)("strict")
    newline = "\n".encode(choice.codec)
    line = 1
    with path.open("rb") as fh:
        fh.seek(choice.bom_len)
        while True:
            chunk = fh.read(CHUNK_SIZE)
            try:
                decoder.decode(chunk, not chunk)
            except UnicodeDecodeError as exc:
                line += chunk[: exc.start].count(newline)
                raise FileProblem(
                    f"{path.name} cannot be read as {choice.name} text: line {line} "
                    f"contains bytes that are not valid {choice.name}. Choose another "
                    "encoding, or save the file again as CSV UTF-8.",
                    path=path,
                ) from exc
            if not chunk:
                return
            line += chunk.count(newline)


_WESTERN_NON_LETTERS = set("€£¥©®°±§¶·«»‘’“”–—…•™×÷¿¡¢¤¦¨ª¬¯²³´µ¸¹º¼½¾\xa0")
_SUSPECT_CP1252 = set("‚ƒ„†‡ˆ‰‹Œ›œ˜ŽžŸ¦¬¯¸")


def _looks_western(text: str) -> bool:
    """Heuristic: decoded text looks like a Western European language.

    Accented letters in Western text are scattered inside Latin words ("Müller",
    "Société"); legacy Cyrillic/Greek/CJK bytes read as cp1252 give long runs of
    accented letters ("Ïðèâåò") and rare symbols ("‡", "ƒ")."""
    non_ascii = 0
    in_long_runs = 0
    suspect = 0
    run = 0
    for ch in text + " ":
        if ord(ch) > 127:
            non_ascii += 1
            run += 1
            if ch in _SUSPECT_CP1252 or not (ch.isalpha() or ch in _WESTERN_NON_LETTERS):
                suspect += 1
        else:
            if run >= 3:
                in_long_runs += run
            run = 0
    if non_ascii == 0:
        return True
    return in_long_runs / non_ascii < 0.3 and suspect / non_ascii < 0.1


def _legacy_candidates(sample: bytes) -> list[str]:
    """Encodings to try, best first, for a sample that is not UTF-8."""
    candidates: list[str] = []
    try:
        text = sample.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is not None and _looks_western(text):
        candidates.append("cp1252")
    guess = _charset_normalizer_guess(sample)
    if guess and guess not in candidates:
        candidates.append(guess)
    for fallback in ("cp1252", "latin-1"):
        if fallback not in candidates:
            candidates.append(fallback)
    return candidates


def _charset_normalizer_guess(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    if name in ("utf-8", "ascii", "latin-1", "iso8859-1", "iso8859-15"):
        # ISO-8859-1/-15 text reads the same as cp1252 apart from C1 controls.
        return "cp1252" if name != "utf-8" else None
    return name


def decode_sample(sample: bytes, choice: EncodingChoice, whole: bool) -> str:
    """Decode the sample, leaving out an incomplete character at a cut end."""
    decoder = codecs.getincrementaldecoder(choice.codec)("replace")
    return decoder.decode(sample[choice.bom_len :], whole)


# ------------------------------------------------------------------------- delimiter

_SEP_LINE = re.compile(r"\A\ufeff?\"?sep=(.)\"?[ \t]*(?:\r\n|\r|\n|\Z)", re.IGNORECASE)


def parse_sep_line(text: str) -> str | None:
    """The delimiter named by an Excel ``sep=;`` first line, or ``None``."""
    match = _SEP_LINE.match(text)
    return match.group(1) if match else None


def _records(text: str, delimiter: str, whole: bool, limit: int = 2000) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"')
    out: list[list[str]] = []
    try:
        for record in reader:
            if any(field.strip() for field in record):
                out.append(record)
            if len(out) >= limit:
                return out
    except csv.Error:
        pass
    if not whole and out:
        out.pop()  # the last record may be cut by the sample boundary
    return out


def detect_delimiter(text: str, whole: bool) -> str:
    """Choose the delimiter whose field counts are most consistent over the sample.

    For each candidate the sample is parsed with quotes respected; the score is
    (header has more than one field, share of data records whose non-empty width
    fits the header, header width). Ties go to the order of
    :data:`CANDIDATE_DELIMITERS`. A one-column file gets ``","``."""
    best: tuple[tuple[bool, float, int], str] | None = None
    for delimiter in CANDIDATE_DELIMITERS:
        records = _records(text, delimiter, whole)
        if not records:
            continue
        header_width = len(records[0])
        data = records[1:]
        if data:
            counts = Counter(len(r) for r in data)
            fitting = sum(
                1 for r in data if len(r) == header_width or _trimmed_len(r) <= header_width
            )
            exact = counts.get(header_width, 0)
            consistency = (fitting + exact) / (2 * len(data))
        else:
            consistency = 1.0
        score = (header_width > 1, consistency, header_width)
        if best is None or score > best[0]:
            best = (score, delimiter)
    return best[1] if best else ","


def _trimmed_len(record: list[str]) -> int:
    n = len(record)
    while n and not record[n - 1].strip():
        n -= 1
    return n


def delimiter_name(delimiter: str) -> str:
    """Human name of a delimiter: ``"semicolon"`` or the quoted character."""
    return _DELIMITER_NAMES.get(delimiter, repr(delimiter))
