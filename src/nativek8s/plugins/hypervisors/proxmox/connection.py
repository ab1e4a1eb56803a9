"""The API connection: the token (from a file or the environment), TLS, and errors that say
what failed without ever carrying the secret.

proxmoxer is imported only here, when a connection is opened. Every call goes through
:class:`Connection`, which turns proxmoxer's and requests' exceptions into
:class:`ApiError` naming the method, the path and PVE's own message.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nativek8s.api import NativeK8sError, UsageError

from .options import HOST_ENV, TOKEN_ENVS, TOKEN_FILE_ENV, ProxmoxOptions

DEFAULT_PORT = 8006
# PVE: userid is name@realm; token names match [A-Za-z][A-Za-z0-9.\-_]+ (pve-tokenid).
_TOKEN_RE = re.compile(r"(?P<user>[^\s@!=:]+@[A-Za-z][A-Za-z0-9.\-_]+)"
                       r"!(?P<name>[A-Za-z][A-Za-z0-9.\-_]+)=(?P<secret>\S+)")


@dataclass(frozen=True)
class Token:
    userid: str  # user@realm
    name: str  # token id
    secret: str = field(repr=False)
    source: str = ""  # where it came from, for messages ("file ~/pve.token", "$NAME")

    @property
    def full_id(self) -> str:
        return f"{self.userid}!{self.name}"


def parse_token(text: str, source: str) -> Token:
    match = _TOKEN_RE.fullmatch(text.strip())
    if match is None:  # never echo the content: it may be a secret in the wrong shape
        raise UsageError(f"the Proxmox API token in {source} is not of the form "
                         "USER@REALM!TOKENID=SECRET (for example "
                         "nativek8s@pve!lab=01234567-89ab-...)")
    return Token(match["user"], match["name"], match["secret"], source)


def _read_token_file(path: Path, source: str) -> Token:
    path = path.expanduser()
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise UsageError(f"cannot read the Proxmox API token file {path}: "
                         f"{exc.strerror}") from None
    if stat.S_IMODE(mode) & 0o077:
        raise UsageError(f"the Proxmox API token file {path} is readable by others; "
                         f"run `chmod 600 {path}`")
    return parse_token(text, source)


def load_token(opts: ProxmoxOptions) -> Token:
    """The token from options.token_file, $NATIVEK8S_PROXMOX_TOKEN_FILE or a token env."""
    if opts.token_file is not None:
        return _read_token_file(opts.token_file, f"file {opts.token_file}")
    if os.environ.get(TOKEN_FILE_ENV):
        path = Path(os.environ[TOKEN_FILE_ENV])
        return _read_token_file(path, f"file {path} (${TOKEN_FILE_ENV})")
    for name in TOKEN_ENVS:
        if os.environ.get(name):
            return parse_token(os.environ[name], f"${name}")
    raise UsageError("no Proxmox API token: set options.proxmox.token_file to a file (mode "
                     f"0600) holding USER@REALM!TOKENID=SECRET, or export ${TOKEN_FILE_ENV} "
                     f"or ${TOKEN_ENVS[0]}")


def host_of(opts: ProxmoxOptions) -> str:
    if not opts.host:
        raise UsageError(f"no Proxmox host: set options.proxmox.host (HOST or HOST:PORT) or "
                         f"export ${HOST_ENV}")
    return opts.host if ":" in opts.host else f"{opts.host}:{DEFAULT_PORT}"


class ApiError(NativeK8sError):
    """A failed API call: ``status`` is the HTTP status (0 when nothing answered)."""

    def __init__(self, message: str, status: int = 0, pve_message: str = "",
                 errors: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.pve_message, self.errors = status, pve_message, errors or {}


class Connection:
    """One API token's session with one Proxmox VE cluster."""

    def __init__(self, opts: ProxmoxOptions, token: Token | None = None):
        # heavy and optional: imported only when a lab is acted on
        from proxmoxer import ProxmoxAPI

        self.host = host_of(opts)
        self.url = f"https://{self.host}"
        self._token = token or load_token(opts)
        self.user = self._token.full_id
        verify: bool | str = opts.verify_tls
        if opts.verify_tls and opts.ca_file is not None:
            ca_file = opts.ca_file.expanduser()
            if not ca_file.is_file():
                raise UsageError(f"options.proxmox.ca_file {ca_file} does not exist")
            verify = str(ca_file)
        if not opts.verify_tls:
            import urllib3

            urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        self._api = ProxmoxAPI(self.host, user=self._token.userid, token_name=self._token.name,
                               token_value=self._token.secret, verify_ssl=verify,
                               timeout=opts.request_timeout)

    def __repr__(self) -> str:
        return f"Connection({self.url} as {self.user})"

    def _scrub(self, text: str) -> str:
        # Nothing here should carry the secret; this is the last guard, for real secrets
        # (PVE's are UUIDs) -- replacing a one-letter "secret" would garble every message.
        secret = self._token.secret
        return text.replace(secret, "***") if len(secret) >= 8 else text

    def call(self, method: str, path: str, /, **params: Any) -> Any:
        """``method`` (GET/POST/PUT/DELETE) on an API path such as ``/nodes/pve/qemu``."""
        from proxmoxer import ResourceException
        from requests.exceptions import RequestException, SSLError

        resource = self._api(path.strip("/"))
        try:
            return getattr(resource, method.lower())(**params)
        except ResourceException as exc:
            message = str(exc.content or exc.status_message or "").strip()
            # PVE's per-parameter errors; proxmoxer wraps a non-JSON body as {"errors": b"..."}
            errors = {str(k): str(v) for k, v in (exc.errors or {}).items()
                      if isinstance(v, str) and v.strip()} if isinstance(exc.errors, dict) else {}
            raise ApiError(self._explain(method, path, exc.status_code, message, errors),
                           exc.status_code, message, errors) from None
        except SSLError as exc:
            raise ApiError(self._scrub(
                f"TLS verification of {self.url} failed ({_root_cause(exc)}); give the "
                "cluster's CA with options.proxmox.ca_file (a copy of /etc/pve/pve-root-ca.pem"
                ") or, on a trusted network only, set verify_tls: false")) from None
        except RequestException as exc:
            raise ApiError(self._scrub(f"cannot reach the Proxmox API at {self.url}: "
                                       f"{_root_cause(exc)}")) from None

    def _explain(self, method: str, path: str, status: int, message: str,
                 errors: dict[str, str]) -> str:
        detail = message
        if errors:
            detail += " (" + "; ".join(f"{k}: {str(v).strip()}"
                                       for k, v in sorted(errors.items())) + ")"
        hint = ""
        if status == 401:
            hint = (f"; the API token {self.user} was rejected: check its id and secret, and "
                    "that it has not expired or been removed")
        elif status == 403:
            hint = f"; grant the token {self.user} that privilege (see `preflight`)"
        return self._scrub(f"Proxmox API {method.upper()} {path} failed: {status} "
                           f"{detail}{hint}")

    def get(self, path: str, /, **params: Any) -> Any:
        return self.call("GET", path, **params)

    def post(self, path: str, /, **params: Any) -> Any:
        return self.call("POST", path, **params)

    def put(self, path: str, /, **params: Any) -> Any:
        return self.call("PUT", path, **params)

    def delete(self, path: str, /, **params: Any) -> Any:
        return self.call("DELETE", path, **params)


def _root_cause(exc: BaseException) -> str:
    """The reason inside a requests error (urllib3's MaxRetryError wraps the real one)."""
    arg = exc.args[0] if exc.args else None
    reason = getattr(arg, "reason", None)
    return str(reason or arg or exc) or type(exc).__name__
