"""covkb's app under gunicorn with uvicorn's worker class, for the benchmark's
comparison of covkb serve's own supervisor with the standard process model
(``python bench/service.py --compare-gunicorn``).

Each gunicorn worker decides in its own process exactly as a server process
of ``covkb serve --mode inline`` does: the same app (``create_app``), the
same ``InlineEngines`` (the engines loaded once in the process, in the
app's lifespan; quick operations decided in the event loop, anything long
sent to an engine worker of its own), the same uvicorn settings (uvloop,
the one-write httptools protocol, keep-alive 5 s, 60 s graceful shutdown,
no access log).  What differs is only what the supervisor does: gunicorn's
arbiter binds the socket, forks the workers, replaces one that exits, and
kills one that does not notify it within ``--timeout`` (uvicorn's event
loop notifies it every half timeout); the workers take connections from the
shared socket with a plain accept.  The settings come from the environment
(``COVKB_GUNICORN_SETTINGS``: ``dataclasses.asdict(Settings)`` as JSON)::

    COVKB_GUNICORN_SETTINGS='{...}' PYTHONPATH=pyapi:bench python -m gunicorn -c python:gunicorn_app \\
      -k gunicorn_app.CovkbUvicornWorker -w 2 -b 127.0.0.1:8000 'gunicorn_app:app()'

Nothing here is imported by covkb itself; only the benchmark runs it.
"""

from __future__ import annotations

import json
import os
from typing import Any

from uvicorn_worker import UvicornWorker


def _protocol() -> Any:
    from covkb.service.app import _http_protocol  # (imports no engine: safe in gunicorn's master)

    return _http_protocol()


class CovkbUvicornWorker(UvicornWorker):
    """uvicorn's gunicorn worker with the settings a covkb server process
    gives uvicorn (server_process.server_main)."""

    CONFIG_KWARGS: dict[str, Any] = {"loop": "auto", "http": _protocol(), "lifespan": "on", "access_log": False,
                                     "timeout_keep_alive": 5, "timeout_graceful_shutdown": 60}


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn's hook, in each worker just after the fork (``-c
    python:gunicorn_app``): a session of its own, as covkb serve starts each
    server process (``start_new_session``).  Where the kernel groups
    processes by session for CPU time (CFS autogroup, on by default on many
    distributions), this gives each worker the share a covkb server process
    gets when other sessions load the machine; without it gunicorn's workers
    would share one group with the load generator."""
    os.setsid()


def app() -> Any:
    """The app of one gunicorn worker (called in the worker, after the fork:
    gunicorn without --preload), its engines loaded in its lifespan.  The
    worker has a board of its own (a row of one: its pid and the
    determinations it answered, in /healthz); no board is shared between
    gunicorn workers."""
    from covkb.service.app import Settings, create_app, settings_from_json
    from covkb.service.server_process import InlineEngines
    from covkb.service.servers import Board

    settings: Settings = settings_from_json(json.loads(os.environ["COVKB_GUNICORN_SETTINGS"]))
    board = Board.create(1)
    row = board.row(0)
    row.pid, row.ready = os.getpid(), 1
    return create_app(settings, engines=lambda config: InlineEngines(config, board, 0))
