#!/usr/bin/env python3
"""Drives a page in Debian's headless Chromium over the DevTools protocol, for tests and benchmarks.

Unlike `chromium --dump-dom`, the page runs in real time (its clock moves, so the time it takes to draw is
measurable) and can be acted on: type into fields, wait for the page to reach a state, take a screenshot.

    page-driver.py URL < steps.json > results.json

Steps are a JSON list, run in order after the page has loaded; each gives one result:
    {"eval": "js expression"}                        its value (promises awaited)
    {"wait": "js expression", "timeout_s": 20}       the first truthy value, polled every 50 ms; error on timeout
    {"screenshot": "/path/to/file.png"}              the file's size in bytes
    {"drag": [x1, y1, x2, y2]}                       a left-button drag, as a person's mouse makes it; null
    {"drag": "js expression"}                        the same, from the [x1, y1, x2, y2] the expression gives
    {"type": ["#selector", "text"]}                  the text typed into the field, then Enter; null
Needs `websocket-client` (PyPI) or Debian's python3-websocket.
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websocket


class Page:
    def __init__(self, socket):
        self.socket = socket
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw: {result['exceptionDetails'].get('exception', {}).get('description')}")
        return result.get("result", {}).get("value")


def start_chromium(profile):
    chromium = subprocess.Popen(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-port=0",
         "--remote-debugging-address=127.0.0.1", f"--user-data-dir={profile}", "--window-size=1280,900", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    for line in chromium.stderr:
        found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
        if found:
            # The rest of its log is read and dropped, so a full pipe never stalls the browser.
            threading.Thread(target=lambda: [None for _ in chromium.stderr], daemon=True).start()
            return chromium, int(found.group(1))
        if time.monotonic() > deadline:
            break
    chromium.kill()
    raise RuntimeError("Chromium did not open its DevTools port")


def main():
    url = sys.argv[1]
    steps = json.load(sys.stdin)
    profile = tempfile.mkdtemp(prefix="sluice-page-driver-")
    chromium, port = start_chromium(profile)
    results = []
    try:
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
        target = next(t for t in targets if t.get("type") == "page")
        page = Page(websocket.create_connection(target["webSocketDebuggerUrl"], timeout=60, suppress_origin=True))
        page.call("Page.enable")
        page.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while page.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not finish loading")
            time.sleep(0.05)
        for step in steps:
            if "eval" in step:
                results.append(page.evaluate(step["eval"]))
            elif "wait" in step:
                deadline = time.monotonic() + step.get("timeout_s", 20)
                while True:
                    value = page.evaluate(step["wait"])
                    if value:
                        results.append(value)
                        break
                    if time.monotonic() > deadline:
                        seen = page.evaluate("document.body.innerText.slice(0, 1500)")
                        raise RuntimeError(f"timed out waiting for {step['wait']!r}; the page shows: {seen!r}")
                    time.sleep(0.05)
            elif "screenshot" in step:
                shot = base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"])
                with open(step["screenshot"], "wb") as file:
                    file.write(shot)
                results.append(len(shot))
            elif "drag" in step:
                x1, y1, x2, y2 = page.evaluate(step["drag"]) if isinstance(step["drag"], str) else step["drag"]
                page.call("Input.dispatchMouseEvent", type="mouseMoved", x=x1, y=y1)
                page.call("Input.dispatchMouseEvent", type="mousePressed", x=x1, y=y1, button="left", buttons=1, clickCount=1)
                for i in range(1, 11):
                    x, y = x1 + (x2 - x1) * i / 10, y1 + (y2 - y1) * i / 10
                    page.call("Input.dispatchMouseEvent", type="mouseMoved", x=x, y=y, button="left", buttons=1)
                page.call("Input.dispatchMouseEvent", type="mouseReleased", x=x2, y=y2, button="left", buttons=0, clickCount=1)
                results.append(None)
            elif "type" in step:
                selector, text = step["type"]
                page.evaluate(f"document.querySelector({json.dumps(selector)}).focus()")
                page.evaluate(f"document.querySelector({json.dumps(selector)}).select && document.querySelector({json.dumps(selector)}).select()")
                page.call("Input.insertText", text=text)
                # Enter as a keyboard sends it (with its "\r"), which commits the field: a `change` event.
                page.call("Input.dispatchKeyEvent", type="keyDown", key="Enter", code="Enter", windowsVirtualKeyCode=13, text="\r")
                page.call("Input.dispatchKeyEvent", type="keyUp", key="Enter", code="Enter", windowsVirtualKeyCode=13)
                results.append(None)
            else:
                raise RuntimeError(f"unknown step {step}")
    finally:
        chromium.kill()
        chromium.wait()
        shutil.rmtree(profile, ignore_errors=True)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # One line that says what failed, for the test's message.
        print(f"page-driver: {error}", file=sys.stderr)
        sys.exit(1)
