-- Receipts in: staged by COPY into temporary tables, then merged in one statement each,
-- so the statement-level rollup triggers fire once per batch (not once per receipt).

-- name: existing_stores
SELECT store_id FROM stores WHERE store_id = ANY(%(store_ids)s);

-- name: stage
CREATE TEMPORARY TABLE IF NOT EXISTS receipts_in (
    store_id text, receipt_id text, ts timestamptz, register_id text, kind text, voided boolean,
    total numeric(14, 2), items numeric(12, 3), loyalty boolean, currency char(3), source text
) ON COMMIT DELETE ROWS;
CREATE TEMPORARY TABLE IF NOT EXISTS receipt_lines_in (
    store_id text, receipt_id text, line_no integer, sku text, description text, category text,
    quantity numeric(12, 3), unit_price numeric(14, 4), amount numeric(14, 2), is_return boolean
) ON COMMIT DELETE ROWS;

-- name: merge
-- Insert new receipts, update those whose facts changed, leave identical ones alone.
INSERT INTO receipts AS r (store_id, receipt_id, ts, register_id, kind, voided, total, items, loyalty,
                           currency, source)
SELECT i.store_id, i.receipt_id, i.ts, i.register_id, i.kind, i.voided, i.total, i.items, i.loyalty,
       coalesce(i.currency, s.currency), i.source
FROM receipts_in AS i
JOIN stores AS s USING (store_id)
ORDER BY i.store_id, i.receipt_id
ON CONFLICT (store_id, receipt_id) DO UPDATE SET
    ts = excluded.ts, register_id = excluded.register_id, kind = excluded.kind, voided = excluded.voided,
    total = excluded.total, items = excluded.items, loyalty = excluded.loyalty, currency = excluded.currency,
    source = excluded.source, received_at = now()
WHERE (r.ts, r.register_id, r.kind, r.voided, r.total, r.items, r.loyalty, r.currency)
      IS DISTINCT FROM
      (excluded.ts, excluded.register_id, excluded.kind, excluded.voided, excluded.total, excluded.items,
       excluded.loyalty, excluded.currency)
RETURNING r.store_id, r.receipt_id, (xmax = 0) AS inserted;

-- name: clear_stage
-- ON COMMIT DELETE ROWS empties the staging tables at commit; this empties them for callers
-- whose connection is not in autocommit mode and keeps the transaction open.
TRUNCATE receipts_in, receipt_lines_in;

-- name: delete_lines
DELETE FROM receipt_lines AS l
USING unnest(%(store_ids)s::text[], %(receipt_ids)s::text[]) AS c(store_id, receipt_id)
WHERE l.store_id = c.store_id AND l.receipt_id = c.receipt_id;

-- name: insert_lines
WITH changed AS (
    SELECT * FROM unnest(%(store_ids)s::text[], %(receipt_ids)s::text[]) AS c(store_id, receipt_id)
)
INSERT INTO receipt_lines (store_id, receipt_id, line_no, sku, description, category, quantity, unit_price,
                           amount, is_return)
SELECT i.store_id, i.receipt_id, i.line_no, i.sku, i.description, i.category, i.quantity, i.unit_price,
       i.amount, i.is_return
FROM receipt_lines_in AS i
JOIN changed AS c USING (store_id, receipt_id);

-- name: list_receipts
SELECT r.store_id, r.receipt_id, r.ts, r.register_id, r.kind, r.voided, r.total, r.items, r.loyalty,
       rtrim(r.currency) AS currency, r.source, r.received_at,
       coalesce((SELECT jsonb_agg(jsonb_build_object(
                        'line_no', l.line_no, 'sku', l.sku, 'description', l.description, 'category', l.category,
                        -- numbers as text: jsonb would drop their scale (1.000 → 1.0)
                        'quantity', l.quantity::text, 'unit_price', l.unit_price::text, 'amount', l.amount::text,
                        'is_return', l.is_return) ORDER BY l.line_no)
                 FROM receipt_lines AS l
                 WHERE l.store_id = r.store_id AND l.receipt_id = r.receipt_id), '[]'::jsonb) AS lines
FROM receipts AS r
WHERE r.store_id = %(store_id)s AND r.ts >= %(lo)s AND r.ts < %(hi)s
ORDER BY r.ts, r.receipt_id
LIMIT %(limit)s OFFSET %(offset)s;

-- name: count_receipts
SELECT count(*) AS n FROM receipts WHERE store_id = %(store_id)s AND ts >= %(lo)s AND ts < %(hi)s;
