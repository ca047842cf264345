-- Named queries of the API's read-replica routing (footfall.api.replica).

-- name: replica_lag
-- Run on the replica before a read. `standby` is false when the URL points at a primary (a
-- promoted replica, or a mistake): nothing lags then. Lag is zero while everything received
-- has been replayed; otherwise it is the age of the last transaction replayed, which grows
-- while replay is paused or slow (and over-states lag right after a long idle spell: a read
-- then goes to the primary, never to stale data). NULL when nothing has been replayed yet.
SELECT pg_is_in_recovery() AS standby,
       CASE
           WHEN NOT pg_is_in_recovery() THEN 0.0
           WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0.0
           ELSE extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
       END AS lag_s;
