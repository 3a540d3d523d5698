"""A throw-away PostgreSQL server, started from the machine's own PostgreSQL binaries.

In code::

    with running_postgres() as url:
        ...  # url == "postgres://tradepilot@127.0.0.1:PORT/tradepilot"

From the shell::

    python -m tradepilot.testing.postgres -- pytest -m "not browser"

starts a server, runs the command with ``DATABASE_URL`` pointing at it (the rest of the environment is
inherited), stops the server and exits with the command's exit code. Without a command it prints the URL
and keeps the server up until Ctrl-C. Run from a virtualenv, the virtualenv's scripts directory comes first
on the command's PATH (as with ``uv run``).

The server lives in a fresh temporary directory (data, log and Unix socket), listens on 127.0.0.1 only,
on a free port, trusts every local connection, runs without fsync, and is stopped and deleted afterwards,
also after errors and Ctrl-C. Its only role, ``tradepilot``, is a superuser, so pytest-django can create
its own test database. PostgreSQL refuses to run as root: as root, initdb and the server run as the
``postgres`` user (``nobody`` when there is none) through runuser or setpriv.

``initdb`` and ``pg_ctl`` are looked for in ``$TRADEPILOT_PG_BINDIR`` when set, then on PATH, then in the
newest ``/usr/lib/postgresql/*/bin``. When there are none, the command-line runner fails, unless
``TRADEPILOT_ALLOW_NO_PG=1``, in which case it skips the command and exits 0.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

SUPERUSER = "tradepilot"
DATABASE = "tradepilot"
PG_LIB_DIR = Path("/usr/lib/postgresql")
NOT_FOUND = "PostgreSQL binaries not found"
SKIP_MESSAGE = f"{NOT_FOUND}; skipping the PostgreSQL pass"
SERVER_OPTIONS = "-F -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
START_TIMEOUT_S = 60
PORT_ATTEMPTS = 5


class PostgresUnavailable(RuntimeError):
    """There are no PostgreSQL server binaries (initdb, pg_ctl) on this machine."""


class PostgresStartError(RuntimeError):
    """initdb or the server failed; the message carries their output or the server's log."""


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path
    initdb: Path
    pg_ctl: Path

    def tool(self, name: str) -> Path | None:
        """Another program of the same installation (psql, createdb, ...), if present."""
        path = self.bindir / name
        return path if _is_executable(path) else None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _version_key(bindir: Path) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in bindir.parent.name.split("."))
    except ValueError:
        return (-1,)


def find_binaries() -> PgBinaries | None:
    """initdb and pg_ctl of one installation, or None when this machine has no PostgreSQL server."""
    candidates: list[Path] = []
    if override := os.environ.get("TRADEPILOT_PG_BINDIR"):
        candidates.append(Path(override))
    if on_path := shutil.which("initdb"):
        # Debian's /usr/local/bin-style symlinks: prefer the real directory, where pg_ctl and psql live too.
        candidates += [Path(os.path.realpath(on_path)).parent, Path(on_path).parent]
    if PG_LIB_DIR.is_dir():
        candidates += sorted(PG_LIB_DIR.glob("*/bin"), key=_version_key, reverse=True)
    for bindir in candidates:
        initdb, pg_ctl = bindir / "initdb", bindir / "pg_ctl"
        if _is_executable(initdb) and _is_executable(pg_ctl):
            return PgBinaries(bindir, initdb, pg_ctl)
    initdb_path, pg_ctl_path = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb_path and pg_ctl_path:
        return PgBinaries(Path(initdb_path).parent, Path(initdb_path), Path(pg_ctl_path))
    return None


# --- running the server's programs as an unprivileged user ------------------------------------------------


@dataclass(frozen=True)
class _Account:
    """Who runs initdb and the server: ourselves, or (as root) an unprivileged system user."""

    prefix: tuple[str, ...] = ()
    uid: int | None = None
    gid: int | None = None
    name: str | None = None

    def command(self, *args: object) -> list[str]:
        return [*self.prefix, *(str(arg) for arg in args)]


def _which_admin(name: str) -> str | None:
    return shutil.which(name) or next(
        (
            str(p)
            for p in (Path("/usr/sbin") / name, Path("/sbin") / name, Path("/usr/bin") / name)
            if _is_executable(p)
        ),
        None,
    )


def _account() -> _Account:
    if os.geteuid() != 0:
        return _Account()
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        if entry.pw_uid != 0:
            break
    else:
        raise PostgresStartError(
            "PostgreSQL refuses to run as root, and there is neither a 'postgres' nor a 'nobody' user to run it as"
        )
    if runuser := _which_admin("runuser"):
        prefix: tuple[str, ...] = (runuser, "-u", name, "--")
    elif setpriv := _which_admin("setpriv"):
        prefix = (setpriv, f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups", "--")
    else:
        prefix = ()  # subprocess switches user itself (see _run)
    return _Account(prefix, entry.pw_uid, entry.pw_gid, name)


def _server_env() -> dict[str, str]:
    # PG* variables (PGDATA, PGPORT, PGOPTIONS, ...) of the caller must not leak into our own server.
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _run(
    account: _Account, *args: object, cwd: Path, timeout: float | None = None
) -> subprocess.CompletedProcess:
    extra: dict = {}
    if account.uid is not None and not account.prefix:
        extra = {"user": account.uid, "group": account.gid, "extra_groups": []}
    return subprocess.run(
        account.command(*args),
        cwd=cwd,
        env=_server_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
        **extra,
    )


def _reachable_by_others(path: Path) -> bool:
    """Whether an unprivileged user can reach entries inside `path` (every directory on the way is o+x)."""
    path = path.resolve()
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _make_tempdir(account: _Account) -> Path:
    base: str | None = None
    if account.uid is not None:
        for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp"):
            if os.path.isdir(candidate) and _reachable_by_others(Path(candidate)):
                base = candidate
                break
    tmp = Path(tempfile.mkdtemp(prefix="tradepilot-pg-", dir=base))
    if account.uid is not None:
        os.chown(tmp, account.uid, account.gid)
    return tmp


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Let cleanup finish even when Ctrl-C is pressed again (children started meanwhile ignore it too)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# --- the server ----------------------------------------------------------------------------------------------


def _initdb(binaries: PgBinaries, account: _Account, tmp: Path, data: Path) -> None:
    failures = []
    for locale in ("C.UTF-8", "C"):
        result = _run(
            account,
            binaries.initdb,
            "-D", data,
            "-A", "trust",
            "-U", SUPERUSER,
            "-E", "UTF8",
            f"--locale={locale}",
            "--no-sync",
            cwd=tmp,
            timeout=300,
        )  # fmt: skip
        if result.returncode == 0:
            return
        failures.append(f"$ initdb --locale={locale}\n{result.stdout}")
        shutil.rmtree(data, ignore_errors=True)
    raise PostgresStartError("initdb failed:\n" + "\n".join(failures))


def _read_log(log: Path) -> str:
    try:
        return log.read_text(errors="replace")
    except OSError:
        return "(no server log)"


def _start(binaries: PgBinaries, account: _Account, tmp: Path, data: Path, log: Path) -> int:
    for _attempt in range(PORT_ATTEMPTS):
        port = _free_port()
        options = f"-p {port} -k {shlex.quote(str(tmp))} -h 127.0.0.1 {SERVER_OPTIONS}"
        result = _run(
            account,
            binaries.pg_ctl,
            "-D", data,
            "-l", log,
            "-w",
            "-t", START_TIMEOUT_S,
            "-o", options,
            "start",
            cwd=tmp,
            timeout=START_TIMEOUT_S + 30,
        )  # fmt: skip
        if result.returncode == 0:
            return port
        server_log = _read_log(log)
        if "could not bind" in server_log or "already in use" in server_log:
            # Someone took the port between our probe and the server's bind: try another one.
            _stop(binaries, account, tmp, data)
            log.unlink(missing_ok=True)
            continue
        raise PostgresStartError(
            f"PostgreSQL failed to start (pg_ctl: {result.stdout.strip()})\n--- server log {log} ---\n{server_log}"
        )
    raise PostgresStartError(f"PostgreSQL found no free port in {PORT_ATTEMPTS} attempts:\n{_read_log(log)}")


def _create_database(binaries: PgBinaries, port: int, name: str) -> None:
    try:
        import psycopg
    except ImportError:
        psql = binaries.tool("psql")
        if psql is None:
            raise PostgresStartError("neither psycopg nor psql is available to create the database") from None
        command = [
            psql,
            "-h",
            "127.0.0.1",
            "-p",
            port,
            "-U",
            SUPERUSER,
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
        ]
        result = subprocess.run(
            [str(arg) for arg in command] + ["-c", f'CREATE DATABASE "{name}"'],
            env=_server_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresStartError(f"could not create database {name}: {result.stderr}") from None
        return
    with psycopg.connect(
        host="127.0.0.1", port=port, user=SUPERUSER, dbname="postgres", autocommit=True, connect_timeout=10
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def _stop(binaries: PgBinaries, account: _Account, tmp: Path, data: Path) -> None:
    if not (data / "postmaster.pid").exists():
        return
    try:
        result = _run(
            account,
            binaries.pg_ctl,
            "-D",
            data,
            "-m",
            "immediate",
            "-w",
            "-t",
            30,
            "stop",
            cwd=tmp,
            timeout=60,
        )
        if result.returncode == 0:
            return
    except (OSError, subprocess.SubprocessError):
        pass
    pid = _postmaster_pid(data)
    if pid is None:
        return
    # pg_ctl could not stop it (or is gone): SIGQUIT is PostgreSQL's immediate shutdown, SIGKILL the last resort.
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        for _ in range(50):
            time.sleep(0.1)
            try:
                os.kill(pid, 0)
            except (ProcessLookupError, PermissionError):
                return


@contextlib.contextmanager
def running_postgres(binaries: PgBinaries | None = None, *, database: str = DATABASE) -> Iterator[str]:
    """Start a throw-away PostgreSQL server with an empty `database`; yield its URL; stop and delete it.

    Raises PostgresUnavailable when there are no server binaries, PostgresStartError when it fails to start
    (after printing the server's log).
    """
    binaries = binaries or find_binaries()
    if binaries is None:
        raise PostgresUnavailable(f"{NOT_FOUND} (initdb and pg_ctl on PATH or in {PG_LIB_DIR}/*/bin)")
    account = _account()
    tmp = _make_tempdir(account)
    data, log = tmp / "data", tmp / "server.log"
    try:
        try:
            _initdb(binaries, account, tmp, data)
            port = _start(binaries, account, tmp, data, log)
            try:
                _create_database(binaries, port, database)
            except Exception as exc:
                raise PostgresStartError(
                    f"could not create database {database!r}: {exc}\n--- server log {log} ---\n{_read_log(log)}"
                ) from exc
        except PostgresStartError as exc:
            print(exc, file=sys.stderr)  # the server's log, for whoever reads the output
            raise
        yield f"postgres://{SUPERUSER}@127.0.0.1:{port}/{database}"
    finally:
        with _sigint_ignored():
            _stop(binaries, account, tmp, data)
            shutil.rmtree(tmp, ignore_errors=True)


# --- command line -------------------------------------------------------------------------------------------

USAGE = """\
usage: python -m tradepilot.testing.postgres [-- COMMAND [ARGS...]]

Start a throw-away PostgreSQL server and run COMMAND with DATABASE_URL pointing at it; exit with
COMMAND's exit code. Without COMMAND, print the URL and keep the server until Ctrl-C.
Set TRADEPILOT_ALLOW_NO_PG=1 to exit 0 (skipping COMMAND) on machines without PostgreSQL.
"""

_child: subprocess.Popen | None = None


def _on_termination(signum: int, _frame: object) -> None:
    if _child is not None and _child.poll() is None:
        _child.send_signal(signum)  # the command winds down; we then stop the server and exit with its code
        return
    raise SystemExit(128 + signum)


def _exit_code(returncode: int) -> int:
    return 128 - returncode if returncode < 0 else returncode


def _run_command(command: Sequence[str], env: dict[str, str]) -> int:
    global _child
    try:
        _child = subprocess.Popen(list(command), env=env)
    except OSError as exc:
        print(f"tradepilot.testing.postgres: cannot run {command[0]!r}: {exc}", file=sys.stderr)
        return 127
    try:
        return _exit_code(_child.wait())
    except KeyboardInterrupt:
        # Ctrl-C reached the command too (same process group): let it finish its own cleanup first.
        with _sigint_ignored():
            try:
                _child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                _child.kill()
                _child.wait()
        return 130
    finally:
        _child = None


def _command_env(url: str) -> dict[str, str]:
    env = dict(os.environ, DATABASE_URL=url)
    if sys.prefix != sys.base_prefix:
        # Run from a virtualenv (.venv/bin/python -m ...): its `python`, `pytest`, ... come first, as with `uv run`.
        scripts = os.path.dirname(sys.executable)
        path = env.get("PATH", os.defpath).split(os.pathsep)
        if path[0] != scripts:
            env["PATH"] = os.pathsep.join([scripts, *path])
    return env


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-h", "--help"):
        print(USAGE, end="")
        return 0
    if args and args[0] == "--":
        args = args[1:]
    binaries = find_binaries()
    if binaries is None:
        if os.environ.get("TRADEPILOT_ALLOW_NO_PG") == "1":
            print(SKIP_MESSAGE, file=sys.stderr)
            return 0
        print(
            f"{NOT_FOUND} (looked for initdb and pg_ctl on PATH and in {PG_LIB_DIR}/*/bin).\n"
            "Install them (Debian: apt-get install postgresql), or set TRADEPILOT_ALLOW_NO_PG=1 to skip"
            " the PostgreSQL pass.",
            file=sys.stderr,
        )
        return 1
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_termination)
        signal.signal(signal.SIGHUP, _on_termination)
    try:
        with running_postgres(binaries) as url:
            if not args:
                print(url, flush=True)
                print("PostgreSQL is running; Ctrl-C stops it.", file=sys.stderr, flush=True)
                while True:
                    time.sleep(3600)
            print(
                f"tradepilot.testing.postgres: PostgreSQL {binaries.bindir} at {url}",
                file=sys.stderr,
                flush=True,
            )
            return _run_command(args, _command_env(url))
    except PostgresStartError as exc:
        print(f"tradepilot.testing.postgres: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
