"""The pod proxy (``pods/NAME[:PORT]/proxy/PATH``) and a scripted pod network behind it.

Stands in for kube-apiserver's pod proxy (the name may be ``name``, ``name:port`` or
``scheme:name:port``; without a port, the first declared containerPort; a pod without a
routable address answers 400 "address not allowed"; nothing listening answers 503 "error
trying to reach service") and for the pods it reaches: containers running agnhost
``netexec`` (``--http-port``, default 8080) serve ``/clientip`` and ``/dial`` as agnhost
documents them (``/dial?request=&host=&port=&protocol=http&tries=``: JSON
``{"responses": [...], "errors": [...]}``, 200 if the last try succeeded, else 417; 400
for a bad parameter).

The network between pods is scripted, not simulated: every Running pod reaches every
other, and the far pod sees the near pod's own address, unless a test says otherwise with
``masquerade[node] = address`` (traffic from that node's pods to other nodes arrives from
``address``, as with SNAT on the way) or ``blocked.add((from_node, to_node))`` (the
connection times out).
"""

from __future__ import annotations

import itertools
import json
import shlex
import threading
from typing import Any

from . import errors
from .registry import ResourceType
from .router import Request, Response
from .store import Store

DEFAULT_NETEXEC_PORT = 8080
APISERVER_ADDRESS = "127.0.0.1"  # the client a pod sees for requests through the proxy


def _text(code: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
    return Response(code, {}, raw=text.encode(), content_type=content_type)


def netexec_port(container: dict[str, Any]) -> int | None:
    """The HTTP port of an agnhost netexec container, or None for anything else."""
    if "agnhost" not in container.get("image", ""):
        return None
    words = [*(container.get("command") or []), *(container.get("args") or [])]
    words = [w for part in words for w in shlex.split(part)]
    if "netexec" not in words:
        return None
    for index, word in enumerate(words):
        if word.startswith("--http-port="):
            return int(word.split("=", 1)[1])
        if word == "--http-port" and index + 1 < len(words):
            return int(words[index + 1])
    return DEFAULT_NETEXEC_PORT


class PodNetwork:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.masquerade: dict[str, str] = {}  # node → source address its pods appear from
        self.blocked: set[tuple[str, str]] = set()  # (from node, to node): times out
        self._ports = itertools.count(40000)
        self._lock = threading.Lock()

    def _pods(self) -> ResourceType:
        found = self.store.registry.lookup("", "v1", "pods")
        assert found is not None
        return found

    def _ephemeral_port(self) -> int:
        with self._lock:
            return next(self._ports)

    # --- the apiserver's proxy -----------------------------------------------------------

    def proxy(self, req: Request, namespace: str, target: str, path: str) -> Response:
        parts = target.split(":")
        if len(parts) == 3:
            parts = parts[1:]  # scheme:name:port
        name, port = parts[0], parts[1] if len(parts) > 1 else ""
        pod = self.store.get(self._pods(), namespace, name)
        if not port:
            declared = [p["containerPort"] for c in pod["spec"].get("containers") or []
                        for p in c.get("ports") or []]
            port = str(declared[0]) if declared else ""
        address = (pod.get("status") or {}).get("podIP", "")
        if not address:
            raise errors.bad_request("address not allowed")
        if req.method != "GET" or netexec_port_of(pod) != int(port or 80):
            raise errors.ApiError(503, "ServiceUnavailable",
                                  f"error trying to reach service: dial tcp {address}:{port or 80}: "
                                  "connect: connection refused")
        return self._netexec(pod, path, req.query, APISERVER_ADDRESS)

    # --- agnhost netexec -------------------------------------------------------------------

    def _netexec(self, pod: dict[str, Any], path: str, query: dict[str, str],
                 client: str) -> Response:
        if path in ("clientip", "clientip/"):
            return _text(200, f"{client}:{self._ephemeral_port()}")
        if path == "hostname":
            return _text(200, pod["metadata"]["name"])
        if path == "dial":
            return self._dial(pod, query)
        return _text(404, "404 page not found\n")

    def _dial(self, pod: dict[str, Any], query: dict[str, str]) -> Response:
        request, host = query.get("request", ""), query.get("host", "")
        protocol = query.get("protocol", "http")
        if not request:
            return _text(400, "request is not specified")
        if protocol not in ("http", "udp", "sctp"):
            return _text(400, f"unsupported protocol. {protocol}")
        try:
            port = int(query.get("port", ""))
            tries = int(query.get("tries", "1"))
        except ValueError as exc:
            return _text(400, f"bad parameter: {exc}")
        responses, failures = [], []
        ok = False
        for _ in range(tries):
            answer, error = self._one(pod, host, port, request, protocol)
            ok = error is None
            if error is None:
                responses.append(answer)
            else:
                failures.append(f"error trying: {error}")
        output: dict[str, list[str]] = {}
        if responses:
            output["responses"] = responses
        if failures:
            output["errors"] = failures
        return _text(200 if ok else 417, json.dumps(output, separators=(",", ":")))

    def _one(self, src: dict[str, Any], host: str, port: int, request: str,
             protocol: str) -> tuple[str, str | None]:
        url = f"http://{host}:{port}/{request.lstrip('/')}"
        if protocol != "http":
            return "", f"{protocol} is not served by this stand-in"
        dst = next((p for p in self.store.items(self._pods())
                    if (p.get("status") or {}).get("podIP") == host), None)
        if dst is None:
            return "", f'Get "{url}": dial tcp {host}:{port}: connect: no route to host'
        src_node, dst_node = src["spec"].get("nodeName", ""), dst["spec"].get("nodeName", "")
        if (src_node, dst_node) in self.blocked:
            return "", f'Get "{url}": dial tcp {host}:{port}: i/o timeout'
        if netexec_port_of(dst) != port or (dst.get("status") or {}).get("phase") != "Running":
            return "", f'Get "{url}": dial tcp {host}:{port}: connect: connection refused'
        source = src["status"]["podIP"]
        if src_node != dst_node and src_node in self.masquerade:
            source = self.masquerade[src_node]
        answer = self._netexec(dst, request.lstrip("/"), {}, source)
        return answer.raw.decode() if answer.raw else "", None


def netexec_port_of(pod: dict[str, Any]) -> int | None:
    for container in pod["spec"].get("containers") or []:
        port = netexec_port(container)
        if port is not None:
            return port
    return None
