"""Where outgoing webhooks may go: public addresses only, checked when registered and when connecting.

An organizer's URL is requested by the server, so without these checks it reaches what only the
server can reach (the database port, a cloud's metadata service at 169.254.169.254, the private
network) and the delivery log reports what answered. Loopback, private, link-local, shared,
multicast, reserved and unspecified addresses are refused, in every spelling a resolver accepts
(``2130706433``, ``127.1``, ``0x7f.1``, ``[::ffff:127.0.0.1]``); ``localhost`` and the clouds'
metadata names are refused by name. ``BOXOFFICE_WEBHOOK_ALLOWED_HOSTS`` lists hosts and CIDRs that
are allowed although private.

At delivery the name is resolved once, each address is checked, and the connection goes to the
checked address (the URL keeps its host for the ``Host`` header and TLS), so a name that resolves
to a public address when checked and to a private one when connecting (DNS rebinding) gets nowhere.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from boxoffice.config import get_settings
from boxoffice.errors import InvalidValue

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Names that lead to the machine itself or to a cloud's instance metadata, whatever DNS says.
REFUSED_NAMES = frozenset(
    {
        "localhost",
        "localhost.localdomain",
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.azure.internal",
        "metadata.tencentyun.com",
        "100-100-100-200.alibabacloud.internal",
    }
)
REFUSED_SUFFIXES = (".localhost", ".internal")


class RefusedDestination(Exception):
    """The destination is not one webhooks may reach; the message says why."""


@dataclass(frozen=True)
class Allowance:
    """What ``BOXOFFICE_WEBHOOK_ALLOWED_HOSTS`` lets through although private."""

    names: frozenset[str]
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]

    @classmethod
    def parse(cls, entries: tuple[str, ...]) -> Allowance:
        names: set[str] = set()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry.lower().rstrip("."))
        return cls(frozenset(names), tuple(networks))

    def covers(self, address: IPAddress) -> bool:
        return any(address in network for network in self.networks)


def allowance() -> Allowance:
    return Allowance.parse(get_settings().webhook_allowed_hosts)


def literal_address(host: str) -> IPAddress | None:
    """The address a host spelled as an IP literal stands for (any form a resolver takes), or None."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        pass
    try:
        # inet_aton takes the short and numeric IPv4 forms resolvers accept: 127.1, 2130706433, 0x7f.1.
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def why_refused(address: IPAddress) -> str | None:
    """Why ``address`` is not a public destination, or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is not None:
            return why_refused(embedded) or (None if address.ipv4_mapped else "a tunnel address")
    for reason, flag in (
        ("a loopback address", address.is_loopback),
        ("an unspecified address", address.is_unspecified),
        ("a link-local address", address.is_link_local),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
        ("not a public address", not address.is_global),
    ):
        if flag:
            return reason
    return None


def check_address(address: IPAddress, permitted: Allowance) -> None:
    reason = None if permitted.covers(address) else why_refused(address)
    if reason is not None:
        raise RefusedDestination(f"{address} is {reason}; webhooks go to public addresses only.")


def check_name(host: str, permitted: Allowance) -> IPAddress | None:
    """Refuse a refused name; the address of an IP literal (checked), or None for a name to resolve."""
    name = host.lower().rstrip(".")
    address = literal_address(name)
    if address is not None:
        check_address(address, permitted)
        return address
    if name in permitted.names:
        return None
    if name in REFUSED_NAMES or name.endswith(REFUSED_SUFFIXES):
        raise RefusedDestination(f"'{host}' is the server itself or a cloud metadata service.")
    return None


def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to (empty when it does not resolve)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def _host_and_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise RefusedDestination("The URL's port is not a number from 1 to 65535.") from exc
    return parts.hostname or "", port


def check_registration(url: str, *, pointer: str = "/data/attributes/url") -> None:
    """422 at ``pointer`` for a URL whose host is refused or resolves to a refused address.

    A name that does not resolve now is accepted: it is checked again at every delivery.
    """
    permitted = allowance()
    try:
        host, port = _host_and_port(url)
        if check_name(host, permitted) is None and host.lower().rstrip(".") not in permitted.names:
            for address in resolve(host, port):
                check_address(address, permitted)
    except RefusedDestination as exc:
        raise InvalidValue(str(exc), pointer=pointer, code="refused-destination") from exc


def connect_address(url: str) -> IPAddress:
    """The checked address a delivery to ``url`` connects to; :class:`RefusedDestination` otherwise."""
    permitted = allowance()
    host, port = _host_and_port(url)
    literal = check_name(host, permitted)
    if literal is not None:
        return literal
    addresses = resolve(host, port)
    if not addresses:
        raise RefusedDestination(f"'{host}' does not resolve.")
    if host.lower().rstrip(".") not in permitted.names:
        for address in addresses:
            # Every address, not only the first: a resolver may rotate them between our calls.
            check_address(address, permitted)
    return addresses[0]
