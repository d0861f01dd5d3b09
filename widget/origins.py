"""Web origins (scheme://host[:port]): the one check for every origin that is set (campaign
files, the admin, the CLI) and for every origin that goes into a response header, so that
nothing but an origin can ever reach a Content-Security-Policy."""

from __future__ import annotations

import ipaddress
import re

ANY = "*"
_ORIGIN_RE = re.compile(r"^(https?)://(\[[0-9A-Fa-f:.]+\]|[^/:\[\]]+)(?::([0-9]{1,5}))?/?$")
_LABEL_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise(value: str) -> str | None:
    """`value` as a browser sends it in an Origin header (lower case, an international name
    in its xn-- form, no default port, no trailing slash), or None if it is not exactly
    `http(s)://host[:port]`: no user, path, query, fragment, space or punctuation beyond."""
    match = _ORIGIN_RE.match(value)
    if match is None:
        return None
    scheme, host, port = match.group(1), match.group(2).lower(), match.group(3)
    host = _host(host)
    if host is None:
        return None
    if port is not None:
        number = int(port)
        if not 0 < number < 65536:
            return None
        if number != _DEFAULT_PORTS[scheme]:
            return f"{scheme}://{host}:{number}"
    return f"{scheme}://{host}"


def is_origin(value: str) -> bool:
    """Whether `value` is an origin exactly as normalise() writes it."""
    return normalise(value) == value


def _host(host: str) -> str | None:
    if host.startswith("["):
        try:
            return f"[{ipaddress.IPv6Address(host[1:-1]).compressed}]"
        except ValueError:
            return None
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL_RE.match(label) for label in labels):
        return None
    return ascii_host
