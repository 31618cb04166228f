"""JUnit XML reports: the format CI systems (GitHub Actions, GitLab, Jenkins) show results from.

One `<testsuites>` holding one `<testsuite>`; each case passes, fails (`<failure message=...>`
with the detail as text) or is skipped (`<skipped message=...>`). Evidence of a passing case
goes into its `<system-out>`. Text is stripped of the characters XML 1.0 cannot carry, since
it may come from an API response.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from joyctl.errors import UsageError
from joyctl.files.atomic import write_atomic

CaseOutcome = Literal["pass", "fail", "skip"]
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class JUnitCase:
    name: str
    classname: str
    seconds: float
    outcome: CaseOutcome
    message: str = ""  # why it failed or was skipped
    text: str = ""  # the failure's detail, or a passing case's evidence


@dataclass(frozen=True)
class JUnitSuite:
    name: str
    timestamp: datetime
    seconds: float
    cases: Sequence[JUnitCase]
    properties: Mapping[str, str] = field(default_factory=dict)

    def count(self, outcome: CaseOutcome) -> int:
        return sum(1 for case in self.cases if case.outcome == outcome)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _totals(suite: JUnitSuite) -> dict[str, str]:
    return {
        "tests": str(len(suite.cases)),
        "failures": str(suite.count("fail")),
        "errors": "0",
        "skipped": str(suite.count("skip")),
        "time": f"{suite.seconds:.3f}",
    }


def render_junit(suite: JUnitSuite) -> bytes:
    root = ET.Element("testsuites", {"name": _clean(suite.name), **_totals(suite)})
    element = ET.SubElement(
        root,
        "testsuite",
        {"name": _clean(suite.name), **_totals(suite), "timestamp": suite.timestamp.isoformat()},
    )
    if suite.properties:
        properties = ET.SubElement(element, "properties")
        for name, value in suite.properties.items():
            ET.SubElement(properties, "property", {"name": _clean(name), "value": _clean(value)})
    for case in suite.cases:
        _add_case(element, case)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _add_case(suite: ET.Element, case: JUnitCase) -> None:
    attributes = {
        "name": _clean(case.name),
        "classname": _clean(case.classname),
        "time": f"{case.seconds:.3f}",
    }
    element = ET.SubElement(suite, "testcase", attributes)
    if case.outcome == "fail":
        failure = ET.SubElement(element, "failure", {"message": _clean(case.message)})
        failure.text = _clean(case.text or case.message)
    elif case.outcome == "skip":
        ET.SubElement(element, "skipped", {"message": _clean(case.message)})
    elif case.text:
        ET.SubElement(element, "system-out").text = _clean(case.text)


def check_writable(path: Path) -> None:
    """Fail before the run, not after it, when the report cannot be written."""
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UsageError(f"{path} is a folder", hint="give --junit a file name, e.g. report.xml")
    if not folder.is_dir():
        raise UsageError(f"no folder {folder} for the JUnit report", hint="create it first")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write the JUnit report in {folder}: permission denied")


def write_junit(suite: JUnitSuite, path: Path) -> None:
    """Write atomically, so a CI step never reads a half-written report."""
    check_writable(path)
    try:
        # A report holds no secret; CI uploaders may run as other users.
        write_atomic(path, render_junit(suite), mode=0o644)
    except OSError as exc:
        raise UsageError(f"cannot write the JUnit report {path}: {exc.strerror}") from exc
