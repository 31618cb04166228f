"""The closed sets of values the reviews options accept, so a typo is refused (exit 2).

They mirror `joyctl.engine.ReviewStatus` and the review types the engine knows; a test holds
them equal. They are spelled out here so that `--help` does not load the engine.
"""

from __future__ import annotations

from enum import StrEnum


class StatusChoice(StrEnum):
    """Klaviyo's review statuses."""

    PENDING = "pending"
    PUBLISHED = "published"
    FEATURED = "featured"
    UNPUBLISHED = "unpublished"
    REJECTED = "rejected"


class TypeChoice(StrEnum):
    """Klaviyo's review types."""

    REVIEW = "review"
    QUESTION = "question"
    RATING = "rating"
    STORE = "store"


class OutcomeChoice(StrEnum):
    """The engine's decisions."""

    AWARD = "award"
    REJECT = "reject"
    REVOKE = "revoke"
