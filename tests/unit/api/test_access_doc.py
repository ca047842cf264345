"""docs/api.md's access table is generated from the code and must not go stale."""

from pathlib import Path

from footfall.api.access import Permission
from footfall.api.accessdoc import END, START, access_markdown, api_routes, route_permission
from footfall.api.routes import plans

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_the_access_table_in_docs_is_the_one_the_code_generates() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = text.split(START, 1)[1].split(END, 1)[0].strip()
    assert block == access_markdown(api_routes()), "run: .venv/bin/python -m footfall.api.accessdoc docs/api.md"


def test_route_permissions_are_read_from_the_dependencies() -> None:
    by_path = {(next(iter(r.methods)), r.path): route_permission(r) for r in plans.router.routes}
    # reading plans is reading KPIs (so a merchandiser may), changing them is managing plans
    assert by_path[("GET", "/v1/stores/{store_id}/plans")] is Permission.READ_KPIS
    assert by_path[("PUT", "/v1/stores/{store_id}/plans/{month}")] is Permission.MANAGE_PLANS
