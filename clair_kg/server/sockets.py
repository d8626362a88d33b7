"""Listening sockets for the web processes."""

from __future__ import annotations

__all__ = ["listen_socket", "reserve_port"]

import socket


def listen_socket(host: str, port: int, *, reuse_port: bool = False, listen: bool = True) -> socket.socket:
    """A TCP socket bound to ``host:port``, with ``TCP_NODELAY`` set for the connections it accepts.

    It is made as ``IPPROTO_TCP`` rather than protocol 0: asyncio only turns Nagle's algorithm off on
    accepted connections of a socket whose protocol says TCP, and without that every keep-alive
    request waits ~40 ms for a delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host, port))
        if listen:
            sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    return sock


def reserve_port(host: str, port: int) -> socket.socket:
    """Hold ``host:port`` for the web processes, failing now if something else listens there.

    The port is first bound without ``SO_REUSEPORT`` (so another server on it, even another
    clair-kg, is an error rather than a silent share), then held by a bound socket that never
    listens: the kernel only hands connections to listening sockets, so it takes none of them.
    """
    probe = listen_socket(host, port, listen=False)
    port = probe.getsockname()[1]
    probe.close()
    return listen_socket(host, port, reuse_port=True, listen=False)
