from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Wall-clock deadlines make property tests flaky on a loaded CI machine without
# testing any behaviour; example counts are what matter.
settings.register_profile("default", deadline=None)
settings.register_profile(
    "ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("fuzz", deadline=None, max_examples=20_000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


# -- a throwaway PostgreSQL server for the PostgresStore tests ------------------------------

import glob  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402


def _postgres_bindir() -> str | None:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]))
    for bindir in reversed(candidates):
        if os.path.exists(os.path.join(bindir, "initdb")):
            return bindir
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@pytest.fixture(scope="session")
def postgres_dsn() -> Iterator[str]:
    """A DSN for a PostgreSQL cluster started for this test session (Unix socket only)."""
    pytest.importorskip("psycopg", reason="PostgresStore tests need the postgres extra")
    bindir = _postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (.ci/run installs Debian's postgresql)")
    root = tempfile.mkdtemp(prefix="dlrkit-pg-")
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
            f"-k {socket_dir} -c listen_addresses='' -c fsync=off -p 5432",
            "start",
        )
    except (subprocess.CalledProcessError, OSError) as error:
        shutil.rmtree(root, ignore_errors=True)
        detail = getattr(error, "stderr", b"") or b""
        pytest.skip(f"could not start PostgreSQL: {error} {detail.decode(errors='replace')}")
    try:
        yield f"host={socket_dir} port=5432 user=postgres dbname=postgres"
    finally:
        subprocess.run(
            [*run_as, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        shutil.rmtree(root, ignore_errors=True)
