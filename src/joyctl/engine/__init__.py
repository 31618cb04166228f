"""The reward engine: pure review-reward rules, the program they read, and the history index.

Nothing here performs I/O or reads the clock; the services layer passes in the review, the
matched customer, the history of earlier rewards, the program, the connection facts and `now`.
"""

# Names load with the module that defines them, on first use: `joyctl program show` needs the
# program and not the rules or the history index, and start-up pays only for what it uses.
from typing import TYPE_CHECKING

from joyctl.lazy_names import lazy_getattr

if TYPE_CHECKING:
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

_HOMES = {
    "Award": "joyctl.engine.models",
    "AwardOn": "joyctl.engine.program",
    "BonusMode": "joyctl.engine.program",
    "ConnectionFacts": "joyctl.engine.models",
    "Customer": "joyctl.engine.models",
    "Decision": "joyctl.engine.models",
    "History": "joyctl.engine.history",
    "MemberStatus": "joyctl.engine.models",
    "PointsBreakdown": "joyctl.engine.models",
    "ReasonCode": "joyctl.engine.models",
    "Rejection": "joyctl.engine.models",
    "Review": "joyctl.engine.models",
    "ReviewStatus": "joyctl.engine.models",
    "Revocation": "joyctl.engine.models",
    "RewardRecord": "joyctl.engine.history",
    "RuleValue": "joyctl.engine.models",
    "SettingInfo": "joyctl.engine.program_settings",
    "WriteReviewProgram": "joyctl.engine.program",
    "apply_setting": "joyctl.engine.program_settings",
    "character_count": "joyctl.engine.text",
    "content_fingerprint": "joyctl.engine.text",
    "decide": "joyctl.engine.rules",
    "decide_in_sequence": "joyctl.engine.rules",
    "decide_status_change": "joyctl.engine.rules",
    "normalize_content": "joyctl.engine.text",
    "points_for": "joyctl.engine.rules",
    "program_from_mapping": "joyctl.engine.program_settings",
    "program_to_mapping": "joyctl.engine.program_settings",
    "revocation_idempotency_key": "joyctl.engine.models",
    "reward_idempotency_key": "joyctl.engine.models",
    "settable_keys": "joyctl.engine.program_settings",
}


__getattr__ = lazy_getattr(__name__, _HOMES)

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
