"""Which network addresses a connection Kairo opens for a tenant may reach.

A URL a tenant gives (a feed, a page, a platform endpoint, a webhook) must not become a way into
the deployment's own network: its databases, its Ray cluster, a cloud's metadata service. An
:class:`AddressGuard` is an aiohttp socket factory, so it judges the very address each connection
is about to open, after DNS and on every redirect (a name that resolves to an internal address,
or a redirect to one, is caught as surely as a literal), and refuses it before the socket exists.
"""

from __future__ import annotations

import ipaddress
import socket

import aiohttp


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(networks: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """``networks`` as networks (CIDR; a bare address is its own /32 or /128); ValueError naming
    the first that is none."""
    parsed = []
    for network in networks:
        try:
            parsed.append(ipaddress.ip_network(network, strict=False))
        except ValueError:
            raise ValueError(f"{network!r} is not a network (CIDR, e.g. 10.20.0.0/16)") from None
    return tuple(parsed)


class BlockedAddress(OSError):
    """A connection to an address the guard does not permit (raised before the socket exists)."""


class AddressGuard:
    """A socket factory that refuses every address that is not global (private, loopback,
    link-local, shared, reserved; IPv4-mapped IPv6 judged as IPv4) unless it is in ``allowed``."""

    def __init__(self, allowed: tuple[str, ...] = ()) -> None:
        self.allowed = parse_networks(allowed)

    def permits(self, host: str) -> bool:
        address = ipaddress.ip_address(host.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return address.is_global or any(address in network for network in self.allowed)

    def __call__(self, addr_info: tuple) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        if not self.permits(sockaddr[0]):
            raise BlockedAddress(f"{sockaddr[0]} is a private, loopback or reserved address; a tenant's URL reaches "
                                 "public addresses only")  # fmt: skip
        return socket.socket(family=family, type=type_, proto=proto)

    def connector(self) -> aiohttp.TCPConnector:
        """An aiohttp connector whose every connection, a redirect's included, passes this guard."""
        return aiohttp.TCPConnector(socket_factory=self)


__all__ = ["AddressGuard", "BlockedAddress", "parse_networks"]
