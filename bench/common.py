"""What the bench scripts share. They run as `python bench/NAME.py`, so this folder is on the
import path."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on the loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class HarnessError(RuntimeError):
    """The benchmark could not be run; this, and only this, makes the exit status non-zero."""
