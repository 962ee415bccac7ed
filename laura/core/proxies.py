"""Which peers may speak for a client: `LAURA_TRUSTED_PROXIES` as addresses and CIDR networks.

A connection reports its peer as an address, so only addresses can be matched: a proxy's hostname (a
compose service name) would match nothing, and a load balancer or a cluster's pod range is a network, not
one address. Only a trusted peer's X-Forwarded-For, X-Forwarded-Proto and X-SSL-Client-* are believed."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network


def parse_networks(entries: Iterable[str]) -> tuple[IPv4Network | IPv6Network, ...]:
    """Each entry as a network (an address is a /32 or /128); a ValueError names the first that is neither."""
    networks: list[IPv4Network | IPv6Network] = []
    for entry in entries:
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"LAURA_TRUSTED_PROXIES: {entry!r} is neither an IP address nor a CIDR network; a hostname"
                " cannot be matched against a peer's address, so list the proxy's address or its subnet"
                " (e.g. 10.0.0.5 or 172.16.0.0/12)"
            ) from None
    return tuple(networks)


class TrustedProxies:
    """`peer in proxies`: the peer's address lies in one of the listed networks."""

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks = parse_networks(entries)

    def __contains__(self, peer: object) -> bool:
        if not isinstance(peer, str):
            return False
        try:
            address = ip_address(peer)
        except ValueError:
            return False
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d
        return any(address in network for network in self.networks)


@lru_cache(maxsize=8)
def trusted_proxies(entries: tuple[str, ...]) -> TrustedProxies:
    """The parsed networks of a settings list, parsed once (it is asked on every request)."""
    return TrustedProxies(entries)
