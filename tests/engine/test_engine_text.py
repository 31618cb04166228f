from __future__ import annotations

import hashlib

import pytest

from joyctl.engine import character_count, content_fingerprint, normalize_content


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("  hello   world  ", "hello world"),
        ("line one\n\n\tline two\r\n", "line one line two"),
        ("no\u00a0break\u2003em space", "no break em space"),
        ("", ""),
        (" \n\t ", ""),
    ],
)
def test_normalize_collapses_every_whitespace_run(content: str, expected: str) -> None:
    assert normalize_content(content) == expected


def test_normalize_composes_combining_characters() -> None:
    assert normalize_content("cafe\u0301") == "caf\u00e9"


@pytest.mark.parametrize(
    ("content", "count"),
    [
        ("abc", 3),
        ("a    b", 3),
        ("e\u0301" * 10, 10),  # ten decomposed e-acute are ten characters, not twenty
        ("\u00e9" * 10, 10),
        ("\U0001f600\U0001f600", 2),  # astral-plane emoji are one character each
        ("日本語のレビュー", 8),
        ("   ", 0),
    ],
)
def test_character_count_measures_normalised_unicode_characters(content: str, count: int) -> None:
    assert character_count(content) == count


def test_fingerprint_is_sha256_of_casefolded_normalised_text() -> None:
    expected = hashlib.sha256(b"great product, would buy again").hexdigest()
    assert content_fingerprint("  GREAT Product,\n would buy   again ") == expected


def test_fingerprint_ignores_case_whitespace_and_composition() -> None:
    assert content_fingerprint("Caf\u00e9  AU LAIT") == content_fingerprint("cafe\u0301 au lait")
    assert content_fingerprint("STRASSE") == content_fingerprint("stra\u00dfe")


def test_fingerprint_distinguishes_different_words() -> None:
    assert content_fingerprint("good fit") != content_fingerprint("good fits")


@pytest.mark.parametrize("content", ["", "   ", "\n\t"])
def test_empty_content_has_no_fingerprint(content: str) -> None:
    assert content_fingerprint(content) is None
