"""Start a throwaway PostgreSQL cluster (Unix socket only) for tests and benchmarks."""

from __future__ import annotations

import glob
import os
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager


class PostgresUnavailableError(RuntimeError):
    """No PostgreSQL server could be started here; the message says why."""


def server_bindir() -> str | None:
    """The newest PostgreSQL server's bin directory, or None."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for bindir in reversed(candidates):
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Yield a DSN for a new cluster in a temp dir; stop and delete it afterwards."""
    bindir = server_bindir()
    if bindir is None:
        raise PostgresUnavailableError(
            "no PostgreSQL server binaries (.ci/run installs Debian's postgresql)"
        )
    root = tempfile.mkdtemp(prefix="dlrkit-pg-")
    # Only a Unix socket is opened, but the port names it and the server's
    # shared memory: a random one lets several clusters (CI, a developer) coexist.
    port = random.randint(20_000, 60_000)
    data, socket_dir = os.path.join(root, "data"), os.path.join(root, "socket")
    os.makedirs(socket_dir)
    run_as: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        os.chmod(root, 0o755)
        shutil.chown(root, "postgres")
        shutil.chown(socket_dir, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]

    def pg(*args: str) -> None:
        subprocess.run([*run_as, *args], check=True, capture_output=True, timeout=120)

    try:
        pg(f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync")
        pg(
            f"{bindir}/pg_ctl",
            "-D",
            data,
            "-w",
            "-t",
            "60",
            "-l",
            os.path.join(root, "log"),
            "-o",
            f"-k {socket_dir} -c listen_addresses='' -p {port}",
            "start",
        )
    except (subprocess.CalledProcessError, OSError) as error:
        shutil.rmtree(root, ignore_errors=True)
        detail = (getattr(error, "stderr", b"") or b"").decode(errors="replace")
        raise PostgresUnavailableError(f"could not start PostgreSQL: {error} {detail}") from error
    try:
        yield f"host={socket_dir} port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)


def reset_dlrkit_tables(dsn: str) -> None:
    """Empty every dlrkit_* table of the database, whichever tables exist."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        names = [
            str(name)
            for (name,) in conn.execute(
                "SELECT tablename FROM pg_tables"
                " WHERE schemaname = current_schema() AND tablename LIKE 'dlrkit\\_%'"
            )
        ]
        if names:
            conn.execute("TRUNCATE " + ", ".join(names))


def with_options(dsn: str, **settings: object) -> str:
    """*dsn* with settings for its session (``lock_timeout=500``: ``-c lock_timeout=500``)."""
    options = " ".join(f"-c {name}={value}" for name, value in settings.items())
    return f"{dsn} options='{options}'"
