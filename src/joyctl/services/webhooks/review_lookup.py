"""Finding the review a webhook event is about when the event does not name it.

`review_event` reads what the event says (its time, its email, its product); this module asks
Klaviyo for the rest: the reviews created around the event's time (`GET /api/reviews` with a
`created` range) and, when the payload carries no email, the event profile's email
(`GET /api/profiles/{id}`). The choice itself is `review_event.match_review`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from joyctl.errors import NotFoundError
from joyctl.services.webhooks.review_event import EventClues, Match, match_review

if TYPE_CHECKING:
    from joyctl.klaviyo.client import KlaviyoClient
    from joyctl.klaviyo.models import Review as KlaviyoReview

DEFAULT_WINDOW = timedelta(minutes=10)
MAX_CANDIDATES = 500  # five pages; a store writing more reviews in the window is unheard of


class ReviewFinder(Protocol):
    """The Klaviyo reads a lookup needs."""

    def reviews_created(self, start: datetime, end: datetime) -> list[KlaviyoReview]: ...

    def profile_email(self, profile_id: str) -> str | None: ...


class KlaviyoReviewFinder:
    """`ReviewFinder` over the Klaviyo API; `client` is called only when a lookup happens."""

    def __init__(self, client: Callable[[], KlaviyoClient]) -> None:
        self._client = client

    def reviews_created(self, start: datetime, end: datetime) -> list[KlaviyoReview]:
        from joyctl.klaviyo.resources.reviews import list_reviews

        found = list_reviews(
            self._client(),
            created_from=start,
            created_to=end,
            sort="created",
            page_size=100,
            limit=MAX_CANDIDATES,
        )
        return list(found)

    def profile_email(self, profile_id: str) -> str | None:
        from joyctl.klaviyo.resources.profiles import get_profile

        try:
            profile = get_profile(self._client(), profile_id)
        except NotFoundError:
            return None
        return profile.email.strip().lower() if profile.email else None


@dataclass(frozen=True)
class ReviewLookup:
    """Match events without a review id: `known` tells which review ids the ledger holds."""

    finder: ReviewFinder
    known: Callable[[list[str]], set[str]]
    window: timedelta = DEFAULT_WINDOW

    def find(self, clues: EventClues, taken: frozenset[str] = frozenset()) -> Match:
        """The event's review, or why it stays unmatched; a Klaviyo failure raises.

        `taken` are reviews other events of the same delivery were matched to just now.
        """
        if clues.occurred_at is None:
            return Match(None, "the event names no review id and has no time to look it up by")
        email = clues.email
        if email is None and clues.profile_id is not None:
            email = self.finder.profile_email(clues.profile_id)
        if email is None:
            return Match(None, "the event names no review id and no reviewer email")
        moment = clues.occurred_at
        candidates = self.finder.reviews_created(moment - self.window, moment + self.window)
        known = self.known([review.id for review in candidates]) | taken
        return match_review(clues, email, candidates, known, self.window)
