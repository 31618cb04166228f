"""The reward engine: pure review-reward rules, the program they read, and the history index.

Nothing here performs I/O or reads the clock; the services layer passes in the review, the
matched customer, the history of earlier rewards, the program, the connection facts and `now`.
"""

from joyctl.engine.history import History, RewardRecord
from joyctl.engine.models import (
    Award,
    ConnectionFacts,
    Customer,
    Decision,
    MemberStatus,
    PointsBreakdown,
    ReasonCode,
    Rejection,
    Review,
    ReviewStatus,
    Revocation,
    RuleValue,
    revocation_idempotency_key,
    reward_idempotency_key,
)
from joyctl.engine.program import AwardOn, BonusMode, WriteReviewProgram
from joyctl.engine.program_settings import (
    SettingInfo,
    apply_setting,
    program_from_mapping,
    program_to_mapping,
    settable_keys,
)
from joyctl.engine.rules import decide, decide_in_sequence, decide_status_change, points_for
from joyctl.engine.text import character_count, content_fingerprint, normalize_content

__all__ = [
    "Award",
    "AwardOn",
    "BonusMode",
    "ConnectionFacts",
    "Customer",
    "Decision",
    "History",
    "MemberStatus",
    "PointsBreakdown",
    "ReasonCode",
    "Rejection",
    "Review",
    "ReviewStatus",
    "Revocation",
    "RewardRecord",
    "RuleValue",
    "SettingInfo",
    "WriteReviewProgram",
    "apply_setting",
    "character_count",
    "content_fingerprint",
    "decide",
    "decide_in_sequence",
    "decide_status_change",
    "normalize_content",
    "points_for",
    "program_from_mapping",
    "program_to_mapping",
    "revocation_idempotency_key",
    "reward_idempotency_key",
    "settable_keys",
]
