"""Receipt PDFs with reportlab: A4, or an 80 mm thermal roll whose length follows the content.

One flow of blocks serves both layouts; only the page geometry and type sizes differ. All text
is set in embedded TrueType subsets of the font chain (`hallclient.receipts.fonts`: the CJK font,
then fonts for the rare characters of names), so the PDF looks the same on any machine and
pdftotext gives the Chinese back.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, get_args

from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from hallclient.config import ReceiptLayout
from hallclient.receipts import fonts
from hallclient.receipts.content import ReceiptContent
from hallclient.receipts.qr import qr_matrix
from hallcore.domain.business import BUSINESS_TYPES
from hallcore.domain.text import Lang, Text

Layout = ReceiptLayout  # the terminal's setting names the same layouts
ReceiptLang = Literal["zh", "en", "both"]
RECEIPT_LANGS: tuple[ReceiptLang, ...] = get_args(ReceiptLang)


@dataclass(frozen=True, slots=True)
class ReceiptFormat:
    """How one receipt is drawn; the clerk may change either in the preview."""

    layout: Layout
    lang: ReceiptLang


def customer_format(content: ReceiptContent, layout: Layout) -> ReceiptFormat:
    """The receipt in the customer's language, in `layout` (the terminal's)."""
    return ReceiptFormat(layout, reading(content.customer_lang))


def reading(customer_lang: Lang) -> ReceiptLang:
    """What is put before a customer who reads `customer_lang`: a customer who reads English
    gets both languages, as the clerk, and the hall that files or checks the receipt later,
    read the Chinese beside it."""
    return "both" if customer_lang == "en" else "zh"
FONT = fonts.PRIMARY.pdf_name
# reportlab's font registry is global and its TrueType fonts keep per-document subset state:
# one PDF at a time (the windows render off the UI thread, a receipt takes ~25 ms).
_RENDERING = threading.Lock()


@contextmanager
def embedded_font() -> Iterator[str]:
    """The chain's first font's name, registered, held while one PDF is built with the chain
    (whose other fonts are registered when a text first needs them)."""
    with _RENDERING:
        yield fonts.load_primary()


def load_font() -> None:
    """Register the CJK font ahead of the first receipt: reading it takes some 0.2 s, which the
    first receipt would otherwise spend while the clerk goes on working. The chain's big fonts
    wait for a rare character."""
    with embedded_font():
        pass


@dataclass(frozen=True)
class _Geometry:
    width: float
    margin: float
    title: float  # type sizes
    body: float
    small: float
    qr_size: float
    signature_box: tuple[float, float]  # the customer's signature's box (width, height)


_GEOMETRY: dict[Layout, _Geometry] = {
    "a4": _Geometry(A4[0], 20 * mm, 18, 11, 9, 32 * mm, (90 * mm, 30 * mm)),
    "80mm": _Geometry(80 * mm, 4 * mm, 12, 8.5, 7, 32 * mm, (72 * mm, 24 * mm)),
}


@dataclass(frozen=True)
class _Block:
    kind: Literal["text", "rule", "gap", "qr", "sign", "signed"]
    text: str = ""
    size: float = 0
    centred: bool = False


def _langs(lang: ReceiptLang) -> tuple[Lang, ...]:
    return ("zh", "en") if lang == "both" else (lang,)


def _texts(text: Text, lang: ReceiptLang) -> list[str]:
    return [text[language] for language in _langs(lang)]


def _blocks(content: ReceiptContent, lang: ReceiptLang, g: _Geometry) -> list[_Block]:
    btype = BUSINESS_TYPES[content.kind]
    blocks: list[_Block] = []

    def lines(text: Text, size: float = g.body, centred: bool = False) -> None:
        for i, line in enumerate(_texts(text, lang)):
            blocks.append(_Block("text", line, size if i == 0 else min(size, g.small),
                                 centred))

    def field(label: Text, value: Text | str) -> None:
        lines(Text("{l}：{v}", "{l}: {v}").format(l=label, v=value))

    lines(content.hall.name, g.body, centred=True)
    title = Text("业务受理回执", "Acceptance Receipt")
    if content.marking is not None:
        title = Text("业务受理回执（{m}）", "Acceptance Receipt ({m})").format(m=content.marking)
    lines(title, g.title, centred=True)
    blocks.append(_Block("rule"))
    field(Text("受理号", "Receipt no."), content.receipt_no)
    field(Text("受理时间", "Accepted at"), f"{content.issued_at:%Y-%m-%d %H:%M}")
    field(Text("营业厅 / 终端 / 受理人", "Hall / terminal / clerk"),
          f"{content.hall.hall_id} / {content.terminal_id} / {content.clerk}")
    blocks.append(_Block("rule"))
    field(Text("业务类型", "Business"), btype.label)
    field(Text("户号", "Account"), content.account_number or Text("待分配", "to be assigned"))
    field(Text("客户", "Customer"), f"{content.holder_name}  {content.holder_id_masked}")
    for change in content.changes:
        lines(change)
    field(Text("状态", "Status"), content.status)
    if content.approved_by is not None:
        lines(Text("审批：主管 {s}", "Approved by supervisor {s}").format(s=content.approved_by))
    if content.due is not None:
        field(Text("承诺时限", "Committed by"), f"{content.due:%Y-%m-%d}")
    blocks.append(_Block("rule"))
    for step in content.next_steps:
        lines(step, g.small)
    if content.state_note is not None:
        lines(content.state_note, g.small)
    if content.signature_digest is not None:  # signed on the customer's screen
        blocks.append(_Block("gap"))
        lines(Text("客户签名：", "Customer's signature:"), g.body)
        blocks.append(_Block("signed"))
        lines(Text("签名摘要（SHA-256）：{d}", "Signature digest (SHA-256): {d}").format(
            d=content.signature_digest), g.small)
    elif content.signature_line:  # signed on the paper
        blocks.append(_Block("gap"))
        lines(Text("客户签名：", "Customer's signature:"), g.body)
        blocks.append(_Block("sign"))
    blocks.append(_Block("gap"))
    blocks.append(_Block("qr"))
    lines(Text("扫码核验回执真伪", "Scan to verify this receipt"), g.small, centred=True)
    lines(Text("供电服务热线 {p}", "Service hotline {p}").format(p=content.hall.service_phone),
          g.small, centred=True)
    return blocks


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break a line to fit `width`: between any CJK characters, at spaces in Latin text."""
    out: list[str] = []
    line, line_width = "", 0.0
    for token in _tokens(text):
        # Widths add up (no kerning): each token is measured once, in its fonts.
        token_width = fonts.string_width(token, size)
        if line and line_width + token_width > width:
            out.append(line.rstrip())
            line = token.lstrip()
            line_width = token_width if line else 0.0
        else:
            line, line_width = line + token, line_width + token_width
    out.append(line.rstrip())
    return out


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for ch in text:
        if tokens and ch.isascii() and not ch.isspace() and tokens[-1][-1:].isascii() and (
                not tokens[-1][-1:].isspace()):
            tokens[-1] += ch  # a Latin word stays whole
        else:
            tokens.append(ch)
    return tokens


def _height(blocks: list[_Block], g: _Geometry, usable: float) -> float:
    total = 0.0
    for block in blocks:
        if block.kind == "text":
            total += len(_wrap(block.text, block.size, usable)) * block.size * 1.35
        elif block.kind == "qr":
            total += g.qr_size + 2 * mm
        elif block.kind == "sign":
            total += 10 * mm
        elif block.kind == "signed":
            total += g.signature_box[1] + 2 * mm
        else:
            total += 2.5 * mm
    return total


def _draw_qr(canvas: Canvas, text: str, x: float, top: float, size: float) -> None:
    # One pixel per module, scaled up by the PDF viewer or printer without smoothing: far
    # cheaper than drawing hundreds of rectangles (~1 ms against ~20 ms here).
    matrix = qr_matrix(text)
    quiet = 4
    side = len(matrix) + 2 * quiet
    image = Image.new("1", (side, side), 1)
    image.putdata([0 if dark else 1 for row in _with_quiet_zone(matrix, quiet) for dark in row])
    # Four pixels a module: a renderer that smooths a scaled image blurs only the edges.
    image = image.resize((side * 4, side * 4), Image.Resampling.NEAREST)
    canvas.drawImage(ImageReader(image), x, top - size, width=size, height=size)


def _draw_signature(canvas: Canvas, png: bytes, x: float, top: float,
                    box: tuple[float, float]) -> None:
    """The customer's signature in its framed box, as large as fits, its proportions kept."""
    width, height = box
    canvas.setLineWidth(0.5)
    canvas.rect(x, top - height, width, height)
    image = ImageReader(io.BytesIO(png))
    pixels_wide, pixels_high = image.getSize()
    inner = 1.5 * mm
    scale = min((width - 2 * inner) / pixels_wide, (height - 2 * inner) / pixels_high)
    drawn_wide, drawn_high = pixels_wide * scale, pixels_high * scale
    canvas.drawImage(image, x + (width - drawn_wide) / 2, top - (height + drawn_high) / 2,
                     width=drawn_wide, height=drawn_high)


def _with_quiet_zone(matrix: list[list[bool]], quiet: int) -> list[list[bool]]:
    blank = [False] * (len(matrix[0]) + 2 * quiet)
    rows = [[False] * quiet + row + [False] * quiet for row in matrix]
    return [blank] * quiet + rows + [blank] * quiet


def render_pdf(content: ReceiptContent, *, layout: Layout = "a4",
               lang: ReceiptLang = "zh") -> bytes:
    return render_receipts([content], layout=layout, lang=lang)


def render_receipts(contents: list[ReceiptContent], *, layout: Layout = "a4",
                    lang: ReceiptLang = "zh") -> bytes:
    """One page per receipt; on the roll, each page as long as its receipt."""
    with embedded_font():
        return _render(contents, layout, lang)


def _render(contents: list[ReceiptContent], layout: Layout, lang: ReceiptLang) -> bytes:
    g = _GEOMETRY[layout]
    buffer = io.BytesIO()
    # The CJK font from the start, or an unused, non-embedded Helvetica lands in the PDF.
    canvas = Canvas(buffer, pageCompression=1,
                    initialFontName=FONT,  # type: ignore[arg-type]  # (a stub error)
                    initialFontSize=9)
    canvas.setTitle(contents[0].receipt_no if len(contents) == 1 else "HallClient receipts")
    canvas.setAuthor(contents[0].hall.name.zh)
    for content in contents:
        _draw_page(canvas, content, g, layout, lang)
    canvas.save()
    return buffer.getvalue()


def _draw_page(canvas: Canvas, content: ReceiptContent, g: _Geometry, layout: Layout,
               lang: ReceiptLang) -> None:
    usable = g.width - 2 * g.margin
    blocks = _blocks(content, lang, g)
    height = A4[1] if layout == "a4" else _height(blocks, g, usable) + 2 * g.margin
    canvas.setPageSize((g.width, height))
    y = height - g.margin
    for block in blocks:
        if block.kind == "text":
            for line in _wrap(block.text, block.size, usable):
                y -= block.size * 1.35
                x = g.margin
                if block.centred:
                    x = (g.width - fonts.string_width(line, block.size)) / 2
                fonts.draw_string(canvas, x, y + block.size * 0.3, line, block.size)
        elif block.kind == "rule":
            y -= 2.5 * mm
            canvas.setLineWidth(0.5)
            canvas.line(g.margin, y + 1.25 * mm, g.width - g.margin, y + 1.25 * mm)
        elif block.kind == "sign":
            y -= 10 * mm
            canvas.setLineWidth(0.6)
            canvas.line(g.margin, y + 2 * mm, g.margin + usable * 0.7, y + 2 * mm)
        elif block.kind == "signed":
            assert content.customer_signature is not None
            _draw_signature(canvas, content.customer_signature, g.margin, y, g.signature_box)
            y -= g.signature_box[1] + 2 * mm
        elif block.kind == "qr":
            _draw_qr(canvas, content.qr.encode(), (g.width - g.qr_size) / 2, y, g.qr_size)
            y -= g.qr_size + 2 * mm
        else:
            y -= 2.5 * mm
    canvas.showPage()
