"""Open tokfrag's self-contained HTML report in headless Chromium and check what it renders.

`inspect_page(html, png)` returns a local page's console errors, title and <img> sizes, and saves
a full-page screenshot. It speaks the Chrome DevTools Protocol (CDP) over `websockets` (already
installed: prefect needs it) instead of selenium: no chromedriver to match to the browser, no new
package, direct access to console events. `ensure_chromium()` finds the browser, apt-installing
Debian's `chromium` on first use when running as root on a bare Debian container.
"""

import base64
import itertools
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tokfrag_testing.debian import ensure_installed

_NAMES = ("chromium", "chromium-browser", "google-chrome")
_WIDTH = 1280
# Alt text, natural size and bounding box of every <img>, once each has loaded (or failed).
_IMAGES_JS = """(async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map((i) => i.decode().catch(() => null)));
  return {title: document.title, images: imgs.map((i) => {
    const r = i.getBoundingClientRect();
    return [i.alt, i.naturalWidth, i.naturalHeight, r.width, r.height];
  })};
})()"""


@dataclass(frozen=True)
class PageReport:
    console_errors: list[str]  # uncaught exceptions, console.error/assert, error log entries
    # (alt, width, height): the rendered size (CSS px of the bounding box) of each <img>, in
    # document order; (0, 0) when the image did not decode (naturalWidth/Height of 0) too.
    images: list[tuple[str, float, float]]
    title: str


def _find_chromium() -> Path | None:
    for name in _NAMES:
        if found := shutil.which(name):
            return Path(found)
    return Path("/usr/bin/chromium") if os.access("/usr/bin/chromium", os.X_OK) else None


def ensure_chromium() -> Path:
    """Path of a Chromium/Chrome binary; apt-installs Debian's `chromium` as root if missing."""
    return ensure_installed(
        _find_chromium,
        "chromium",
        "No Chromium/Chrome binary (chromium, chromium-browser, google-chrome) on PATH: install "
        "one, e.g. `apt-get install chromium` (Debian) or `brew install --cask chromium` (macOS).",
    )


class _Cdp:
    """Minimal CDP client: one websocket, one flattened target session, events kept in order."""

    def __init__(self, ws: ClientConnection, deadline: float) -> None:
        self.ws, self.deadline, self.ids = ws, deadline, itertools.count(1)
        self.session: str | None = None
        self.events: list[dict[str, Any]] = []

    def recv(self) -> dict[str, Any]:
        try:
            msg = json.loads(self.ws.recv(timeout=max(self.deadline - time.monotonic(), 0.01)))
        except TimeoutError:
            raise TimeoutError("headless Chromium did not finish the page in time") from None
        if "method" in msg:
            self.events.append(msg)
        return msg

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self.ids)
        msg: dict[str, Any] = {"id": msg_id, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while (reply := self.recv()).get("id") != msg_id:
            pass
        if "error" in reply:
            raise RuntimeError(f"CDP {method} failed: {reply['error']}")
        return reply["result"]


def _errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for e in events:
        p = e.get("params", {})
        if e["method"] == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            errors.append(d.get("exception", {}).get("description") or d.get("text", ""))
        elif e["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
            args = (a.get("value", a.get("description", "")) for a in p.get("args", []))
            errors.append(" ".join(str(a) for a in args))
        elif e["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
            url = p["entry"].get("url")
            errors.append(p["entry"]["text"] + (f" ({url})" if url else ""))
    return errors


def inspect_page(html_path: Path, screenshot: Path, timeout: float = 60) -> PageReport:
    """Load `html_path` in headless Chromium, report errors/images/title, save a full-page PNG."""
    deadline, chromium = time.monotonic() + timeout, ensure_chromium()
    tmp = Path(tempfile.mkdtemp(prefix="tokfrag-chromium-"))
    args = [str(chromium), "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--hide-scrollbars", "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", f"--window-size={_WIDTH},800",
            f"--user-data-dir={tmp / 'profile'}", "about:blank"]  # fmt: skip
    log_path = tmp / "chromium.log"
    with log_path.open("wb") as log:  # a file, not a pipe: Chromium's stderr is chatty
        proc = subprocess.Popen(args, stdout=log, stderr=log, start_new_session=True)
    try:
        while not (m := re.search(r"DevTools listening on (ws://\S+)", log_path.read_text())):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Chromium did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        # No proxy from the environment; no 1 MiB message cap (screenshots are bigger).
        with connect(m[1], proxy=None, max_size=None, ping_interval=None) as ws:
            cdp = _Cdp(ws, deadline)
            target = cdp.call("Target.createTarget", url="about:blank")["targetId"]
            attached = cdp.call("Target.attachToTarget", targetId=target, flatten=True)
            cdp.session = attached["sessionId"]
            for domain in ("Runtime", "Log", "Page"):
                cdp.call(f"{domain}.enable")
            nav = cdp.call("Page.navigate", url=html_path.resolve().as_uri())
            if nav.get("errorText"):
                raise RuntimeError(f"could not open {html_path}: {nav['errorText']}")
            while not any(e["method"] == "Page.loadEventFired" for e in cdp.events):
                cdp.recv()
            # A viewport as tall as the page: lazy images load, and the screenshot is full-page.
            height = cdp.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
            size = {"width": _WIDTH, "height": max(1, math.ceil(height))}
            cdp.call(
                "Emulation.setDeviceMetricsOverride", **size, deviceScaleFactor=1, mobile=False
            )
            res = cdp.call(
                "Runtime.evaluate", expression=_IMAGES_JS, awaitPromise=True, returnByValue=True
            )
            if "exceptionDetails" in res:
                raise RuntimeError(f"image probe failed: {res['exceptionDetails']}")
            shot = cdp.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            value = res["result"]["value"]
            images = [
                (alt, float(w), float(h)) if nw > 0 and nh > 0 else (alt, 0.0, 0.0)
                for alt, nw, nh, w, h in value["images"]
            ]
            return PageReport(_errors(cdp.events), images, value["title"])
    finally:
        with suppress(ProcessLookupError):  # the browser and its helpers share a group
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
