"""Calendars: when the clock of an SLA runs - always, or during business hours.

A :class:`Calendar` answers two questions about aware instants:
``elapsed(a, b)``, the business time between them, and ``due_at(start,
duration)``, the earliest instant by which ``duration`` of business time has
passed since ``start``.  They are exact to the microsecond and inverse to each
other, and they depend only on the calendar's own time zone, never on the
host's.

Business hours are shifts in local time: several a day (split shifts), and a
shift whose end is not after its start runs past midnight into the next day.
Particular dates may have hours of their own in place of their weekday's (a
half day, a Saturday worked).  A holiday, on one date or on a month and day
every year, closes its whole local date, from midnight to midnight: no shift
starts on it, and a night shift that began the evening before stops at its
midnight.  Across a daylight-saving
change a shift runs from its local start to its local end, so a shift that
spans the change is an hour longer or shorter in real time; local times are
read as PEP 495 reads them (a repeated time is its first occurrence, a
skipped one is moved on by the gap).
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import ModuleType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ticketflow._errors import InvalidInput
from ticketflow._validate import text, to_utc

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_YEAR = timedelta(days=365)
_NO_TIME = timedelta(0)
_TICK = timedelta(microseconds=1)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)
_FIRST = datetime(1, 1, 8, tzinfo=UTC)
_LAST = datetime(9999, 12, 24, tzinfo=UTC)
"""The instants between which a business calendar places its shifts: a week
in from each end of ``datetime``, so that the local day of an instant, the day
before it and the day after its shifts end can all be represented."""
_LAST_DAY = date(9999, 12, 25)
"""The last local day a shift opening at or before ``_LAST`` can start on."""
_WEEKS_IN_A_CENTURY = 5200
_CENTURY_BEFORE_LAST = _LAST - _WEEKS_IN_A_CENTURY * timedelta(weeks=1)
"""A start from which the weeks up to ``_LAST`` hold ``_WEEKS_IN_A_CENTURY`` at least."""
_FALL_BACK_PER_YEAR = timedelta(hours=3)
"""More than clocks go back in a year, over the years to 9999, in any zone: a
shift that a change back falls in is that much longer than written.  Rules
today go back at most 2 h a year (Troll); a one-off jump of a day, such as
Alaska's in 1867, is thousands of years from the end and covered many times
over by the years between."""


class Weekday(enum.IntEnum):
    """Days of the week, Monday first, as ``date.weekday()`` counts them."""

    MONDAY = 0
    TUESDAY = 1
    WEDNESDAY = 2
    THURSDAY = 3
    FRIDAY = 4
    SATURDAY = 5
    SUNDAY = 6


_WEEKDAYS = tuple(Weekday)
"""Monday first, as ``date.weekday()`` counts."""


@attrs.frozen
class Shift:
    """Open from ``start`` to ``end`` local time; an ``end`` not after ``start`` ends next day."""

    start: time
    end: time

    def __attrs_post_init__(self) -> None:
        for value in (self.start, self.end):
            if not isinstance(value, time) or value.tzinfo is not None:
                raise InvalidInput("Shift", value, "a naive time of day, such as time(9, 0)")

    def on(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The shift of ``day`` as an interval of aware UTC instants.

        Raises:
            InvalidInput: ``day`` is not a date, ``zone`` not a ZoneInfo, or the
                shift falls outside what ``datetime`` can represent.
        """
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInput("day", day, "a datetime.date")
        if not isinstance(zone, ZoneInfo):
            raise InvalidInput("zone", zone, "a zoneinfo.ZoneInfo")
        try:
            opens, closes, _moved = _opening(day, self.start, self.end, zone)
        except OverflowError:
            raise InvalidInput(
                "day", day, "a day whose shift UTC can represent, 0001-01-02 to 9999-12-29"
            ) from None
        return opens, closes


@functools.lru_cache(maxsize=1 << 16)
def _opening(day: date, start: time, end: time, zone: ZoneInfo) -> tuple[datetime, datetime, bool]:
    """A shift's interval on a day, and whether a daylight-saving gap moved its opening.

    Kept, as SLA clocks ask about the same days again.  A moved opening may
    come after the opening of a shift that starts later in local time.
    """
    opens = _instant(day, start, zone)
    closes_on = day if end > start else day + _DAY
    moved = opens.astimezone(zone).replace(tzinfo=None) != datetime.combine(day, start)
    return opens, _instant(closes_on, end, zone), moved


def _instant(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time, as PEP 495 reads it (fold=0).

    A time repeated when clocks go back is its first occurrence; a time that
    does not exist when they go forward is moved on by the length of the gap.
    """
    return datetime.combine(day, moment, tzinfo=zone).astimezone(UTC)


_PAIR = "a Shift or a (start, end) pair of naive datetime.time, such as (time(9), time(17))"


def _weekday(value: object) -> Weekday:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 6:
        raise InvalidInput("hours", value, "a weekday, 0 (Monday) to 6 (Sunday)")
    return Weekday(value)


def _shift(field: str, value: object) -> Shift:
    if isinstance(value, Shift):
        return value
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidInput(field, value, _PAIR)
    start, end = value
    if not all(isinstance(part, time) and part.tzinfo is None for part in (start, end)):
        raise InvalidInput(field, value, _PAIR)
    return Shift(start, end)


def _shifts(
    value: Mapping[int, Iterable[tuple[time, time] | Shift]] | None,
) -> Mapping[Weekday, tuple[Shift, ...]] | None:
    """The week of ``hours=``, checked: None for a calendar that is always open."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidInput("hours", value, "a mapping of weekdays to (start, end) shifts")
    week: dict[Weekday, tuple[Shift, ...]] = {}
    for day, shifts in value.items():
        weekday = _weekday(day)
        field = f"hours[{weekday.value}]"
        if isinstance(shifts, str | bytes | Shift) or not isinstance(shifts, Iterable):
            raise InvalidInput(field, shifts, f"a list of shifts, each {_PAIR}")
        built = [_shift(field, shift) for shift in shifts]
        week[weekday] = tuple(sorted(built, key=lambda item: item.start))
    if not any(week.values()):
        raise InvalidInput("hours", value, "at least one shift in the week")
    return week


def _holidays(value: Iterable[date]) -> frozenset[date]:
    """The dates of ``holidays=``, checked: a collection of dates, not one date or a string."""
    if isinstance(value, str | bytes | date) or not isinstance(value, Iterable):
        raise InvalidInput(
            "holidays", value, "a collection of dates, such as {date(2026, 12, 25)}"
        )
    days = []
    for day in value:
        if isinstance(day, YearlyHoliday):
            raise InvalidInput(
                "holidays",
                day,
                "dates: a YearlyHoliday goes in Calendar(yearly_holidays=...), or among"
                " Calendar.business(holidays=...), which takes both",
            )
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInput(
                "holidays", day, "dates (datetime.date, not datetime), such as date(2026, 12, 25)"
            )
        days.append(day)
    return frozenset(days)


_LEAP_YEAR = 2000


@attrs.frozen
class YearlyHoliday:
    """A holiday on the same month and day every year, such as Christmas Day.

    ``YearlyHoliday(2, 29)`` falls in leap years only.  Pass it among
    ``Calendar.business(..., holidays=...)``, beside dates.

    >>> christmas = YearlyHoliday(12, 25)
    >>> christmas.on(2027), christmas.on(2031)
    (datetime.date(2027, 12, 25), datetime.date(2031, 12, 25))
    >>> YearlyHoliday(2, 29).on(2027) is None
    True

    Raises:
        InvalidInput: a month that is not 1 to 12, or a day that month never has.
    """

    month: int
    day: int

    def __attrs_post_init__(self) -> None:
        for value in (self.month, self.day):
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidInput(
                    "YearlyHoliday",
                    value,
                    "a month and a day (int), such as YearlyHoliday(12, 25)",
                )
        if not 1 <= self.month <= 12:
            raise InvalidInput("YearlyHoliday.month", self.month, "a month, 1 to 12")
        try:
            date(_LEAP_YEAR, self.month, self.day)
        except ValueError:
            raise InvalidInput(
                "YearlyHoliday.day", self.day, f"a day that month {self.month} has, such as 1"
            ) from None

    def on(self, year: int) -> date | None:
        """The holiday's date in ``year`` (None: February 29 of a common year).

        Raises:
            InvalidInput: ``year`` is not a whole year from 1 to 9999.
        """
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise InvalidInput("year", year, "a whole year (int) from 1 to 9999")
        try:
            return date(year, self.month, self.day)
        except ValueError:
            return None


_EVERY_DAY_OF_A_YEAR = 366


def _yearly(value: Iterable[YearlyHoliday]) -> frozenset[YearlyHoliday]:
    """The ``yearly_holidays=`` of a calendar, checked: YearlyHoliday values, not every day."""
    expected = "a collection of YearlyHoliday values, such as {YearlyHoliday(12, 25)}"
    if isinstance(value, str | bytes | YearlyHoliday) or not isinstance(value, Iterable):
        raise InvalidInput("yearly_holidays", value, expected)
    found = frozenset(value)
    for holiday in found:
        if not isinstance(holiday, YearlyHoliday):
            raise InvalidInput("yearly_holidays", holiday, expected)
    if len(found) >= _EVERY_DAY_OF_A_YEAR:
        raise InvalidInput(
            "yearly_holidays", len(found), "fewer than 366 days, so that the calendar ever opens"
        )
    return found


def _dated(value: object) -> Mapping[date, tuple[Shift, ...]]:
    """The ``dates=`` of a calendar, checked: dates to the shifts worked on them."""
    if not isinstance(value, Mapping):
        raise InvalidInput(
            "dates",
            value,
            "a mapping of dates to shifts, such as {date(2026, 12, 24): [(time(9), time(13))]}",
        )
    days: dict[date, tuple[Shift, ...]] = {}
    for day, shifts in value.items():
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInput("dates", day, "dates (datetime.date, not datetime) as keys")
        field = f"dates[{day.isoformat()}]"
        if isinstance(shifts, str | bytes | Shift) or not isinstance(shifts, Iterable):
            raise InvalidInput(field, shifts, f"a list of shifts, each {_PAIR}")
        built = [_shift(field, shift) for shift in shifts]
        if not built:
            raise InvalidInput(
                field, shifts, "at least one shift (to close a date, list it in holidays)"
            )
        days[day] = tuple(sorted(built, key=lambda item: item.start))
    return days  # a dict, as ``hours`` is: a calendar pickles


def _name(value: str) -> str:
    return text(value, "name")


_HH_MM = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]\Z")
_END_OF_DAY = "24:00"


def _weekday_shift(value: object) -> tuple[time, time]:
    """The shift ``weekdays=("HH:MM", "HH:MM")`` gives, with "24:00" read as midnight."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise InvalidInput(
            "weekdays",
            value,
            'a pair of local times ("HH:MM", "HH:MM"), such as ("09:00", "17:00")',
        )
    start, end = value
    if not isinstance(start, str) or not _HH_MM.match(start):
        raise InvalidInput("weekdays[0]", start, 'a local time "HH:MM", "00:00" to "23:59"')
    if end == _END_OF_DAY:
        return time.fromisoformat(start), time(0)  # a shift whose end is midnight runs to it
    if not isinstance(end, str) or not _HH_MM.match(end):
        raise InvalidInput("weekdays[1]", end, 'a local time "HH:MM", "00:00" to "24:00"')
    return time.fromisoformat(start), time.fromisoformat(end)


_ZONE = "an IANA time zone name, such as 'Europe/Riga', or a zoneinfo.ZoneInfo"


def _zone(value: str | ZoneInfo | None) -> ZoneInfo | None:
    """The time zone of ``zone=``, checked: None for a calendar that is always open."""
    if value is None or isinstance(value, ZoneInfo):
        return value
    if not isinstance(value, str):
        raise InvalidInput("zone", value, _ZONE)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a key that names a directory of the database, or is too long
        raise InvalidInput("zone", value, _ZONE) from None


def _week_of(calendar: Calendar) -> tuple[tuple[tuple[time, time], ...], ...]:
    """The calendar's shifts as ``(start, end)`` pairs, indexed by ``date.weekday()``.

    Looked up on every day an interval spans: a tuple index costs less than
    hashing a :class:`Weekday` (in Python) to look up ``hours``.
    """
    hours = calendar.hours or {}
    return tuple(
        tuple((shift.start, shift.end) for shift in hours.get(day, ())) for day in _WEEKDAYS
    )


def _dated_of(calendar: Calendar) -> Mapping[date, tuple[tuple[time, time], ...]]:
    """The shifts of ``dates`` as ``(start, end)`` pairs, as ``_week`` holds the weekdays'."""
    return {
        day: tuple((shift.start, shift.end) for shift in shifts)
        for day, shifts in calendar.dates.items()
    }


def _yearly_of(calendar: Calendar) -> frozenset[int]:
    return frozenset(holiday.month * 100 + holiday.day for holiday in calendar.yearly_holidays)


def _special_of(calendar: Calendar) -> bool:
    return bool(calendar.holidays or calendar.yearly_holidays or calendar.dates)


def _extra_of(calendar: Calendar) -> timedelta:
    return 2 * _DAY * sum(len(shifts) for shifts in calendar.dates.values())


_MIDNIGHT = time(0)
_Opening = tuple[datetime, datetime, bool]
"""A shift on a day: its opening and closing instants, and whether a gap moved the opening."""
_KEPT_DAYS = 1 << 12
"""Days a calendar keeps walked (about 11 years), each a few shifts."""

_KEPT_DUES = 1 << 10
"""Answers of ``Calendar.due_at`` a calendar keeps."""


def _openings(
    day: date, shifts: tuple[tuple[time, time], ...], zone: ZoneInfo, cut: bool
) -> tuple[tuple[datetime, datetime, bool], ...]:
    """The shifts that start on ``day``, as :func:`_opening` gives each.

    ``cut``: the next day is a holiday, so a shift that runs past midnight
    stops there.
    """
    midnight = _instant(day + _DAY, _MIDNIGHT, zone) if cut else None
    found = []
    for begins, ends in shifts:
        opens, closes, moved = _opening(day, begins, ends, zone)
        if midnight is not None and closes > midnight:
            closes = midnight
        if opens < closes:
            found.append((opens, closes, moved))
    return tuple(found)


def _open_per_week(calendar: Calendar) -> timedelta:
    """The open time of a week as its shifts are written: overlaps count once."""
    if calendar.hours is None:
        return _WEEK
    spans: list[tuple[timedelta, timedelta]] = []
    for day, shifts in calendar.hours.items():
        for shift in shifts:
            opens = day * _DAY + _since_midnight(shift.start)
            length = _since_midnight(shift.end) - _since_midnight(shift.start)
            closes = opens + (length if length > _NO_TIME else length + _DAY)
            if closes > _WEEK:  # Sunday's night shift runs on into Monday
                spans += [(opens, _WEEK), (_NO_TIME, closes - _WEEK)]
            else:
                spans.append((opens, closes))
    total, counted_to = _NO_TIME, _NO_TIME
    for opens, closes in sorted(spans):
        low = max(opens, counted_to)
        if low < closes:
            total += closes - low
            counted_to = closes
    return total


def _since_midnight(moment: time) -> timedelta:
    return timedelta(
        hours=moment.hour,
        minutes=moment.minute,
        seconds=moment.second,
        microseconds=moment.microsecond,
    )


@attrs.frozen
class Calendar:
    """When SLA clocks run: always (the default), or during business hours.

    Build one with :meth:`always` or :meth:`business`.

    >>> from datetime import UTC, datetime, timedelta
    >>> riga = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
    >>> friday = datetime(2026, 3, 13, 15, 30, tzinfo=UTC)   # 17:30 in Riga
    >>> riga.due_at(friday, timedelta(hours=4)).isoformat()   # Monday 12:30 in Riga
    '2026-03-16T10:30:00+00:00'
    >>> riga.elapsed(friday, riga.due_at(friday, timedelta(hours=4)))
    datetime.timedelta(seconds=14400)
    """

    zone: ZoneInfo | None = attrs.field(default=None, eq=False, converter=_zone)
    hours: Mapping[Weekday, tuple[Shift, ...]] | None = attrs.field(
        default=None, converter=_shifts
    )
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_holidays)
    name: str = attrs.field(default="24x7", converter=_name)
    yearly_holidays: frozenset[YearlyHoliday] = attrs.field(
        default=frozenset(), converter=_yearly, kw_only=True
    )
    dates: Mapping[date, tuple[Shift, ...]] = attrs.field(
        factory=dict, converter=_dated, kw_only=True
    )
    _week: tuple[tuple[tuple[time, time], ...], ...] = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_week_of, takes_self=True)
    )
    """The shifts of ``hours`` by ``date.weekday()`` (see :func:`_week_of`)."""
    _weekly: timedelta = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_open_per_week, takes_self=True)
    )
    _century: timedelta = attrs.field(
        init=False,
        eq=False,
        repr=False,
        default=attrs.Factory(lambda self: self._weekly * _WEEKS_IN_A_CENTURY, takes_self=True),
    )
    """The open time of ``_WEEKS_IN_A_CENTURY`` weeks as written (see :meth:`_due_at`)."""
    _dated: Mapping[date, tuple[tuple[time, time], ...]] = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_dated_of, takes_self=True)
    )
    """The shifts of ``dates`` as ``(start, end)`` pairs."""
    _yearly: frozenset[int] = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_yearly_of, takes_self=True)
    )
    """The yearly holidays as ``month * 100 + day``: one int to look up a date by."""
    _special: bool = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_special_of, takes_self=True)
    )
    """Whether any date differs from its weekday: the walks skip the look-ups if not."""
    _extra: timedelta = attrs.field(
        init=False, eq=False, repr=False, default=attrs.Factory(_extra_of, takes_self=True)
    )
    """More than the open time ``dates`` can add to the weeks as written (a shift
    is at most a day, and a daylight-saving change)."""
    _days: dict[date, tuple[tuple[datetime, datetime, bool], ...]] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )
    """The days walked so far, as :meth:`_openings_on` gives them: SLA clocks and
    metrics walk the same days again and again.  A memo, not state: cleared
    when it grows past ``_KEPT_DAYS``."""
    _dues: dict[tuple[datetime, timedelta], datetime] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )
    """The latest answers of :meth:`due_at`: a commit asks the same question for
    its schedule and for its figures.  A memo, cleared past ``_KEPT_DUES``."""
    _open: list[tuple[datetime, datetime]] = attrs.field(
        init=False, eq=False, repr=False, factory=list
    )
    """The opening the latest walk counted in last, if any: open from end to end, so
    the time from one instant in it to a later one is all business time (a
    commit's clocks are read one after the other, most often in working hours)."""
    _spans: dict[tuple[datetime, datetime], timedelta] = attrs.field(
        init=False, eq=False, repr=False, factory=dict
    )
    """The latest answers of :meth:`elapsed` on business hours: a clock's run read
    at one commit is added up at the next.  A memo, cleared past ``_KEPT_DUES``."""

    @classmethod
    def always(cls) -> Calendar:
        """Every instant counts: the clock never stops (24x7)."""
        return cls()

    @classmethod
    def business(
        cls,
        zone: str | ZoneInfo,
        hours: Mapping[int, Iterable[tuple[time, time] | Shift]] | None = None,
        *,
        weekdays: tuple[str, str] | None = None,
        holidays: Iterable[date | YearlyHoliday] = (),
        name: str | None = None,
        dates: Mapping[date, Iterable[tuple[time, time] | Shift]] | None = None,
    ) -> Calendar:
        """Weekly business hours in the IANA time zone ``zone``.

        Args:
            zone: such as ``"Europe/Riga"``.
            hours: weekday (0 Monday .. 6 Sunday) -> shifts ``(start, end)``
                of local time; an end not after the start ends the next day.
            weekdays: a shortcut for the same ``("HH:MM", "HH:MM")`` shift
                Monday to Friday; an end of ``"24:00"`` is midnight, the end
                of the day.
            holidays: local dates closed from midnight to midnight (a
                night shift that began the evening before stops at its
                midnight), and :class:`YearlyHoliday` values, closed on
                their month and day every year.
            name: for reports; defaults to the zone's name.
            dates: date -> the shifts worked that day, in place of its
                weekday's (and of a yearly holiday): a half day, or a
                Saturday worked in exchange for a bridge day.

        Raises:
            InvalidInput: naming the argument at fault: an unknown zone, a
                malformed shift or weekday, a week without a shift, holidays
                that are not a collection of dates and yearly holidays, a
                date both a holiday and worked, a name that is not text.
        """
        if (hours is None) == (weekdays is None):
            raise InvalidInput("hours", hours, "either hours= or weekdays=, one of them")
        if weekdays is not None:
            hours = dict.fromkeys(range(5), (_weekday_shift(weekdays),))
        where = _zone(zone)
        if where is None:
            raise InvalidInput("zone", zone, _ZONE)
        if isinstance(holidays, str | bytes | date) or not isinstance(holidays, Iterable):
            raise InvalidInput(
                "holidays", holidays, "a collection of dates, such as {date(2026, 12, 25)}"
            )
        given = list(holidays)
        yearly = [day for day in given if isinstance(day, YearlyHoliday)]
        days = [day for day in given if not isinstance(day, YearlyHoliday)]
        return cls(
            where,
            hours,
            days,
            where.key if name is None else name,
            yearly_holidays=yearly,
            dates={} if dates is None else dates,
        )

    def __attrs_post_init__(self) -> None:
        if (self.zone is None) != (self.hours is None):
            raise InvalidInput(
                "zone", self.zone, "given with hours, and only with them (None: always open)"
            )
        if self.hours is None and (self.yearly_holidays or self.dates):
            raise InvalidInput(
                "dates" if self.dates else "yearly_holidays",
                dict(self.dates) or set(self.yearly_holidays),
                "given with business hours only (an always-open calendar has no days off)",
            )
        both = sorted(self.holidays & self.dates.keys())
        if both:
            raise InvalidInput(
                "dates", both[0], "a date that is not also a holiday: worked or closed, not both"
            )

    @property
    def is_always(self) -> bool:
        """Whether every instant counts."""
        return self.hours is None

    @property
    def open_per_week(self) -> timedelta:
        """The open time of a week as its shifts are written (7 days when always open).

        A real week has less when a holiday falls in it, and an hour more or
        less when a daylight-saving change falls in one of its shifts.
        """
        return self._weekly

    def intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open intervals that overlap ``[start, end)``, clipped to it, in order, in UTC.

        Raises:
            InvalidInput: ``start`` or ``end`` is not an aware datetime, or, on
                business hours, is outside 0001-01-08 to 9999-12-24 UTC.
        """
        return self._intervals(self._moment(start, "start"), self._moment(end, "end"))

    def _intervals(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        if self.hours is None or self.zone is None:
            if start < end:
                yield start, end
            return
        zone = self.zone
        day = start.astimezone(zone).date() - _DAY  # a shift from the day before may run on
        last = end.astimezone(zone).date()
        while day <= last:
            for opens, closes, _moved in self._openings_on(day, zone):
                low, high = max(opens, start), min(closes, end)
                if low < high:
                    yield low, high
            day += _DAY

    def _hours_on(self, day: date) -> tuple[tuple[time, time], ...]:
        """The shifts that start on the local date ``day``, as ``(start, end)`` pairs.

        Its own (``dates``), none on a holiday, else its weekday's.
        """
        if self._special:
            own = self._dated.get(day)
            if own is not None:
                return own
            if self._closed(day):
                return ()
        return self._week[day.weekday()]

    def _closed(self, day: date) -> bool:
        """Whether ``day`` is a holiday (one date, or every year) not worked by ``dates``."""
        return day not in self._dated and (
            day in self.holidays or (day.month * 100 + day.day) in self._yearly
        )

    def _openings_on(self, day: date, zone: ZoneInfo) -> tuple[_Opening, ...]:
        """The shifts of ``day`` as instants, cut at midnight when the next day is a holiday."""
        found = self._days.get(day)
        if found is None:
            shifts = self._hours_on(day)
            cut = bool(shifts) and self._special and self._closed(day + _DAY)
            found = _openings(day, shifts, zone, cut) if shifts else ()
            if len(self._days) >= _KEPT_DAYS:
                self._days.clear()
            self._days[day] = found
        return found

    def _moment(self, value: object, field: str) -> datetime:
        """``value`` in UTC, if the calendar can place it (see ``_FIRST`` and ``_LAST``)."""
        moment = to_utc(value, field)  # refuses an instant past the ends of UTC too
        if self.hours is not None and not _FIRST <= moment <= _LAST:
            raise InvalidInput(
                field,
                value,
                "an aware datetime from 0001-01-08 to 9999-12-24 UTC, where business"
                " hours can be placed",
            )
        return moment

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The business time from ``start`` to ``end`` (negative if ``end`` is earlier).

        It takes time in proportion to the days between them: a millisecond
        or two a year with a shift every weekday.

        Raises:
            InvalidInput: ``start`` or ``end`` is not an aware datetime, or, on
                business hours, is outside 0001-01-08 to 9999-12-24 UTC.
        """
        a, b = start, end
        # Checked inline when already UTC and in range: the metrics and SLA
        # clocks call this for every interval of every ticket.
        if not (type(a) is datetime and a.tzinfo is UTC and _FIRST <= a <= _LAST):
            a = self._moment(start, "start")
        if not (type(b) is datetime and b.tzinfo is UTC and _FIRST <= b <= _LAST):
            b = self._moment(end, "end")
        if b < a:
            return -self.elapsed(b, a)
        if self.hours is None:
            return b - a
        known = self._open
        if known:  # never emptied once set: replaced whole, so read it once
            opens, closes = known[0]
            if opens <= a and b <= closes:
                return b - a
        key = (a, b)
        found = self._spans.get(key)
        if found is None:
            found = self._elapsed(a, b)
            spans = self._spans
            if len(spans) >= _KEPT_DUES:
                spans.clear()
            spans[key] = found
        return found

    def _elapsed(self, a: datetime, b: datetime) -> timedelta:
        """:meth:`elapsed` from ``a`` to a later ``b``, both checked, on business hours."""
        zone = self.zone
        assert zone is not None  # noqa: S101 - business hours have a zone
        # The walk of intervals() inlined, counting as it goes: SLA clocks and
        # metrics call this for every run of every clock of every ticket.
        # Shifts open in the order walked, unless a daylight-saving gap moves
        # a skipped local time past a later one; then the general way sorts.
        total = _NO_TIME
        counted_to = a  # the time before this is counted (or not open)
        opened = _EARLIEST
        counted_in = None  # the last opening counted in
        openings_on, kept = self._openings_on, self._days.get
        day = a.astimezone(zone).date() - _DAY  # a shift from the day before may run on
        last = b.astimezone(zone).date()
        while day <= last:
            for opens, closes, _moved in kept(day) or openings_on(day, zone):
                if opens < opened:
                    return sum(
                        (high - low for low, high in _merged(self._intervals(a, b))),
                        _NO_TIME,
                    )
                opened = opens
                low = opens if opens > counted_to else counted_to
                high = closes if closes < b else b
                if low < high:
                    total += high - low
                    counted_to = high
                    counted_in = opens, closes
            day += _DAY
        if counted_in is not None:
            self._open[:] = (counted_in,)
        return total

    def due_at(self, start: datetime, duration: timedelta) -> datetime:
        """The earliest instant by which ``duration`` of business time has passed since ``start``.

        However long the duration and however few the open hours, the answer
        is computed: the calendar is walked as far as the duration needs, in
        time proportional to the days walked.

        Raises:
            InvalidInput: ``start`` is not an aware datetime, or is outside
                0001-01-08 to 9999-12-24 UTC on business hours; the duration
                is negative, or falls due after the last instant the calendar
                can place (9999-12-24 UTC on business hours, the end of
                ``datetime`` when always open).
        """
        if type(start) is datetime and type(duration) is timedelta:
            key = (start, duration)
            found = self._dues.get(key)
            if found is None:
                found, open_until = self._due_at(start, duration)
                dues = self._dues
                if len(dues) >= _KEPT_DUES:
                    dues.clear()
                dues[key] = found
                if found < open_until:
                    # Open right after it: one microsecond more is due one
                    # microsecond later (what an SLA clock's breach asks next).
                    dues[start, duration + _TICK] = found + _TICK
            return found
        return self._due_at(start, duration)[0]

    def _due_at(self, start: datetime, duration: timedelta) -> tuple[datetime, datetime]:
        """The due instant, and the end of the open time it falls in (itself if not known).

        Past the due instant and before that end, the calendar is open
        without a break, and the instant can be placed.
        """
        begin = start
        # Checked inline when already UTC and in range, as in elapsed().
        if not (type(begin) is datetime and begin.tzinfo is UTC and _FIRST <= begin <= _LAST):
            begin = self._moment(start, "start")
        if not isinstance(duration, timedelta) or duration < _NO_TIME:
            raise InvalidInput("duration", duration, "a timedelta, zero or more")
        zone = self.zone
        if zone is None:  # always open
            if duration > _LATEST - begin:
                raise self._too_long(duration, begin, _LATEST)
            return begin + duration, _LATEST
        if duration == _NO_TIME:
            return begin, begin
        known = self._open  # the opening last counted in: no walk if it holds it all
        if known:  # never emptied once set: replaced whole, so read it once
            opens, closes = known[0]
            if opens <= begin:
                until = closes if closes < _LAST else _LAST
                if duration <= until - begin:
                    return begin + duration, until
        return self._walk_to_due(begin, duration)

    def _walk_to_due(self, begin: datetime, duration: timedelta) -> tuple[datetime, datetime]:
        """:meth:`_due_at` for a positive ``duration`` on business hours: the calendar walked."""
        zone = self.zone
        assert zone is not None  # noqa: S101 - business hours have a zone
        # No calendar holds more open time before _LAST than its week, written,
        # over the days left and two more (its zone's offset can shift a day
        # either way), and what clocks going back can add; a longer duration
        # is refused without a walk to the end of time.
        # Computed exactly, the bound is slow (a product of a long span with a
        # float); not needed for a duration inside a century's weeks that
        # starts a century or more before the end.
        if begin > _CENTURY_BEFORE_LAST or duration > self._century:
            room = _LAST - begin
            most = (
                _most_open(self._weekly, room + 2 * _DAY)
                + _FALL_BACK_PER_YEAR * (room / _YEAR + 1)
                + self._extra
            )
            if duration > most:
                raise self._too_long(duration, begin, _LAST)
        # The walk of intervals() inlined, as in elapsed(), counting down
        # until the duration is used up.  It ends: every week has a shift, and
        # holidays are finitely many.  Shifts open in the order walked unless
        # a daylight-saving gap moves an opening on (past a later shift's
        # opening, perhaps); then the general way, which sorts, answers.
        left = duration
        counted_to = begin  # the time before this is counted (or not open)
        openings_on, kept = self._openings_on, self._days.get
        day = begin.astimezone(zone).date() - _DAY  # a shift from the day before may run on
        while day <= _LAST_DAY:
            for opens, closes, moved in kept(day) or openings_on(day, zone):
                if moved:
                    return self._due_sorted(begin, duration)
                low = opens if opens > counted_to else counted_to
                if low < closes:
                    if closes - low >= left:
                        if low + left > _LAST:
                            raise self._too_long(duration, begin, _LAST)
                        return low + left, min(closes, _LAST)
                    left -= closes - low
                    counted_to = closes
            day += _DAY
        raise self._too_long(duration, begin, _LAST)

    def _due_sorted(self, begin: datetime, duration: timedelta) -> tuple[datetime, datetime]:
        """``_due_at`` for shifts that may open out of order: a week at a time, sorted."""
        left = duration
        window = begin
        while window < _LAST:
            until = min(window + _WEEK, _LAST)
            for low, high in _merged(self._intervals(window, until)):
                if high - low >= left:
                    return low + left, high
                left -= high - low
            window = until
        raise self._too_long(duration, begin, _LAST)

    def _too_long(self, duration: timedelta, begin: datetime, last: datetime) -> InvalidInput:
        return self._past_the_end("duration", duration, "a duration that falls due", begin, last)

    def _past_the_end(
        self, field: str, value: object, what: str, begin: datetime, last: datetime
    ) -> InvalidInput:
        """``value`` of ``field`` reaches past ``last``: ``what`` ends by it, or is refused."""
        return InvalidInput(
            field,
            value,
            f"{what} by {last.isoformat()}, the last instant calendar {self.name!r} can"
            f" place, counted from {begin.isoformat()}",
        )

    def next_open(self, instant: datetime) -> datetime:
        """When the clock next runs: ``instant`` itself if it runs then, else the next opening.

        >>> from datetime import UTC, datetime
        >>> riga = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
        >>> riga.next_open(datetime(2026, 3, 13, 17, 0, tzinfo=UTC)).isoformat()  # Friday night
        '2026-03-16T07:00:00+00:00'
        >>> riga.next_open(datetime(2026, 3, 16, 8, 0, tzinfo=UTC)).isoformat()  # open already
        '2026-03-16T08:00:00+00:00'

        Raises:
            InvalidInput: ``instant`` is not an aware datetime, or, on business
                hours, is outside 0001-01-08 to 9999-12-24 UTC, or the calendar
                does not open again before then.
        """
        moment = self._moment(instant, "instant")
        # The first microsecond of business time after the moment ends one
        # microsecond after the clock starts to run.
        try:
            return self.due_at(moment, _TICK) - _TICK
        except InvalidInput:
            raise InvalidInput(
                "instant",
                instant,
                f"an instant after which calendar {self.name!r} opens again before "
                f"{_LAST.isoformat()}, the last instant it can place",
            ) from None

    def is_open(self, instant: datetime) -> bool:
        """Whether the clock runs at ``instant``.

        Raises:
            InvalidInput: ``instant`` is not an aware datetime, or, on business
                hours, is outside 0001-01-08 to 9999-12-24 UTC.
        """
        moment = self._moment(instant, "instant")
        if self.is_always:
            return True
        return any(True for _ in self._intervals(moment, moment + timedelta(microseconds=1)))

    # -- working days ------------------------------------------------------------

    @property
    def working_days_per_week(self) -> int:
        """The weekdays on which shifts start, as written (7 when always open)."""
        return sum(1 for shifts in self._week if shifts) if self.hours is not None else 7

    def is_working_day(self, day: date) -> bool:
        """Whether the calendar opens on the local date ``day``: shifts start on it.

        A weekday with hours that is not a holiday, or a date worked by
        ``dates``; every day when always open.

        Raises:
            InvalidInput: ``day`` is not a date, or, on business hours, is
                outside 0001-01-08 to 9999-12-24.
        """
        if not isinstance(day, date) or isinstance(day, datetime):
            raise InvalidInput("day", day, "a datetime.date")
        if self.zone is None:
            return True
        if not _FIRST.date() <= day <= _LAST.date():
            raise InvalidInput("day", day, "a date from 0001-01-08 to 9999-12-24")
        return bool(self._openings_on(day, self.zone))

    def business_days_after(self, start: datetime, days: int) -> datetime:
        """When ``days`` working days have passed since ``start``, at the same local time.

        The clock starts when the calendar next opens (``next_open(start)``);
        the answer is that local time of day on the ``days``-th working day
        after that date (:meth:`is_working_day`), or, if the calendar is
        closed then (a half day, a later opening), the close of business
        before it: no open time lies between the two, so ``elapsed`` counts
        the same to both, and, like :meth:`due_at`, this is the earliest
        instant that does.  Always open: ``days`` times 24 hours later.

        >>> from datetime import UTC, datetime
        >>> riga = Calendar.business("Europe/Riga", weekdays=("09:00", "18:00"))
        >>> friday = datetime(2026, 3, 13, 12, 0, tzinfo=UTC)    # 14:00 in Riga
        >>> riga.business_days_after(friday, 3).isoformat()       # Wednesday 14:00
        '2026-03-18T12:00:00+00:00'

        Raises:
            InvalidInput: ``start`` is not an aware datetime (or, on business
                hours, is outside 0001-01-08 to 9999-12-24 UTC), ``days`` is
                not a whole number, zero or more, or the answer falls after
                the last instant the calendar can place.
        """
        begin = self._moment(start, "start")
        count = self._day_count(days, begin)
        zone = self.zone
        if zone is None:
            if count * _DAY > _LATEST - begin:
                raise self._too_far(days, begin, _LATEST)
            return begin + count * _DAY
        if count == 0:
            return begin
        opens = self._opening_after(begin, days)
        local = opens.astimezone(zone)
        day = self._working_days_after(local.date(), count, days, begin)[-1]
        try:
            due = _instant(day, local.time(), zone)
        except OverflowError:
            raise self._too_far(days, begin, _LAST) from None
        if due > _LAST:
            raise self._too_far(days, begin, _LAST)
        return self._settled(begin, due)

    def end_of_working_day(self, start: datetime, days: int = 0) -> datetime:
        """When the working day under way at ``start`` ends, or the ``days``-th after it.

        The working day under way is that of the clock's start
        (``next_open(start)``): the first working day, from the date before
        it, whose last shift ends after it; a night shift belongs to the day
        it began on.  The answer is when the last shift of that working day,
        or of the ``days``-th working day after it, ends (or a shift of a
        working day counted before it, if one that overlaps into the next
        day ends later).  "By the end of the next working day" is
        ``days=1``.  Always open: the UTC midnight that ends the day, or the
        ``days``-th after it.

        >>> from datetime import UTC, datetime
        >>> office = Calendar.business("Asia/Tokyo", weekdays=("09:00", "17:30"))
        >>> thursday_night = datetime(2026, 3, 12, 12, 0, tzinfo=UTC)   # 21:00 in Tokyo
        >>> str(office.end_of_working_day(thursday_night, 1))            # Monday 17:30
        '2026-03-16 08:30:00+00:00'

        Raises:
            InvalidInput: as :meth:`business_days_after` does.
        """
        begin = self._moment(start, "start")
        count = self._day_count(days, begin)
        zone = self.zone
        if zone is None:
            ends = datetime.combine(begin.date(), _MIDNIGHT, UTC)
            if (count + 1) * _DAY > _LATEST - ends:
                raise self._too_far(days, begin, _LATEST)
            return ends + (count + 1) * _DAY
        opens = self._opening_after(begin, days)
        day = opens.astimezone(zone).date() - _DAY  # a night shift from the day before
        while not any(closes > opens for _low, closes, _moved in self._openings_on(day, zone)):
            day += _DAY  # it opens: the day of ``opens`` has a shift that ends after it
        due = max(
            closes
            for counted in (day, *self._working_days_after(day, count, days, begin))
            for _low, closes, _moved in self._openings_on(counted, zone)
        )
        if due > _LAST:
            raise self._too_far(days, begin, _LAST)
        return due

    def _settled(self, begin: datetime, due: datetime) -> datetime:
        """The earliest instant with as much open time since ``begin`` as ``due``.

        ``due`` itself if a shift runs up to it, else the latest close before
        it: found by looking back from ``due`` a few days, not by walking
        from ``begin`` (``due_at(begin, elapsed(begin, due))`` is the same).
        """
        zone = self.zone
        assert zone is not None  # noqa: S101 - business hours only
        latest = begin
        first = begin.astimezone(zone).date() - _DAY
        day = due.astimezone(zone).date()
        # A shift runs at most a day and an hour past the day it starts on:
        # those of days three before the latest close found close before it.
        while day >= first and day > latest.astimezone(zone).date() - 3 * _DAY:
            for opens, closes, _moved in self._openings_on(day, zone):
                if opens < due <= closes:
                    return due
                if latest < closes <= due:
                    latest = closes
            day -= _DAY
        return latest

    def _day_count(self, days: object, begin: datetime) -> int:
        """``days`` checked: a whole number, no more than the dates left to the end."""
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise InvalidInput("days", days, "a whole number of working days, zero or more")
        if days > (_LATEST.date() - begin.date()).days:
            raise self._too_far(days, begin, _LAST if self.zone is not None else _LATEST)
        return days

    def _opening_after(self, begin: datetime, days: int) -> datetime:
        """``next_open(begin)``, refusing ``days`` if the calendar never opens again."""
        try:
            return self.due_at(begin, _TICK) - _TICK
        except InvalidInput:
            raise self._too_far(days, begin, _LAST) from None

    def _working_days_after(self, day: date, count: int, days: int, begin: datetime) -> list[date]:
        """The ``count`` working days after the local date ``day``, in order."""
        zone = self.zone
        assert zone is not None  # noqa: S101 - business hours only
        found: list[date] = []
        while len(found) < count:
            day += _DAY
            if day > _LAST_DAY:
                raise self._too_far(days, begin, _LAST)
            if self._openings_on(day, zone):
                found.append(day)
        return found

    def _too_far(self, days: object, begin: datetime, last: datetime) -> InvalidInput:
        return self._past_the_end("days", days, "a number of working days that end", begin, last)


def _most_open(weekly: timedelta, span: timedelta) -> timedelta:
    """The most open time a span holds at ``weekly`` a week, as written: the weeks it touches."""
    return weekly * (span // _WEEK + 2)


def _merged(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Sort and join overlapping intervals, so no time is counted twice."""
    merged: list[tuple[datetime, datetime]] = []
    for low, high in sorted(intervals):
        if merged and low <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], high))
        else:
            merged.append((low, high))
    return merged


def country_holidays(
    country: str, years: Iterable[int], *, subdivision: str | None = None
) -> frozenset[date]:
    """The public holidays of ``country`` (an ISO code, such as ``"LV"``) in ``years``.

    Needs the optional ``holidays`` package: ``pip install "ticketflow[holidays]"``.
    Pass the result as ``Calendar.business(..., holidays=...)``.

    Raises:
        InvalidInput: a country or subdivision that is not text or that the
            package does not know, years that are not a collection of whole
            years from 1 to 9999.
        ImportError: the ``holidays`` package is not installed.
    """
    if not isinstance(country, str):
        raise InvalidInput("country", country, "an ISO country code (a str), such as 'LV'")
    if subdivision is not None and not isinstance(subdivision, str):
        raise InvalidInput("subdivision", subdivision, "None or a subdivision code, such as 'CA'")
    if isinstance(years, str | bytes) or not isinstance(years, Iterable):
        raise InvalidInput("years", years, "a collection of years, such as [2026, 2027]")
    wanted = list(years)
    for year in wanted:
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
            raise InvalidInput("years", year, "whole years (int) from 1 to 9999")
    try:
        import holidays  # noqa: PLC0415 - an optional extra, imported when asked for
    except ImportError as missing:
        msg = 'country_holidays needs the holidays package: pip install "ticketflow[holidays]"'
        raise ImportError(msg) from missing
    try:
        found = holidays.country_holidays(country, subdiv=subdivision, years=wanted)
    except NotImplementedError:
        if subdivision is not None and _knows(holidays, country):
            known = holidays.list_supported_countries().get(country, [])
            example = f", such as {known[0]!r}" if known else " (it knows none here: None)"
            raise InvalidInput(
                "subdivision",
                subdivision,
                f"a subdivision of {country!r} the holidays package knows{example}",
            ) from None
        raise InvalidInput(
            "country", country, "an ISO country code the holidays package knows, such as 'LV'"
        ) from None
    return frozenset(found)


def _knows(package: ModuleType, country: str) -> bool:
    """Whether the ``holidays`` package knows ``country``, whatever its subdivisions."""
    try:
        package.country_holidays(country, years=[])
    except NotImplementedError:
        return False
    return True
