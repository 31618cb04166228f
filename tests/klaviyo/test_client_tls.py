"""Which TLS settings a Klaviyo client gets: verified for https, trust-nothing for loopback http."""

from __future__ import annotations

import ssl

import pytest

from joyctl.klaviyo.client import _tls_context


def test_https_keeps_httpx_verified_default() -> None:
    assert _tls_context("https://a.klaviyo.com") is True


@pytest.mark.parametrize("base_url", ["http://127.0.0.1:8080", "http://localhost:1"])
def test_loopback_http_gets_a_context_that_would_refuse_any_certificate(base_url: str) -> None:
    context = _tls_context(base_url)
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True
    assert context.get_ca_certs() == []  # trusts no authority: a TLS handshake could not pass
