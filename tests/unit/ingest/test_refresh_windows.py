"""Late-data windows for the continuous-aggregate refresh: bucket-aligned and coalesced."""

from datetime import UTC, datetime, timedelta

import pytest

from footfall.ingest.refresh import align, coalesce

T = datetime(2026, 3, 2, 10, tzinfo=UTC)
M = timedelta(minutes=1)
H = timedelta(hours=1)


@pytest.mark.parametrize(
    ("start", "end", "width", "want"),
    [
        (T + 7 * M, T + 8 * M, 15 * M, (T, T + 15 * M)),  # inside one bucket
        (T, T + 15 * M, 15 * M, (T, T + 15 * M)),  # exactly one bucket
        (T + 14 * M, T + 16 * M, 15 * M, (T, T + 30 * M)),  # across a boundary
        (T + 59 * M, T + 61 * M, H, (T, T + 2 * H)),  # hourly, across the hour
    ],
)
def test_align_covers_the_interval_with_whole_buckets(start, end, width, want) -> None:
    assert align(start, end, width) == want


@pytest.mark.parametrize(
    ("windows", "most", "want"),
    [
        ([(T, T + H), (T + H, T + 2 * H)], 10, [(T, T + 2 * H)]),  # adjacent: merged
        ([(T + 5 * H, T + 6 * H), (T, T + H)], 10, [(T, T + H), (T + 5 * H, T + 6 * H)]),  # far apart: sorted, kept
        ([(T, T + H), (T + 2 * H, T + 3 * H)], 10, [(T, T + 3 * H)]),  # within the gap: merged
        ([(T + 3 * i * H, T + (3 * i + 1) * H) for i in range(5)], 3, [(T, T + 13 * H)]),  # too many: one span
    ],
)
def test_coalesce_merges_near_windows_and_caps_their_number(windows, most, want) -> None:
    assert coalesce(windows, gap=H, most=most) == want
