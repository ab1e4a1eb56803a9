"""Errors the stand-in raises while handling a request, shaped like PVE's.

PVE handlers fail in three ways, and each reaches the client differently:
``raise_param_exc`` (400, per-parameter ``errors``), ``raise_perm_exc`` (403) and a plain
``die`` (500, the message becomes the HTTP reason phrase). Messages keep PVE's trailing
newline because PVE puts them verbatim into the JSON body's ``message``.
"""

from __future__ import annotations


class ApiError(Exception):
    """An error answer: HTTP status, message (first line = reason phrase), parameter errors."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None, *,
                 newline: bool = True) -> None:
        if newline and not message.endswith("\n"):  # a Perl die/raise message ends with \n
            message += "\n"
        super().__init__(message.rstrip("\n"))
        self.status = status
        self.message = message
        self.errors = dict(errors or {})

    def __str__(self) -> str:
        # Like PVE::Exception::stringify: "<code> <msg>" plus one "param: error" line each.
        text = f"{self.status} {self.message}" if self.status != 500 else self.message
        return text + "".join(f"{k}: {v}\n" for k, v in self.errors.items())


def param_error(errors: dict[str, str]) -> ApiError:
    return ApiError(400, "Parameter verification failed.", errors)


def perm_error(what: str | None = None) -> ApiError:
    return ApiError(403, f"Permission check failed ({what})" if what else "Permission check failed")


def die(message: str) -> ApiError:
    """A plain Perl ``die`` inside a handler: HTTP 500 with the message."""
    return ApiError(500, message)


def wrapped(prefix: str, err: ApiError) -> ApiError:
    """``die "$errmsg: $err"`` as PVE's config-lock helpers do: the error becomes a 500 string."""
    return ApiError(500, f"{prefix}: {err}")


class FormatError(ValueError):
    """A format verifier rejected a value; the message ends with a newline like PVE's ``die``."""

    def __init__(self, message: str) -> None:
        if not message.endswith("\n"):
            message += "\n"
        super().__init__(message)
        self.message = message
