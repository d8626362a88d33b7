"""Running the web processes of ``clair-kg serve``.

- :mod:`.handover` — what the parent (which validated and published the release) leaves for the web
  processes: settings, the release's N-Quads and its published files, in one folder;
- :mod:`.process` — one web process: open the store, build the runtime and the app, run uvicorn;
  with ``query_isolation = restart`` it retires itself after a runaway query;
- :mod:`.supervisor` — several web processes on one port, restarted when they crash;
- :mod:`.sockets` — listening sockets (``SO_REUSEPORT``, ``TCP_NODELAY``).
"""
