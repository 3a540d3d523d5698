"""Row ids read from request parameters (query strings and form posts), without trusting them.

An id beyond the databases' integer range makes SQLite raise OverflowError and PostgreSQL "out of range" at the
query: such an id, like any text that is not a positive integer, is "no id" here (the page then shows its
unfiltered list or answers 404), never a 500. The API declares the same bound on its parameters
(`core.api_base.RowId`)."""

from __future__ import annotations

MAX_ROW_ID = 2**63 - 1


def row_id(text) -> int | None:
    """The positive integer id `text` spells, or None."""
    if isinstance(text, str):
        text = text.strip()
        if not text.isdigit():  # also refuses signs, spaces and non-ASCII digits
            return None
    try:
        value = int(text)
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= MAX_ROW_ID else None
