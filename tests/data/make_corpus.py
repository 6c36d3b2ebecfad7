"""Generate the malformed/awkward file corpus in tests/data/ (deterministic bytes).

Run ``python tests/data/make_corpus.py`` after changing it; the generated files are
committed so a fresh clone has them, and tests/files/test_corpus.py checks that they
match this script byte for byte. XLSX files are assembled by hand (zip + XML) so that
formula cells carry cached values (openpyxl cannot compute them) and the bytes do not
depend on library versions or the clock.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

HERE = Path(__file__).resolve().parent
ZIP_DATE = (2026, 1, 1, 0, 0, 0)

# ----------------------------------------------------------------------------- XLSX

Cell = tuple[str, object] | tuple[str, object, object] | None

_OOXML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_OOXML}.styles+xml"/>'
    "{sheets}</Types>"
)
_SHEET_CT = (
    '<Override PartName="/xl/worksheets/sheet{n}.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="22" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="21" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    "</cellXfs></styleSheet>"
)
_STYLE_INDEX = {"d": 1, "dt": 2, "t": 3}


def _col(index: int) -> str:
    letters = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _cell_xml(ref: str, cell: Sequence[object]) -> str:
    kind, value = cell[0], cell[1]
    if kind == "s":
        text = escape(str(value))
        return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'
    if kind == "n":
        return f'<c r="{ref}"><v>{value}</v></c>'
    if kind in _STYLE_INDEX:
        return f'<c r="{ref}" s="{_STYLE_INDEX[kind]}"><v>{value}</v></c>'
    if kind == "b":
        return f'<c r="{ref}" t="b"><v>{1 if value else 0}</v></c>'
    if kind == "e":
        return f'<c r="{ref}" t="e"><v>{escape(str(value))}</v></c>'
    if kind == "f":  # numeric formula with cached value
        return f'<c r="{ref}"><f>{escape(str(value))}</f><v>{cell[2]}</v></c>'
    if kind == "fs":  # text formula with cached value
        return f'<c r="{ref}" t="str"><f>{escape(str(value))}</f><v>{escape(str(cell[2]))}</v></c>'
    if kind == "fd":  # date formula with cached serial
        return f'<c r="{ref}" s="1"><f>{escape(str(value))}</f><v>{cell[2]}</v></c>'
    raise ValueError(kind)


def _sheet_xml(rows: Sequence[tuple[int, int, Sequence[Cell]]]) -> str:
    """rows: (1-based row number, 0-based first column, cells)."""
    parts = []
    for row_no, first_col, cells in rows:
        cells_xml = "".join(
            _cell_xml(f"{_col(first_col + i)}{row_no}", c) for i, c in enumerate(cells) if c
        )
        parts.append(f'<row r="{row_no}">{cells_xml}</row>')
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{''.join(parts)}</sheetData></worksheet>"
    )


def build_xlsx(
    sheets: Sequence[tuple[str, Sequence[tuple[int, int, Sequence[Cell]]], str]],
) -> bytes:
    """sheets: (name, rows, state) with state "visible" | "hidden"."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:

        def put(name: str, text: str) -> None:
            info = zipfile.ZipInfo(name, ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, text)

        cts = "".join(_SHEET_CT.format(n=i + 1) for i in range(len(sheets)))
        put("[Content_Types].xml", _CONTENT_TYPES.format(sheets=cts))
        put("_rels/.rels", _ROOT_RELS)
        sheet_entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{i + 1}" r:id="rId{i + 1}"'
            + (' state="hidden"' if state == "hidden" else "")
            + "/>"
            for i, (name, _rows, state) in enumerate(sheets)
        )
        put(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheet_entries}</sheets></workbook>",
        )
        rels = "".join(
            f'<Relationship Id="rId{i + 1}" Type="http://schemas.openxmlformats.org/'
            f'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i + 1}.xml"/>'
            for i in range(len(sheets))
        )
        rels += (
            f'<Relationship Id="rId{len(sheets) + 1}" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/styles" Target="styles.xml"/>'
        )
        put(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>",
        )
        put("xl/styles.xml", _STYLES)
        for i, (_name, rows, _state) in enumerate(sheets):
            put(f"xl/worksheets/sheet{i + 1}.xml", _sheet_xml(rows))
    return buf.getvalue()


def _simple_rows(table: Sequence[Sequence[str]]) -> list[tuple[int, int, Sequence[Cell]]]:
    return [(i + 1, 0, [("s", v) if v != "" else None for v in row]) for i, row in enumerate(table)]


ACCOUNTS = [["Name", "Domain"], ["Acme", "acme.com"], ["Beta", "beta.io"]]

# Excel serials: 46037 = 2026-01-15, .4375 = 10:30:00
TYPES_XLSX = build_xlsx(
    [
        (
            "Accounts",
            [
                (
                    1,
                    0,
                    [
                        ("s", " Name "),
                        ("s", "Founded"),
                        ("s", "Last touch"),
                        ("s", "Revenue"),
                        ("s", "Margin"),
                        ("s", "Active"),
                        ("s", "Total"),
                        ("s", "Label"),
                        ("s", "Due"),
                        ("s", "Call at"),
                        ("s", "Err"),
                    ],
                ),
                (
                    2,
                    0,
                    [
                        ("s", "Acme"),
                        ("d", 46037),
                        ("dt", 46037.4375),
                        ("n", 75000),
                        ("n", 0.125),
                        ("b", 1),
                        ("f", "D2*2", 150000),
                        ("fs", 'A2&"!"', "Acme!"),
                        ("fd", "B2+1", 46038),
                        ("t", 0.4375),
                        ("e", "#N/A"),
                    ],
                ),
                (
                    3,
                    0,
                    [
                        ("s", "Beta"),
                        ("d", 36526),
                        ("dt", 46037),
                        ("n", -3),
                        ("n", 0.00001),
                        ("b", 0),
                        ("f", "D3*2", -6),
                        ("fs", 'A3&"!"', "Beta!"),
                        None,
                        None,
                        None,
                    ],
                ),
                (4, 0, [("s", "Gamma"), None, None, ("n", "1E+20")]),
            ],
            "visible",
        )
    ]
)


def corpus() -> dict[str, Callable[[], bytes]]:
    """File name -> function producing its bytes."""
    crlf_accounts = "Name,Domain,Country\r\nAcme,acme.com,DE\r\nBeta,beta.io,FR\r\n"
    return {
        # --- encodings
        "utf8.csv": lambda: "Name,City\nMüller GmbH,Köln\nCrème Café,Paris €\n".encode(),
        "utf8_bom.csv": lambda: "\ufeffName,City\nMüller GmbH,Köln\n".encode(),
        "utf16le_unicode_text.txt": lambda: (
            "\ufeffName\tCity\r\nMüller GmbH\tKöln\r\nŁódź Sp. z o.o.\tŁódź\r\n"
        ).encode("utf-16-le"),
        "cp1252.csv": lambda: (
            "Name;Revenue;Note\r\nSociété Générale;1.000 €;“big” deal\r\n"
            "Müller & Söhne;250 €;Straße\r\n"
        ).encode("cp1252"),
        "latin1.csv": lambda: "Name,City\nNuñez SA,Peñíscola\nGroß AG,Würzburg\n".encode("latin-1"),
        "cp1251_cyrillic.csv": lambda: (
            "Название,Город\nРоманов и партнёры,Москва\nСибирская компания,Новосибирск\n"
            "Уральский завод,Екатеринбург\n"
        ).encode("cp1251"),
        # --- delimiters and quoting
        "semicolon_decimal_comma.csv": lambda: (
            b"Name;Revenue;Score\nAcme;1,5;0,75\nBeta;12,25;1,0\nGamma;3;2,5\n"
        ),
        "tab.tsv": lambda: b"Name\tDomain\tNote\nAcme\tacme.com\ta, b; c\nBeta\tbeta.io\t\n",
        "pipe.txt": lambda: b"Name|Domain|Note\nAcme|acme.com|a, b; c\nBeta|beta.io|x\n",
        "quoted_newlines.csv": lambda: (
            b'Name,Address,Domain\nAcme,"1 Main St\nSuite 5\nSpringfield",acme.com\n'
            b'Beta,"Line 1\r\nLine 2",beta.io\nGamma,Plain,gamma.org\n'
        ),
        "doubled_quotes.csv": lambda: (
            b'Name,Note\n"Acme ""The Best"" Inc","say ""hi"", then leave"\n"Beta, Ltd",""\n'
        ),
        "sep_line.csv": lambda: b"sep=;\r\nName;Revenue\r\nAcme;1,5\r\nBeta;2\r\n",
        "crlf.csv": lambda: crlf_accounts.encode(),
        "cr_only.csv": lambda: crlf_accounts.replace("\r\n", "\r").encode(),
        "trailing_empty_lines.csv": lambda: (
            b"Name,Domain\nAcme,acme.com\nBeta,beta.io\n\n\n\r\n  \n"
        ),
        "blank_rows_middle.csv": lambda: (
            b"Name,Domain\nAcme,acme.com\n\n,\nBeta,beta.io\n\nGamma,g.org\n"
        ),
        "leading_blank_rows.csv": lambda: b"\n,,\nName,Domain\nAcme,acme.com\n",
        "header_whitespace.csv": lambda: (
            "\ufeff  Name  ,\tDomain ,Country\nAcme,acme.com,DE\n".encode()
        ),
        "trailing_delimiter.csv": lambda: b"Name,Domain,\nAcme,acme.com,\nBeta,beta.io,\n",
        "short_rows.csv": lambda: (
            b"Name,Domain,Country,Owner\nAcme,acme.com\nBeta,beta.io,FR\nGamma\n"
        ),
        # --- malformed text
        "empty.csv": lambda: b"",
        "whitespace_only.csv": lambda: b"  \n\t\n\r\n   \n",
        "header_only.csv": lambda: b"Name,Domain,Country\r\n",
        "blank_header.csv": lambda: b"Name,,Country,  ,Owner\nAcme,x,DE,y,Ann\n",
        "duplicate_headers.csv": lambda: (
            b"Name,Email,Domain,email,Name\nAcme,a@x,acme.com,b@x,Acme2\n"
        ),
        "ragged_extra.csv": lambda: (
            b"Name,Domain,Revenue\nAcme,acme.com,100\nBeta,beta.io,1,500\nGamma,g.org,3\n"
        ),
        "trailing_column_with_value.csv": lambda: (
            b"Name,Domain,\nAcme,acme.com,\nBeta,beta.io,oops\n"
        ),
        "unbalanced_quote.csv": lambda: (
            b'Name,Domain,Note\nAcme,acme.com,ok\nBeta,beta.io,"never closed\nGamma,g.org,x\n'
        ),
        # --- wrong kind of file
        "png_named.csv": lambda: (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06"
            b"\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x00IEND\xaeB`\x82"
        ),
        "nul_bytes.csv": lambda: b"Name,Domain\nAc\x00me,acme.com\x00\x01\x02\x00\xff\n",
        "zip_named.csv": _zip_with_csv,
        "xlsx_named.csv": lambda: build_xlsx([("Sheet1", _simple_rows(ACCOUNTS), "visible")]),
        "csv_named.xlsx": lambda: b"Name,Domain\r\nAcme,acme.com\r\nBeta,beta.io\r\n",
        "html_named.xls": lambda: (
            b"<html><body><table><tr><td>Name</td></tr></table></body></html>"
        ),
        # --- workbooks
        "types.xlsx": lambda: TYPES_XLSX,
        "corrupt_truncated.xlsx": lambda: TYPES_XLSX[: len(TYPES_XLSX) // 2],
        "password_protected.xlsx": lambda: _ole2(["EncryptionInfo", "EncryptedPackage"]),
        "old_format.xls": lambda: _ole2(["Workbook", "SummaryInformation"]),
        "multi_sheet.xlsx": lambda: build_xlsx(
            [
                ("Notes", _simple_rows([["Read me"], ["Data is on the next sheets"]]), "visible"),
                ("Secret", _simple_rows([["Key"], ["x"]]), "hidden"),
                ("Accounts", _simple_rows(ACCOUNTS), "visible"),
                ("Deals", _simple_rows([["Deal", "Amount"], ["D1", "10"]]), "visible"),
            ]
        ),
        "empty_sheet.xlsx": lambda: build_xlsx(
            [("Empty", [], "visible"), ("Accounts", _simple_rows(ACCOUNTS), "visible")]
        ),
        "offset_table.xlsx": lambda: build_xlsx(
            [
                (
                    "Report",
                    [
                        (3, 2, [("s", "Name"), ("s", "Domain")]),
                        (4, 2, [("s", "Acme"), ("s", "acme.com")]),
                        (6, 2, [("s", "Beta"), ("s", "beta.io")]),
                    ],
                    "visible",
                )
            ]
        ),
        "xlsx_header_only.xlsx": lambda: build_xlsx(
            [("Sheet1", _simple_rows([["Name", "Domain"]]), "visible")]
        ),
        "xlsx_value_without_header.xlsx": lambda: build_xlsx(
            [
                (
                    "Sheet1",
                    [
                        (1, 0, [("s", "Name"), ("s", "Domain")]),
                        (2, 0, [("s", "Acme"), ("s", "acme.com")]),
                        (3, 0, [("s", "Beta"), ("s", "beta.io"), None, ("s", "stray")]),
                    ],
                    "visible",
                )
            ]
        ),
    }


def _zip_with_csv() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("accounts.csv", ZIP_DATE), "Name,Domain\nAcme,acme.com\n")
    return buf.getvalue()


def _ole2(stream_names: Sequence[str]) -> bytes:
    """Just enough of a Compound File (OLE2) for detection: the magic, a header, and
    directory entries whose UTF-16 names say what is inside."""
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16 + b"\x3e\x00\x03\x00\xfe\xff"
    header = header.ljust(512, b"\xff")
    entries = b""
    for name in ["Root Entry", *stream_names]:
        raw = (name + "\x00").encode("utf-16-le")
        entries += raw.ljust(64, b"\x00") + len(raw).to_bytes(2, "little") + b"\x02" * 62
    return header + entries.ljust(1024, b"\x00")


def main(target: Path = HERE) -> int:
    for name, make in corpus().items():
        (target / name).write_bytes(make())
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE))
