"""The taboo gate's calibration against ordinary text.

A raw cosine means different things for different probe sets: one kind's acts sit close to
any sentence about money, another's to nothing at all. So the lean of a sentence (mean of its
``top_k`` best act cosines minus the same for the contrasts) and its best act cosine are read
against the same two measures on ordinary brand posts (``data/taboo_background.txt``, with the
brand's own recent posts among the contrasts as for the post), as z-scores: how many standard
deviations above what ordinary text scores for these probes. The background's vectors are
cached like the probes', so this costs one matrix product per taboo and check.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .rules import Context, load_json, load_lines
from .taboo_probes import TabooProbes


def _top_mean(similarities: np.ndarray, k: int) -> np.ndarray:
    """Per row, the mean of the ``k`` highest similarities (steadier than the single best)."""
    if similarities.shape[1] == 0:
        return np.zeros(similarities.shape[0], dtype=np.float32)
    k = max(1, min(k, similarities.shape[1]))
    return np.sort(similarities, axis=1)[:, -k:].mean(axis=1)


async def lean_and_act(ctx: Context, probes: TabooProbes, texts: list[str], ordinary: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per text: its lean to the act (act minus contrast) and its best cosine to an act."""
    k = load_json("taboo.json")["top_k"]
    vectors = await ctx.vectors(texts)
    act = vectors @ (await ctx.vectors(list(probes.act))).T
    contrast = vectors @ (await ctx.vectors(list(probes.contrast) + ordinary)).T
    return _top_mean(act, k) - _top_mean(contrast, k), act.max(axis=1)


def background_units() -> tuple[list[str], list[str]]:
    """The background's sentences, and its adjacent lines as pairs (the post's units are both)."""
    lines = list(load_lines("taboo_background.txt"))
    return lines, [f"{a} {b}" for a, b in zip(lines[::2], lines[1::2], strict=False)]


@dataclass(frozen=True)
class Spread:
    """Mean and spread of the lean and the best act cosine of one shape of ordinary text."""

    lean_mean: float
    lean_sd: float
    act_mean: float
    act_sd: float

    @classmethod
    def of(cls, lean: np.ndarray, act: np.ndarray, floor: float) -> Spread:
        return cls(float(lean.mean()), max(float(lean.std()), floor), float(act.mean()), max(float(act.std()), floor))


BACKGROUNDS_MAX = 1024


@dataclass(frozen=True)
class Background:
    """The spreads of ordinary sentences and of ordinary pairs of sentences: a pair is longer
    and scores higher against everything, so each unit is read against its own shape."""

    sentence: Spread
    pair: Spread

    @classmethod
    async def of(cls, ctx: Context, probes: TabooProbes, ordinary: list[str]) -> Background:
        """The background of a taboo's probes (with the brand's recent posts as contrasts),
        kept per process: the same brand's checks measure it once."""
        assert ctx.embedder is not None
        key = (ctx.embedder.model_name, probes.act, probes.contrast, tuple(ordinary))
        if (hit := _backgrounds.get(key)) is not None:
            _backgrounds.move_to_end(key)
            return hit
        floor = load_json("taboo.json")["sd_floor"]
        singles, pairs = background_units()
        lean, act = await lean_and_act(ctx, probes, singles + pairs, ordinary)
        n = len(singles)
        background = cls(Spread.of(lean[:n], act[:n], floor), Spread.of(lean[n:], act[n:], floor))
        _backgrounds[key] = background
        while len(_backgrounds) > BACKGROUNDS_MAX:
            _backgrounds.popitem(last=False)
        return background

    def _by_shape(self, values: np.ndarray, is_pair: np.ndarray, mean: str, sd: str) -> np.ndarray:
        s, p = self.sentence, self.pair
        means = np.where(is_pair, getattr(p, mean), getattr(s, mean))
        sds = np.where(is_pair, getattr(p, sd), getattr(s, sd))
        return (values - means) / sds

    def lean_z(self, lean: np.ndarray, is_pair: np.ndarray) -> np.ndarray:
        return self._by_shape(lean, is_pair, "lean_mean", "lean_sd")

    def act_z(self, act: np.ndarray, is_pair: np.ndarray) -> np.ndarray:
        return self._by_shape(act, is_pair, "act_mean", "act_sd")


_backgrounds: OrderedDict[tuple, Background] = OrderedDict()
