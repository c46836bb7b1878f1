"""The ``kairo`` command line (``kairo = runtime.cli:main``): the parser in ``main``, the operator's
commands in ``ops``, a brand's data commands in ``brands``, ``kairo demo`` in ``demo``."""

from .main import main

__all__ = ["main"]
