"""Keep a local Ray on 127.0.0.1.

Ray binds to the machine's network address unless told otherwise, and it reads the switch
when ``ray`` is first imported: call ``prepare_local_ray()`` before anything imports Ray. A
process that joins a cluster (``RAY_ADDRESS`` set) is left alone, and keeps token auth on.
"""

from __future__ import annotations

import os
import sys


def prepare_local_ray() -> bool:
    """Set the loopback switches for a local run; False when joining a cluster."""
    if os.environ.get("RAY_ADDRESS"):
        return False
    if "ray" in sys.modules:
        raise RuntimeError("prepare_local_ray() must run before ray is imported")
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    # Token auth guards a cluster; a local run on loopback is reachable by this machine only.
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    return True
