"""Store receipts idempotently by (store, receipt id), in batches through COPY."""

import logging
from dataclasses import dataclass, field

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


@dataclass(frozen=True, slots=True)
class BatchConflict:
    """One receipt id sent more than once in a batch with different content: none of its copies was saved."""

    store_id: str
    receipt_id: str
    positions: tuple[int, ...]
    """1-based positions of the copies in the batch."""

    @property
    def message(self) -> str:
        """What happened and the fix."""
        at = ", ".join(str(p) for p in self.positions)
        return (
            f"receipt {self.receipt_id!r} of store {self.store_id!r} appears {len(self.positions)} times "
            f"(positions {at}) with different content; none was saved: send one copy (a later batch "
            "replaces a stored receipt)"
        )


@dataclass
class SaveResult:
    """What a batch did: receipts created, updated (facts changed) and unchanged (a resend);
    copies of one receipt in the batch that were identical (`duplicates`, saved once) and
    those that differed (`conflicts`, not saved)."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    conflicts: list[BatchConflict] = field(default_factory=list)

    def __iadd__(self, other: "SaveResult") -> "SaveResult":
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.duplicates += other.duplicates
        self.conflicts.extend(other.conflicts)
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

    Resend policy: a receipt sent again in a later batch with the same facts changes
    nothing (`unchanged`, not even its rollups); sent with other facts it replaces the
    stored one and its lines (`updated`: a later void, a corrected total). Within one
    batch, identical copies are saved once (`duplicates`), and copies that differ are a
    conflict: none of them is saved and each is reported (`conflicts`), since the batch
    does not say which is right.

    Raises:
        NotFound: a receipt names a store that does not exist.
    """
    if not receipts:
        return SaveResult()
    copies: dict[tuple[str, str], list[tuple[int, Receipt]]] = {}
    for i, r in enumerate(receipts, start=1):
        copies.setdefault((r.store_id, r.receipt_id), []).append((i, r))
    unique: dict[tuple[str, str], Receipt] = {}
    conflicts: list[BatchConflict] = []
    duplicates = 0
    for key, found in copies.items():
        if all(r == found[0][1] for _, r in found[1:]):
            unique[key] = found[0][1]
            duplicates += len(found) - 1
        else:
            conflicts.append(BatchConflict(key[0], key[1], tuple(i for i, _ in found)))
    for c in conflicts:
        logger.warning("receipts: %s", c.message, extra={"store_id": c.store_id})
    if not unique:
        return SaveResult(duplicates=duplicates, conflicts=conflicts)
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
    result = SaveResult(
        created=created,
        updated=len(changed) - created,
        unchanged=len(unique) - len(changed),
        duplicates=duplicates,
        conflicts=conflicts,
    )
    logger.debug("receipts: %s created, %s updated, %s unchanged", result.created, result.updated, result.unchanged)
    return result
