from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from joyctl.engine import (
    AwardOn,
    BonusMode,
    WriteReviewProgram,
    apply_setting,
    program_from_mapping,
    program_to_mapping,
    settable_keys,
)
from joyctl.errors import ConfigError, ExitCode

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


def test_defaults_follow_the_reference_table() -> None:
    program = WriteReviewProgram()
    assert program.program_id == "write-review"
    assert program.enabled is False
    assert (program.starts_at, program.ends_at) == (None, None)
    assert program.name == "Write a review"
    assert program.source == "klaviyo_reviews"
    assert program.points_per_review == 50
    assert (program.photo_bonus, program.bonus_mode) == (0, BonusMode.ADDITIVE)
    assert program.min_characters == 0
    assert program.product_limit == 1
    assert (program.frequency_limit, program.frequency_period_days) == (3, 1)
    assert program.rule_cap == 0
    assert (program.duplicate_detection, program.duplicate_window_days) == (True, 90)
    assert program.require_verified is False
    assert program.award_on is AwardOn.PUBLISHED
    assert program.manual_approval is False
    assert program.reward_before_connection is False
    assert program.revoke_on_rejection is True
    assert program.revoke_on_unpublished is False


def test_program_is_immutable() -> None:
    program = WriteReviewProgram()
    with pytest.raises(ValueError, match="frozen"):
        program.enabled = True  # type: ignore[misc]


@pytest.mark.parametrize(
    ("moment", "running"),
    [
        (JAN_1 - timedelta(microseconds=1), False),
        (JAN_1, True),
        (JAN_1 + timedelta(days=30) - timedelta(microseconds=1), True),
        (JAN_1 + timedelta(days=30), False),
    ],
)
def test_window_includes_start_and_excludes_end(moment: datetime, running: bool) -> None:
    program = WriteReviewProgram(enabled=True, starts_at=JAN_1, ends_at=JAN_1 + timedelta(days=30))
    assert program.is_running_at(moment) is running


def test_disabled_program_is_never_running() -> None:
    assert WriteReviewProgram(enabled=False).is_running_at(JAN_1) is False


def test_settable_keys_describe_every_setting_but_the_program_id() -> None:
    infos = {info.key: info for info in settable_keys()}
    assert "program_id" not in infos
    assert set(infos) == set(WriteReviewProgram.model_fields) - {"program_id"}
    assert infos["points_per_review"].default == 50
    assert infos["points_per_review"].type_label == "an integer"
    assert infos["bonus_mode"].type_label == "additive|replace"
    assert infos["award_on"].type_label == "published|submitted"
    assert infos["enabled"].type_label == "true|false"
    assert infos["starts_at"].type_label == "a date-time with UTC offset or none"
    assert "klaviyo_reviews" in infos["source"].type_label
    assert all(info.description for info in infos.values())


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("enabled", "true", True),
        ("enabled", "off", False),
        ("points_per_review", "75", 75),
        ("photo_bonus", "25", 25),
        ("bonus_mode", "replace", BonusMode.REPLACE),
        ("min_characters", "off", 0),
        ("product_limit", "0", 0),
        ("frequency_limit", "5", 5),
        ("frequency_period_days", "week", 7),
        ("frequency_period_days", "month", 30),
        ("frequency_period_days", "14 days", 14),
        ("frequency_period_days", "3d", 3),
        ("rule_cap", "none", 0),
        ("rule_cap", "500", 500),
        ("duplicate_detection", "no", False),
        ("award_on", "submitted", AwardOn.SUBMITTED),
        ("starts_at", "2026-01-01T00:00:00Z", JAN_1),
        ("starts_at", "none", None),
        ("name", "  Review rewards  ", "Review rewards"),
        ("source", "judge_me", "judge_me"),
    ],
)
def test_apply_setting_parses_command_line_text(key: str, text: str, expected: object) -> None:
    updated = apply_setting(WriteReviewProgram(), key, text)
    assert getattr(updated, key) == expected


def test_apply_setting_returns_a_copy_and_keeps_other_values() -> None:
    original = WriteReviewProgram(points_per_review=80)
    updated = apply_setting(original, "photo_bonus", "10")
    assert original.photo_bonus == 0
    assert (updated.photo_bonus, updated.points_per_review) == (10, 80)


@pytest.mark.parametrize(
    ("key", "text", "message", "hint"),
    [
        ("points_per_review", "0", "greater than or equal to 1", "takes an integer"),
        ("points_per_review", "many", "valid integer", "default 50"),
        ("photo_bonus", "-5", "greater than or equal to 0", "default 0"),
        ("enabled", "maybe", "valid boolean", "true|false"),
        ("bonus_mode", "double", "'additive' or 'replace'", "additive|replace"),
        ("award_on", "approved", "'published' or 'submitted'", "published|submitted"),
        ("starts_at", "2026-01-01T00:00:00", "timezone", "2026-01-01T00:00:00Z"),
        ("frequency_period_days", "fortnight", "day, week or month", "week"),
        ("frequency_period_days", "0", "greater than or equal to 1", "days"),
        ("source", "klaviyo", "unknown review app 'klaviyo'", "klaviyo_reviews"),
        ("name", "", "at least 1 character", "text"),
    ],
)
def test_apply_setting_rejects_bad_values_with_message_and_hint(
    key: str, text: str, message: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        apply_setting(WriteReviewProgram(), key, text)
    assert caught.value.message.startswith(f"invalid value for {key}: ")
    assert message in caught.value.message
    assert caught.value.hint is not None and hint in caught.value.hint
    assert caught.value.exit_code is ExitCode.USAGE


def test_unknown_key_suggests_the_closest_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        apply_setting(WriteReviewProgram(), "min_chars", "50")
    assert caught.value.message == "unknown program setting 'min_chars'"
    assert caught.value.hint is not None
    assert "did you mean 'min_characters'?" in caught.value.hint


def test_unknown_key_without_a_close_match_points_to_show() -> None:
    with pytest.raises(ConfigError) as caught:
        apply_setting(WriteReviewProgram(), "zzz", "1")
    assert caught.value.hint == "`joyctl program show` lists the settings"


def test_program_id_cannot_be_set() -> None:
    with pytest.raises(ConfigError, match="cannot be changed"):
        apply_setting(WriteReviewProgram(), "program_id", "other")


def test_window_must_end_after_it_starts() -> None:
    started = apply_setting(WriteReviewProgram(), "starts_at", "2026-02-01T00:00:00+00:00")
    with pytest.raises(ConfigError) as caught:
        apply_setting(started, "ends_at", "2026-01-01T00:00:00+00:00")
    assert "ends_at must be later than starts_at" in caught.value.message
    assert caught.value.hint == "check ends_at"


def test_from_mapping_takes_toml_values_and_defaults_the_rest() -> None:
    program = program_from_mapping(
        {"enabled": True, "points_per_review": 20, "starts_at": JAN_1, "award_on": "submitted"}
    )
    assert (program.enabled, program.points_per_review) == (True, 20)
    assert (program.starts_at, program.award_on) == (JAN_1, AwardOn.SUBMITTED)
    assert program.product_limit == 1


def test_from_mapping_keeps_base_values_for_missing_keys() -> None:
    base = WriteReviewProgram(points_per_review=99, min_characters=40)
    program = program_from_mapping({"min_characters": 10}, base=base)
    assert (program.points_per_review, program.min_characters) == (99, 10)


def test_from_mapping_rejects_unknown_keys() -> None:
    with pytest.raises(ConfigError, match="unknown program setting 'point_per_review'"):
        program_from_mapping({"enabled": True, "point_per_review": 10})


def test_from_mapping_rejects_bad_values() -> None:
    with pytest.raises(ConfigError, match="invalid value for product_limit"):
        program_from_mapping({"product_limit": -1})


def test_to_mapping_round_trips_and_leaves_out_unset_bounds() -> None:
    program = WriteReviewProgram(
        enabled=True, ends_at=JAN_1, bonus_mode=BonusMode.REPLACE, photo_bonus=30
    )
    plain = program_to_mapping(program)
    assert "starts_at" not in plain and "program_id" not in plain
    assert plain["bonus_mode"] == "replace"
    assert program_from_mapping(plain) == program
