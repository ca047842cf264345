"""Named SQL blocks kept in `.sql` files, loaded once.

A file holds blocks that each start with a line `-- name: <query_name>`; everything up
to the next such line is the query. Python code asks for `queries("plans")["list_plans"]`
instead of carrying SQL strings around.
"""

import re
from functools import cache
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse_blocks(text: str) -> dict[str, str]:
    """Split a file into its named blocks.

    Raises:
        ValueError: a name appears twice or a block is empty.
    """
    out: dict[str, str] = {}
    marks = list(_NAME.finditer(text))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = text[m.end() : end].strip()
        name = m.group(1)
        if name in out:
            raise ValueError(f"query {name!r} is defined twice")
        if not body:
            raise ValueError(f"query {name!r} is empty")
        out[name] = body
    return out


@cache
def queries(module: str) -> dict[str, str]:
    """The named blocks of `footfall/db/sql/<module>.sql`."""
    text = resources.files("footfall.db").joinpath("sql", f"{module}.sql").read_text(encoding="utf-8")
    return parse_blocks(text)
