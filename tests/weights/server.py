"""A real HTTP server on 127.0.0.1 that serves files from a folder, with failure modes.

Modes (``server.mode``): ``"ok"`` serves the file; ``"corrupt"`` flips one byte
(same length); ``"truncate"`` announces the full ``Content-Length`` but sends half
and closes; ``"stall"`` sends the headers and then nothing for 1.5 s;
``"error"`` answers 500; ``"missing"`` answers 404; ``"slow"`` sends
the file in small chunks with pauses (so concurrent clients overlap);
``"forever"`` sends the file and then more bytes without end, with no
``Content-Length``; ``"drip"`` announces the right length and sends one byte
every 50 ms; ``"redirect"`` answers 302 to ``server.redirect_to``.
Every request path is recorded in ``server.requests``; ``server.sent`` counts
the bytes written to clients.
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
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", srv.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if mode == "missing" or not path.is_file():
            self.send_error(404, "Not Found")
            return
        data = path.read_bytes()
        if mode == "corrupt":
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if mode != "forever":
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode in ("forever", "drip"):
            self._stream(data, forever=mode == "forever")
            return
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

    def _stream(self, data: bytes, forever: bool):
        srv = self.server
        try:
            if forever:  # the file, then garbage until the client hangs up
                chunks = iter(lambda: data, None)
                for chunk in chunks:
                    self.wfile.write(chunk)
                    with srv.lock:
                        srv.sent += len(chunk)
                    if srv.stop.is_set():
                        return
            else:
                for i in range(len(data)):
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    with srv.lock:
                        srv.sent += 1
                    if srv.stop.wait(0.05):
                        return
        except (BrokenPipeError, ConnectionResetError):
            return


class FileServer(http.server.ThreadingHTTPServer):
    """Serves ``root`` on ``127.0.0.1:<free port>`` in a background thread."""

    daemon_threads = True

    def __init__(self, root: pathlib.Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root = pathlib.Path(root)
        self.mode = "ok"
        self.requests: list[str] = []
        self.redirect_to = ""
        self.sent = 0
        self.stop = threading.Event()
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
        self.stop.set()
        self.shutdown()
        self.server_close()
        self._thread.join(timeout=5)
