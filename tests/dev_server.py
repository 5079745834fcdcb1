"""`make dev` in a rendered project, for the render tier (tests/test_render.py).

Started in a process group of its own with its output in a file, and stopped as
Ctrl-C stops it: SIGINT to the whole group, after which no process of the group
may be left running (a server left behind would keep its port).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HOST = "127.0.0.1"
# What werkzeug's reloader prints each time it starts the process that serves the app,
# the first time included: after the second, the first process has exited.
RESTARTED = re.compile(r"^ \* Restarting with \w+", re.MULTILINE)
# A loaded 2-core machine imports the app and the AWS emulator slowly.
STARTUP_SECONDS = 120
STOP_SECONDS = 30


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    method: str,
    host: str,
    port: int,
    path: str,
    body: object = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """One HTTP request; ``host`` may be ``localhost``, which is tried on each address it names."""
    connection = http.client.HTTPConnection(host, port, timeout=60)
    try:
        sent = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
        connection.request(method, path, body=None if body is None else json.dumps(body), headers=sent)
        response = connection.getresponse()
        found = {name.lower(): value for name, value in response.getheaders()}
        return Response(response.status, found, response.read())
    finally:
        connection.close()


@dataclass(frozen=True)
class DevServer:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def fail(self, message: str) -> None:
        pytest.fail(f"{message}\n--- make dev's output, its end:\n{self.output()[-6000:]}", pytrace=False)

    def restarts(self) -> int:
        """How many processes werkzeug's reloader has started to serve the app."""
        return len(RESTARTED.findall(self.output()))

    def wait_for(self, what: str, condition: Callable[[], bool], seconds: float = STARTUP_SECONDS) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            if self.process.poll() is not None:
                self.fail(f"make dev exited ({self.process.returncode}) before {what}")
            if time.monotonic() > deadline:
                self.fail(f"no {what} within {seconds:.0f} s")
            time.sleep(0.2)

    def wait_until_answered(self, host: str, port: int, path: str) -> Response:
        """The first answer to GET ``path``, once something listens on ``port``."""
        answers: list[Response] = []

        def answered() -> bool:
            with contextlib.suppress(OSError):
                answers.append(call("GET", host, port, path))
            return bool(answers)

        self.wait_for(f"answer from http://{host}:{port}{path}", answered)
        return answers[0]


@contextlib.contextmanager
def make_dev(project: Path, environ: Mapping[str, str], *arguments: str) -> Iterator[DevServer]:
    """``make dev ARGUMENTS`` running in ``project`` for the block, then interrupted as Ctrl-C does."""
    log = project.parent / "make-dev.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["make", *arguments],  # noqa: S607 -- from PATH, as a developer runs it
            cwd=project,
            env=dict(environ),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DevServer(process, log)
    try:
        yield server
    finally:
        left = interrupt(process)
    if left:
        server.fail("processes of `make dev` outlived Ctrl-C (SIGINT to its group):\n" + "\n".join(left))


def interrupt(process: subprocess.Popen[bytes]) -> list[str]:
    """SIGINT to ``process``'s group; what of the group still runs after ``STOP_SECONDS`` (then killed)."""
    group = process.pid  # start_new_session: the group's leader
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGINT)
    deadline = time.monotonic() + STOP_SECONDS
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_SECONDS)
    left = running_in_group(group)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = running_in_group(group)
    if left:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGKILL)
        process.wait(timeout=STOP_SECONDS)
    return left


def running_in_group(group: int) -> list[str]:
    """``pid command`` of each live (not zombie) process of process group ``group``."""
    listing = subprocess.run(
        ["ps", "-eo", "pid=,pgid=,stat=,args="],  # noqa: S607 -- the system's, from PATH
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    found = []
    for line in listing.splitlines():
        pid, pgid, state, command = [*line.split(None, 3), ""][:4]
        if pgid == str(group) and not state.startswith("Z"):
            found.append(f"{pid} {command}")
    return found
