-- Which buckets of a door-count rollup do not (yet) hold what is committed: on the plain
-- path none — the rollup tables are kept exact by triggers in the inserting transaction.
-- The TimescaleDB path's version reads TimescaleDB's invalidation logs; the KPI layer
-- calls the same function on both paths.

CREATE FUNCTION footfall_stale_windows(rollup regclass, width interval, lo timestamptz, hi timestamptz)
RETURNS SETOF tstzrange
LANGUAGE sql IMMUTABLE ROWS 1 AS $$
    SELECT NULL::tstzrange WHERE false
$$;
