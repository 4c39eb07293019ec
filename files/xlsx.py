"""A minimal XLSX writer for lists: one sheet, a bold header row, text and whole numbers.

openpyxl takes ~28 ms for a 260-row list; the morning digests attach one per officer, a thousand at a time, so the
few XML parts are written here directly (~1 ms). Text is stored as inline strings: a spreadsheet never evaluates them,
so a name such as `=HYPERLINK(...)` stays text (no formula injection). openpyxl reads these files back in the tests.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# One pass per text: XML's three special characters escaped, and the characters XML 1.0 cannot carry dropped (a
# hostile or garbled name must not make the file unreadable).
_ESCAPE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\ufffe": None, "\uffff": None}
    | {chr(c): None for c in range(32) if c not in {9, 10, 13}}
)

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>
<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>
</Types>"""
_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>
</Relationships>"""
_WORKBOOK = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">
<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>
</workbook>"""
_WORKBOOK_RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
</Relationships>"""
_STYLES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

Cell = str | int


def workbook(sheet: str, header: Sequence[str], rows: Iterable[str]) -> bytes:
    """The XLSX file of one sheet: `header` in bold, then the rows, each given as `cells(...)`."""
    lines = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
    lines.append('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>')
    lines.append(f"<row>{cells(header, bold=True)}</row>")
    lines.extend(f"<row>{row}</row>" for row in rows)
    lines.append("</sheetData></worksheet>")
    buffer = io.BytesIO()
    # The fastest deflate: a thousand files a morning, and the XML still shrinks about tenfold.
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        name = _text(sheet[:31]).replace('"', "&quot;")
        archive.writestr("xl/workbook.xml", _WORKBOOK.format(name=name))
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(lines))
    return buffer.getvalue()


def cells(values: Sequence[Cell], *, bold: bool = False) -> str:
    """Cells for a row, without positions (a reader places them in order): so a member's cells can be rendered
    once and put in any officer's file, at any row, after that file's own columns."""
    style = ' s="1"' if bold else ""
    # A list, not a generator: a hundred and fifty thousand rows a morning.
    return "".join(
        [
            f"<c{style}><v>{value}</v></c>"
            if isinstance(value, int)
            else f'<c{style} t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
            for value in values
        ]
    )


def number(value: int) -> str:
    """One number cell (a row's own number, in front of cells rendered once for many files)."""
    return f"<c><v>{value}</v></c>"


def _text(value: str) -> str:
    if value.isprintable() and "&" not in value and "<" not in value and ">" not in value:
        return value  # the usual name or desa: nothing to do
    return value.translate(_ESCAPE)
