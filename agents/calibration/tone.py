"""From measured features to a tone profile, tone descriptors and the ``tone_bias`` knobs.

The mapping is data (``data/tone_map.json``): each tone dimension and each knob is a weighted
combination of feature z-scores, a z-score being how far the brand's mean sits from the
background corpus's mean in units of the corpus's per-document spread. ``Φ`` (the normal CDF)
turns the combination into a 0–100 score (or a 0–1 knob): 50 means "like generic prose".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .background import BackgroundCorpus
from .lexicon import DATA_DIR
from .models import ToneProfile


def phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def combine(weights: dict[str, float], z: dict[str, float]) -> float:
    """Weighted mean of z-scores, scaled so that independent unit z-scores stay unit."""
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return sum(w * z[f] for f, w in weights.items()) / norm


@dataclass
class ToneMap:
    dimensions: dict[str, dict[str, Any]]
    knobs: dict[str, dict[str, Any]]
    high_at: float = 70.0
    low_at: float = 30.0
    max_descriptors: int = 6
    min_descriptors: int = 2
    lean_margin: float = 10.0
    min_feature_std: dict[str, float] = field(default_factory=lambda: {"default": 0.01})

    @classmethod
    def load(cls, path: Path = DATA_DIR / "tone_map.json") -> ToneMap:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return cls(**{k: v for k, v in raw.items() if not k.startswith("_")})

    @property
    def vocabulary(self) -> frozenset[str]:
        """Every descriptor this map can give (both poles): calibration owns these labels."""
        return frozenset(d[pole] for d in self.dimensions.values() for pole in ("high", "low"))

    def feature_z(self, means: dict[str, float], background: BackgroundCorpus) -> dict[str, float]:
        floor = self.min_feature_std
        return {
            f: (value - background.feature_means[f]) / max(background.feature_stds[f], floor.get(f, floor["default"]))
            for f, value in means.items()
        }

    def profile(self, means: dict[str, float], background: BackgroundCorpus) -> ToneProfile:
        z = self.feature_z(means, background)
        scores = {name: round(100.0 * phi(combine(d["weights"], z)), 1) for name, d in self.dimensions.items()}
        by_extremity = sorted(scores.items(), key=lambda item: (-abs(item[1] - 50.0), item[0]))
        descriptors = []
        for rank, (name, score) in enumerate(by_extremity):
            strong = score >= self.high_at or score <= self.low_at
            leaning = rank < self.min_descriptors and abs(score - 50.0) >= self.lean_margin
            if len(descriptors) < self.max_descriptors and (strong or leaning):
                descriptors.append(self.dimensions[name]["high" if score > 50.0 else "low"])
        knobs = {name: round(phi(combine(k["weights"], z)), 3) for name, k in self.knobs.items()}
        return ToneProfile(
            scores=scores, descriptors=descriptors, knobs=knobs,
            feature_means={f: round(v, 4) for f, v in means.items()},
            feature_z={f: round(v, 3) for f, v in z.items()},
        )  # fmt: skip
