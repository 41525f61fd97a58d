"""A real HTTP server on 127.0.0.1 that serves files from a folder, with failure modes.

Modes (``server.mode``): ``"ok"`` serves the file; ``"corrupt"`` flips one byte
(same length); ``"truncate"`` announces the full ``Content-Length`` but sends half
and closes; ``"stall"`` sends the headers and then nothing for 1.5 s;
``"error"`` answers 500; ``"missing"`` answers 404; ``"slow"`` sends
the file in small chunks with pauses (so concurrent clients overlap).
Every request path is recorded in ``server.requests``.
"""

from __future__ import annotations

import http.server
import pathlib
import threading
import time


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "rnnzoo-test"

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802 (http.server's naming)
        srv = self.server
        with srv.lock:
            srv.requests.append(self.path)
        mode = srv.mode
        path = srv.root / self.path.lstrip("/").split("?")[0]
        if mode == "error":
            self.send_error(500, "Internal Server Error")
            return
        if mode == "missing" or not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        if mode == "corrupt":
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "truncate":
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if mode == "stall":  # headers, then silence longer than the client's timeout
            self.wfile.flush()
            time.sleep(1.5)
            return
        if mode == "slow":
            step = max(1, len(data) // 20)
            for i in range(0, len(data), step):
                self.wfile.write(data[i:i + step])
                self.wfile.flush()
                time.sleep(0.02)
            return
        self.wfile.write(data)


class FileServer(http.server.ThreadingHTTPServer):
    """Serves ``root`` on ``127.0.0.1:<free port>`` in a background thread."""

    daemon_threads = True

    def __init__(self, root: pathlib.Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = pathlib.Path(root)
        self.mode = "ok"
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
