"""Forwarded headers, trusted only from the proxies named in ``FORWARDED_ALLOW_IPS``.

Behind a gateway the service sees the gateway's address, scheme and host; the gateway passes the
client's in ``X-Forwarded-For``/``-Proto``/``-Host``/``-Port``. werkzeug's ``ProxyFix`` applies
them, but it trusts whoever sends them: here it applies only when the peer is a configured
proxy (an address or network, or ``*``), so a client talking to the service directly cannot
pose as another address in the logs or change the scheme and host of generated URLs. The same
variable is gunicorn's own (``forwarded_allow_ips``), so both agree on whom to trust.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(raw: str) -> tuple[Network, ...] | None:
    """``*`` (``None``: every peer) or a comma-separated list of addresses and networks, read
    as gunicorn reads the same variable (a ``*`` anywhere trusts every peer; a network with
    host bits set is refused)."""
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if "*" in parts:
        return None
    networks = []
    for part in parts:
        try:
            networks.append(ipaddress.ip_network(part))
        except ValueError:
            raise ValueError(
                f"{part!r} is not an address or network; expected '*' or a comma-separated "
                "list such as 10.0.0.0/8,127.0.0.1"
            ) from None
    return tuple(networks)


class TrustedProxyFix:
    """``ProxyFix`` (one proxy hop) for requests whose peer is a trusted proxy."""

    def __init__(self, app: Any, trusted: Iterable[Network] | None) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=1, x_proto=1, x_host=1, x_port=1)
        self.trusted = None if trusted is None else tuple(trusted)

    def _trusts(self, peer: str | None) -> bool:
        if self.trusted is None:
            return True
        try:
            address = ipaddress.ip_address((peer or "").split("%", 1)[0])
        except ValueError:
            return False
        return any(address in network for network in self.trusted)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self._trusts(environ.get("REMOTE_ADDR")):
            return self.fixed(environ, start_response)
        return self.app(environ, start_response)


def init_app(app: Any) -> None:
    app.wsgi_app = TrustedProxyFix(app.wsgi_app, parse(app.config["FORWARDED_ALLOW_IPS"]))
