"""Running the web processes of ``clair-kg serve``.

- :mod:`.handover` — what the CLI (which validated and published the release) leaves for the store
  holder: settings, the release's N-Quads and its published files, in one folder;
- :mod:`.holder` — what the store holder prepares once: the in-memory store loaded once, the search
  index (cached by release), the runtime and the app;
- :mod:`.supervisor` — the store holder's process (``python -m clair_kg.server.supervisor``, which
  the CLI execs): forks the web processes and their query workers from the loaded store, restarts
  crashed ones, stops them all;
- :mod:`.process` — one web process: uvicorn on its own socket; with ``query_isolation = restart``
  it retires itself after a runaway query;
- :mod:`.sockets` — listening sockets (``SO_REUSEPORT``, ``TCP_NODELAY``);
- :mod:`.proctitle` — what ``ps`` shows for a forked process.
"""
