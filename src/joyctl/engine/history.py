"""What the rules need to know about earlier rewards of one program.

`History` is an in-memory index, with no I/O. A batch (simulate, replay, the benchmark) starts
from what the ledger already holds and calls `apply` after each decision, so every review is
decided against the rewards granted before it. The ledger layer builds the same structure from
its rows: `record_reward` for each earn entry of the program (with `revoked=True` when a revoke
entry reverses it) and `set_balance` for each customer's current balance. For a single live
review it is enough to load the rows that can matter: the earn entry of this review, the
customer's own earn entries and balance, and other customers' entries with the same content
hash; a batch can instead load the program's whole history once.

Every lookup is a dict or set access, or a bisect over one customer's (short) list of reward
times, so deciding a review costs the same whatever the size of the history.

Revoked rewards stop counting toward the product limit, the frequency limit and the rule cap
(the earn was reversed), but their text is still remembered for duplicate detection: a review
rejected as fake should not earn again when it is pasted under another product.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from joyctl.engine.models import Award, Decision, Revocation


@dataclass(frozen=True, slots=True)
class RewardRecord:
    """One earlier reward of the program, as the ledger keeps it."""

    review_id: str
    customer_id: str
    product_id: str | None
    points: int
    reviewed_at: datetime
    content_hash: str | None
    revoked: bool = False


@dataclass(slots=True)
class History:
    """Earlier rewards of one program, indexed for the rules; balances for revocations.

    A replay keeps one entry per rewarded review for the whole run, so the indexes hold as
    little per reward as they can: product ids are shared (a few hundred products, not one
    string per review), standing rewards are counted per customer and product in one small
    dict per customer, and a text seen once is indexed by the id of its review alone: its
    customer and time are the reward's own. Only a text seen again gets a list of ids, oldest
    first, and its first review per customer in `_shared_texts`.
    """

    rewards: dict[str, RewardRecord] = field(default_factory=dict, init=False)
    balances: dict[str, int] = field(default_factory=dict)
    _product_rewards: dict[str, dict[str | None, int]] = field(
        default_factory=dict, init=False, repr=False
    )
    _reward_times: dict[str, list[datetime]] = field(default_factory=dict, init=False, repr=False)
    _rule_points: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _text_sightings: dict[str, str | list[str]] = field(
        default_factory=dict, init=False, repr=False
    )
    _shared_texts: dict[tuple[str, str], str] = field(default_factory=dict, init=False, repr=False)
    _products: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    @classmethod
    def from_records(
        cls, records: Iterable[RewardRecord], balances: dict[str, int] | None = None
    ) -> History:
        """Build a history from stored rewards and current balances (the ledger's view)."""
        history = cls(balances=dict(balances or {}))
        for record in records:
            history.record_reward(record)
        return history

    # Updating

    def record_reward(self, record: RewardRecord) -> None:
        """Index an earlier reward. Balances are not touched: the ledger sets them."""
        if record.review_id in self.rewards:
            return
        self.rewards[record.review_id] = record
        if record.content_hash is not None:
            self._remember_text(record, record.content_hash)
        if not record.revoked:
            self._count_standing(record, +1)

    def record_revocation(self, review_id: str) -> None:
        """Mark a reward as reversed, so it stops counting toward the limits."""
        record = self.rewards.get(review_id)
        if record is None or record.revoked:
            return
        self.rewards[review_id] = dataclasses.replace(record, revoked=True)
        self._count_standing(record, -1)

    def set_balance(self, customer_id: str, points: int) -> None:
        self.balances[customer_id] = points

    def apply(self, decision: Decision) -> None:
        """Fold a decision into the history, as the ledger transaction would."""
        if isinstance(decision, Award):
            self.record_reward(self._record_of(decision))
            customer = decision.customer_id
            self.balances[customer] = self.balances.get(customer, 0) + decision.points
        elif isinstance(decision, Revocation):
            self.record_revocation(decision.review_id)
            self.balances[decision.customer_id] = (
                self.balance(decision.customer_id) - decision.points_revoked
            )

    # Queries used by the rules

    def balance(self, customer_id: str) -> int:
        return self.balances.get(customer_id, 0)

    def reward_for(self, review_id: str) -> RewardRecord | None:
        return self.rewards.get(review_id)

    def product_rewards(self, customer_id: str, product_id: str | None) -> int:
        """Standing rewards of this customer for this product (None: no product given)."""
        products = self._product_rewards.get(customer_id)
        return 0 if products is None else products.get(product_id, 0)

    def rule_points(self, customer_id: str) -> int:
        """Points of this customer's standing rewards from this program."""
        return self._rule_points.get(customer_id, 0)

    def busiest_window(self, customer_id: str, moment: datetime, period: timedelta) -> int:
        """Most standing rewards in any window [start, start + period) that contains `moment`.

        Checking every window around the new review, not only the one ending at it, keeps the
        limit exact when reviews arrive out of order (a pending review published late, or a
        replay that pages newest first).
        """
        times = self._reward_times.get(customer_id)
        if not times:
            return 0
        near = times[bisect_right(times, moment - period) : bisect_left(times, moment + period)]
        if not near:
            return 0
        insort(near, moment)
        busiest = 0
        for index, start in enumerate(near):
            if start > moment:
                break
            busiest = max(busiest, bisect_left(near, start + period, lo=index) - index)
        return busiest - 1  # the new review itself is not an earlier reward

    def own_copy(self, customer_id: str, content_hash: str) -> str | None:
        """Review id of this customer's earlier rewarded review with the same text."""
        sightings = self._text_sightings.get(content_hash)
        if isinstance(sightings, str):
            return sightings if self.rewards[sightings].customer_id == customer_id else None
        if sightings is None:
            return None
        return self._shared_texts.get((customer_id, content_hash))

    def recent_copy(self, content_hash: str, moment: datetime, window: timedelta) -> str | None:
        """Review id of any rewarded review with the same text less than `window` from `moment`."""
        sightings = self._text_sightings.get(content_hash)
        if sightings is None:
            return None
        if isinstance(sightings, str):
            sightings = [sightings]
        index = bisect_right(sightings, moment - window, key=self._reviewed_at)
        if index < len(sightings) and self._reviewed_at(sightings[index]) < moment + window:
            return sightings[index]
        return None

    # Internals

    def _reviewed_at(self, review_id: str) -> datetime:
        return self.rewards[review_id].reviewed_at

    def _remember_text(self, record: RewardRecord, content_hash: str) -> None:
        review_id = record.review_id
        sightings = self._text_sightings.setdefault(content_hash, review_id)
        if sightings is review_id:
            return  # the first sighting of this text
        if isinstance(sightings, str):
            first = self.rewards[sightings]
            self._shared_texts[(first.customer_id, content_hash)] = sightings
            sightings = self._text_sightings[content_hash] = [sightings]
        # A customer's own copy is the first of theirs recorded, whatever its time.
        self._shared_texts.setdefault((record.customer_id, content_hash), review_id)
        insort(sightings, review_id, key=self._reviewed_at)

    def _count_standing(self, record: RewardRecord, sign: int) -> None:
        customer = record.customer_id
        products = self._product_rewards.setdefault(customer, {})
        products[record.product_id] = products.get(record.product_id, 0) + sign
        self._rule_points[customer] = self._rule_points.get(customer, 0) + sign * record.points
        times = self._reward_times.setdefault(customer, [])
        if sign > 0:
            insort(times, record.reviewed_at)
        else:
            times.remove(record.reviewed_at)

    def _record_of(self, award: Award) -> RewardRecord:
        product_id = award.product_id
        if product_id is not None:
            product_id = self._products.setdefault(product_id, product_id)
        return RewardRecord(
            review_id=award.review_id,
            customer_id=award.customer_id,
            product_id=product_id,
            points=award.points,
            reviewed_at=award.reviewed_at,
            content_hash=award.content_hash,
        )
