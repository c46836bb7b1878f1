"""URL normalization: the one form two links to the same page share.

Two URLs are the same document when they differ only in scheme (http/https), a ``www.``
prefix, letter case of the host, a default port, a trailing slash, a fragment, the order of
query parameters or click-tracking parameters (``utm_*``, ``fbclid``, ... listed in
``data/tracking_params.txt``). Paths keep their case: servers treat them as case-sensitive.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from storage.errors import Invalid

_DEFAULT_PORTS = {"http": 80, "https": 443}


@lru_cache(maxsize=1)
def tracking_params() -> tuple[frozenset[str], tuple[str, ...]]:
    """(exact names, prefixes) of tracking parameters, read once from the data file."""
    text = (resources.files("agents.ingest") / "data" / "tracking_params.txt").read_text()
    names = [line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    exact = frozenset(n for n in names if not n.endswith("*"))
    prefixes = tuple(n[:-1] for n in names if n.endswith("*"))
    return exact, prefixes


def _is_tracking(name: str) -> bool:
    exact, prefixes = tracking_params()
    lowered = name.lower()
    return lowered in exact or lowered.startswith(prefixes)


def normalize_url(url: str, *, field: str = "url") -> str:
    """The canonical form of ``url`` (always ``https``); :class:`Invalid` naming ``field`` when
    it is not an absolute http(s) URL."""
    raw = url.strip()
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise Invalid(f"{field} must be an absolute http(s) URL, got {url[:200]!r}", details={"field": field})
    host = parts.hostname.lower().rstrip(".")
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        pass  # keep the host as given; it still compares equal to itself
    if host.startswith("www."):
        host = host[4:]
    try:
        port = parts.port
    except ValueError:
        raise Invalid(f"{field} has an invalid port: {url[:200]!r}", details={"field": field}) from None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    # Re-quote the path so %7E and ~ (and other equivalent spellings) compare equal.
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~")
    path = path.rstrip("/")
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)))
    return urlunsplit(("https", netloc, path, query, ""))


def url_key(url: str) -> str:
    """The normalized URL used as a deduplication key."""
    return normalize_url(url)
