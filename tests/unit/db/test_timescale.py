"""TimescaleDB upkeep helpers that need no server."""

from datetime import UTC, datetime, timedelta

import pytest

from footfall.db.timescale import align, explain_job_failure

PORTAL = 'cannot drop portal "" while it is being set up'


@pytest.mark.parametrize(
    ("ts", "pg", "error", "known"),
    [
        ("2.28.3", "15.20 (Debian 15.20-0+deb12u1)", PORTAL, True),  # the pairing measured here
        ("2.28.1", "15.13", f"ERROR: {PORTAL}", True),  # same release line, message with a prefix
        ("2.28.3", "17.6", PORTAL, False),  # a newer PostgreSQL: not this known issue
        ("2.29.0", "15.20", PORTAL, False),  # another release line
        ("2.28.3", "15.20", "permission denied for table door_counts", False),  # a real failure
        ("2.28.3", "15.20", None, False),  # no message recorded
    ],
)
def test_only_the_known_pairing_and_message_is_explained(ts: str, pg: str, error: str | None, known: bool) -> None:
    why = explain_job_failure(ts, pg, error)
    assert (why is not None) is known
    if why:
        assert f"TimescaleDB {ts} with PostgreSQL {pg.split(maxsplit=1)[0]}" in why
        assert "CALL run_job" in why


@pytest.mark.parametrize(
    ("start", "end", "width", "window"),
    [
        ((10, 7), (10, 8), timedelta(hours=1), ((10, 0), (11, 0))),  # inside one hour
        ((10, 0), (11, 0), timedelta(hours=1), ((10, 0), (11, 0))),  # already aligned
        ((10, 14), (10, 16), timedelta(minutes=15), ((10, 0), (10, 30))),  # straddles a quarter
    ],
)
def test_align_covers_the_window_with_whole_buckets(start, end, width, window) -> None:
    t = lambda hm: datetime(2026, 6, 9, *hm, tzinfo=UTC)  # noqa: E731
    assert align(t(start), t(end), width) == (t(window[0]), t(window[1]))
