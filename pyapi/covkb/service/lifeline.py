"""A child process of covkb serve dies with the process that started it.

The supervisor's server processes (and every engine worker) ask the kernel
for SIGTERM when their parent dies (Linux's ``PR_SET_PDEATHSIG``), so that
killing ``covkb serve``, even with SIGKILL, leaves no server holding the
port with nothing watching it; SIGTERM lets them finish the requests they
hold first.  Elsewhere a thread watches the parent's pid instead.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """Get SIGTERM when the process `parent` (this one's parent) is gone;
    at once if it is gone already."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0:
            if os.getppid() != parent:  # it died before prctl: no signal will come
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="covkb-lifeline", daemon=True).start()
