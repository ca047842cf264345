"""A synthetic scene with known paths, through the real pipeline and the ingest writer, read back
by the merchandising queries: heatmap mass, zone reach and dwell against the scene's ground truth."""

import statistics
from datetime import UTC, datetime

import numpy as np
import psycopg
import pytest

from footfall.api.kpis.store import store_info
from footfall.api.merch import queries as q
from footfall.api.merch.heatmap import HeatMetric
from footfall.db.stores import apply_store
from footfall.edge.vision.pipeline import CameraSpec
from footfall.firmware_stubs.scenes import door_scene
from tests.helpers import every_cell
from tests.integration.api.merch_support import run_camera, write_readings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene_store(aconn: psycopg.Connection):
    scene = door_scene(seed=1, duration_s=70)
    cfg = scene.store_config(store_id="synth")
    apply_store(aconn, cfg)
    opts = every_cell(tracks=True)
    sink = run_camera(scene, CameraSpec.from_store(cfg, "cam1"), opts, t0=T0)
    write_readings(aconn, "synth", sink)
    return scene, store_info(aconn, "synth")


def test_zone_reach_and_dwell_match_the_scene(aconn: psycopg.Connection, scene_store) -> None:
    scene, store = scene_store
    truth = scene.truth()
    report = q.zone_report(aconn, store=store, first=T0.date(), last=T0.date())
    assert report.visitors == truth.entries  # the camera's counting line feeds the door counts
    for z in report.data:
        visits = [v for v in truth.visits if v.zone_id == z.zone_id]
        assert z.visits == len(visits)
        assert z.reach == pytest.approx(len(visits) / truth.entries, abs=1e-3)
        # stated tolerance: median and p90 dwell within 1 s of the truth
        assert z.dwell_median_s == pytest.approx(statistics.median(v.dwell_s for v in visits), abs=1.0)
        assert z.dwell_p90_s == pytest.approx(float(np.quantile([v.dwell_s for v in visits], 0.9)), abs=1.0)


def test_heatmap_mass_lies_in_the_right_cells(aconn: psycopg.Connection, scene_store) -> None:
    scene, store = scene_store
    truth = scene.truth(cell_m=0.5).presence
    h = q.heatmap(aconn, store=store, first="2026-03-02T09:00", last="2026-03-02T09:00", metric=HeatMetric.PRESENCE)
    got = h.grid.presence
    assert got.shape == truth.shape
    assert h.k == q.MIN_K
    assert h.suppressed > 0  # cells fewer than 3 people passed through stay empty
    near = np.zeros_like(truth, bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            near |= np.roll(np.roll(truth > 0, dy, axis=0), dx, axis=1)
    assert got[near].sum() / got.sum() > 0.95
    # suppression only takes mass away: what is left is at most the truth, and the busy walkways stay
    assert 0.2 * truth.sum() < got.sum() <= 1.05 * truth.sum()
    body = h.public()
    assert body.count == int((got > 0).sum())
    assert all(c.visits >= 3 for c in body.data)
    png = q.heatmap_png(aconn, h)
    assert png.startswith(b"\x89PNG")


def test_paths_follow_the_scripted_routes(aconn: psycopg.Connection, scene_store) -> None:
    _, store = scene_store
    p = q.paths(aconn, store=store, first=T0.date(), last=T0.date(), k=1)
    # walkers go to one zone and back out: every route starts and ends in the zone they visited
    assert p.polylines > 0
    assert {(r.source, r.target) for r in p.routes} <= {("bakery", "bakery"), ("coffee", "coffee")}
    assert p.k == q.MIN_K  # a caller cannot go below the floor
