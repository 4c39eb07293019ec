"""The /statistik chart: coverage per kecamatan, and its trend over the last weeks (matplotlib, no display)."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import matplotlib as mpl

mpl.use("Agg")  # files only: no display on a server, and no pyplot state shared between threads

from matplotlib.figure import Figure

from bot.texts import t
from domain.stats import AreaStats

MAX_BARS = 30  # more would not be readable in a chat; the lowest coverage first is what an admin acts on


def coverage_chart(areas: Sequence[AreaStats], weekly: Sequence[AreaStats], name: Callable[[str], str]) -> bytes:
    """A PNG: bars of coverage (%) per kecamatan, lowest first, and a line of coverage per week."""
    shown = sorted(areas, key=lambda a: a.coverage)[:MAX_BARS]
    figure = Figure(figsize=(8, 3 + 0.28 * len(shown)), dpi=100, layout="constrained")
    bars, line = figure.subplots(2, 1, height_ratios=[max(len(shown), 4), 4])
    bars.barh([name(a.kecamatan) for a in shown], [100 * a.coverage for a in shown], color="#2e7d32")
    bars.set_xlim(0, 100)
    bars.invert_yaxis()
    bars.set_title(t("stats.chart_bars"))
    bars.set_xlabel("%")
    line.plot([w.kecamatan[5:] for w in weekly], [100 * w.coverage for w in weekly], marker="o", color="#1565c0")
    line.set_ylim(0, 100)
    line.set_title(t("stats.chart_trend"))
    line.set_ylabel("%")
    line.tick_params(axis="x", labelrotation=45)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
