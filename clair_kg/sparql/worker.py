"""A query worker process: ``python -m clair_kg.sparql.worker --fd N (--nquads FILE | --store-path DIR)``.

It loads the graph once (the N-Quads hand-over into an in-memory store, or an on-disk store opened
read-only), says ``ready`` on its socket, then answers one framed job at a time until the socket
closes. It asks Linux to kill it when its parent dies (``PR_SET_PDEATHSIG``), so a crashed web
process never leaves a worker spinning on a runaway query. The parent kills a worker that overruns
the time limit; that is the only way pyoxigraph evaluation can be stopped.
"""

from __future__ import annotations

__all__ = ["die_with_parent", "main"]

import argparse
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Sequence

from .wire import HEADER, Reply, decode_job, encode_reply, frame

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int = signal.SIGKILL) -> None:
    """Ask Linux to send ``sig`` to this process when ``parent`` exits (a no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _Frames:
    """The jobs arriving on ``sock``, one frame at a time, read with as few ``recv`` calls as can be.

    A job is one small frame, so one ``recv`` of up to 64 KiB usually holds all of it: one system
    call per job instead of one for the length and another for the payload.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = bytearray()

    def next(self) -> bytes | None:
        """The next frame's payload, or None once the socket is closed."""
        buffer = self._buffer
        while True:
            if len(buffer) >= HEADER.size:
                end = HEADER.size + HEADER.unpack_from(buffer)[0]
                if len(buffer) >= end:
                    payload = bytes(buffer[HEADER.size:end])
                    del buffer[:end]
                    return payload
            chunk = self.sock.recv(65_536)
            if not chunk:
                return None
            buffer += chunk


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="clair_kg.sparql.worker")
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--parent", type=int, required=True)
    parser.add_argument("--nquads")
    parser.add_argument("--store-path")
    args = parser.parse_args(argv)
    die_with_parent(args.parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the whole group; the parent decides

    import pyoxigraph

    from ..errors import ClairKgError
    from ..store.evaluation import merged_default_graph
    from .evaluate import evaluate

    sock = socket.socket(fileno=args.fd)
    if args.store_path:
        store = pyoxigraph.Store.read_only(args.store_path)
    else:
        store = pyoxigraph.Store()
        if args.nquads:
            store.bulk_load(path=args.nquads, format=pyoxigraph.RdfFormat.N_QUADS)
            merged_default_graph(store)  # as every store's loading does
    sock.sendall(frame(b"ready"))
    frames = _Frames(sock)
    while True:
        payload = frames.next()
        if payload is None:
            return 0
        try:
            reply = evaluate(store, decode_job(payload))
        except Exception as exc:  # noqa: BLE001 - a worker must answer, whatever happened
            reply = Reply.from_error(ClairKgError(f"the query worker failed: {type(exc).__name__}: {exc}"))
        sock.sendall(frame(encode_reply(reply)))


if __name__ == "__main__":
    raise SystemExit(main())
