"""Downloads of built-in datasets have a timeout and a size limit: a real HTTP server on
127.0.0.1 (a thread of this process) serves the real file, too much of it, or stalls, and
resolve_file stops with a clear error and keeps nothing in the cache."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tokfrag.data.registry import (
    CACHE_ENV,
    DOWNLOAD_DEADLINE_ENV,
    DOWNLOAD_MAX_BYTES_ENV,
    DOWNLOAD_TIMEOUT_ENV,
    MIRROR_ENV,
    DataError,
    get_spec,
    resolve_file,
    sha256_file,
)

FILE = "chickenpox.json"
LIMIT = 100_000  # bytes, for the size tests (the real file is larger)


def _handler(body: bytes, release: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

        def _head(self, length: int | None) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if length is not None:
                self.send_header("Content-Length", str(length))
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            try:
                if self.path == "/ok":
                    self._head(len(body))
                    self.wfile.write(body)
                elif self.path == "/declared-too-big":
                    self._head(10 * LIMIT)
                    self.wfile.write(body[:1000])
                elif self.path == "/streamed-too-big":  # no Content-Length: read until close
                    self._head(None)
                    for _ in range(40):
                        self.wfile.write(b" " * 16384)
                elif self.path == "/silent":  # accepts, never answers
                    release.wait(10)
                elif self.path == "/stall":  # headers and a little, then nothing
                    self._head(len(body))
                    self.wfile.write(body[:100])
                    self.wfile.flush()
                    release.wait(10)
                elif self.path == "/drip":  # a byte every 50 ms: never silent for long
                    self._head(None)
                    while not release.is_set():
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.05)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up, as it should

    return Handler


@pytest.fixture
def server(chickenpox_file: Path) -> Iterator[str]:
    release = threading.Event()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(chickenpox_file.read_bytes(), release))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(path))
    (tmp_path / "empty_mirror").mkdir()
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "empty_mirror"))
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    for name in (DOWNLOAD_TIMEOUT_ENV, DOWNLOAD_DEADLINE_ENV, DOWNLOAD_MAX_BYTES_ENV):
        monkeypatch.delenv(name, raising=False)
    return path


def _spec(url: str):
    return dataclasses.replace(get_spec("chickenpox"), urls={FILE: url})


def _nothing_kept(cache: Path) -> bool:
    return not cache.exists() or not [p for p in cache.rglob("*") if p.is_file()]


def test_a_download_within_the_limits_is_kept(server, cache, chickenpox_file):
    path = resolve_file(_spec(f"{server}/ok"), FILE)
    assert path == cache / "chickenpox" / FILE
    assert sha256_file(path) == sha256_file(chickenpox_file)


@pytest.mark.parametrize("route", ["declared-too-big", "streamed-too-big"])
def test_a_download_over_the_size_limit_is_stopped(server, cache, monkeypatch, route):
    monkeypatch.setenv(DOWNLOAD_MAX_BYTES_ENV, str(LIMIT))
    with pytest.raises(DataError) as info:
        resolve_file(_spec(f"{server}/{route}"), FILE)
    message = str(info.value)
    assert message.startswith(f"chickenpox/{FILE}: {server}/{route}: ")
    assert f"download limit of {LIMIT:,}" in message and DOWNLOAD_MAX_BYTES_ENV in message
    assert "nothing was kept" in message and MIRROR_ENV in message
    if route == "declared-too-big":
        assert f"announces {10 * LIMIT:,} bytes" in message
    assert _nothing_kept(cache)


@pytest.mark.parametrize("route", ["silent", "stall"])
def test_a_server_that_stops_sending_times_out(server, cache, monkeypatch, route):
    monkeypatch.setenv(DOWNLOAD_TIMEOUT_ENV, "0.5")
    started = time.monotonic()
    with pytest.raises(DataError) as info:
        resolve_file(_spec(f"{server}/{route}"), FILE)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert "the server sent nothing for 0.5 s" in message and DOWNLOAD_TIMEOUT_ENV in message
    assert f"chickenpox/{FILE}" in message and "nothing was kept" in message
    assert _nothing_kept(cache)


def test_a_server_that_drips_meets_the_deadline(server, cache, monkeypatch):
    monkeypatch.setenv(DOWNLOAD_DEADLINE_ENV, "0.5")
    started = time.monotonic()
    with pytest.raises(DataError) as info:
        resolve_file(_spec(f"{server}/drip"), FILE)
    assert time.monotonic() - started < 5
    message = str(info.value)
    assert "the download took more than 0.5 s" in message and DOWNLOAD_DEADLINE_ENV in message
    assert _nothing_kept(cache)


def test_a_limit_that_is_not_a_number_is_named(server, cache, monkeypatch):
    monkeypatch.setenv(DOWNLOAD_TIMEOUT_ENV, "soon")
    with pytest.raises(DataError, match=f"{DOWNLOAD_TIMEOUT_ENV}='soon' is not a positive"):
        resolve_file(_spec(f"{server}/ok"), FILE)
    assert _nothing_kept(cache)
