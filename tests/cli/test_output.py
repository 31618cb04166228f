"""`Output.emit`: the JSON envelope, the renderer, and that a renderer is typed for its data.

mypy checks this file too: the call marked `type: ignore[arg-type]` below passes a renderer
written for another model. Strict mypy flags an ignore that is not needed, so if `emit` ever
stopped tying the renderer to its data, the project's type check would fail here.
"""

from __future__ import annotations

import io
import json

from pydantic import BaseModel

from joyctl.output import SCHEMA, Output


class Greeting(BaseModel):
    name: str


class Farewell(BaseModel):
    reason: str


def _greet(out: Output, data: Greeting) -> None:
    out.line(f"hello {data.name}")


def _greet_all(out: Output, data: list[Greeting]) -> None:
    out.line(", ".join(greeting.name for greeting in data))


def _output(*, json_mode: bool) -> tuple[Output, io.StringIO]:
    stdout = io.StringIO()
    return Output(json_mode=json_mode, stdout=stdout, stderr=io.StringIO()), stdout


def test_the_renderer_gets_the_model() -> None:
    out, stdout = _output(json_mode=False)
    out.emit(Greeting(name="Ann"), _greet)
    assert stdout.getvalue() == "hello Ann\n"


def test_json_wraps_a_model_in_the_envelope_and_skips_the_renderer() -> None:
    out, stdout = _output(json_mode=True)
    out.emit(Greeting(name="Ann"), _greet)
    assert json.loads(stdout.getvalue()) == {"schema": SCHEMA, "data": {"name": "Ann"}}


def test_a_list_of_models_is_a_json_array() -> None:
    out, stdout = _output(json_mode=True)
    out.emit([Greeting(name="Ann"), Greeting(name="Bo")], _greet_all)
    assert json.loads(stdout.getvalue())["data"] == [{"name": "Ann"}, {"name": "Bo"}]
    out, stdout = _output(json_mode=False)
    out.emit([Greeting(name="Ann"), Greeting(name="Bo")], _greet_all)
    assert stdout.getvalue() == "Ann, Bo\n"


def test_without_a_renderer_the_data_is_plain_json() -> None:
    out, stdout = _output(json_mode=False)
    out.emit(Farewell(reason="done"))
    assert json.loads(stdout.getvalue()) == {"reason": "done"}


def test_a_renderer_for_another_model_is_a_type_error() -> None:
    out, stdout = _output(json_mode=True)  # under --json the renderer is never called
    out.emit(Farewell(reason="done"), _greet)  # type: ignore[arg-type]
    out.emit([Farewell(reason="done")], _greet_all)  # type: ignore[arg-type]
    out.emit(Greeting(name="Ann"), _greet_all)  # type: ignore[arg-type]
    assert stdout.getvalue().count(SCHEMA) == 3


def test_data_that_is_not_a_model_is_a_type_error() -> None:
    out, stdout = _output(json_mode=True)
    out.emit({"name": "Ann"})  # type: ignore[type-var]
    assert json.loads(stdout.getvalue())["data"] == {"name": "Ann"}
