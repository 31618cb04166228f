"""The two small parsers of the triggers feature: `--set PROPERTY=VALUE` and template variables."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from joyctl.errors import UsageError
from joyctl.services.diagnose.trigger_checks import template_variables
from joyctl.services.triggers.fire import parse_overrides

NAMES = st.text(
    alphabet=st.characters(exclude_characters="='\"\n\r", exclude_categories=["Cs"]),
    min_size=1,
).filter(lambda text: text.strip() == text and text != "")


@given(name=NAMES, value=st.text())
def test_an_override_keeps_the_value_whole(name: str, value: str) -> None:
    assert parse_overrides([f"{name}={value}"]) == {name: value}


@given(text=st.text().filter(lambda text: "=" not in text))
def test_an_override_without_equals_is_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_overrides([text])


def test_overrides_examples() -> None:
    assert parse_overrides(["New tier name=Gold", "Reward=10% off=now"]) == {
        "New tier name": "Gold",
        "Reward": "10% off=now",
    }
    with pytest.raises(UsageError):
        parse_overrides(["=Gold"])


@given(names=st.lists(NAMES, min_size=1, max_size=5, unique=True))
def test_every_lookup_in_a_template_is_found_once(names: list[str]) -> None:
    html = "".join(f"<p>{{{{ event|lookup:'{name}' }}}}</p>" for name in names + names)
    assert template_variables(html) == names


def test_template_variable_examples() -> None:
    html = (
        "{{ event|lookup:'Customer points'|default:0 }} {{ event.Points }}"
        " {{ person|lookup:'Joy Loyalty Points' }} {{ event | lookup : \"New tier name\" }}"
    )
    assert template_variables(html) == ["Customer points", "Points", "New tier name"]
