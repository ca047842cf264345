"""The MQTT transport's pure parts: TLS model → SSL context, broker target, back-off, will."""

import logging
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from footfall.core.errors import ConfigError
from footfall.core.mqtt import Backoff, BrokerTarget, MqttTransport, TlsOptions, Will, deployment_client_id, tls_context
from footfall.core.settings import MqttSettings


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key, cert = folder / "k.pem", folder / "c.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        # TLS off: no context, paho connects in the clear
        ({}, None),
        # TLS on: the system's CAs, the host name checked, TLS 1.2 at least
        ({"enabled": True}, (ssl.CERT_REQUIRED, True, ssl.TLSVersion.TLSv1_2)),
        # a higher floor
        ({"enabled": True, "min_version": "1.3"}, (ssl.CERT_REQUIRED, True, ssl.TLSVersion.TLSv1_3)),
        # insecure: the certificate is still verified, the host name is not
        ({"enabled": True, "insecure": True}, (ssl.CERT_REQUIRED, False, ssl.TLSVersion.TLSv1_2)),
        # insecure without TLS changes nothing
        ({"insecure": True}, None),
    ],
)
def test_tls_options_become_one_ssl_context(options: dict, expected: tuple | None) -> None:
    ctx = tls_context(TlsOptions(**options))
    if expected is None:
        assert ctx is None
        return
    assert ctx is not None
    assert (ctx.verify_mode, ctx.check_hostname, ctx.minimum_version) == expected


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
def test_a_ca_file_and_a_client_certificate_are_loaded(tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    ctx = tls_context(TlsOptions(enabled=True, ca_file=cert, cert_file=cert, key_file=key))
    assert ctx is not None
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "127.0.0.1"),),)]


def test_a_ca_file_that_is_not_a_certificate_fails_with_the_ssl_error(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ssl.SSLError):
        tls_context(TlsOptions(enabled=True, ca_file=bogus))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        # a client certificate without its key
        ({"cert_file": "c.pem"}, "cert_file and key_file go together"),
        # a key without its certificate
        ({"key_file": "k.pem"}, "cert_file and key_file go together"),
        # with TLS on, a missing file is named
        ({"enabled": True, "ca_file": "/nonexistent/ca.pem"}, "ca_file /nonexistent/ca.pem does not exist"),
        # an unknown field is refused
        ({"verify": False}, "Extra inputs are not permitted"),
    ],
)
def test_bad_tls_options_are_refused_with_the_reason(options: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TlsOptions(**options)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # defaults: the local broker, no credentials, no TLS
        ({}, ("127.0.0.1", 1883, None, None, False)),
        # credentials and TLS switch come from FOOTFALL_MQTT__*
        (
            {"host": "mq", "port": 8883, "username": "u", "password": "p", "tls": True},
            ("mq", 8883, "u", "p", True),
        ),
    ],
)
def test_broker_target_from_settings(settings: dict, expected: tuple) -> None:
    t = BrokerTarget.from_settings(MqttSettings(**settings), client_id="me", reconnect_max_s=2)
    password = None if t.password is None else t.password.get_secret_value()
    assert (t.host, t.port, t.username, password, t.tls.enabled) == expected
    assert (t.client_id, t.reconnect_max_s) == ("me", 2)


def test_tls_settings_naming_a_missing_file_fail_with_a_config_error() -> None:
    m = MqttSettings(tls=True, ca_file="/nonexistent/ca.pem")
    with pytest.raises(ConfigError, match=r"(?s)FOOTFALL_MQTT__TLS.*ca_file /nonexistent/ca.pem does not exist"):
        BrokerTarget.from_settings(m, client_id="me")


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [
        # doubling from the minimum up to the maximum, then flat
        (Backoff(1, 30), [1, 2, 4, 8, 16, 30, 30]),
        # ingest: back within 2 s of a broker restart
        (Backoff(1, 2), [1, 2, 2, 2, 2, 2, 2]),
        # a fixed delay
        (Backoff(5, 5), [5, 5, 5, 5, 5, 5, 5]),
    ],
)
def test_reconnect_backoff_stays_within_its_bounds(backoff: Backoff, delays: list[float]) -> None:
    assert backoff.delays(7) == delays


@pytest.mark.parametrize(
    ("lo", "hi"),
    [
        # the minimum above the maximum
        (10, 1),
        # no wait at all would hammer the broker
        (0, 5),
        # negative
        (-1, 5),
    ],
)
def test_impossible_backoff_bounds_are_refused(lo: float, hi: float) -> None:
    with pytest.raises(ValueError, match="0 < min_s <= max_s"):
        Backoff(lo, hi)


def test_the_default_backoff_follows_the_target() -> None:
    target = BrokerTarget(
        host="h", port=1, prefix="p", username=None, password=None, client_id="c", keepalive_s=30, reconnect_max_s=7
    )
    assert MqttTransport(target).backoff == Backoff(1.0, 7.0)


def test_a_new_transport_is_neither_connected_nor_unreachable_and_warns_about_nothing(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="footfall.core.mqtt")
    target = BrokerTarget(
        host="h", port=1, prefix="p", username="u", password=SecretStr("pw"), client_id="c", keepalive_s=30
    )
    t = MqttTransport(target)
    t.set_will(Will("p/v1/s/d/status", b"{}"))
    t.set_will(None)
    assert t.state.connected is False
    assert t.state.unreachable_s == 0.0
    assert t.address == "h:1"
    assert caplog.text == ""


@pytest.mark.parametrize(
    ("a", "b"),
    [
        # two deployments on one host and broker, other prefixes
        (("ingest", "shop-a", "0123456789", "host1"), ("ingest", "shop-b", "0123456789", "host1")),
        # same prefix, other databases (install ids)
        (("ingest", "footfall", "0123456789", "host1"), ("ingest", "footfall", "abcdef0123", "host1")),
        # every demo's agent is edge-1
        (("edge", "demo1", "0123456789", "edge-1"), ("edge", "demo2", "0123456789", "edge-1")),
        # long prefixes that only differ at the end still differ after shortening
        (("ingest", "x" * 80 + "1", "0123456789", "h"), ("ingest", "x" * 80 + "2", "0123456789", "h")),
    ],
)
def test_default_client_ids_differ_per_deployment(a: tuple[str, ...], b: tuple[str, ...]) -> None:
    ids = [deployment_client_id(r, prefix=p, install_id=i, name=n) for r, p, i, n in (a, b)]
    assert ids[0] != ids[1]
    assert all(len(x) <= 64 for x in ids)
    assert ids[0] == deployment_client_id(a[0], prefix=a[1], install_id=a[2], name=a[3])  # stable
