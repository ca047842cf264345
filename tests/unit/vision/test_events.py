"""Counting lines, zone dwell, heatmaps and polylines on hand-made tracks."""

import numpy as np
import pytest
from pydantic import ValidationError

from footfall.core.messages import HeatmapCell, HeatmapReading
from footfall.edge.vision.events import CountingLine, FloorHeatmap, PolylineRecorder, ZoneDwell, points_in_polygon
from footfall.edge.vision.track import Tracks

from .conftest import T0


def box_at(x: float, y: float, h: float = 40.0) -> list[float]:
    """A box whose foot point (bottom-centre) is (x, y)."""
    return [x - 10, y - h, x + 10, y]


def feed(line: CountingLine, path: list[tuple[float, float]], tid: int = 1) -> tuple[int, int]:
    for x, y in path:
        line.trigger(Tracks.from_arrays([tid], [box_at(x, y)]))
    return line.in_count, line.out_count


VERTICAL = ((320, 0), (320, 480))
HORIZONTAL = ((0, 300), (640, 300))


@pytest.mark.parametrize(
    ("line", "path", "expected"),
    [
        (VERTICAL, [(400, 200), (360, 200), (300, 200), (250, 200)], (1, 0)),  # right→left ends at x<320: in
        (VERTICAL, [(250, 200), (300, 200), (360, 200), (400, 200)], (0, 1)),  # left→right: out
        (HORIZONTAL, [(100, 250), (100, 290), (100, 320), (100, 350)], (1, 0)),  # top→bottom on A→B = +x: in
        (HORIZONTAL, [(100, 350), (100, 310), (100, 280), (100, 250)], (0, 1)),  # bottom→top: out
        (VERTICAL, [(330, 200), (317, 200), (324, 200), (316, 200), (323, 200)], (0, 0)),  # jitter inside dead band
        (VERTICAL, [(400, 200), (300, 200), (315, 200), (300, 200), (250, 200)], (1, 0)),  # wobble back to line: once
        (VERTICAL, [(400, 200), (300, 200), (400, 200), (300, 200)], (2, 1)),  # back and forth: each real crossing
        ((((320, 0), (320, 100))), [(400, 200), (300, 200), (250, 200)], (0, 0)),  # passes below the segment's end
        (VERTICAL, [(400, 200), (400, 210), (400, 220)], (0, 0)),  # never crosses
    ],
)
def test_counting_line_counts_each_real_crossing_once(line, path, expected) -> None:
    counter = CountingLine(*line, door_id="main", dead_band_px=6)
    assert feed(counter, path) == expected


def test_flickering_box_on_the_line_counts_once() -> None:
    counter = CountingLine(*VERTICAL, dead_band_px=6)
    rng = np.random.default_rng(3)
    path = [(400.0, 200.0)] + [(320 + float(rng.uniform(-5, 5)), 200.0) for _ in range(50)] + [(250.0, 200.0)]
    assert feed(counter, path) == (1, 0)


def test_relative_dead_band_grows_with_box_height() -> None:
    counter = CountingLine(*VERTICAL, dead_band_px=2, dead_band_frac=0.1)
    big = 200.0  # a near person: 20 px band
    for x in (360, 310, 335, 310, 290):
        counter.trigger(Tracks.from_arrays([1], [[x - 30, 300 - big, x + 30, 300]]))
    assert (counter.in_count, counter.out_count) == (1, 0)


def test_new_track_counts_from_where_it_was_born() -> None:
    counter = CountingLine(*VERTICAL, dead_band_px=6)
    # confirmed only after crossing: the tracker hands over the box it was born with
    tracks = Tracks(
        ids=np.array([7]),
        xyxy=np.array([box_at(290, 200)]),
        new=np.array([True]),
        origin=np.array([box_at(360, 200)]),
    )
    assert counter.trigger(tracks) == ([7], [])


def test_ended_track_state_is_forgotten_and_ids_do_not_mix() -> None:
    counter = CountingLine(*VERTICAL, dead_band_px=6)
    counter.trigger(Tracks.from_arrays([1, 2], [box_at(400, 100), box_at(250, 300)]))
    counter.trigger(Tracks.from_arrays([1, 2], [box_at(300, 100), box_at(360, 300)]))
    assert (counter.in_count, counter.out_count) == (1, 1)
    counter.trigger(Tracks.empty(ended=[1, 2]))
    assert counter.watched == frozenset()
    assert counter.take() == (1, 1)
    assert counter.take() == (0, 0)


def test_zero_length_line_is_refused() -> None:
    with pytest.raises(ValueError, match="zero length"):
        CountingLine((5, 5), (5, 5), door_id="main")


SQUARE = [(0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)]


@pytest.mark.parametrize(
    ("points", "inside"),
    [
        ([(2, 2)], [True]),  # centre
        ([(5, 2), (-1, 2)], [False, False]),  # either side
        ([(3.99, 0.01), (2, 4.5)], [True, False]),  # near a corner, just below
    ],
)
def test_points_in_polygon(points, inside) -> None:
    assert points_in_polygon(np.array(points, float), SQUARE).tolist() == inside


def walk(zone: ZoneDwell, xs: list[float], *, fps: float = 10.0, tid: int = 1) -> list[tuple[int, float]]:
    ended = []
    for i, x in enumerate(xs):
        ev = zone.trigger([tid], np.array([[x, 2.0]]), i / fps)
        ended += ev.ended
    return ended


def test_zone_dwell_is_exit_minus_entry() -> None:
    zone = ZoneDwell("z", SQUARE, exit_grace_s=0.5)
    xs = [-1.0] * 10 + [2.0] * 73 + [6.0] * 10  # enters at frame 10, leaves at frame 83
    assert walk(zone, xs) == [(1, pytest.approx(7.3))]
    assert zone.occupancy == 0


def test_zone_border_wobble_is_one_visit() -> None:
    zone = ZoneDwell("z", SQUARE, exit_grace_s=0.5)
    xs = [2.0] * 20 + [4.1, 3.9, 4.1, 3.9] + [2.0] * 20 + [8.0] * 10
    visits = walk(zone, xs)
    assert len(visits) == 1
    assert visits[0][1] == pytest.approx(4.4)


def test_zone_visit_of_a_track_that_ends_inside_closes_where_last_seen() -> None:
    zone = ZoneDwell("z", SQUARE)
    walk(zone, [2.0] * 31)
    ev = zone.trigger([], np.zeros((0, 2)), 5.0, ended=[1])
    assert ev.ended == [(1, pytest.approx(3.0))]


def test_zone_min_dwell_drops_short_visits() -> None:
    zone = ZoneDwell("z", SQUARE, exit_grace_s=0.0, min_dwell_s=1.0)
    assert walk(zone, [2.0] * 5 + [9.0] * 3) == []


@pytest.mark.parametrize(
    ("visitors", "k", "cells"),
    [
        (3, 3, 1),  # exactly k tracks: kept
        (2, 3, 0),  # fewer than k: suppressed
        (1, 1, 1),  # k = 1 keeps everything
    ],
)
def test_heatmap_suppresses_cells_with_fewer_than_k_tracks(visitors, k, cells) -> None:
    hm = FloorHeatmap(cell_m=0.5, width_m=10, height_m=10)
    for tid in range(visitors):
        hm.accumulate([tid], np.array([[1.2, 3.3]]), 0.1)
    out = hm.cells(k=k, seconds=60)
    assert len(out) == cells
    if cells:
        assert (out[0].x, out[0].y, out[0].tracks) == (2, 6, visitors)
        assert out[0].presence_s == pytest.approx(0.1 * visitors)


def test_heatmap_ignores_points_off_the_floor() -> None:
    hm = FloorHeatmap(cell_m=1.0, width_m=5, height_m=5)
    hm.accumulate([1, 2, 3], np.array([[-0.5, 1], [5.5, 1], [1, 1]]), 1.0)
    assert hm.dense().sum() == 1.0


def test_heatmap_reading_refuses_a_cell_below_k() -> None:
    with pytest.raises(ValidationError, match="below k=3"):
        HeatmapReading(
            start=T0,
            end=T0.replace(minute=1),
            floor_id="ground",
            cell_m=0.5,
            min_tracks=3,
            cells=[HeatmapCell(x=1, y=1, presence_s=2.0, tracks=2)],
        )


def test_polylines_carry_no_ids_and_stay_inside_the_bucket() -> None:
    rec = PolylineRecorder(step_s=0.5)
    for i in range(30):
        rec.accumulate([11, 12], np.array([[i * 0.1, 1.0], [5.0, i * 0.1]]), 100.0 + i / 10)
    tracks = rec.tracks(100.0, 60.0)
    assert len(tracks) == 2
    for tr in tracks:
        assert "id" not in tr.model_dump()
        assert [p.t for p in tr.points] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    rec.clear()
    assert rec.tracks(160.0, 60.0) == []
