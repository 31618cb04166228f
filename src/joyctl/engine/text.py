"""Text normalisation for the review rules.

Two views of a review's content are used:

* the *display* form (NFC, whitespace collapsed, trimmed) whose length in Unicode code points is
  what `min_characters` measures, so "e\u0301" and "\u00e9" count the same and padding a review
  with spaces or line breaks earns nothing;
* the *fingerprint*, a SHA-256 over the case-folded display form, which is what duplicate
  detection compares. Case folding catches "GREAT PRODUCT" copied as "great product".
"""

from __future__ import annotations

import hashlib
import unicodedata


def normalize_content(content: str) -> str:
    """Return `content` in NFC with every whitespace run collapsed to one space, trimmed."""
    return " ".join(unicodedata.normalize("NFC", content).split())


def character_count(content: str) -> int:
    """Count the Unicode characters of the normalised content (the `min_characters` measure)."""
    return len(normalize_content(content))


def fingerprint_normalized(normalized: str) -> str | None:
    """Fingerprint content already passed through `normalize_content`.

    Empty content has no fingerprint: two empty reviews are not copies of each other.
    """
    if not normalized:
        return None
    # Case folding can expand characters (e.g. "ß" -> "ss") and leave non-NFC sequences, so the
    # folded text is normalised again before hashing.
    folded = unicodedata.normalize("NFC", normalized.casefold())
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


def content_fingerprint(content: str) -> str | None:
    """SHA-256 hex digest of the case-folded, normalised content; None when it is empty."""
    return fingerprint_normalized(normalize_content(content))
