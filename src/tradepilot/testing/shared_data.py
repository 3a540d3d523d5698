"""Data shared by the tests of one module: created once inside an outer transaction, rolled back at the end.

Each test still runs in its own transaction (pytest-django's `db`), which nests as a savepoint inside the outer
one, so what a test changes is gone before the next; what the module fixture created stays until the module
ends. Use from a module-scoped fixture:

    with module_transaction(django_db_blocker):
        ...create the data...
        yield
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction


@contextmanager
def module_transaction(django_db_blocker) -> Iterator[None]:
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
