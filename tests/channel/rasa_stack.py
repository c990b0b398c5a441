"""Starts the project's action server and a Rasa server as subprocesses.

Used by the end-to-end tests and the load bench. Both processes listen on
127.0.0.1 only, log to files in a work folder, and are stopped by process
id.
"""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import requests
import yaml



def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def newest_model(models_dir: Path) -> Optional[Path]:
    """Return the most recently written model archive, or None."""
    if not models_dir.is_dir():
        return None
    archives = sorted(models_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return archives[-1] if archives else None


class StackStartError(RuntimeError):
    """The action server or Rasa did not come up."""


class RasaStack:
    """An action server and a Rasa server for one test session or bench run.

    Args:
        project_root: The project folder; both servers run from it, so
            `actions` and `channels` import as packages.
        model: The model archive to serve.
        work_dir: Folder for the generated credentials, endpoints and logs,
            and the SQLite case store of the action server.
        credentials: The credentials.yml content; `channels` for Rasa.
        rasa_command: Program and leading arguments that run Rasa's CLI;
            `<venv>/bin/rasa` by default.
        extra_env: Variables added to both servers' environment.
    """

    def __init__(
        self,
        project_root: Path,
        model: Path,
        work_dir: Path,
        credentials: Optional[Dict[str, Any]] = None,
        rasa_command: Optional[List[str]] = None,
        extra_env: Optional[Dict[str, str]] = None,
    ) -> None:
        self.project_root = project_root
        self.model = model
        self.work_dir = work_dir
        self.credentials = credentials or {}
        self.rasa_port = free_port()
        self.action_port = free_port()
        self.rasa_url = f"http://127.0.0.1:{self.rasa_port}"
        self.action_url = f"http://127.0.0.1:{self.action_port}"
        bin_dir = Path(sys.executable).parent
        self._rasa_program = [str(bin_dir / "rasa")]
        self._rasa_command = rasa_command or self._rasa_program
        self._extra_env = extra_env or {}
        self._processes: List[subprocess.Popen] = []
        self.rasa_log = work_dir / "rasa.log"
        self.actions_log = work_dir / "actions.log"

    def start(self, timeout_seconds: float = 420.0) -> None:
        """Start both servers and wait until they respond.

        Raises:
            StackStartError: If a server exits or does not respond in time.
                The message ends with the tail of its log.
        """
        credentials_file = self.work_dir / "credentials.yml"
        credentials_file.write_text(yaml.safe_dump(self.credentials), "utf-8")
        endpoints_file = self.work_dir / "endpoints.yml"
        endpoints = {"action_endpoint": {"url": f"{self.action_url}/webhook"}}
        endpoints_file.write_text(yaml.safe_dump(endpoints), "utf-8")

        env = dict(os.environ)
        env["DATABASE_URL"] = f"sqlite:///{self.work_dir / 'cases.db'}"
        env["SANIC_HOST"] = "127.0.0.1"  # the action server's interface
        env.update(self._extra_env)
        self._migrate_case_store(env)

        actions = self._spawn(
            [*self._rasa_program, "run", "actions", "--port", str(self.action_port)],
            self.actions_log,
            env,
        )
        rasa = self._spawn(
            [
                *self._rasa_command,
                "run",
                "--enable-api",
                "--interface",
                "127.0.0.1",
                "--port",
                str(self.rasa_port),
                "--model",
                str(self.model),
                "--credentials",
                str(credentials_file),
                "--endpoints",
                str(endpoints_file),
            ],
            self.rasa_log,
            env,
        )
        deadline = time.monotonic() + timeout_seconds
        self._wait_until_up(
            actions, f"{self.action_url}/health", self.actions_log, deadline
        )
        self._wait_until_up(rasa, f"{self.rasa_url}/status", self.rasa_log, deadline)

    def _migrate_case_store(self, env: Dict[str, str]) -> None:
        # The actions keep cases in the database named by DATABASE_URL, a
        # fresh SQLite file here, which needs the project's schema first.
        if not (self.project_root / "actions" / "db" / "migrate.py").exists():
            return
        done = subprocess.run(
            [sys.executable, "-m", "actions.db.migrate"],
            cwd=self.project_root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise StackStartError(
                f"Migrating the case store failed:\n{done.stdout}{done.stderr}"
            )

    def stop(self) -> None:
        """Stop the servers this stack started, by process id."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
        for process in reversed(self._processes):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._processes.clear()

    def rasa_log_text(self) -> str:
        """Return what the Rasa server logged so far."""
        return self.rasa_log.read_text("utf-8", errors="replace")

    def _spawn(
        self, command: List[str], log_file: Path, env: Dict[str, str]
    ) -> subprocess.Popen:
        handle = open(log_file, "w", encoding="utf-8")
        process = subprocess.Popen(
            command,
            cwd=self.project_root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        handle.close()
        self._processes.append(process)
        return process

    def _wait_until_up(
        self, process: subprocess.Popen, url: str, log_file: Path, deadline: float
    ) -> None:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.stop()
                raise StackStartError(
                    f"{process.args[0]} exited with {process.returncode}:\n"
                    + _tail(log_file)
                )
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(1.0)
        self.stop()
        raise StackStartError(f"No response from {url} in time:\n" + _tail(log_file))


def _tail(log_file: Path, lines: int = 40) -> str:
    try:
        text = log_file.read_text("utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])
