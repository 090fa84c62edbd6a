"""The SSRF guard on webhook URLs: which URLs and addresses deliveries may go to, and the
target a delivery connects to (resolution injected; no network)."""

from __future__ import annotations

import ipaddress

import pytest

from services.abnormal_push.domain.webhook_targets import (
    IPAddress,
    address_problem,
    addresses_problem,
    parse_networks,
    url_problem,
)
from services.abnormal_push.webhook_addresses import WebhookUrlRefused, checked_target

LOOPBACK_ONLY = parse_networks("127.0.0.0/8")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://receiver.example.cn/push", "is not http or https"),
        ("file:///etc/passwd", "is not http or https"),
        ("gopher://receiver.example.cn:70/_", "is not http or https"),
        ("receiver.example.cn/push", "is not http or https"),
        ("https://user:pw@receiver.example.cn/push", "carries credentials"),
        ("https://user@receiver.example.cn/push", "carries credentials"),
        ("https:///push", "names no host"),
        ("https://receiver.example.cn:99999/push", "not a URL"),
        ("https://receiver.example.cn:0/push", "port 0"),
    ],
)
def test_urls_refused_before_resolving(url: str, reason: str) -> None:
    problem = url_problem(url)
    assert problem is not None and reason in problem


@pytest.mark.parametrize("url", ["https://receiver.example.cn/push", "http://1.2.3.4:8080/p?q=1"])
def test_plain_http_and_https_urls_pass_the_syntax_check(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("fc00::5", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT: neither private nor global
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped: judged as the IPv4 address
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "relayed to 127.0.0.1"),  # 6to4, which Python counts as global
        ("2002:a00:1::1", "relayed to 10.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "relayed to 127.0.0.1"),  # Teredo client
    ],
)
def test_non_public_addresses_are_refused(address: str, kind: str) -> None:
    problem = address_problem(ipaddress.ip_address(address), ())
    assert problem is not None and kind in problem


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "119.29.29.29"])
def test_public_addresses_pass(address: str) -> None:
    assert address_problem(ipaddress.ip_address(address), ()) is None


def test_the_allow_list_permits_its_networks_only() -> None:
    assert address_problem(ipaddress.ip_address("127.0.0.1"), LOOPBACK_ONLY) is None
    assert address_problem(ipaddress.ip_address("::ffff:127.0.0.1"), LOOPBACK_ONLY) is None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), LOOPBACK_ONLY) is not None
    assert address_problem(ipaddress.ip_address("::1"), LOOPBACK_ONLY) is not None


def test_one_refused_address_refuses_the_host() -> None:
    mixed = [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("10.0.0.1")]
    assert "private" in (addresses_problem(mixed, ()) or "")
    assert addresses_problem([], ()) == "the host resolves to no address"


def test_allow_list_setting_is_parsed_and_a_bad_entry_named() -> None:
    assert parse_networks("") == ()
    assert parse_networks(" 127.0.0.0/8 , ::1 ") == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    with pytest.raises(ValueError, match="'localhost'"):
        parse_networks("127.0.0.0/8,localhost")


class Dns:
    """A resolver whose answers change from call to call, like a rebinding DNS server."""

    def __init__(self, *answers: str) -> None:
        self.answers = [ipaddress.ip_address(a) for a in answers]
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        return [answer]


async def test_the_target_is_pinned_to_the_checked_address() -> None:
    target = await checked_target("https://hooks.example.cn:8443/p?x=1", (), Dns("93.184.216.34"))
    assert target.url == "https://93.184.216.34:8443/p?x=1"
    assert target.headers == {"Host": "hooks.example.cn:8443"}
    assert target.extensions == {"sni_hostname": "hooks.example.cn"}
    v6 = await checked_target("http://hooks.example.cn/p", (), Dns("2606:4700:4700::1111"))
    assert v6.url == "http://[2606:4700:4700::1111]/p" and v6.extensions == {}


async def test_a_name_rebound_to_a_private_address_is_refused_at_the_next_check() -> None:
    dns = Dns("93.184.216.34", "10.0.0.7")
    await checked_target("https://hooks.example.cn/p", (), dns)  # registration: public
    with pytest.raises(WebhookUrlRefused, match=r"10\.0\.0\.7 is a private address"):
        await checked_target("https://hooks.example.cn/p", (), dns)  # delivery: rebound


async def test_an_ip_literal_url_is_judged_without_dns() -> None:
    with pytest.raises(WebhookUrlRefused, match="link-local"):
        await checked_target("http://169.254.169.254/latest/meta-data/", ())
    with pytest.raises(WebhookUrlRefused, match="credentials"):
        await checked_target("http://a:b@93.184.216.34/", ())
    local = await checked_target("http://127.0.0.1:9/p", LOOPBACK_ONLY)
    assert local.url == "http://127.0.0.1:9/p"


async def test_unresolvable_and_malformed_names_are_refused_not_crashed() -> None:
    # .invalid never resolves (RFC 6761); a 70-letter label fails IDNA before any lookup.
    with pytest.raises(WebhookUrlRefused, match="does not resolve"):
        await checked_target("http://no-such-host.invalid/p", ())
    with pytest.raises(WebhookUrlRefused, match="not a valid host name"):
        await checked_target(f"http://{'a' * 70}.example.cn/p", ())
