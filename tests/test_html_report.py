"""The HTML report: one self-contained page whose every chart has data, drawn from the desk."""

from __future__ import annotations

import io
import subprocess
from collections import Counter
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from support import ANA, START

from ticketflow import Actor, Helpdesk, InvalidInput, ManualClock, html_report
from ticketflow._demo import demo_desk, run_demo
from ticketflow._html_report import FIRST_RESPONSE_BUCKETS, LONGEST_DAILY
from ticketflow.cli import main
from ticketflow.sla import Target
from ticketflow.storage import MemoryStore

CHARTS = (
    "created-resolved",
    "backlog",
    "compliance-week",
    "compliance-priority",
    "first-response",
    "flow",
    "satisfaction-week",
    "satisfaction-priority",
)
CHROMIUM = Path("/usr/bin/chromium")


class _Page(HTMLParser):
    """Each chart of a page: its marks, its data rows; and every tag and attribute seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str, str]] = []
        self.marks: Counter[str] = Counter()
        self.rows: Counter[str] = Counter()
        self.svgs: Counter[str] = Counter()
        self.chart: str | None = None
        self.depth = 0
        self.in_body = False
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        self.tags[tag] += 1
        self.attributes.extend((tag, name, value) for name, value in found.items())
        if tag == "figure" and "chart" in found.get("class", "").split():
            self.chart, self.depth = found["id"], 0
        if self.chart is None:
            return
        if tag == "figure":
            self.depth += 1
        if tag == "svg":
            self.svgs[self.chart] += 1
        if "mark" in found.get("class", "").split():
            self.marks[self.chart] += 1
        if tag == "tr":
            self.rows[self.chart] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure" and self.chart is not None:
            self.depth -= 1
            if self.depth == 0:
                self.chart = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


@pytest.fixture(scope="module")
def demo() -> Helpdesk:
    store = MemoryStore()
    run_demo(seed=7, days=14, quiet=True, out=io.StringIO(), store=store)
    return demo_desk(store, ManualClock(START + timedelta(days=14)))


@pytest.fixture(scope="module")
def page(demo: Helpdesk) -> str:
    return html_report(demo, title="The demo's fortnight")


def test_the_same_desk_at_the_same_instant_gives_the_same_page(demo: Helpdesk, page: str) -> None:
    assert html_report(demo, title="The demo's fortnight") == page


def test_every_chart_of_the_demo_report_has_data_drawn_and_tabled(page: str) -> None:
    parsed = _parse(page)
    assert set(parsed.svgs) == set(CHARTS)
    for chart in CHARTS:
        assert parsed.svgs[chart] == 1, chart
        assert parsed.marks[chart] > 0, f"{chart} draws no mark"
        assert parsed.rows[chart] > 1, f"{chart} has no row under its table's heading"


def test_the_page_loads_nothing_from_outside_itself(page: str) -> None:
    parsed = _parse(page)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(parsed.tags)
    loading = [
        (tag, name, value)
        for tag, name, value in parsed.attributes
        if name in {"src", "href", "srcset", "action"} or name.startswith("on")
    ]
    assert loading == []
    assert "url(" not in page
    assert "@import" not in page
    assert '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'' in page
    # The SVG namespace is a name, not something fetched.
    assert {value for _tag, name, value in parsed.attributes if name == "xmlns"} == {
        "http://www.w3.org/2000/svg"
    }


def test_every_chart_is_labelled_for_screen_readers(page: str) -> None:
    parsed = _parse(page)
    labelled = [value for tag, name, value in parsed.attributes if tag == "svg" and name == "role"]
    assert labelled == ["img"] * len(CHARTS)
    ids = {value for _tag, name, value in parsed.attributes if name == "id"}
    for tag, name, value in parsed.attributes:
        if tag == "svg" and name == "aria-labelledby":
            assert set(value.split()) <= ids
    assert parsed.tags["figcaption"] == len(CHARTS)
    assert parsed.tags["details"] == len(CHARTS), "a table under every chart"


def test_the_tables_hold_the_figures_of_the_desk(demo: Helpdesk, page: str) -> None:
    metrics = demo.metrics(per_ticket=True)
    histories = [demo.history(item.ticket.id) for item in metrics.tickets]
    rows = _rows(page)
    assert sum(int(row[1]) for row in rows["created-resolved"]) == len(metrics.tickets)
    resolutions = sum(
        event.moved and event.to_status == "resolved" for history in histories for event in history
    )
    assert sum(int(row[2]) for row in rows["created-resolved"]) == resolutions
    moves = sum(event.moved or event.from_status is None for h in histories for event in h)
    assert sum(int(row[2]) for row in rows["flow"]) == moves
    answered = [item.first_response for item in metrics.tickets if item.first_response is not None]
    assert [row[0] for row in rows["first-response"]] == [b[0] for b in FIRST_RESPONSE_BUCKETS]
    assert sum(int(row[1]) for row in rows["first-response"]) == len(answered)
    within_hour = sum(value < timedelta(hours=1) for value in answered)
    assert rows["first-response"][0] == ("< 1 h", str(within_hour))
    by_priority = metrics.breakdowns["priority"]
    assert [row[0] for row in rows["compliance-priority"]] == ["urgent", "high", "normal", "low"]
    for name, first, resolution in rows["compliance-priority"]:
        shares = by_priority[name].compliance
        assert first == f"{shares[Target.FIRST_RESPONSE]:.0%}"
        assert resolution == f"{shares[Target.RESOLUTION]:.0%}"
    last_day = rows["backlog"][-1]
    active = sum(
        item.ticket.status in {"new", "open", "answered", "postponed"} for item in metrics.tickets
    )
    assert last_day == ("2026-01-19", str(active))


def test_the_satisfaction_tables_hold_the_ratings_of_the_desk(demo: Helpdesk, page: str) -> None:
    metrics = demo.metrics(per_ticket=True)
    rows = _rows(page)
    rated = [item for item in metrics.tickets if item.rating is not None]
    asked = [item for item in metrics.tickets if item.rating is not None or item.rateable]
    assert rated, "the demo's customers rate"
    weeks = rows["satisfaction-week"]
    assert sum(int(row[1]) for row in weeks) == metrics.overall.ratings == len(rated)
    for week, ratings, share, rate in weeks:
        start = date.fromisoformat(week)
        resolved = [
            item
            for item in asked
            if item.ticket.resolved_at is not None
            and start <= item.ticket.resolved_at.date() < start + timedelta(days=7)
        ]
        good = [item for item in resolved if item.rating == "good"]
        scored = [item for item in resolved if item.rating is not None]
        assert int(ratings) == len(scored)
        assert share == (f"{len(good) / len(scored):.0%}" if scored else "-")
        assert rate == f"{len(scored) / len(resolved):.0%}"
    by_priority = metrics.breakdowns["priority"]
    assert [row[0] for row in rows["satisfaction-priority"]] == ["urgent", "high", "normal", "low"]
    for name, ratings, share, rate in rows["satisfaction-priority"]:
        summary = by_priority[name]
        assert int(ratings) == summary.ratings
        assert share == ("-" if summary.satisfaction is None else f"{summary.satisfaction:.0%}")
        assert rate == f"{summary.response_rate:.0%}"
    overall = metrics.overall
    assert f"{overall.satisfaction:.0%}satisfied, of {overall.ratings} ratings" in "".join(
        _parse(page).text
    )


def test_a_desk_whose_tickets_are_rated_draws_the_satisfaction_charts() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    lead = Actor.admin("lead-1")
    tickets = [
        desk.open(subject="s", description="d", requester=ANA, priority=priority)
        for priority in ("high", "high", "low")
    ]
    for ticket in tickets:
        desk.resolve(ticket.id, lead)
    clock.advance(timedelta(hours=3))
    desk.rate(tickets[0].id, Actor.customer(ANA.id), "good")
    desk.rate(tickets[2].id, Actor.customer(ANA.id), "bad", comment="Slow.")
    rows = _rows(html_report(desk))
    monday = START.date() - timedelta(days=START.weekday())
    assert rows["satisfaction-week"] == [(f"{monday:%Y-%m-%d}", "2", "50%", "67%")]
    assert rows["satisfaction-priority"] == [
        ("high", "1", "100%", "50%"),
        ("low", "1", "0%", "100%"),
    ]
    assert _parse(html_report(desk)).marks["satisfaction-priority"] == 4


def test_a_rated_ticket_reopened_since_counts_in_the_week_it_was_rated() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    customer = Actor.customer(ANA.id)
    ticket = desk.open(subject="s", description="d", requester=ANA)
    desk.resolve(ticket.id, customer)
    desk.rate(ticket.id, customer, "bad")
    clock.advance(timedelta(days=8))
    assert desk.reply(ticket.id, customer, "Broken again.").resolved_at is None
    monday = START.date() - timedelta(days=START.weekday())
    page = html_report(desk)
    assert _rows(page)["satisfaction-week"] == [(f"{monday:%Y-%m-%d}", "1", "0%", "100%")]
    assert desk.metrics().overall.ratings == 1, "the same rating metrics() counts"


def _rows(page: str) -> dict[str, list[tuple[str, ...]]]:
    """The data rows of each chart's table, as text."""

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.found: dict[str, list[tuple[str, ...]]] = {}
            self.chart = ""
            self.row: list[str] | None = None
            self.cell: list[str] | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "figure":
                self.chart = found.get("id") or ""
            elif tag == "tr":
                self.row = []
            elif tag == "td" and self.row is not None:
                self.cell = []

        def handle_endtag(self, tag: str) -> None:
            if tag == "td" and self.row is not None and self.cell is not None:
                self.row.append("".join(self.cell))
                self.cell = None
            elif tag == "tr" and self.row:
                self.found.setdefault(self.chart, []).append(tuple(self.row))
                self.row = None
            elif tag == "figure":
                self.chart = ""

        def handle_data(self, data: str) -> None:
            if self.cell is not None:
                self.cell.append(data)

    parser = Rows()
    parser.feed(page)
    return parser.found


def test_stored_text_is_escaped_in_the_page() -> None:
    desk = Helpdesk(clock=ManualClock(START))
    hostile = '<script>alert("x")</script>'
    ticket = desk.open(subject=hostile, description="d", requester=ANA, department=hostile)
    desk.assign(ticket.id, Actor.admin("lead"), to="<b>agent</b>")
    page = html_report(desk, title="A <title> & more")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<title>A &lt;title&gt; &amp; more</title>" in page
    assert "<b>" not in page


def test_a_desk_without_tickets_or_sla_policies_says_there_is_no_data_yet() -> None:
    page = html_report(Helpdesk(clock=ManualClock(START)))
    parsed = _parse(page)
    assert parsed.tags["figure"] == len(CHARTS)
    # the SLA, response, flow and satisfaction charts
    assert "".join(parsed.text).count("No data yet.") == 6
    assert set(parsed.svgs) == {"created-resolved", "backlog"}


@pytest.mark.parametrize(
    ("desk", "title", "named"),
    [
        ("not a desk", "t", "desk"),
        (None, "t", "desk"),
        ("desk", "", "title"),
        ("desk", 3, "title"),
    ],
)
def test_html_report_refuses_what_is_not_a_desk_or_a_title(
    desk: object, title: object, named: str
) -> None:
    given = Helpdesk() if desk == "desk" else desk
    with pytest.raises(InvalidInput) as refused:
        html_report(given, title=title)  # type: ignore[arg-type]
    assert refused.value.field == named


def test_report_html_writes_the_page_of_a_demo_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database, out = tmp_path / "demo.sqlite3", tmp_path / "report.html"
    assert main(["demo", "--quiet", "--db", str(database)]) == 0
    capsys.readouterr()
    now = ["--now", "2026-01-19T08:00Z"]
    assert main(["report", "--db", str(database), "--html", str(out), *now]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    parsed = _parse(out.read_text(encoding="utf-8"))
    assert all(parsed.marks[chart] for chart in CHARTS)
    assert "SLA first response met" in "".join(parsed.text), "the demo's SLA policies were used"
    assert main(["report", "--db", str(database), *now]) == 0
    table = capsys.readouterr().out
    assert table.startswith("metrics at 2026-01-19 08:00 UTC\n")
    assert "\nSLA met: first_response " in table, "the text report uses them too"


def test_report_html_refuses_a_file_it_cannot_write_before_reading_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "report.html"
    assert main(["report", "--db", str(tmp_path / "x.sqlite3"), "--html", str(missing)]) == 2
    assert capsys.readouterr().err == (
        f"ticketflow report: --html must be a file path in an existing folder, got '{missing}'\n"
    )
    assert not (tmp_path / "x.sqlite3").exists()


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is absent (Debian's chromium package): no real-browser check",
)
def test_the_page_renders_in_headless_chromium(page: str, tmp_path: Path) -> None:
    source, picture = tmp_path / "report.html", tmp_path / "report.png"
    source.write_text(page, encoding="utf-8")
    browser = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",  # as root in a container; the page runs no script anyway
        "--disable-gpu",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [*browser, "--enable-logging=stderr", "--v=0", "--dump-dom", source.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert dom.returncode == 0, dom.stderr
    # A blocked load (Content Security Policy) or any error would be a console message.
    assert ":CONSOLE" not in dom.stderr, dom.stderr
    rendered = _parse(dom.stdout)
    assert all(rendered.marks[chart] for chart in CHARTS), "the browser built every chart"
    shot = subprocess.run(
        [*browser, "--window-size=1280,2400", f"--screenshot={picture}", source.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shot.returncode == 0, shot.stderr
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_created_and_resolved_are_counted_per_week_over_a_long_stretch() -> None:
    clock = ManualClock(START)
    desk = Helpdesk(clock=clock)
    for _ in range(3):
        desk.open(subject="s", description="d", requester=ANA)
    clock.advance(timedelta(days=LONGEST_DAILY + 10))
    late = desk.open(subject="s", description="d", requester=ANA)
    desk.resolve(late.id, Actor.admin("lead-1"))
    page = html_report(desk)
    assert "<h2>Tickets created and resolved per week</h2>" in page
    rows = _rows(page)["created-resolved"]
    monday = START.date() - timedelta(days=START.weekday())
    assert rows[0] == (f"{monday:%Y-%m-%d}", "3", "0")
    assert [row[1:] for row in rows[1:]] == [("1", "1")]
    assert len(_rows(page)["backlog"]) == LONGEST_DAILY + 11, "the backlog stays daily"
