"""The throw-away PostgreSQL server of `tradepilot.testing.postgres` starts, serves SQL and goes away."""

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tradepilot.testing.postgres import find_binaries, running_postgres


@pytest.fixture
def pg_binaries():
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH or in /usr/lib/postgresql/*/bin"
        )
    return binaries


def test_running_postgres_serves_a_fresh_database_and_cleans_up(pg_binaries):
    with running_postgres(pg_binaries) as url:
        assert url.startswith("postgres://tradepilot@127.0.0.1:") and url.endswith("/tradepilot")
        with psycopg.connect(url) as conn:
            (version,) = conn.execute("select version()").fetchone()
            assert version.startswith("PostgreSQL ")
            database, superuser = conn.execute(
                "select current_database(), rolsuper from pg_roles where rolname = current_user"
            ).fetchone()
            # pytest-django creates its own test database from this URL: the role must be allowed to.
            assert (database, superuser) == ("tradepilot", True)
            (encoding,) = conn.execute(
                "select pg_encoding_to_char(encoding) from pg_database where datname = current_database()"
            ).fetchone()
            assert encoding == "UTF8"
            (data_dir,) = conn.execute("show data_directory").fetchone()
    assert not Path(data_dir).exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=2)


def test_command_line_runs_the_command_against_the_server_and_passes_on_its_exit_code(pg_binaries):
    script = (
        "import os, sys, psycopg\n"
        "with psycopg.connect(os.environ['DATABASE_URL']) as conn:\n"
        "    assert conn.execute('select 1').fetchone() == (1,)\n"
        "sys.exit(7)\n"
    )
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "tradepilot.testing.postgres", "--", sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 7, result.stderr
