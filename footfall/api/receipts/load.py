"""Receipt files into the database: `csvfile` parses, `save` saves, this joins the two."""

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from footfall.api.errors import ImportFailed, NotFound
from footfall.api.kpis import stores_info
from footfall.api.receipts.csvfile import CsvMapping, ImportReport, parse_csv
from footfall.api.receipts.save import save_receipts
from footfall.db.connect import DictConnection


def import_csv(
    conn: DictConnection,
    source: Path | BinaryIO,
    mapping: CsvMapping,
    *,
    batch_size: int = 2000,
    on_progress: Callable[[int, int | None], None] | None = None,
    source_name: str = "csv",
) -> ImportReport:
    """Import a CSV file of receipts; bad rows are reported and skipped, the rest saved.

    Args:
        conn: a connection (batches commit one by one: an interrupted import keeps what it saved,
            and running it again is safe).
        source: the file, or an open binary stream.
        mapping: the column mapping.
        batch_size: receipts per transaction.
        on_progress: called with (bytes read, file size or None) as the file is read.
        source_name: stored in `receipts.source`.

    Raises:
        ImportFailed: the file cannot be read, its header lacks a mapped column, or a store is unknown.
    """
    store_tz: str | None = None
    if mapping.store_id:
        found = stores_info(conn, [mapping.store_id])
        if not found:
            raise ImportFailed(f"store {mapping.store_id!r} does not exist; create it first (footfall stores apply)")
        store_tz = found[0].timezone
    report = ImportReport()
    batches = parse_csv(
        source, mapping, timezone=store_tz, report=report, batch_size=batch_size, on_progress=on_progress
    )
    try:
        for batch in batches:
            report.saved += save_receipts(conn, batch, source=source_name)
    except NotFound as exc:
        raise ImportFailed(str(exc)) from None
    return report
