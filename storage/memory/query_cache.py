"""A small LRU of query vectors: the same search text is embedded once, not once per request.

Searches repeat: the scout and the writer ask a brand's memory about the same pillar or card
text again and again, and embedding one text is ~10-20 ms of CPU on the model while the index
answers in ~2 ms. Vectors depend only on the text and the model, so a hit is exact, never stale;
the cache is bounded by entries (each vector is ~1.5 KiB of float32).
"""

from __future__ import annotations

from collections import OrderedDict
from threading import Lock

import numpy as np


class QueryVectorCache:
    """Least-recently-used map of ``text -> vector`` for one embedding model, thread-safe."""

    def __init__(self, max_entries: int = 512) -> None:
        if max_entries < 0:
            raise ValueError("max_entries must be >= 0")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = Lock()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> np.ndarray | None:
        with self._lock:
            vector = self._entries.get(text)
            if vector is None:
                self.misses += 1
                return None
            self._entries.move_to_end(text)
            self.hits += 1
            return vector

    def put(self, text: str, vector: np.ndarray) -> None:
        if self.max_entries == 0:
            return
        frozen = np.array(vector, dtype=np.float32, copy=True)
        frozen.setflags(write=False)  # shared by every caller: nobody may change it in place
        with self._lock:
            self._entries[text] = frozen
            self._entries.move_to_end(text)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
