-- Receipt rollups, on both paths. Receipts are not a hypertable (a POS resends by
-- receipt id, so the natural key has no time in it), so their 15-minute and hourly
-- rollups are plain tables kept exact by statement-level triggers on insert, update and
-- delete. Buckets are UTC; any store-local hour or day is a whole number of 15-minute
-- buckets, and of hourly buckets where the zone's offset is whole hours.

CREATE TABLE receipts_15m (
    store_id              text NOT NULL,
    bucket                timestamptz NOT NULL,
    transactions          bigint NOT NULL,   -- sales, not voided
    refunds               bigint NOT NULL,   -- refunds, not voided
    voids                 bigint NOT NULL,
    revenue               numeric NOT NULL,  -- net: sales minus refunds, voids excluded
    items                 numeric NOT NULL,  -- units on sales, not voided
    loyalty_transactions  bigint NOT NULL,
    PRIMARY KEY (store_id, bucket)
);

CREATE TABLE receipts_1h (LIKE receipts_15m INCLUDING ALL);

CREATE INDEX receipts_ts_brin ON receipts USING brin (ts);

CREATE FUNCTION footfall_receipts_rollup() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    target text;
    width interval;
    src text;
    sign int;
BEGIN
    FOREACH target IN ARRAY ARRAY['receipts_15m', 'receipts_1h'] LOOP
        width := CASE target WHEN 'receipts_15m' THEN INTERVAL '15 minutes' ELSE INTERVAL '1 hour' END;
        FOREACH src IN ARRAY ARRAY['old_rows', 'new_rows'] LOOP
            CONTINUE WHEN src = 'old_rows' AND TG_OP = 'INSERT';
            CONTINUE WHEN src = 'new_rows' AND TG_OP = 'DELETE';
            sign := CASE src WHEN 'old_rows' THEN -1 ELSE 1 END;
            EXECUTE format($sql$
                INSERT INTO %1$I AS r (store_id, bucket, transactions, refunds, voids, revenue, items,
                                       loyalty_transactions)
                SELECT store_id, date_bin(%2$L::interval, ts, TIMESTAMPTZ '2000-01-01 00:00+00'),
                       %3$s * count(*) FILTER (WHERE kind = 'sale' AND NOT voided),
                       %3$s * count(*) FILTER (WHERE kind = 'refund' AND NOT voided),
                       %3$s * count(*) FILTER (WHERE voided),
                       %3$s * coalesce(sum(total) FILTER (WHERE NOT voided), 0),
                       %3$s * coalesce(sum(items) FILTER (WHERE kind = 'sale' AND NOT voided), 0),
                       %3$s * count(*) FILTER (WHERE kind = 'sale' AND NOT voided AND loyalty)
                FROM %4$I
                GROUP BY 1, 2
                ORDER BY 1, 2
                ON CONFLICT (store_id, bucket) DO UPDATE SET
                    transactions = r.transactions + excluded.transactions,
                    refunds = r.refunds + excluded.refunds,
                    voids = r.voids + excluded.voids,
                    revenue = r.revenue + excluded.revenue,
                    items = r.items + excluded.items,
                    loyalty_transactions = r.loyalty_transactions + excluded.loyalty_transactions
                $sql$, target, width, sign, src);
        END LOOP;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER receipts_rollup_insert AFTER INSERT ON receipts
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_receipts_rollup();
CREATE TRIGGER receipts_rollup_update AFTER UPDATE ON receipts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_receipts_rollup();
CREATE TRIGGER receipts_rollup_delete AFTER DELETE ON receipts
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION footfall_receipts_rollup();
