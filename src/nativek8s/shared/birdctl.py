"""BIRD's control socket spoken directly: what `birdc -s SOCKET COMMAND` prints, without a
process. Verify polls every router's BIRD many times a second while a lab converges; a
birdc process per question costs ~5 ms of CPU, a socket round trip ~0.1 ms.

The protocol (BIRD's doc/prog, "Remote control"): BIRD greets with ``0001 BIRD x.y
ready.``; each reply line is a 4-digit code and ``-`` (more follows) or `` `` (last line),
or a continuation line starting with a space; code 0000 ends a reply that printed nothing
else. birdc prints each line without its code, skips code-0 lines, prints the greeting
first, and exits 1 after an error reply: so does :func:`query`.
"""

from __future__ import annotations

import socket

from nativek8s.core.errors import CommandFailed


def _plain(line: str) -> str | None:
    """One reply line as birdc prints it (None: birdc prints nothing for it)."""
    if line.startswith("+"):  # asynchronous message
        return ">>> " + line[1:]
    if line.startswith(" "):  # continuation of the previous line's reply
        return line[1:]
    if len(line) > 4 and line[:4].isdigit() and line[4] in " -":
        return line[5:] if int(line[:4]) else None
    return f"??? <{line}>"


def _last(line: str) -> bool:
    return len(line) > 4 and line[:4].isdigit() and line[4] == " "


def query(path: str, command: str, timeout: float = 10.0) -> str:
    """What `birdc -s path command` prints. Raises CommandFailed where birdc fails: the
    socket cannot be reached, or BIRD answers with an error reply (8xxx, 9xxx)."""
    if "\n" in command:
        raise ValueError("one command, one line")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            stream = sock.makefile("r", encoding="utf-8", errors="replace", newline="\n")
            greeting = stream.readline().rstrip("\n")
            sock.sendall(command.encode() + b"\n")
            lines = [greeting]
            while True:
                line = stream.readline()
                if not line:
                    raise CommandFailed(f"`birdc -s {path} {command}`: BIRD closed the "
                                        "connection before its reply ended", 1)
                line = line.rstrip("\n")
                lines.append(line)
                if _last(line):
                    break
    except OSError as exc:
        raise CommandFailed(f"`birdc -s {path} {command}` failed: Unable to connect to server "
                            f"control socket ({path}): {exc.strerror or exc}", 1) from None
    out = [text for text in map(_plain, lines) if text is not None]
    text = "".join(f"{t}\n" for t in out)
    if lines[-1][0] in "89":  # run-time (8xxx) and parse (9xxx) errors: birdc exits 1
        raise CommandFailed(f"`birdc -s {path} {command}` failed: {lines[-1][5:]}", 1, text)
    return text
