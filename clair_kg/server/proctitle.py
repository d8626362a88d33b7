"""Name a forked process in ``ps`` (``/proc/PID/cmdline``): what it is, not the command it was forked from.

A process forked from the store holder keeps the holder's command line, so ``ps`` would show every
web process and query worker as ``python -m clair_kg.server.supervisor …``. :func:`set_title`
writes the role over the original argument strings, as ``setproctitle(3)`` does: Linux reads
``cmdline`` from that memory (``arg_start``..``arg_end`` in ``/proc/self/stat``). The title is cut to
the space the original arguments took; elsewhere, or if anything fails, it does nothing.
"""

from __future__ import annotations

__all__ = ["set_title"]

import ctypes
import sys
from pathlib import Path

# /proc/PID/stat fields 48 and 49 (arg_start, arg_end), counted after the ")" that ends field 2
_ARG_START = 48 - 3


def set_title(title: str) -> bool:
    """Show ``title`` as this process's command line; True if it was written."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        start, end = int(fields[_ARG_START]), int(fields[_ARG_START + 1])
    except (OSError, IndexError, ValueError):
        return False
    size = end - start
    if start <= 0 or size <= 1:
        return False
    data = title.encode("utf-8", "replace")[: size - 1]
    # NUL-padded, ending in NUL: the kernel then reads exactly this area (not into the environment)
    ctypes.memmove(start, data + b"\0" * (size - len(data)), size)
    return True
