"""Posting one delivery to its receiver over HTTP (urllib3), for the delivery worker's threads.

urllib3 rather than httpx because a delivery's CPU was mostly its HTTP client, on the core the
API shares with the worker: 0.65-1.3 ms a post with httpx, 0.22-0.33 with urllib3
(``benchmarks/webhooks.py``; docs/performance.md "Webhooks multiply the receipts"). What a
receiver sees is unchanged (docs/api.md "Webhooks"):

- **keep-alive**: connections are kept per receiver (scheme, host and port), at most as many as
  the worker posts side by side, for the last ``RECEIVERS_KEPT`` receivers posted to; a kept
  connection the receiver has closed is noticed before it is used, and replaced;
- **timeouts**: connecting, and each wait for the answer, at most ``timeout_s``;
- **no redirects followed**: a 3xx is a failed attempt, retried like any other;
- **TLS**: an https receiver's certificate is verified, and its host name, against certifi's
  certificate authorities, or those of ``SSL_CERT_FILE`` (else ``SSL_CERT_DIR``) when set
  (what httpx verified against);
- **credentials in the URL** (``https://user:password@host/…``) are sent as HTTP Basic
  authentication, percent-decoded, as httpx sent them (a proxy's to the proxy);
- **proxies**: ``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` (as ``urllib.request.getproxies``
  reads them) and ``NO_PROXY`` (host names, each with the names under it, or ``*``) are
  honoured, as httpx honoured them: an egress proxy (docs/api.md "Private targets"); an https
  receiver is reached through a ``CONNECT`` tunnel.

No attempt is retried here: the outbox's backoff does that (``app.webhooks.outbox``).
"""

from __future__ import annotations

import os
import ssl
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import certifi
import urllib3

RECEIVERS_KEPT = 64  # receivers whose connections are kept open between deliveries
HEADERS = {"User-Agent": "danchuang-webhooks/1", "Content-Type": "application/json"}


def credentials(url: str) -> str | None:
    """The ``user:password`` of ``url``, percent-decoded; None when it has none."""
    if "@" not in url:
        return None
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return None
    return f"{unquote(parts.username or '')}:{unquote(parts.password or '')}"


def certificate_authorities() -> ssl.SSLContext:
    """A TLS context that verifies certificates and host names against ``SSL_CERT_FILE``,
    ``SSL_CERT_DIR`` or else certifi's authorities."""
    if os.environ.get("SSL_CERT_FILE"):
        return ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    if os.environ.get("SSL_CERT_DIR"):
        return ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    return ssl.create_default_context(cafile=certifi.where())


@dataclass(frozen=True)
class Proxies:
    """The environment's proxies by URL scheme (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY``)
    and the hosts ``NO_PROXY`` exempts: each name and the names under it, ``*`` every host."""

    by_scheme: dict[str, str]
    exempt: tuple[str, ...]

    @classmethod
    def from_environment(cls) -> Proxies:
        found = urllib.request.getproxies()
        by_scheme = {
            scheme: proxy if "://" in proxy else f"http://{proxy}"
            for scheme in ("http", "https", "all")
            if (proxy := found.get(scheme))
        }
        names = (name.strip().lstrip(".").lower() for name in found.get("no", "").split(","))
        return cls(by_scheme, tuple(name for name in names if name))

    def for_url(self, url: str) -> str | None:
        """The proxy to reach ``url`` through, or None to connect directly."""
        parts = urlsplit(url)
        proxy = self.by_scheme.get(parts.scheme) or self.by_scheme.get("all")
        host = (parts.hostname or "").lower()
        if proxy is None or any(
            name in ("*", host) or host.endswith(f".{name}") for name in self.exempt
        ):
            return None
        return proxy


def _basic(login: str | None, *, proxy: bool = False) -> dict[str, str]:
    """The HTTP Basic authorization header for ``user:password`` (``Proxy-Authorization`` for
    a proxy); none for None."""
    if login is None:
        return {}
    if proxy:
        return urllib3.make_headers(proxy_basic_auth=login)
    return urllib3.make_headers(basic_auth=login)


class Poster:
    """POSTs delivery bodies; thread-safe, shared by the worker's posting threads."""

    def __init__(self, *, timeout_s: float, connections: int) -> None:
        options: dict[str, Any] = {
            "num_pools": RECEIVERS_KEPT,
            "maxsize": connections,  # per receiver: the most posted to it at once
            "timeout": urllib3.Timeout(connect=timeout_s, read=timeout_s),
            "retries": False,  # one attempt: errors are raised, redirects returned
            "ssl_context": certificate_authorities(),
        }
        self._direct = urllib3.PoolManager(**options)
        self._proxies = Proxies.from_environment()
        self._through = {
            proxy: urllib3.ProxyManager(
                proxy, proxy_headers=_basic(credentials(proxy), proxy=True), **options
            )
            for proxy in set(self._proxies.by_scheme.values())
        }

    def _manager(self, url: str) -> urllib3.PoolManager:
        proxy = self._proxies.for_url(url) if self._through else None
        return self._direct if proxy is None else self._through[proxy]

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> str | None:
        """POST ``body`` with ``HEADERS`` and ``headers``; the error, or None for a 2xx."""
        try:
            response = self._manager(url).urlopen(
                "POST",
                url,
                body=body,
                headers=HEADERS | dict(headers) | _basic(credentials(url)),
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        response.drain_conn()  # the answer's body is not read: discarded, to reuse the connection
        response.release_conn()
        return None if 200 <= response.status < 300 else f"HTTP {response.status}"

    def close(self) -> None:
        """Close every kept connection."""
        self._direct.clear()
        for manager in self._through.values():
            manager.clear()
