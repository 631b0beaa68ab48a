"""The warm worker: workflow steps run in processes forked from one that has already imported
torch, pandas, matplotlib and this package.

Starting Python, importing torch and the rest costs about two seconds per job, while
most jobs of the default target compute for less than that. So a job's script hands
the job to a worker server over a Unix socket, together with its stdin, stdout and
stderr: the server forks, the child runs the step exactly as the script would have
(same function, same logging to the job's log and stderr), reports the exit status,
and exits. Nothing about the workflow changes: one job per cell, the same outputs,
the same caching; only where the step's Python runs.

Safety:
- the socket's name is a hash of the interpreter and of every source file of the
  package, so code edits (or another environment) get a fresh server; a server
  idles out after ``IDLE_SECONDS`` without jobs;
- the socket lives in a directory only this user can read; one server per socket
  (a lock file), and a client that cannot reach one within a few seconds runs the
  step itself;
- if the job's script dies (Ctrl-C, SIGKILL of Snakemake, a SLURM time limit), the
  child sees the connection close and exits at once; outputs are written
  atomically, so nothing half written remains.

Disabled by ``execution.warm_worker: false`` and inside SLURM jobs (each job is its
own allocation there).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import os
import pickle
import select
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

IDLE_SECONDS = 60.0
START_TIMEOUT = 30.0
PACKAGE_DIR = Path(__file__).resolve().parents[1]
_HEADER = struct.Struct("!Q")
_STATUS = struct.Struct("!i")


def socket_path() -> Path:
    """The server socket for this interpreter and this exact package source."""
    h = hashlib.sha256(sys.executable.encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        h.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        h.update(path.read_bytes())
    folder = Path(tempfile.gettempdir()) / f"collective-action-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{h.hexdigest()[:20]}.sock"


# ----------------------------------------------------------------------------- client
def _connect(path: Path) -> socket.socket | None:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
        return sock
    except OSError:
        sock.close()
        return None


def _start_server(path: Path) -> None:
    subprocess.Popen([sys.executable, "-m", __name__, str(path)], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     close_fds=True)


def _reach(path: Path) -> socket.socket | None:
    conn = _connect(path)
    if conn is not None:
        return conn
    _start_server(path)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(0.05)
        conn = _connect(path)
        if conn is not None:
            return conn
    return None


def _recv_exact(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise ConnectionError("the worker closed the connection")
        data += chunk
    return data


def submit(job: dict[str, Any]) -> int | None:
    """Run a job in the warm worker and return its exit status; None if no worker could be reached."""
    conn = _reach(socket_path())
    if conn is None:
        return None
    with conn:
        payload = pickle.dumps(job)
        socket.send_fds(conn, [_HEADER.pack(len(payload))], [0, 1, 2])
        conn.sendall(payload)
        try:
            return _STATUS.unpack(_recv_exact(conn, _STATUS.size))[0]
        except ConnectionError:
            return 1  # the child died without reporting (killed, out of memory)


# ----------------------------------------------------------------------------- server
def _preload() -> None:
    """Import what the steps import, without running anything (no threads before fork)."""
    import h5py  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import pandas  # noqa: F401
    import scipy.stats  # noqa: F401
    import torch  # noqa: F401

    from ..claims import all_claims
    from ..datasets import builders, generators
    from ..figures import catalog, panels  # noqa: F401
    from ..learners import LEARNERS
    from ..signals import SIGNALS
    from . import STEPS, runner  # noqa: F401
    from .base import PKG

    for name in STEPS.names():  # every step's module and what it runs
        importlib.import_module(f"{PKG}.{STEPS.get(name).entry}")
    all_claims()
    for registry in (LEARNERS, SIGNALS, generators.GENERATORS, builders.BUILDERS):
        for name in registry.names():
            registry.get(name)


def _child(conn: socket.socket, fds: list[int], job: dict[str, Any]) -> None:
    """In the forked child: become the job's process, run the step, report, exit."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(job["cwd"])
    os.environ.clear()
    os.environ.update(job["env"])

    def watch() -> None:  # the job's script went away: stop at once
        with contextlib.suppress(OSError):
            conn.recv(1)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    from .runner import run_job

    status = 0
    try:
        run_job(job)
    except SystemExit as exc:
        status = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # run_job logs its own failures; this is a failure of the worker itself
        import traceback

        traceback.print_exc()
        status = 1
    sys.stdout.flush()
    sys.stderr.flush()
    with contextlib.suppress(OSError):
        conn.sendall(_STATUS.pack(status))
    os._exit(status)


def _accept(server: socket.socket) -> int | None:
    conn, _ = server.accept()
    try:
        header, fds, _, _ = socket.recv_fds(conn, _HEADER.size, 3)
        job = pickle.loads(_recv_exact(conn, _HEADER.unpack(header)[0]))
    except Exception:
        conn.close()
        return None
    pid = os.fork()
    if pid == 0:
        server.close()
        _child(conn, fds, job)
    conn.close()
    for fd in fds:
        os.close(fd)
    return pid


def serve(path: Path) -> None:
    lock = open(f"{path}.lock", "w")  # noqa: SIM115 (held for the server's lifetime)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # another server owns this socket
    _preload()
    path.unlink(missing_ok=True)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(64)
    children: set[int] = set()
    last = time.monotonic()
    try:
        while children or time.monotonic() - last < IDLE_SECONDS:
            ready, _, _ = select.select([server], [], [], 1.0)
            for pid in list(children):
                if os.waitpid(pid, os.WNOHANG)[0]:
                    children.discard(pid)
                    last = time.monotonic()
            if ready:
                pid = _accept(server)
                if pid:
                    children.add(pid)
                last = time.monotonic()
    finally:
        server.close()
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    serve(Path(sys.argv[1]))
