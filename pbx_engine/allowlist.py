"""Peer networks a listener accepts (``[api] allow``, ``[agi] allow``), and the rule that a
listener off loopback needs one: FastAGI has no authentication and the API's throttle is per
address, so reaching the port must be a decision."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cards.errors import InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Allowlist:
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, name: str, cidrs: Iterable[str]) -> Allowlist:
        networks = []
        for text in cidrs:
            try:
                networks.append(ipaddress.ip_network(text.strip(), strict=True))
            except ValueError as exc:
                problem = f"{name}: {text.strip()[:40]!r} is not a network ({exc})"
                raise InvalidInput(problem) from exc
        if not networks:
            raise InvalidInput(f"{name}: name at least one network, e.g. 127.0.0.1/32")
        return cls(tuple(networks))

    def permits(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def __str__(self) -> str:
        return ", ".join(str(network) for network in self.networks)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``; a name or a wildcard is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_exposure(section: str, host: str, allow: Allowlist | None) -> None:
    """Refuse a listener off loopback without an allowlist (the operator's line says how)."""
    if allow is None and not is_loopback(host):
        raise InvalidInput(
            f"[{section}] host = {host!r} is not a loopback address: set [{section}] allow to "
            f'the peer networks that may connect (e.g. allow = ["192.0.2.10/32"]) and firewall '
            "the port (docs/operating.md)"
        )
