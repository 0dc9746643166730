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

#: IPv6 prefixes whose last 32 bits are an IPv4 address the packets are delivered to: NAT64
#: (RFC 6052's well-known prefix and RFC 8215's local-use one) and the deprecated
#: IPv4-compatible form (RFC 4291). ``ipaddress`` has helpers for 6to4, Teredo and
#: IPv4-mapped addresses, not for these.
_LAST_32_BITS_IPV4 = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("::/96"),
)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (6to4, Teredo, NAT64, mapped, compatible)."""
    embedded: list[ipaddress.IPv4Address] = []
    if ip.ipv4_mapped is not None:
        embedded.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        embedded.append(ip.sixtofour)
    if ip.teredo is not None:
        embedded.extend(ip.teredo)  # the Teredo server and the client
    if any(ip in network for network in _LAST_32_BITS_IPV4):
        embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return embedded


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a public unicast address, and so is every IPv4 address it embeds."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if not ip.is_global or ip.is_multicast:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        return all(v4.is_global and not v4.is_multicast for v4 in _embedded_ipv4(ip))
    return True


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
        if not is_public_address(address):
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
