"""Several web processes on one port: ``clair-kg serve --workers N``.

Each child (``python -m clair_kg.server.process``) binds its *own* ``SO_REUSEPORT`` listening
socket, so the kernel spreads new connections over the processes by a hash of the client's address.
With one shared socket (uvicorn's way) whichever process wakes first takes them, and under a burst
of keep-alive connections one process often gets all of them while the other idles.
"""

from __future__ import annotations

__all__ = ["supervise"]

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from .process import GRACE, RETIRED

#: a child that crashes this many times within _CRASH_WINDOW seconds is not started again
_MAX_CRASHES = 5
_CRASH_WINDOW = 60.0


def supervise(handover: Path, host: str, port: int, workers: int) -> int:
    """Run ``workers`` web processes on ``host:port`` until SIGTERM or SIGINT; restart any that crash.

    A web process retiring after a runaway query sends ``SIGUSR1`` first: its replacement starts at
    once, while it still finishes its other requests, and its exit (code ``RETIRED``) is then not a
    crash. On SIGTERM/SIGINT every child gets SIGTERM (uvicorn then finishes its requests and its
    app's shutdown stops the query workers) and, after the grace period, SIGKILL; each child also
    gets SIGTERM from the kernel if this process dies first, so no web process outlives it.
    """
    stopping = False
    wanted = 0  # replacements asked for by retiring children, not yet started

    def _stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    def _replace(signum: int, frame: object) -> None:
        nonlocal wanted
        wanted += 1

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, _replace)
    cmd = [sys.executable, "-m", "clair_kg.server.process", "--handover", str(handover),
           "--host", host, "--port", str(port), "--parent", str(os.getpid())]
    children: list[subprocess.Popen[bytes]] = []
    crashes: list[float] = []
    spare = 0  # replacements running for children that are retiring
    status = 0
    try:
        children = [subprocess.Popen(cmd, stdin=subprocess.DEVNULL) for _ in range(workers)]
        while not stopping:
            while wanted and not stopping:
                wanted -= 1
                spare += 1
                children.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
            time.sleep(0.05)
            for child in list(children):
                if stopping or child.poll() is None:
                    continue
                children.remove(child)
                if child.returncode == RETIRED:
                    if spare > 0:
                        spare -= 1
                        continue
                else:
                    now = time.monotonic()
                    crashes = [t for t in crashes if now - t < _CRASH_WINDOW] + [now]
                    if len(crashes) > _MAX_CRASHES:
                        sys.stderr.write(
                            f"clair-kg: web processes keep exiting (last code {child.returncode}); stopping\n"
                        )
                        stopping, status = True, 1
                        break
                    sys.stderr.write(f"clair-kg: web process {child.pid} exited with {child.returncode}; restarting\n")
                children.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL))
    finally:
        _stop_children(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


def _stop_children(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + GRACE + 3
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
