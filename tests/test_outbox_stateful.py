"""A stateful test of the outbox: random commands, refusals, failing and crashing drains.

At the end, drained to the last record, the set of delivered ids equals the
set of committed events; an id is delivered twice only if a drain that
handed it over crashed, or was taken over once its lease ran out, before
moving its cursor; and each ticket's records were first delivered in
history order.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from ticketflow import (
    Actor,
    Backoff,
    ClaimExpired,
    Contact,
    Helpdesk,
    ManualClock,
    OutboxRecord,
    TicketflowError,
)
from ticketflow.storage import MemoryStore, SQLiteStore, Store

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
ADMIN = Actor.admin("ad-1")
STRANGER = Actor.agent("a-9")
ANA = Contact(name="Ana", email="ana@example.com")
LEASE = timedelta(minutes=1)
BACKOFF = Backoff(first=timedelta(seconds=1), factor=2, most=timedelta(minutes=1))


class Crash(BaseException):
    """The process dies in the middle of a drain: nothing after it runs."""


class OutboxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.store: Store = self.make_store()
        self.clock = ManualClock(START)
        self.desk = Helpdesk(self.store, self.clock, outbox=True)
        self.tickets: list[str] = []
        self.delivered: list[str] = []
        self.crashed: set[str] = set()  # handed over by a drain that then crashed
        self.failing: set[str] = set()  # tickets the consumer cannot deliver just now

    def make_store(self) -> Store:
        return MemoryStore()

    def teardown(self) -> None:
        self.failing.clear()
        for _ in range(1000):
            self.clock.advance(timedelta(hours=1))  # past every backoff
            report = self.desk.outbox.drain(self.handle, consumer="mail", batch=50)
            if report.handled == 0 and report.waiting == 0 and not self._held():
                break
        committed = {
            f"{ticket_id}#{event.seq}"
            for ticket_id in self.tickets
            for event in self.store.history(ticket_id)
        }
        assert set(self.delivered) == committed
        seen: set[str] = set()
        for record_id in self.delivered:
            if record_id in seen:
                assert record_id in self.crashed, f"{record_id} delivered twice without a crash"
            seen.add(record_id)
        last: dict[str, int] = {}
        for record_id in dict.fromkeys(self.delivered):  # first deliveries, in order
            ticket_id, seq = record_id.rsplit("#", 1)
            assert last.get(ticket_id, 0) == int(seq) - 1, f"{record_id} out of history order"
            last[ticket_id] = int(seq)
        close = getattr(self.store, "close", None)
        if close is not None:
            close()

    def _held(self) -> int:
        return sum(state.held for state in self.desk.outbox.consumers())

    def handle(self, record: OutboxRecord) -> None:
        if record.ticket_id in self.failing:
            raise ConnectionError("the mail server is down")
        self.delivered.append(record.id)

    @rule()
    def open_ticket(self) -> None:
        self.tickets.append(
            self.desk.open(subject="Help", description="Please.", requester=ANA).id
        )

    @precondition(lambda self: self.tickets)
    @rule(data=st.data())
    def note(self, data: st.DataObject) -> None:
        ticket_id = data.draw(st.sampled_from(self.tickets))
        self.desk.note(ticket_id, ADMIN, "Noted.")

    @precondition(lambda self: self.tickets)
    @rule(data=st.data())
    def refused(self, data: st.DataObject) -> None:
        ticket_id = data.draw(st.sampled_from(self.tickets))
        try:
            self.desk.resolve(ticket_id, STRANGER)  # not theirs: refused, nothing written
        except TicketflowError:
            return
        raise AssertionError("a stranger resolved a ticket")

    @rule(batch=st.integers(1, 5))
    def drain(self, batch: int) -> None:
        self.desk.outbox.drain(self.handle, consumer="mail", batch=batch, backoff=BACKOFF)

    @rule(after=st.integers(0, 3))
    def crash_mid_drain(self, after: int) -> None:
        handed: list[str] = []

        def dying(record: OutboxRecord) -> None:
            if len(handed) == after:
                raise Crash
            self.handle(record)
            handed.append(record.id)

        try:
            self.desk.outbox.drain(dying, consumer="mail", batch=5, backoff=BACKOFF)
        except Crash:
            self.crashed.update(handed)

    @rule(after=st.integers(0, 3))
    def taken_over_mid_drain(self, after: int) -> None:
        """A handler call hangs past the lease; meanwhile another drain takes the cursor over."""
        handed: list[str] = []

        def hanging(record: OutboxRecord) -> None:
            if len(handed) == after:
                self.clock.advance(LEASE + timedelta(seconds=1))
                self.desk.outbox.drain(self.handle, consumer="mail", batch=50, backoff=BACKOFF)
            self.handle(record)
            handed.append(record.id)

        try:
            self.desk.outbox.drain(hanging, consumer="mail", batch=5, backoff=BACKOFF, lease=LEASE)
        except ClaimExpired:
            self.crashed.update(handed)  # its cursor did not move: handed over again

    @precondition(lambda self: self.tickets)
    @rule(data=st.data())
    def mail_server_fails_for(self, data: st.DataObject) -> None:
        self.failing ^= {data.draw(st.sampled_from(self.tickets))}

    @rule(seconds=st.integers(0, 120))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(timedelta(seconds=seconds))

    @invariant()
    def the_cursor_never_passes_the_last_record(self) -> None:
        records = self.desk.outbox.read(limit=10_000)
        top = records[-1].position if records else 0
        assert all(state.position <= top for state in self.desk.outbox.consumers())


class SQLiteOutboxMachine(OutboxMachine):
    def make_store(self) -> Store:
        return SQLiteStore(Path(tempfile.mkdtemp(prefix="ticketflow-outbox-")) / "t.sqlite3")


TestOutboxOnMemory = OutboxMachine.TestCase
# The memory machine takes the profile's number of examples; SQLite's writes files, so fewer.
TestOutboxOnMemory.settings = settings(stateful_step_count=40, deadline=None)
TestOutboxOnSQLite = SQLiteOutboxMachine.TestCase
TestOutboxOnSQLite.settings = settings(max_examples=15, stateful_step_count=25, deadline=None)
