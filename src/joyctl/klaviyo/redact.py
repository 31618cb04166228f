"""Remove credentials from text before it reaches a log.

Three layers, because each alone misses something:
- by name: JSON keys, form fields and query parameters that hold secrets;
- by shape: Klaviyo private keys (`pk_...`) wherever they appear;
- by value: the exact secrets the client holds right now (key, tokens, client secret), so a
  secret echoed under an unexpected name is still caught.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

REDACTED = "[redacted]"

SECRET_FIELDS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "token",
        "client_secret",
        "secret_key",
        "code_verifier",
        "api_key",
        "private_key",
        "password",
    }
)
# `code` is the OAuth authorization code in forms and query strings, but in JSON:API error
# bodies it is an error code worth seeing, so it is only redacted outside JSON.
FORM_ONLY_SECRET_FIELDS = frozenset({"code"})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_PRIVATE_KEY = re.compile(r"pk_[A-Za-z0-9]{8,}")
_MIN_LITERAL_LENGTH = 8


class Redactor:
    """Redacts headers, URLs and bodies; `known_secrets` returns the values to scrub."""

    def __init__(self, known_secrets: Callable[[], Iterable[str]] = tuple) -> None:
        self._known_secrets = known_secrets

    def text(self, value: str) -> str:
        literals = sorted(
            {s for s in self._known_secrets() if s and len(s) >= _MIN_LITERAL_LENGTH},
            key=len,
            reverse=True,
        )
        for literal in literals:
            value = value.replace(literal, REDACTED)
        return _PRIVATE_KEY.sub(REDACTED, value)

    def header_lines(self, headers: httpx.Headers) -> list[str]:
        lines = []
        for name, value in headers.multi_items():
            if name.lower() in SECRET_HEADERS:
                scheme = value.split(" ", 1)[0] if " " in value else ""
                value = f"{scheme} {REDACTED}".strip()
            lines.append(f"{name}: {self.text(value)}")
        return lines

    def url(self, url: httpx.URL) -> str:
        if not url.query:
            return self.text(str(url))
        pairs = parse_qsl(url.query.decode("ascii", "replace"), keep_blank_values=True)
        query = urlencode([(k, _redact_field(k, v, form=True)) for k, v in pairs])
        return self.text(str(url.copy_with(query=query.encode("ascii"))))

    def body(self, content: bytes, content_type: str | None) -> str:
        if not content:
            return ""
        text = content.decode("utf-8", "replace")
        kind = (content_type or "").lower()
        if "json" in kind:
            text = _redact_json_text(text)
        elif "x-www-form-urlencoded" in kind:
            pairs = parse_qsl(text, keep_blank_values=True)
            text = urlencode([(k, _redact_field(k, v, form=True)) for k, v in pairs])
        return self.text(text)


def _redact_field(name: str, value: str, *, form: bool) -> str:
    lowered = name.lower()
    if lowered in SECRET_FIELDS or (form and lowered in FORM_ONLY_SECRET_FIELDS):
        return REDACTED
    return value


def _redact_json_text(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return text
    return json.dumps(_redact_json(document), ensure_ascii=False)


def _redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: REDACTED if str(key).lower() in SECRET_FIELDS else _redact_json(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact_json(item) for item in value]
    return value


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... [{len(text) - limit} more characters]"
