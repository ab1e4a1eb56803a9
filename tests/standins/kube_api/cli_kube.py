"""What the helm and cilium CLI stand-ins share: recording calls, injected failures,
the stand-in clock, and a small Kubernetes REST client driven by a kubeconfig (client-go's
loading rules: --kubeconfig, else $KUBECONFIG, else ~/.kube/config; token auth, CA data).
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import yaml

LOG_ENV, FAIL_ENV, SCALE_ENV = "NK8S_STANDIN_LOG", "NK8S_STANDIN_FAIL", "NK8S_STANDIN_TIME_SCALE"


def record(tool: str, argv: list[str]) -> None:
    """Append one JSON line {tool, argv, env: {KUBECONFIG}} to $NK8S_STANDIN_LOG."""
    path = os.environ.get(LOG_ENV)
    if not path:
        return
    entry = {"tool": tool, "argv": argv, "env": {"KUBECONFIG": os.environ.get("KUBECONFIG")},
             "cwd": os.getcwd()}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry) + "\n")


def should_fail(tool: str, command: str) -> bool:
    """$NK8S_STANDIN_FAIL: comma-separated `command` or `tool:command` names."""
    wanted = {w.strip() for w in os.environ.get(FAIL_ENV, "").split(",") if w.strip()}
    return command in wanted or f"{tool}:{command}" in wanted


def sleep(seconds: float) -> None:
    """Waits are virtual time (see cli_chart.wait_ready); only the real pause is scaled."""
    time.sleep(seconds * float(os.environ.get(SCALE_ENV, "1")))


class KubeError(Exception):
    def __init__(self, code: int, status: dict[str, Any]) -> None:
        super().__init__(status.get("message", f"HTTP {code}"))
        self.code = code
        self.status = status


class Kube:
    def __init__(self, kubeconfig: str = "", context: str = "") -> None:
        path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or \
            str(Path.home() / ".kube" / "config")
        try:
            config = yaml.safe_load(Path(path).read_text()) or {}
        except FileNotFoundError:
            raise KubeError(0, {"message": f"stat {path}: no such file or directory"}) from None
        context_name = context or config.get("current-context", "")
        contexts = {c["name"]: c["context"] for c in config.get("contexts") or []}
        if context_name not in contexts:
            raise KubeError(0, {"message": f'context "{context_name}" does not exist'})
        ctx = contexts[context_name]
        cluster = {c["name"]: c["cluster"] for c in config.get("clusters") or []}[ctx["cluster"]]
        user = {u["name"]: u["user"] for u in config.get("users") or []}.get(ctx.get("user"), {})
        self.namespace = ctx.get("namespace") or "default"
        self.server = cluster["server"].rstrip("/")
        self.token = user.get("token", "")
        self.ssl: ssl.SSLContext | None = None
        if self.server.startswith("https"):
            self.ssl = ssl.create_default_context()
            if cluster.get("certificate-authority-data"):
                with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as handle:
                    handle.write(base64.b64decode(cluster["certificate-authority-data"]))
                self.ssl.load_verify_locations(handle.name)
                os.unlink(handle.name)
            if cluster.get("insecure-skip-tls-verify"):
                self.ssl.check_hostname = False
                self.ssl.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None,
                content_type: str = "application/json") -> dict[str, Any]:
        url = self.server + path + ("?" + urllib.parse.urlencode(query) if query else "")
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", f"{Path(sys.argv[0]).name}/standin")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30, context=self.ssl) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                status = json.loads(raw)
            except ValueError:
                status = {"message": raw.decode(errors="replace")}
            raise KubeError(exc.code, status) from None
        except urllib.error.URLError as exc:
            raise KubeError(0, {"message": f"Get \"{url}\": {exc.reason}"}) from None

    def get(self, path: str, query: dict[str, str] | None = None) -> dict[str, Any] | None:
        try:
            return self.request("GET", path, query=query)
        except KubeError as exc:
            if exc.code == 404:
                return None
            raise

    def create_or_patch(self, collection: str, body: dict[str, Any], manager: str) -> dict[str, Any]:
        """helm's way: create when absent, else a strategic/merge patch of the rendered object."""
        name = body["metadata"]["name"]
        if self.get(f"{collection}/{name}") is None:
            return self.request("POST", collection, body, {"fieldManager": manager})
        content = "application/merge-patch+json" if collection.startswith("/apis/") and \
            "/apps/" not in collection else "application/strategic-merge-patch+json"
        return self.request("PATCH", f"{collection}/{name}", body, {"fieldManager": manager},
                            content_type=content)
