"""Starting and always stopping the test processes of the distribution tests.

Every port is a free port on 127.0.0.1; every process is killed on exit of
:class:`Processes` if it still runs, and every wait has a timeout, so a hung
worker cannot hang CI.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKERS = REPO / "tests" / "_workers"
TIMEOUT = 240  # seconds any one test process may run


def free_ports(n):
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if k != "TF_CONFIG" and not k.startswith("KERASTUNER_")
           and not k.startswith("RNNZOO_TEST_")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="", PYTHONUNBUFFERED="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def tf_config(ports, index):
    return json.dumps({
        "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
        "task": {"type": "worker", "index": index},
    })


class Processes:
    """Starts subprocesses with logs in a folder; stops every one still running on exit."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.procs = {}

    def __enter__(self):
        return self

    def start(self, name, args, env):
        log = open(self.folder / f"{name}.log", "w")
        proc = subprocess.Popen([sys.executable, *map(str, args)], stdout=log,
                                stderr=subprocess.STDOUT, env=env, cwd=REPO)
        self.procs[name] = (proc, log)
        return proc

    def log(self, name):
        self.procs[name][1].flush()
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def wait(self, name, timeout=TIMEOUT):
        proc = self.procs[name][0]
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{name} did not finish in {timeout} s:\n{self.log(name)[-3000:]}")

    def stop(self, name):
        proc, log = self.procs[name]
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
        log.close()

    def __exit__(self, *exc):
        for name in list(self.procs):
            self.stop(name)
        return False


def check_ok(procs, name):
    """Waits for ``name`` and fails with the end of its log unless it exited with 0."""
    rc = procs.wait(name)
    assert rc == 0, f"{name} exited with {rc}:\n{procs.log(name)[-3000:]}"
