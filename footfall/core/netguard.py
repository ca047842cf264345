"""The SSRF guard for outgoing webhooks: refuse targets that resolve to private, loopback,
link-local, multicast or reserved addresses unless a setting allows them.

The API checks a webhook URL when it is subscribed (a clear error up front) and the
delivery worker checks it again before every attempt (DNS may have changed). Redirects
are not followed. A host that resolves differently between the check and the connection
(DNS rebinding) is not covered; put the receiver behind an egress proxy for that.

Example:
    >>> refuse_private_target("http://127.0.0.1:9000/hook", ["127.0.0.1/32"])
    >>> try:
    ...     refuse_private_target("http://169.254.169.254/latest/meta-data", [])
    ... except TargetNotAllowed as exc:
    ...     print(str(exc)[:58])
    webhook host '169.254.169.254' resolves to 169.254.169.254
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from footfall.core.errors import FootfallError


class TargetNotAllowed(FootfallError):
    """The URL is not http(s), or it points into a private network that is not allowed."""


class TargetUnresolved(FootfallError):
    """The host name does not resolve (now); it may later."""


def _allowed(host: str, addr: ipaddress.IPv4Address | ipaddress.IPv6Address, allow: list[str]) -> bool:
    for entry in allow:
        if entry.lower() == host.lower():
            return True
        try:
            if addr in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def refuse_private_target(url: str, allow: list[str]) -> None:
    """Raise unless `url` is http(s) and every address its host resolves to is public or allowed.

    Args:
        url: the webhook URL.
        allow: host names or CIDR networks allowed although private.

    Raises:
        TargetNotAllowed: with the reason and the setting that would allow it.
        TargetUnresolved: the host does not resolve.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetNotAllowed(f"webhook URL {url!r} must be http:// or https:// with a host")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        raise TargetUnresolved(f"webhook host {host!r} does not resolve: {exc}") from None
    for info in infos:
        addr = ipaddress.ip_address(info[4][0])
        private = (
            addr.is_private
            or addr.is_loopback
            or addr.is_link_local
            or addr.is_multicast
            or addr.is_reserved
            or addr.is_unspecified
        )
        if private and not _allowed(host, addr, allow):
            raise TargetNotAllowed(
                f"webhook host {host!r} resolves to {addr}, a private/loopback/link-local address; "
                "add it to FOOTFALL_ALERTS__WEBHOOK_ALLOW if it is meant to receive alerts"
            )
