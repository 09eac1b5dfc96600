"""Which webhook hosts count as private (app/webhooks/targets.py), and who allows them."""

from __future__ import annotations

import pytest

from app.settings import Settings
from app.webhooks.targets import private_address


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("http://127.0.0.1:8080/hook", "127.0.0.1"),
        ("http://127.8.9.10/hook", "127.8.9.10"),
        ("https://10.1.2.3/hook", "10.1.2.3"),
        ("https://172.16.0.1/hook", "172.16.0.1"),
        ("https://192.168.0.10/hook", "192.168.0.10"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),  # cloud metadata
        ("http://100.64.0.1/hook", "100.64.0.1"),  # carrier-grade NAT
        ("http://0.0.0.0/hook", "0.0.0.0"),
        ("http://[::1]/hook", "::1"),
        ("http://[fe80::1]/hook", "fe80::1"),
        ("http://[fd00::1]/hook", "fd00::1"),
        ("http://[::ffff:10.0.0.1]/hook", "10.0.0.1"),  # an IPv4-mapped private address
    ],
)
def test_non_public_addresses_are_named(url: str, address: str) -> None:
    assert private_address(url) == address


def test_localhost_resolves_to_loopback() -> None:
    assert private_address("http://localhost:9000/hook") in {"127.0.0.1", "::1"}


@pytest.mark.parametrize(
    "url", ["https://93.184.215.14/hook", "https://[2606:4700:4700::1111]/hook", "https:///x"]
)
def test_public_addresses_and_hostless_urls_pass(url: str) -> None:
    assert private_address(url) is None


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_private_targets_are_allowed_except_in_production() -> None:
    assert _settings().webhooks_reach_private
    assert _settings(environment="test").webhooks_reach_private
    production = _settings(environment="production", admin_key="k" * 32)
    assert not production.webhooks_reach_private
    assert _settings(webhook_private_targets=False).webhooks_reach_private is False
    allowed = _settings(environment="production", admin_key="k" * 32, webhook_private_targets=True)
    assert allowed.webhooks_reach_private
