"""Content negotiation for table-shaped answers: JSON by default, CSV on `Accept: text/csv` or `?format=csv`.

A table-shaped endpoint returns a response model whose `data` is a list of flat rows;
`table_response` turns the same rows into CSV when the client asks for it, so the two
forms never disagree.
"""

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, TypeVar, cast

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel

TableModel = TypeVar("TableModel", bound=BaseModel)

CSV = "text/csv"


def wants_csv(request: Request) -> bool:
    """Whether the client prefers CSV (explicitly listed before or instead of JSON), or asked
    for it with `?format=csv` (what a plain link, such as the dashboard's CSV links, can send)."""
    if request.query_params.get("format") == "csv":
        return True
    accept = request.headers.get("accept", "")
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        ranked.append((-q, i, media))
    for _, _, media in sorted(ranked):
        if media == CSV:
            return True
        if media in ("application/json", "application/*", "*/*"):
            return False
    return False


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        if any(isinstance(v, dict) for v in value):  # nested rows (receipt lines): JSON, lossless
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return ";".join(str(v) for v in value)
    return value


def flatten(row: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts become `outer.inner` columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def to_csv(rows: Iterable[dict[str, Any]], columns: list[str] | None = None) -> str:
    """Rows as CSV text with a header line."""
    flat = [flatten(r) for r in rows]
    if columns is None:
        columns = []
        for r in flat:
            for k in r:
                if k not in columns:
                    columns.append(k)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(columns)
    for r in flat:
        w.writerow([_cell(r.get(c)) for c in columns])
    return buf.getvalue()


def table_response(
    request: Request, model: TableModel, *, filename: str, rows: Iterable[Any] | None = None
) -> TableModel:
    """The model itself (JSON), or its rows as CSV when the client asked for CSV.

    Typed as the model on purpose: a route declares its JSON model as its return type (that is
    its OpenAPI schema), and FastAPI sends a `Response` it is handed unchanged, so the CSV answer
    travels through the same return.

    Args:
        request: the request (its `Accept` header decides).
        model: the JSON answer.
        filename: the CSV attachment's name, without `.csv`.
        rows: the CSV rows, when they are not `model.data` (a one-row answer passes `[model]`;
            a model with a `csv_rows()` method gives its own).
    """
    if not wants_csv(request):
        return model
    if rows is None:
        csv_rows = getattr(model, "csv_rows", None)
        rows = csv_rows() if callable(csv_rows) else getattr(model, "data")  # noqa: B009 - table models have `data`
    flat = [r.model_dump(mode="json") if isinstance(r, BaseModel) else r for r in rows]
    csv = Response(
        to_csv(flat),
        media_type=f"{CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'},
    )
    return cast(TableModel, csv)


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}, "description": "The rows; CSV on `Accept: text/csv`."}
}
