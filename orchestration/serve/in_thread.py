"""The app served by a thread of this process, for as long as a block runs: the bench's timings and the
browser tests read it over real HTTP without a second process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

STARTUP_SECONDS = 30


@contextmanager
def served_in_thread(app) -> Iterator[str]:
    """Yields the base URL of `app` served on a free loopback port.

    The socket is bound here and handed to the server, so no other process can take the port between
    choosing it and serving on it. A server that cannot start (its thread ends, or it is not up within
    STARTUP_SECONDS) is an error, not a wait without end.
    """
    import uvicorn

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        port = listening.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(f"the server on 127.0.0.1:{port} did not start within {STARTUP_SECONDS} s")
            time.sleep(0.05)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.should_exit = True
            thread.join()
