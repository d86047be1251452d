"""Receipts: milliseconds per receipt after the first, and file size, A4 and 80 mm roll.

Each sample receipt (one per business type, `hallclient.receipts.testpage`) is rendered by
`hallclient.receipts.render.render_pdf`, in Chinese as the counter prints it, over and over;
the first receipt of a fresh process (it loads and registers the font) is timed apart, in a
subprocess. Raw limit, same run: a bare reportlab canvas with the same font, registered the
same way, drawing one line of the same text (the receipt's title) into a page of the same size:
what a PDF with an embedded font subset costs at the least, in time and in bytes.

The rare-name receipt is the transfer's, to 王𬌗䶮 (Extensions E and A): its two rare
characters come from the chain's HanaMinA, read on the first such receipt of a process (timed
apart, in a subprocess too); its raw limit is the common receipts' median.

    python -m bench.receipts [--repeat 200]
"""

from __future__ import annotations

import argparse
import io
import statistics
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from functools import partial

from reportlab.pdfgen.canvas import Canvas

from bench.common import BenchContext, Figure, percentile, time_calls
from hallclient.receipts.content import HallInfo, ReceiptContent
from hallclient.receipts.render import _GEOMETRY, Layout, embedded_font, render_pdf
from hallclient.receipts.testpage import sample_receipts
from hallcore.domain.business import BusinessKind
from hallcore.domain.text import Text

AREA = "receipts"
GOAL_MS = 30.0
GOAL_KB = 60.0
LAYOUTS: tuple[Layout, ...] = ("a4", "80mm")
HALL = HallInfo("GZ-TH-01", Text("天河供电营业厅", "Tianhe service hall"))
RARE_NAME = "王\U0002C317\u4DAE"  # 王𬌗䶮
FIRST_RECEIPT = """
import time
started = time.perf_counter()
from datetime import UTC, datetime
from hallcore.domain.text import Text
from hallclient.receipts.content import HallInfo
from hallclient.receipts.render import render_pdf
from hallclient.receipts.testpage import sample_receipts
[receipt] = sample_receipts(HallInfo("GZ-TH-01", Text("天河", "Tianhe")), "T01",
                            datetime(2026, 11, 25, 3, tzinfo=UTC))[:1]
imported = time.perf_counter()
render_pdf(receipt, layout="80mm")
print((time.perf_counter() - imported) * 1000, (imported - started) * 1000)
"""
FIRST_RARE_RECEIPT = """
import time
from bench.receipts import rare_name_receipt
from hallclient.receipts.render import load_font, render_pdf
receipt = rare_name_receipt()
load_font()  # as the counter window does when it opens
started = time.perf_counter()
render_pdf(receipt, layout="80mm")
print((time.perf_counter() - started) * 1000)
"""


def samples() -> list[ReceiptContent]:
    return sample_receipts(HALL, "T01", datetime(2026, 11, 25, 3, tzinfo=UTC))


def rare_name_receipt(name: str = RARE_NAME) -> ReceiptContent:
    """The sample transfer, to a new holder called `name` (tests/client use it too)."""
    transfer = next(r for r in samples() if r.kind == BusinessKind.TRANSFER)
    old = transfer.holder_name
    changes = tuple(Text(c.zh.replace(old, name), c.en.replace(old, name))
                    for c in transfer.changes)
    return replace(transfer, holder_name=name, changes=changes)


def bare_pdf(layout: Layout, text: str) -> bytes:
    """One line of `text` in the embedded font on a page of the layout's width."""
    g = _GEOMETRY[layout]
    with embedded_font() as font:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=(g.width, 300), pageCompression=1,
                        initialFontName=font,  # type: ignore[arg-type]  # (a stub error)
                        initialFontSize=9)
        canvas.setFont(font, g.title)
        canvas.drawString(g.margin, 200, text)
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def first_receipt_ms() -> tuple[float, float]:
    """(ms of the first receipt of a fresh process, ms of its imports)."""
    out = subprocess.run([sys.executable, "-c", FIRST_RECEIPT], capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), float(out[1])


def first_rare_receipt_ms() -> float:
    """ms of the first rare-name receipt of a fresh process whose CJK font is loaded."""
    return float(subprocess.run([sys.executable, "-c", FIRST_RARE_RECEIPT], capture_output=True,
                                text=True, check=True).stdout)


def rare_figures(layout: Layout, repeat: int, common: list[Figure]) -> list[Figure]:
    """The rare-name receipt's time and size, beside the common receipts' (`layout_figures`)."""
    common_ms, common_kb = common[0].value, common[1].value
    receipt = rare_name_receipt()
    render_pdf(receipt, layout=layout)  # its fonts are loaded once per process
    times = time_calls(partial(render_pdf, receipt, layout=layout), repeat)
    size = len(render_pdf(receipt, layout=layout)) / 1024
    median = statistics.median(times)
    name = "A4" if layout == "a4" else "80 mm roll"
    return [
        Figure(AREA, f"{name} receipt, rare name, each after the first", median, "ms",
               raw=common_ms, raw_label="the common receipts, same run",
               goal=f"< {GOAL_MS:g} ms", met=median < GOAL_MS,
               notes=f"transfer to {RARE_NAME} (HanaMinA for 2 characters); median of "
                     f"{len(times)}; p95 {percentile(times, 95):.1f} ms"),
        Figure(AREA, f"{name} receipt, rare name, file size", size, "KB", raw=common_kb,
               raw_label="the largest common receipt, same run", goal=f"< {GOAL_KB:g} KB",
               met=size < GOAL_KB,
               notes="a second embedded font subset, of HanaMinA"),
    ]


def layout_figures(layout: Layout, receipts: list[ReceiptContent], repeat: int) -> list[Figure]:
    render_pdf(receipts[0], layout=layout)  # the font is loaded once per process
    times: list[float] = []
    sizes: list[int] = []
    rounds = max(1, repeat // len(receipts))
    for receipt in receipts:
        times += time_calls(partial(render_pdf, receipt, layout=layout), rounds)
        sizes.append(len(render_pdf(receipt, layout=layout)))
    title = "业务受理回执（样张）"
    bare_times = time_calls(lambda: bare_pdf(layout, title), rounds * len(receipts))
    bare_kb = len(bare_pdf(layout, title)) / 1024
    median = statistics.median(times)
    largest = max(sizes) / 1024
    name = "A4" if layout == "a4" else "80 mm roll"
    return [
        Figure(AREA, f"{name} receipt, each after the first", median, "ms",
               raw=statistics.median(bare_times), raw_label="bare canvas, same font, one line",
               goal=f"< {GOAL_MS:g} ms", met=median < GOAL_MS,
               notes=f"median of {len(times)} over {len(receipts)} business types; p95 "
                     f"{percentile(times, 95):.1f} ms"),
        Figure(AREA, f"{name} receipt, file size", largest, "KB", raw=bare_kb,
               raw_label="bare canvas, same font, one line", goal=f"< {GOAL_KB:g} KB",
               met=largest < GOAL_KB,
               notes=f"largest of {len(receipts)} business types; smallest "
                     f"{min(sizes) / 1024:.1f} KB"),
    ]


def run(ctx: BenchContext) -> list[Figure]:
    repeat = 21 if ctx.quick else 210
    receipts = samples()
    figures: list[Figure] = []
    for layout in LAYOUTS:
        common = layout_figures(layout, receipts, repeat)
        figures += common + rare_figures(layout, repeat, common)
    first, imports = first_receipt_ms()
    figures.append(Figure(AREA, "first receipt of a process (loads the font)", first, "ms",
                          notes=f"fresh process, 80 mm; its imports took {imports:.0f} ms "
                                "more; no goal"))
    figures.append(Figure(AREA, "first rare-name receipt of a process (loads HanaMinA)",
                          first_rare_receipt_ms(), "ms",
                          notes="fresh process, 80 mm, the CJK font loaded before; no goal"))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else "")
    parser.add_argument("--repeat", type=int, default=210)
    args = parser.parse_args()
    receipts = samples()
    for layout in LAYOUTS:
        common = layout_figures(layout, receipts, args.repeat)
        for figure in common + rare_figures(layout, args.repeat, common):
            print(f"{figure.name}: {figure.value:.1f} {figure.unit} (raw {figure.raw:.1f}) "
                  f"{figure.notes}")


if __name__ == "__main__":
    main()
