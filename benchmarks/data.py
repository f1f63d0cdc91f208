"""Databases of 10 k, 100 k and 1 M reports for the benchmarks, built in seconds.

The schema is the real one: the file is created by ``open_database``, which runs the
Alembic migrations. The rows are then written by SQLite itself (``INSERT … SELECT``
from a recursive counter), because a Python loop over six million rows would take
minutes. While the data goes in, and only then, the file runs without a journal and
without fsync, and the secondary indexes are dropped and rebuilt at the end (a sort
is far cheaper than millions of random index inserts); the file is handed back in
WAL mode with every index the migrations made, and no ``ANALYZE``: a center's real
database may have no statistics either, so the benchmarks measure it as it would be.

What the rows look like (one report per ``i``, in time order over ten years):

- statuses in the 2019 shares of Manado: 51 % selesai, 34 % ditangani, 15 % menunggu,
  so about half of all reports are still open; 74 % emergencies;
- every report has the call it came from; 8 % have a second call; besides the reports
  there are 0.9 calls per report that became none (prank, silent, information, wrong
  number), a few pranksters calling again and again;
- a report being handled was forwarded to its category's primary agency (and 60 %
  acknowledged); a closed one was forwarded, acknowledged and closed, or (10 %)
  settled on the phone;
- the invariants the services keep: one event per change with ``version`` the number
  of events, ``queue_rank`` from ``core.models.queue_rank``, event times equal to the
  lifecycle columns (so ``events.replay`` agrees with the row), numbers unique per
  year with ``report_number_sequence`` at the last one, codes from the catalogue.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from benchmarks.span import SPAN_END, SPAN_START
from siaga_tui.core.catalogue import load_catalogue
from siaga_tui.core.db import SCHEMA_HEAD, forget_database, open_database
from siaga_tui.core.models import Status, queue_rank
from siaga_tui.services.reports import NewReport

#: Bump when the shape of the generated data changes, so cached files are rebuilt.
GENERATOR_VERSION: Final = 1
#: Where generated databases are kept between runs (``SIAGA112_BENCH_CACHE`` moves it).
CACHE_DIR: Final = Path(
    os.environ.get("SIAGA112_BENCH_CACHE") or Path(__file__).resolve().parent / ".cache"
)


#: Shares out of 100 (the 2019 figures: 51 % selesai, 34 % ditangani, 15 % menunggu).
SELESAI_BELOW: Final = 51
DITANGANI_BELOW: Final = 85
EMERGENCY_SHARE: Final = 0.74
NUISANCE_CALLS_PER_REPORT: Final = 0.9
OPERATORS: Final = 12

#: A caller with a long history, for the entry form's phone look-up (B7).
FREQUENT_CALLER: Final = "+6281200000007"

_TABLES: Final = ("report", "call", "referral", "report_event")
_NAMES: Final = (
    "Budi",
    "Siti",
    "Agus",
    "Dewi",
    "Yohanes",
    "Maria",
    "Fransiska",
    "Stevi",
    "Jefry",
    "Meylan",
    "Ronald",
    "Christin",
    "Hendra",
    "Novita",
    "Rudy",
    "Grace",
    "Frangky",
    "Debby",
    "Marthen",
    "Olivia",
)
_STREETS: Final = (
    "Sam Ratulangi",
    "Piere Tendean",
    "Babe Palar",
    "Walanda Maramis",
    "Yos Sudarso",
    "Bethesda",
    "Martadinata",
    "Sudirman",
    "17 Agustus",
    "Ahmad Yani",
    "Hasanudin",
    "Roda",
    "Pomurow",
    "Arnold Mononutu",
    "Ring Road",
)


@dataclass(frozen=True)
class Built:
    path: Path
    reports: int
    seconds: float  # 0 when the file came from the cache


def cached_database(reports: int, *, cache_dir: Path = CACHE_DIR, rebuild: bool = False) -> Built:
    """The cached database of ``reports`` reports, built first when missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"siaga-{reports}-s{SCHEMA_HEAD}-g{GENERATOR_VERSION}.db"
    if path.exists() and not rebuild:
        return Built(path, reports, 0.0)
    partial = path.with_suffix(".building")
    for leftover in (partial, *_sidecars(partial)):
        leftover.unlink(missing_ok=True)
    started = time.perf_counter()
    build_database(partial, reports)
    partial.replace(path)
    for leftover in _sidecars(path):
        leftover.unlink(missing_ok=True)
    return Built(path, reports, time.perf_counter() - started)


def _sidecars(path: Path) -> tuple[Path, ...]:
    return (Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal"))


def build_database(path: Path, reports: int) -> None:
    """Create ``path`` with the real schema and fill it with ``reports`` reports."""
    if path.exists():
        raise FileExistsError(path)
    forget_database(path)  # a new file on purpose, even where one was built before
    db = open_database(path)  # the real migrations make the schema
    db.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        _fill(conn, reports)
    finally:
        conn.close()


def _fill(conn: sqlite3.Connection, reports: int) -> None:
    conn.execute("PRAGMA journal_mode = OFF")  # generation only: nothing to roll back to
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA threads = {min(4, os.cpu_count() or 1)}")  # parallel index sorts
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        f"AND tbl_name IN ({', '.join('?' * len(_TABLES))})",
        _TABLES,
    ).fetchall()
    conn.execute("BEGIN")
    for name, _sql in indexes:
        conn.execute(f'DROP INDEX "{name}"')
    _lookup_tables(conn)
    _plan(conn, reports)
    _insert_reports(conn)
    _insert_calls(conn, reports)
    _insert_referrals(conn)
    _insert_events(conn, reports)
    conn.execute(
        "INSERT INTO report_number_sequence (year, last_value) "
        "SELECT year, max(seq) FROM report GROUP BY year"
    )
    for _name, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")  # as open_database leaves every file


def _lookup_tables(conn: sqlite3.Connection) -> None:
    """Small tables the generating queries join on: categories, places, names."""
    catalogue = load_catalogue()
    emergency = [c for c in catalogue.categories if c.is_emergency]
    other = [c for c in catalogue.categories if not c.is_emergency]
    slots: list[tuple[object, ...]] = []
    for group, share in ((emergency, EMERGENCY_SHARE), (other, 1 - EMERGENCY_SHARE)):
        # Earlier categories in the catalogue are the more common ones in the 2019 figures.
        weights = [len(group) - n for n in range(len(group))]
        for category, weight in zip(group, weights, strict=True):
            count = round(1000 * share * weight / sum(weights))
            agency = catalogue.agencies_for(category)[0].code
            ranks = [queue_rank(category.kind, status) for status in Status]
            slot = (category.code, category.kind, category.priority, agency, *ranks)
            slots.extend([slot] * count)
    conn.execute(
        "CREATE TEMP TABLE gen_category (r INTEGER PRIMARY KEY, code, kind, priority, agency, "
        f"rank_{Status.MENUNGGU.value}, rank_{Status.DITANGANI.value}, rank_{Status.SELESAI.value})"
    )
    conn.executemany(
        "INSERT INTO gen_category VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(n, *slot) for n, slot in enumerate(slots)],
    )
    conn.execute("CREATE TEMP TABLE gen_place (r INTEGER PRIMARY KEY, code, kecamatan, name)")
    conn.executemany(
        "INSERT INTO gen_place VALUES (?, ?, ?, ?)",
        [(n, k.code, k.kecamatan.code, k.name) for n, k in enumerate(catalogue.kelurahan)],
    )
    conn.execute("CREATE TEMP TABLE gen_name (r INTEGER PRIMARY KEY, name)")
    conn.executemany("INSERT INTO gen_name VALUES (?, ?)", list(enumerate(_NAMES)))
    conn.execute("CREATE TEMP TABLE gen_street (r INTEGER PRIMARY KEY, name)")
    conn.executemany("INSERT INTO gen_street VALUES (?, ?)", list(enumerate(_STREETS)))


def _plan(conn: sqlite3.Connection, reports: int) -> None:
    """One row per report with every draw and moment, in UTC seconds."""
    step = (SPAN_END - SPAN_START) / reports
    categories = conn.execute("SELECT count(*) FROM gen_category").fetchone()[0]
    places = conn.execute("SELECT count(*) FROM gen_place").fetchone()[0]
    callers = max(10, reports * 2 // 5)  # repeat callers: 2 numbers per 5 reports
    conn.execute(
        f"""
        CREATE TEMP TABLE gen_draw AS
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {reports})
        SELECT i, t, CAST(strftime('%Y', t + 8 * 3600, 'unixepoch') AS INTEGER) AS year,
               abs(random()) % {categories} AS rc,
               abs(random()) % {places} AS rp,
               abs(random()) % 100 AS rs,
               abs(random()) % 100 AS rx,
               abs(random()) % 100 AS ry,
               CASE WHEN abs(random()) % 20 = 0 THEN NULL
                    WHEN abs(random()) % 50 = 0 THEN '{FREQUENT_CALLER}'
                    ELSE '+62812' || printf('%08d', abs(random()) % {callers}) END AS phone,
               abs(random()) % 1000000 AS us,
               20 + abs(random()) % 280 AS answer_wait,
               60 + abs(random()) % 1740 AS forward_after,
               60 + abs(random()) % 3540 AS ack_after,
               600 + abs(random()) % 259200 AS close_after,
               120 + abs(random()) % 3480 AS second_call_after,
               'op' || printf('%02d', 1 + abs(random()) % {OPERATORS}) AS operator,
               abs(random()) % {len(_NAMES) * 2} AS rn,
               abs(random()) % {len(_STREETS)} AS rstreet
        FROM (SELECT i, {SPAN_START} + CAST((i - 1) * {step} AS INTEGER)
                          + abs(random()) % {max(1, int(step))} AS t FROM n) n
        """
    )
    conn.execute(
        "CREATE TEMP TABLE gen_year AS SELECT year, min(i) AS first_i FROM gen_draw GROUP BY year"
    )
    report = f"""
        SELECT d.i, d.t, d.us, d.phone, d.operator, d.year, d.i - y.first_i + 1 AS seq,
               c.code AS category, c.kind, c.priority, c.agency,
               p.code AS kelurahan, p.kecamatan,
               (SELECT name FROM gen_name WHERE r = d.rn) AS caller_name,
               'Jl. ' || (SELECT name FROM gen_street WHERE r = d.rstreet)
                 || ' No. ' || (1 + d.i % 150) || ', ' || p.name AS address,
               'Laporan warga: ' || replace(c.code, '-', ' ') || ' di ' || p.name
                 || '. Pelapor meminta petugas segera datang ke lokasi.' AS description,
               CASE WHEN d.rs < {SELESAI_BELOW} THEN '{Status.SELESAI.value}'
                    WHEN d.rs < {DITANGANI_BELOW} THEN '{Status.DITANGANI.value}'
                    ELSE '{Status.MENUNGGU.value}' END AS status,
               CASE WHEN d.rs < {SELESAI_BELOW} THEN c.rank_{Status.SELESAI.value}
                    WHEN d.rs < {DITANGANI_BELOW} THEN c.rank_{Status.DITANGANI.value}
                    ELSE c.rank_{Status.MENUNGGU.value} END AS queue_rank,
               d.t - d.answer_wait AS answered,
               -- forwarded: every report being handled, and closed ones not settled by phone
               CASE WHEN d.rs < {DITANGANI_BELOW} AND NOT (d.rs < {SELESAI_BELOW} AND d.rx < 10)
                    THEN d.t + d.forward_after END AS forwarded,
               CASE WHEN (d.rs < {SELESAI_BELOW} AND d.rx >= 10)
                      OR (d.rs >= {SELESAI_BELOW} AND d.rs < {DITANGANI_BELOW} AND d.rx < 60)
                    THEN d.t + d.forward_after + d.ack_after END AS acknowledged,
               CASE WHEN d.rs < {SELESAI_BELOW}
                    THEN d.t + d.forward_after + d.ack_after + d.close_after END AS closed,
               CASE WHEN d.ry < 8 THEN d.t + d.second_call_after END AS second_call
        FROM gen_draw d
        JOIN gen_year y ON y.year = d.year
        JOIN gen_category c ON c.r = d.rc
        JOIN gen_place p ON p.r = d.rp
    """
    moments = ("t", "answered", "forwarded", "acknowledged", "closed", "second_call", "updated")
    # A report has at most one referral and one second call: both take the report's id
    # (the second call offset past the first calls), so no numbering pass is needed.
    conn.execute(
        f"""
        CREATE TEMP TABLE gen AS
        SELECT m.*, {", ".join(f"{_when(f'm.{name}', 'm.us')} AS {name}_at" for name in moments)}
        FROM (SELECT r.*,
               1 + (r.forwarded IS NOT NULL) + (r.acknowledged IS NOT NULL)
                 + (r.closed IS NOT NULL) + (r.second_call IS NOT NULL) AS version,
               max(r.t, coalesce(r.forwarded, 0), coalesce(r.acknowledged, 0),
                   coalesce(r.closed, 0), coalesce(r.second_call, 0)) AS updated
              FROM ({report}) r) m
        """
    )
    conn.execute("CREATE UNIQUE INDEX temp.gen_i ON gen (i)")


def _when(column: str, micros: str = "g.us") -> str:
    """An SQL expression for a moment in the format SQLAlchemy stores on SQLite."""
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"datetime({column}, 'unixepoch') || printf('.%06d', {micros}) END"
    )


_CHANNEL: Final = "CASE g.i % 5 WHEN 0 THEN 'radio' WHEN 1 THEN 'whatsapp' ELSE 'telepon' END"


def _insert_reports(conn: sqlite3.Connection) -> None:
    conn.execute(
        """
        INSERT INTO report (
            id, number, year, seq, category, kind, priority, status, queue_rank,
            caller_phone, caller_name, kelurahan_code, kecamatan_code, address, description,
            operator, created_at, updated_at, version, duplicate_of, call_answered_at,
            first_forwarded_at, first_acknowledged_at, closed_at, import_key)
        SELECT g.i, '112-' || g.year || '-' || printf('%06d', g.seq), g.year, g.seq,
               g.category, g.kind, g.priority, g.status, g.queue_rank,
               g.phone, g.caller_name, g.kelurahan, g.kecamatan, g.address, g.description,
               g.operator, g.t_at, g.updated_at, g.version, NULL,
               g.answered_at, g.forwarded_at, g.acknowledged_at, g.closed_at, NULL
        FROM gen g ORDER BY g.i
        """
    )


def _insert_calls(conn: sqlite3.Connection, reports: int) -> None:
    # The call each report came from has the report's id; second calls come next.
    conn.execute(
        """
        INSERT INTO call (id, answered_at, caller_phone, disposition, operator, note, report_id)
        SELECT g.i, g.answered_at, g.phone, 'laporan', g.operator, NULL, g.i
        FROM gen g ORDER BY g.i
        """
    )
    conn.execute(
        f"""
        INSERT INTO call (id, answered_at, caller_phone, disposition, operator, note, report_id)
        SELECT {reports} + g.i, g.second_call_at,
               '+62852' || printf('%08d', g.i % 9999991), 'laporan', g.operator,
               'Penelepon lain, kejadian yang sama', g.i
        FROM gen g WHERE g.second_call IS NOT NULL ORDER BY g.i
        """
    )
    nuisance = round(reports * NUISANCE_CALLS_PER_REPORT)
    pranksters = max(5, nuisance // 50)
    step = (SPAN_END - SPAN_START) / max(1, nuisance)
    conn.execute(
        f"""
        INSERT INTO call (answered_at, caller_phone, disposition, operator, note, report_id)
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {nuisance}),
        d AS (SELECT i, {SPAN_START} + CAST((i - 1) * {step} AS INTEGER) AS t,
                     abs(random()) % 100 AS kind, abs(random()) % 1000000 AS us,
                     abs(random()) % 1000000 AS rp FROM n)
        SELECT {_when("t", "us")},
               CASE WHEN kind < 39 THEN '+62813' || printf('%08d', rp % {pranksters})
                    WHEN kind < 72 AND rp % 4 = 0 THEN NULL
                    ELSE '+62811' || printf('%08d', rp) END,
               CASE WHEN kind < 39 THEN 'iseng' WHEN kind < 72 THEN 'hening'
                    WHEN kind < 94 THEN 'informasi' ELSE 'salah_sambung' END,
               'op' || printf('%02d', 1 + rp % {OPERATORS}),
               CASE WHEN kind >= 72 AND kind < 94 THEN 'Menanyakan layanan 112' END,
               NULL
        FROM d
        """
    )


def _insert_referrals(conn: sqlite3.Connection) -> None:
    conn.execute(
        f"""
        INSERT INTO referral (id, report_id, agency, forwarded_at, forwarded_by, channel,
                              agency_ref, acknowledged_at, acknowledged_by, outcome)
        SELECT g.i, g.i, g.agency, g.forwarded_at, g.operator,
               {_CHANNEL},
               NULL, g.acknowledged_at,
               CASE WHEN g.acknowledged IS NOT NULL THEN 'Piket ' || upper(g.agency) END,
               CASE WHEN g.closed IS NOT NULL THEN 'Sudah ditangani di lokasi' END
        FROM gen g WHERE g.forwarded IS NOT NULL ORDER BY g.i
        """
    )


def _insert_events(conn: sqlite3.Connection, reports: int) -> None:
    """Every change as the services write it, in time order (the id is the sequence)."""
    conn.execute(
        f"""
        INSERT INTO report_event (report_id, at, operator, kind, details)
        SELECT report_id, at, operator, kind, details FROM (
            SELECT g.i AS report_id, g.t AS moment, g.t_at AS at, g.operator, 'created' AS kind,
                   json_object('number', '112-' || g.year || '-' || printf('%06d', g.seq),
                               'category', g.category, 'kind', g.kind,
                               'priority', g.priority, 'status', 'menunggu',
                               'caller_phone', g.phone, 'caller_name', g.caller_name,
                               'kelurahan_code', g.kelurahan, 'kecamatan_code', g.kecamatan,
                               'address', g.address, 'description', g.description,
                               'call_id', g.i) AS details
            FROM gen g
            UNION ALL
            SELECT g.i, g.second_call, g.second_call_at, g.operator, 'call_attached',
                   json_object('call_id', {reports} + g.i,
                               'caller_phone', NULL, 'note', NULL)
            FROM gen g WHERE g.second_call IS NOT NULL
            UNION ALL
            SELECT g.i, g.forwarded, g.forwarded_at, g.operator, 'forwarded',
                   json_object('referral_id', g.i, 'agency', g.agency,
                               'channel', {_CHANNEL}, 'agency_ref', NULL,
                               'status_to', 'ditangani')
            FROM gen g WHERE g.forwarded IS NOT NULL
            UNION ALL
            SELECT g.i, g.acknowledged, g.acknowledged_at, g.operator, 'acknowledged',
                   json_object('referral_id', g.i, 'agency', g.agency,
                               'by', NULL, 'agency_ref', NULL)
            FROM gen g WHERE g.acknowledged IS NOT NULL
            UNION ALL
            SELECT g.i, g.closed, g.closed_at, g.operator, 'status_changed',
                   json_object('from', CASE WHEN g.forwarded IS NULL THEN 'menunggu'
                                            ELSE 'ditangani' END,
                               'to', 'selesai', 'note', 'Selesai ditangani')
            FROM gen g WHERE g.closed IS NOT NULL
        )
        ORDER BY moment, report_id
        """
    )


def sample_report(n: int) -> NewReport:
    """The ``n``-th of a varied stream of new reports, as an operator would type them."""
    catalogue = load_catalogue()
    category = catalogue.categories[n % len(catalogue.categories)]
    place = catalogue.kelurahan[(n * 7) % len(catalogue.kelurahan)]
    street = _STREETS[n % len(_STREETS)]
    return NewReport(
        category=category.code,
        kelurahan=f"{place.name}, {place.kecamatan.name}" if n % 3 else place.code,
        description=f"Warga melaporkan {category.code.replace('-', ' ')} dekat Jl. {street}.",
        phone=f"0812{(n * 7919) % 100_000_000:08d}",
        caller_name=_NAMES[n % len(_NAMES)],
        address=f"Jl. {street} No. {1 + n % 150}",
    )


@contextmanager
def scratch_copy(reports: int) -> Iterator[Path]:
    """A copy of the cached database to write into (its history is append-only)."""
    source = cached_database(reports).path
    folder = Path(tempfile.mkdtemp(prefix="scratch-", dir=source.parent))
    try:
        target = folder / source.name
        shutil.copyfile(source, target)
        yield target
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    """``python -m benchmarks.data N``: build (or find) the cached database of N reports."""
    import sys

    for value in sys.argv[1:] or ["10000"]:
        built = cached_database(int(value), rebuild=os.environ.get("REBUILD") == "1")
        print(f"{built.path} ({built.reports:,} reports, built in {built.seconds:.1f} s)")


if __name__ == "__main__":
    main()
