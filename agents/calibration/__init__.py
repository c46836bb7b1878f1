"""Calibration: a brand's voice learned from example posts it imports.

* ``importing`` - paste, JSON, JSON Lines, CSV or a URL's text to :class:`Example` rows, with
  errors naming the field and row;
* ``features`` - per-example text features (sentence length, first person, questions,
  numbers, emoji, exclamation, formality ...) and their aggregate;
* ``tone`` - features to tone scores, ``tone_descriptors`` and ``tone_bias`` knobs against the
  background corpus (``data/tone_map.json``);
* ``markers`` - voice markers: n-grams scored by log-odds with an informative Dirichlet prior
  against the shipped background corpus;
* ``banned`` - banned words from taboos and explicit lists;
* ``engine`` - :class:`Calibrator`, the one call from examples to the next snapshot's drafts.
"""

from .background import BackgroundCorpus, load_background
from .engine import Calibrator, chunk_text
from .features import FEATURES, aggregate, measure
from .importing import ExampleSet, Fetch, decode, fetch_examples, parse_examples
from .markers import ScoredPhrase, VoiceMarkerScorer
from .models import (
    MAX_EXAMPLES,
    MIN_EXAMPLES,
    CalibrationEvent,
    CalibrationInput,
    CalibrationResult,
    DnaState,
    Example,
    MarkerEvidence,
    ToneProfile,
)
from .tone import ToneMap

__all__ = [
    "FEATURES",
    "MAX_EXAMPLES",
    "MIN_EXAMPLES",
    "BackgroundCorpus",
    "CalibrationEvent",
    "CalibrationInput",
    "CalibrationResult",
    "Calibrator",
    "DnaState",
    "Example",
    "ExampleSet",
    "Fetch",
    "MarkerEvidence",
    "ScoredPhrase",
    "ToneMap",
    "ToneProfile",
    "VoiceMarkerScorer",
    "aggregate",
    "chunk_text",
    "decode",
    "fetch_examples",
    "load_background",
    "measure",
    "parse_examples",
]
