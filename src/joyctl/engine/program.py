"""The write-review earning program: the settings the reward rules read.

Defaults follow the domain reference (section 6, "joyctl default" column). A new program is
disabled until the merchant turns it on, as in Joy. Integer limits use 0 for "off", and the
words "off"/"none" are accepted for them so `joyctl program set rule_cap off` reads naturally.

The model is validated when it is built or changed, never per review: the engine only reads
its attributes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from joyctl import values

DEFAULT_PROGRAM_ID = "write-review"
OFF_WORDS = frozenset({"off", "none", "no", "false", "disabled"})
PERIOD_ALIASES = {"day": 1, "daily": 1, "week": 7, "weekly": 7, "month": 30, "monthly": 30}
_PERIOD_PATTERN = re.compile(r"^(\d+)\s*(d|day|days)?$")

KNOWN_SOURCES = (
    "klaviyo_reviews",
    "air_reviews",
    "judge_me",
    "fera",
    "yotpo_reviews",
    "review_rocket",
)
"""The review apps Joy connects directly; joyctl itself ingests Klaviyo Reviews."""


class BonusMode(StrEnum):
    """How the photo bonus combines with the base points."""

    ADDITIVE = "additive"
    REPLACE = "replace"


class AwardOn(StrEnum):
    """Which review status earns the points."""

    PUBLISHED = "published"
    SUBMITTED = "submitted"


class WriteReviewProgram(BaseModel):
    """The write-review program and its anti-cheat settings."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    program_id: str = Field(
        DEFAULT_PROGRAM_ID,
        pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$",
        description="Identifier used in ledger idempotency keys; fixed once rewards exist",
    )
    enabled: bool = Field(False, description="Reward reviews at all")
    starts_at: AwareDatetime | None = Field(
        None, description="Reviews written before this time earn nothing (none = no start)"
    )
    ends_at: AwareDatetime | None = Field(
        None, description="Reviews written at or after this time earn nothing (none = no end)"
    )
    name: str = Field(
        "Write a review", min_length=1, max_length=100, description="Program name shown to people"
    )
    source: str = Field("klaviyo_reviews", description="The review app whose reviews earn points")
    points_per_review: int = Field(50, ge=1, le=1_000_000, description="Points for one review")
    photo_bonus: int = Field(
        0, ge=0, le=1_000_000, description="Points for a review with images (0 = off)"
    )
    bonus_mode: BonusMode = Field(
        BonusMode.ADDITIVE,
        description="additive: base + photo bonus; replace: the photo bonus instead of the base",
    )
    min_characters: int = Field(
        0, ge=0, le=10_000, description="Minimum characters of review text (0 = off)"
    )
    product_limit: int = Field(
        1, ge=0, le=10_000, description="Rewarded reviews per customer per product (0 = unlimited)"
    )
    frequency_limit: int = Field(
        3, ge=0, le=10_000, description="Rewarded reviews per customer per period (0 = off)"
    )
    frequency_period_days: int = Field(
        1,
        ge=1,
        le=366,
        description="Rolling period of the frequency limit: a number of days, or day, week, month",
    )
    rule_cap: int = Field(
        0, ge=0, le=100_000_000, description="Maximum points per customer from this rule (0 = off)"
    )
    duplicate_detection: bool = Field(True, description="Reject reviews whose text was seen before")
    duplicate_window_days: int = Field(
        90, ge=1, le=3650, description="How far apart another customer's copy still counts"
    )
    require_verified: bool = Field(False, description="Only reward verified-purchase reviews")
    award_on: AwardOn = Field(
        AwardOn.PUBLISHED, description="Award when the review is published, or when submitted"
    )
    manual_approval: bool = Field(False, description="Hold every eligible review for approval")
    reward_before_connection: bool = Field(
        False, description="Also reward reviews written before the review app was connected"
    )
    revoke_on_rejection: bool = Field(
        True, description="Take points back when a review is rejected"
    )
    revoke_on_unpublished: bool = Field(
        False, description="Take points back when a review is unpublished"
    )

    @field_validator("source", mode="after")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value not in KNOWN_SOURCES:
            raise ValueError(f"unknown review app {value!r}; one of {', '.join(KNOWN_SOURCES)}")
        return value

    @field_validator(
        "photo_bonus", "min_characters", "product_limit", "frequency_limit", "rule_cap",
        mode="before",
    )  # fmt: skip
    @classmethod
    def _off_means_zero(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in OFF_WORDS):
            return 0
        return value

    @field_validator("starts_at", "ends_at", mode="before")
    @classmethod
    def _off_means_no_bound(cls, value: Any) -> Any:
        if isinstance(value, str) and (not value.strip() or value.strip().lower() in OFF_WORDS):
            return None
        return value

    @field_validator("starts_at", "ends_at", mode="after")
    @classmethod
    def _within_the_calendar(cls, value: datetime | None) -> datetime | None:
        # Reviews are compared with these: a moment at the calendar's edge would overflow.
        if value is None:
            return None
        try:
            utc: datetime | None = value.astimezone(UTC)
        except OverflowError:
            utc = None
        if utc is None or not values.EARLIEST <= utc <= values.LATEST:
            raise ValueError(f"give a moment {values.MOMENT_RANGE}")
        return value

    @field_validator("frequency_period_days", mode="before")
    @classmethod
    def _period_words(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        word = value.strip().lower()
        if word in PERIOD_ALIASES:
            return PERIOD_ALIASES[word]
        match = _PERIOD_PATTERN.match(word)
        if match is None:
            raise ValueError("give a number of days, or day, week or month")
        return int(match.group(1))

    @model_validator(mode="after")
    def _window_in_order(self) -> Self:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be later than starts_at")
        return self

    def is_running_at(self, moment: datetime) -> bool:
        """Whether the program is enabled and `moment` falls inside its start/end window."""
        if not self.enabled:
            return False
        if self.starts_at is not None and moment < self.starts_at:
            return False
        return self.ends_at is None or moment < self.ends_at
