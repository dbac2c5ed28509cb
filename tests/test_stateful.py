"""The universal laws, checked by ticketflow.testing's stateful test on every workflow we ship.

The default workflow (in both reopen configurations), the example workflows
in ``examples/workflows/``, and the IT service desk declared in code by
``examples/it_service_desk.py``.  The mutation test at the end makes sure
the stateful test catches a core that breaks a law.
"""

from __future__ import annotations

import importlib.util
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from ticketflow import Actor, HistoryEvent, Policy, Ticket, Workflow
from ticketflow.testing import START, workflow_laws

WORKFLOWS = Path(__file__).resolve().parent.parent / "examples" / "workflows"

TestDefaultWorkflowLaws = workflow_laws(Workflow.default()).TestCase

TestDefaultWorkflowWithReopenWindowLaws = workflow_laws(
    Workflow.default(reopen_on_customer_reply=False, reopen_window=timedelta(days=3))
).TestCase

TestMinimalWorkflowLaws = workflow_laws(Workflow.from_file(WORKFLOWS / "minimal.json")).TestCase


def _example_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, WORKFLOWS.parent / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Declared in code by extending DefaultLifecycle: importing it also checks that
# the extension leaves the default workflow (tested above) untouched.
TestITServiceDeskInCodeLaws = workflow_laws(
    _example_module("it_service_desk").build(),
    policy=Policy.default().grant("agent", "request_approval"),
).TestCase

TestITServiceDeskLaws = workflow_laws(
    Workflow.from_file(WORKFLOWS / "it_service_desk.toml"),
    policy=Policy.default().grant("agent", "wait_for_vendor").grant("agent", "vendor_replied"),
).TestCase


def test_the_stateful_test_catches_a_core_whose_history_drops_a_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = Workflow.apply

    def forgetful(
        self: Workflow, ticket: Ticket, event: str, actor: Actor, at: datetime, **payload: Any
    ) -> tuple[Ticket, HistoryEvent]:
        new, record = real(self, ticket, event, actor, at, **payload)
        kept = {name: value for name, value in record.changes.items() if name != "updated_at"}
        return new, attrs.evolve(record, changes=kept)

    monkeypatch.setattr(Workflow, "apply", forgetful)
    laws = workflow_laws(Workflow.default(), steps=10)
    laws.TestCase.settings = settings(
        laws.TestCase.settings,
        max_examples=100,
        phases=[Phase.generate],
        database=None,
        derandomize=True,
    )
    with pytest.raises(AssertionError, match="replaying the history gives back the stored ticket"):
        laws.TestCase("runTest").runTest()


@given(st.sampled_from(["note", "remind", "sla_warning", "sla_breach"]), st.data())
def test_the_payload_strategy_fits_every_update_that_takes_a_body(
    event: str, data: st.DataObject
) -> None:
    from ticketflow._events import UPDATE_SPECS  # noqa: PLC0415
    from ticketflow.testing import payloads  # noqa: PLC0415

    payload = data.draw(payloads(event))
    assert UPDATE_SPECS[event].check(event, payload, START) == payload
