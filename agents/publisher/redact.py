"""Strip credentials from anything that is stored or logged (raw responses, error bodies)."""

from __future__ import annotations

import re
from typing import Any

SECRET_KEY = re.compile(r"token|secret|password|authorization|cookie|api[_-]?key|jwt", re.IGNORECASE)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every credential-looking key dropped (at any depth)."""
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not SECRET_KEY.search(str(k))}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value
