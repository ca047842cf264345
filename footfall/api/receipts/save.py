"""Store receipts idempotently by (store, receipt id), in batches through COPY."""

import logging
from dataclasses import dataclass

from footfall.api.errors import NotFound
from footfall.api.receipts.model import Receipt
from footfall.db.connect import DictConnection
from footfall.db.queries import queries

logger = logging.getLogger(__name__)

_RECEIPT_COLS = (
    "store_id",
    "receipt_id",
    "ts",
    "register_id",
    "kind",
    "voided",
    "total",
    "items",
    "loyalty",
    "currency",
    "source",
)
_LINE_COLS = (
    "store_id",
    "receipt_id",
    "line_no",
    "sku",
    "description",
    "category",
    "quantity",
    "unit_price",
    "amount",
    "is_return",
)


@dataclass
class SaveResult:
    """What a batch did: receipts created, updated (facts changed) and unchanged (a resend)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: "SaveResult") -> "SaveResult":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self

    @property
    def total(self) -> int:
        """Receipts seen."""
        return self.created + self.updated + self.unchanged


def missing_stores(conn: DictConnection, store_ids: set[str]) -> list[str]:
    """The store ids that do not exist."""
    rows = conn.execute(queries("receipts")["existing_stores"], {"store_ids": sorted(store_ids)}).fetchall()
    return sorted(store_ids - {r["store_id"] for r in rows})


def save_receipts(conn: DictConnection, receipts: list[Receipt], *, source: str = "api") -> SaveResult:
    """Create or update receipts in one transaction.

    A receipt sent again with the same facts changes nothing (not even its rollups); one
    sent with other facts replaces the stored one and its lines. Within one batch the last
    copy of a receipt id wins.

    Raises:
        NotFound: a receipt names a store that does not exist.
    """
    if not receipts:
        return SaveResult()
    unique = {(r.store_id, r.receipt_id): r for r in receipts}
    missing = missing_stores(conn, {r.store_id for r in unique.values()})
    if missing:
        raise NotFound(f"store(s) not found: {', '.join(missing)}")
    q = queries("receipts")
    with conn.transaction():
        conn.execute(q["stage"])
        with conn.cursor() as cur:
            with cur.copy(f"COPY receipts_in ({', '.join(_RECEIPT_COLS)}) FROM STDIN") as copy:
                for r in unique.values():
                    copy.write_row(
                        (
                            r.store_id,
                            r.receipt_id,
                            r.ts,
                            r.register_id,
                            r.kind,
                            r.voided,
                            r.stored_total,
                            r.net_items,
                            r.loyalty,
                            r.currency,
                            source,
                        )
                    )
            with cur.copy(f"COPY receipt_lines_in ({', '.join(_LINE_COLS)}) FROM STDIN") as copy:
                for r in unique.values():
                    for n, ln in enumerate(r.lines, start=1):
                        copy.write_row(
                            (
                                r.store_id,
                                r.receipt_id,
                                n,
                                ln.sku,
                                ln.description,
                                ln.category,
                                ln.quantity,
                                ln.unit_price,
                                ln.signed_amount,
                                ln.is_return,
                            )
                        )
        changed = conn.execute(q["merge"]).fetchall()
        if changed:
            keys = {"store_ids": [c["store_id"] for c in changed], "receipt_ids": [c["receipt_id"] for c in changed]}
            conn.execute(q["delete_lines"], keys)
            conn.execute(q["insert_lines"], keys)
        conn.execute(q["clear_stage"])
    created = sum(1 for c in changed if c["inserted"])
    result = SaveResult(created=created, updated=len(changed) - created, unchanged=len(unique) - len(changed))
    logger.debug("receipts: %s created, %s updated, %s unchanged", result.created, result.updated, result.unchanged)
    return result
