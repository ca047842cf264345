"""`footfall demo` end to end, as the README's first command runs it: counters → agent →
broker → ingest → database, a POS → API, and KPI numbers read back through the API."""

import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from psycopg import sql

from footfall.db.connect import connect
from footfall.devtools.services import free_port
from tests.integration.conftest import PgServer

ROOT = Path(__file__).resolve().parents[2]


# Generous limits: the demo seeds weeks of history for three stores before its 1.1 minutes of
# live traffic; on a loaded 2-core machine that alone took over four minutes.
@pytest.mark.timeout(780)
def test_demo_runs_a_store_end_to_end_and_reports_real_numbers(pg_server: PgServer, mqtt_settings) -> None:
    dbname = f"footfall_demo_{os.getpid()}_{secrets.token_hex(3)}"
    data_dir = ROOT / ".local" / f"test-demo-{secrets.token_hex(3)}"
    env = dict(os.environ)
    env.update(
        {
            "FOOTFALL_DB__URL": pg_server.db.url_for(dbname),
            "FOOTFALL_MQTT__PREFIX": f"t{secrets.token_hex(5)}",
            "FOOTFALL_INGEST__SHARE_GROUP": f"demo{secrets.token_hex(3)}",
            "FOOTFALL_INGEST__CLIENT_ID": f"demo-ingest-{secrets.token_hex(3)}",
            "FOOTFALL_API__PORT": str(free_port()),
            "FOOTFALL_EDGE__DATA_DIR": str(data_dir),
        }
    )
    try:
        done = subprocess.run(
            [sys.executable, "-m", "footfall.cli", "demo", "--minutes", "1.1"],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=720,
            check=False,
        )
        out = done.stdout + done.stderr
        assert done.returncode == 0, out[-3000:]
        assert "numbers from the API" in out
        line = re.search(r"yesterday: visitors ([\d,]+)", out)
        assert line, out[-3000:]
        assert int(line.group(1).replace(",", "")) > 100
        assert re.search(r"yesterday: .*conversion \d+\.\d%", out.replace("\n", " "))
        assert "dead zones: grocery" in out  # the planted dead zone
        assert re.search(r"slowest movers this week: (CA-FRU|TE-MAT|GR-MUS|CO-BEA)", out)
        with connect(pg_server.db, dbname=dbname) as conn:
            devices = {
                r["device_id"]
                for r in conn.execute(
                    "SELECT DISTINCT device_id FROM door_counts WHERE store_id = 'riga-01' "
                    "AND received_at > now() - interval '10 minutes' AND start_ts > now() - interval '8 days'"
                )
            }
            # the three counters, and the ceiling camera's line on the garden door
            assert devices == {"riga-01-beam", "riga-01-stereo", "riga-01-staff", "riga-01-cam1"}
            for table in ("heatmap_cells", "zone_visits", "tracks"):  # the camera's scene through the pipeline
                n = conn.execute(f"SELECT count(*) AS n FROM {table} WHERE device_id = 'riga-01-cam1'").fetchone()["n"]
                assert n > 0, f"no {table} rows from the demo camera"
            # The chain's other stores: history for weeks back, their edge heartbeats over MQTT.
            stores = {r["store_id"] for r in conn.execute("SELECT DISTINCT store_id FROM door_counts")}
            assert stores == {"riga-01", "lisbon-01", "nyc-01"}
            oldest = conn.execute("SELECT min(start_ts) AS t FROM door_counts").fetchone()["t"]
            assert oldest < datetime.now(UTC) - timedelta(days=28)
            beats = {r["device_id"] for r in conn.execute("SELECT DISTINCT device_id FROM heartbeats")}
            assert {"lisbon-01-edge", "nyc-01-edge"} <= beats
            assert conn.execute("SELECT count(*) AS n FROM dead_letters").fetchone()["n"] == 0
            status = conn.execute("SELECT state FROM device_status WHERE device_id = 'riga-01-edge'").fetchone()
            assert status is not None
            assert status["state"] == "offline"  # the agent said goodbye when the demo ended
            assert conn.execute("SELECT count(*) AS n FROM receipts").fetchone()["n"] > 100
            live = conn.execute(
                "SELECT count(*) AS n FROM door_counts WHERE start_ts > now() - interval '3 minutes'"
            ).fetchone()["n"]
            assert live > 0, "no live minute from the firmware stubs reached the database"
    finally:
        with connect(pg_server.db, dbname="postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)
