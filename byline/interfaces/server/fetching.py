"""Fetching pages for ``{"url": ...}`` requests, only when the server allows it.

A server that fetches URLs for its clients can be turned against the network
it runs in (server-side request forgery): by default ``byline serve`` fetches
nothing. With ``--allow-fetch`` it fetches http(s) pages whose host resolves
only to public addresses, re-checking every redirect. (A host that changes its
DNS answer between the check and the connection can still slip through; run a
fetching server where that would not matter.)
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.parse
import urllib.request

from byline.errors import InputError

MAX_REDIRECTS = 5


def _addresses(host: str) -> list[str]:
    try:
        return sorted({info[4][0] for info in socket.getaddrinfo(host, None)})
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise InputError(host, f"cannot resolve the host name ({error})") from None


def check_public_url(url: str) -> None:
    """Raise :class:`InputError` unless ``url`` is http(s) on a host with only public addresses."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise InputError(url, "only http:// and https:// URLs can be fetched")
    if not parts.hostname:
        raise InputError(url, "the URL has no host name")
    try:
        addresses = _addresses(parts.hostname)
    except InputError as error:
        raise InputError(url, error.problem) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not ip.is_global or ip.is_multicast:
            raise InputError(
                url, f"refusing to fetch: {parts.hostname} resolves to a non-public address ({address})"
            )


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_public_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_public_page(url: str, *, timeout: float = 20.0, max_bytes: int = 5_000_000) -> bytes:
    """Download a public page (at most ``max_bytes`` + 1 bytes, so the caller can refuse larger ones)."""
    check_public_url(url)
    opener = urllib.request.build_opener(_CheckedRedirects())
    request = urllib.request.Request(url, headers={"User-Agent": "byline (news text checker)"})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.read(max_bytes + 1)
    except InputError:
        raise
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise InputError(url, f"could not fetch the page: {reason}") from None
