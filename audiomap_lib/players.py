"""Audio players for notebooks: one player, or a labelled grid of them (Chapters 1-2).

A grid lets a chapter put sounds side by side ("before / after",
"4 bits / 8 bits / 16 bits"). Players are HTML ``<audio>`` elements with the
WAV data embedded, so they also play in the built book, without a kernel.
"""
from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from IPython.display import HTML, Audio

from .io import check_mono, check_sample_rate
from .utils import check_positive_int

__all__ = ["make_player", "make_player_grid"]

Item = torch.Tensor | np.ndarray


def make_player(waveform: Item, sr: int, normalize: bool = False) -> Audio:
    """An IPython audio player for a mono waveform.

    Args:
        waveform: shape ``(samples,)`` or ``(1, samples)``, values in [-1, 1].
        sr: sample rate in Hz.
        normalize: scale to full volume. Off by default so that loudness
            differences stay audible; then values beyond [-1, 1] raise a
            ``ValueError`` (they would be clipped).

    Returns:
        :class:`IPython.display.Audio`.
    """
    wav = check_mono(waveform)
    sr = check_sample_rate(sr)
    data = wav.detach().cpu().numpy()
    peak = float(np.abs(data).max())
    if not normalize and peak > 1.0:
        raise ValueError(
            f"waveform peaks at {peak:.3f} > 1.0 and would clip; pass normalize=True or scale it"
        )
    return Audio(data, rate=sr, normalize=normalize)


def make_player_grid(
    items: Mapping[str, Item] | Sequence[tuple[str, Item]],
    sr: int,
    columns: int = 3,
    title: str | None = None,
    normalize: bool = False,
) -> HTML:
    """A table of labelled audio players.

    Args:
        items: ``{label: waveform}`` or a list of ``(label, waveform)`` pairs;
            all at the same rate ``sr``.
        sr: sample rate in Hz.
        columns: players per row.
        title: a caption above the table.
        normalize: see :func:`make_player`.

    Returns:
        :class:`IPython.display.HTML` (display it, or make it a cell's last line).
    """
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    if not pairs:
        raise ValueError("items is empty; expected at least one (label, waveform) pair")
    columns = check_positive_int(columns, "columns")
    sr = check_sample_rate(sr)
    cells = []
    for label, wav in pairs:
        player = make_player(wav, sr, normalize=normalize)._repr_html_()
        cells.append(
            f'<td style="padding:4px 10px;vertical-align:top;text-align:left">'
            f'<div style="font-weight:600;margin-bottom:2px">{html.escape(str(label))}</div>{player}</td>'
        )
    rows = ["<tr>" + "".join(cells[i:i + columns]) + "</tr>" for i in range(0, len(cells), columns)]
    caption = f"<caption style='caption-side:top;text-align:left'>{html.escape(title)}</caption>" if title else ""
    return HTML(f'<table class="audiomap-players">{caption}{"".join(rows)}</table>')
