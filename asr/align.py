"""Draw what a model hears in one file as a PNG: waveform, CTC posteriorgram and decoded words.

Three panels share the time axis (seconds): the waveform; the posteriorgram, exp of
the model's log-probs, one row per token with the blank on top (the CTC posteriors of
Graves et al. 2006: a trained model shows narrow token spikes on a blank background);
and the decoded words at their timings, coloured by confidence. Each word's span is
also shaded on the waveform and outlined on the posteriorgram, so it can be checked
against its spikes.

matplotlib is an optional dependency (`pip install 'asr[plot]'`), imported only when
drawing. The figure is drawn on an Agg canvas directly, so no pyplot state, global
backend or display is touched.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asr.audio import SAMPLE_RATE, Pathlike
from asr.decode.types import Hypothesis

DPI = 100
INCHES_PER_SECOND = 2.0  # room for a word label of ~0.3 s at the font size below
MIN_WIDTH_INCHES, MAX_WIDTH_INCHES = 8.0, 80.0  # longer files get squeezed; plot a cut of them instead
INCHES_PER_TOKEN = 0.14  # one readable y label per posteriorgram row
WAVE_INCHES, WORDS_INCHES, MARGIN_INCHES = 1.4, 0.8, 1.2
MAX_LABELLED_TOKENS = 64  # larger vocabularies label every k-th row only
TOKEN_LABELS = {" ": "space"}  # tokens drawn otherwise on the y axis; the blank is tokens[0]


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""


def plot_alignment(
    path: Pathlike,
    samples: np.ndarray,
    logprobs: np.ndarray,
    tokens: Sequence[str],
    hypothesis: Hypothesis,
    frame_shift: float,
    title: str = "",
) -> None:
    """Write the three-panel PNG to `path`.

    samples: (samples,) at 16 kHz. logprobs: (frames, vocab) natural-log posteriors,
    `frame_shift` seconds apart; `tokens[0]` is the blank. `hypothesis.words` gives the spans.
    """
    figure_class, canvas_class = _matplotlib()
    seconds = max(len(samples) / SAMPLE_RATE, logprobs.shape[0] * frame_shift)
    width = float(np.clip(INCHES_PER_SECOND * seconds, MIN_WIDTH_INCHES, MAX_WIDTH_INCHES))
    posterior_inches = max(2.5, INCHES_PER_TOKEN * len(tokens))
    heights = [WAVE_INCHES, posterior_inches, WORDS_INCHES]
    fig = figure_class(figsize=(width, sum(heights) + MARGIN_INCHES), dpi=DPI, layout="constrained")
    canvas_class(fig)
    wave_ax, post_ax, word_ax = fig.subplots(3, 1, sharex=True, gridspec_kw={"height_ratios": heights})
    _draw_waveform(wave_ax, samples, int(width * DPI))
    image = _draw_posteriorgram(post_ax, logprobs, tokens, frame_shift)
    fig.colorbar(image, ax=post_ax, label="posterior", pad=0.005, fraction=0.02, aspect=30)
    _draw_words(word_ax, hypothesis, [wave_ax, post_ax])
    word_ax.set_xlim(0, seconds)
    word_ax.set_xlabel("time (s)")
    fig.suptitle(title or hypothesis.text or "(no words decoded)", fontsize=10)
    fig.savefig(path, format="png")


def require_matplotlib() -> None:
    """Raise `PlotUnavailable` now, before any work, if the plot cannot be drawn."""
    _matplotlib()


def _matplotlib():
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotUnavailable("asr align needs matplotlib (pip install 'asr[plot]')") from None
    return Figure, FigureCanvasAgg


def _draw_waveform(ax, samples: np.ndarray, width_px: int) -> None:
    """Long signals are drawn as a min/max envelope per pixel column (same picture, far fewer points)."""
    samples = np.asarray(samples, dtype=np.float32)
    if len(samples) > 4 * width_px:
        bins = np.array_split(samples, width_px)
        times = (np.cumsum([len(b) for b in bins]) - len(bins[0]) / 2) / SAMPLE_RATE
        ax.fill_between(times, [b.min() for b in bins], [b.max() for b in bins], color="tab:blue", linewidth=0.5)
    else:
        ax.plot(np.arange(len(samples)) / SAMPLE_RATE, samples, color="tab:blue", linewidth=0.6)
    peak = float(np.abs(samples).max()) or 1.0
    ax.set_ylim(-1.05 * peak, 1.05 * peak)
    ax.set_ylabel("waveform")
    ax.tick_params(labelleft=False, left=False)


def _draw_posteriorgram(ax, logprobs: np.ndarray, tokens: Sequence[str], frame_shift: float):
    """One row per token, blank on top; exp(log-probs) in [0, 1]."""
    frames, vocab = logprobs.shape
    image = ax.imshow(
        np.exp(logprobs).T, aspect="auto", origin="upper", interpolation="nearest", cmap="magma", vmin=0.0, vmax=1.0,
        extent=(0.0, frames * frame_shift, vocab - 0.5, -0.5),
    )  # fmt: skip
    step = -(-vocab // MAX_LABELLED_TOKENS)  # ceil
    rows = np.arange(0, vocab, step)
    labels = ["blank" if i == 0 else TOKEN_LABELS.get(tokens[i], tokens[i]) for i in rows]
    ax.set_yticks(rows, labels, fontsize=7, fontfamily="monospace")
    ax.set_ylabel("token")
    return image


def _draw_words(ax, hypothesis: Hypothesis, spanned_axes: list) -> None:
    """Each word as a box over its span, coloured from red (confidence 0) to green (1); labels alternate rows."""
    from matplotlib import colormaps

    colours = colormaps["RdYlGn"]
    for i, word in enumerate(hypothesis.words):
        row = i % 2
        ax.axvspan(word.start, word.end, ymin=0.5 * (1 - row), ymax=0.5 * (2 - row), color=colours(word.confidence), alpha=0.8)
        ax.text((word.start + word.end) / 2, 1.5 - row, word.word, ha="center", va="center", fontsize=9, clip_on=True)
        spanned_axes[0].axvspan(word.start, word.end, color=colours(word.confidence), alpha=0.15, linewidth=0)
        for t in (word.start, word.end):
            spanned_axes[1].axvline(t, color="white", linewidth=0.6, alpha=0.6, linestyle=":")
    ax.set_ylim(0, 2)
    ax.set_yticks([])
    ax.set_ylabel("words")
    ax.text(1.0, 1.03, "colour: confidence, red 0 to green 1", transform=ax.transAxes, ha="right", va="bottom", fontsize=7)
