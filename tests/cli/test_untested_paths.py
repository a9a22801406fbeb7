"""The ``simcore`` command-line paths no other test walks: ``run --plot`` (the README's first
command), ``schema --markdown``, ``kpis`` and ``kpis --markdown``, and Ctrl-C during a run.

Oracles: the committed reference pages (docs/scenario-reference.md, docs/kpi-reference.md,
generated once and reviewed), the PNG format's own signature and header, and what the README
promises of an interrupted run (exit 130, ``interrupted``, nothing half-written).
"""

from __future__ import annotations

import os
import re
import select
import signal
import struct
import subprocess
import sys
import time
import zlib

import pytest

from simcore.cli import main
from tests.conftest import ROOT, SCENARIOS

RUN_FILES = {
    "orders.parquet",
    "events.parquet",
    "timeseries.parquet",
    "sellers.parquet",
    "kpis.json",
    "scenario.yaml",
    "lost_visits.parquet",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DOCS = ROOT / "docs"


def png_header(data: bytes) -> tuple[int, int, int, int]:
    """(width, height, bit depth, colour type) from a PNG's IHDR chunk, its CRC checked (PNG
    spec 11.2.2: the first chunk, 13 bytes of data)."""
    assert data[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR")
    body = data[16 : 16 + 13]
    (crc,) = struct.unpack(">I", data[29:33])
    assert crc == zlib.crc32(kind + body)
    width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    return width, height, depth, colour


# --------------------------------------------------------------------------- run --plot


@pytest.mark.trace
def test_run_with_plot_writes_a_real_summary_png_and_the_other_outputs(tmp_path, capsys):
    # The README's first command, `simcore run scenarios/baseline.yaml --out runs/baseline
    # --plot`, on a 3-day horizon (no warm-up or cool-down) to keep it quick.
    out = tmp_path / "runs" / "baseline"
    short = ["--set", "horizon_days=3", "--set", "warmup_days=0", "--set", "cooldown_days=0"]
    assert main(["run", str(SCENARIOS / "baseline.yaml"), "--out", str(out), "--plot", *short]) == 0
    captured = capsys.readouterr()
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"summary.png"}
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["baseline"]  # no temp folder left
    assert re.search(r"^wrote .*summary\.png.* to ", captured.out, re.M)
    assert "Traceback" not in captured.err
    data = (out / "summary.png").read_bytes()
    width, height, depth, colour = png_header(data)
    # A four-panel figure at 110 dpi: wider than tall, at least screen-sized; 8-bit RGB(A).
    assert 800 <= width <= 4000 and 500 <= height <= 4000 and width > height
    assert depth == 8 and colour in (2, 6)
    assert 20_000 < len(data) < 5_000_000  # drawn on, not blank; not absurd
    assert data.endswith(b"IEND\xaeB`\x82")  # the closing chunk with its fixed CRC: complete
    # Decodes, and is not one flat colour.
    import matplotlib.image

    pixels = matplotlib.image.imread(out / "summary.png")
    assert pixels.shape[:2] == (height, width)
    assert pixels.std() > 0.01
    # Run again into the same folder without --plot: the first run's figure does not stay
    # beside the second run's outputs; a file of the researcher's own does.
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["run", str(SCENARIOS / "baseline.yaml"), "--out", str(out), "--quiet", *short]) == 0
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"notes.txt"}


# --------------------------------------------------------------------------- schema, kpis


@pytest.mark.trace
def test_schema_markdown_is_the_committed_scenario_reference(capsys, tmp_path):
    assert main(["schema", "--markdown"]) == 0
    captured = capsys.readouterr()
    reference = (DOCS / "scenario-reference.md").read_text(encoding="utf-8")
    assert captured.out == reference
    assert captured.err == ""
    # --out writes the same text to a file and prints nothing.
    target = tmp_path / "reference.md"
    assert main(["schema", "--markdown", "--out", str(target)]) == 0
    assert capsys.readouterr().out == ""
    assert target.read_text(encoding="utf-8") == reference


@pytest.mark.trace
def test_kpis_markdown_is_the_committed_kpi_reference(capsys, tmp_path):
    assert main(["kpis", "--markdown"]) == 0
    captured = capsys.readouterr()
    reference = (DOCS / "kpi-reference.md").read_text(encoding="utf-8")
    assert captured.out == reference
    assert captured.err == ""
    target = tmp_path / "kpis.md"
    assert main(["kpis", "--markdown", "--out", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == reference


def reference_rows() -> list[tuple[str, str, str, str]]:
    """(name, unit, better, meaning) of each row of docs/kpi-reference.md's table."""
    rows = []
    for line in (DOCS / "kpi-reference.md").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\| `([^`]+)` \| ([^|]+) \| ([^|]+) \| (.+) \|", line)
        if m:
            rows.append(tuple(g.strip() for g in m.groups()))
    return rows


@pytest.mark.trace
def test_kpis_lists_every_kpi_of_the_reference_one_a_line(capsys):
    assert main(["kpis"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    lines = captured.out.splitlines()
    rows = reference_rows()
    assert len(rows) > 40
    assert len(lines) == len(rows)
    # Columns: name, unit, direction, meaning, separated by at least two spaces (aligned).
    got = [tuple(re.split(r"\s{2,}", line, maxsplit=3)) for line in lines]
    assert got == rows
    starts = {line.index(unit, len(name)) for line, (name, unit, _, _) in zip(lines, rows, strict=True)}
    assert len(starts) == 1  # the unit column is aligned


# --------------------------------------------------------------------------- Ctrl-C


@pytest.mark.trace
@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal and POSIX signals")
def test_ctrl_c_during_a_run_exits_130_quietly_and_writes_nothing(tmp_path):
    import fcntl
    import pty
    import termios

    out = tmp_path / "runs" / "interrupted"
    # The baseline runs for seconds; its progress bar, drawn on a terminal only, says when
    # the run has started: stderr is a pseudo-terminal (100 columns wide, or the bar is empty).
    # 3,000 days (about a minute): the interrupt lands mid-run even when this process is
    # scheduled late on a loaded machine.
    argv = [sys.executable, "-m", "simcore", "run", str(SCENARIOS / "baseline.yaml"), "--out", str(out)]
    argv += ["--set", "horizon_days=3000"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        close_fds=True,
        # As at a terminal: a suite started in the background (``pytest &``) has SIGINT ignored,
        # the child would inherit that, and Python then installs no KeyboardInterrupt handler.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    os.close(slave)
    err = b""
    try:
        deadline = time.monotonic() + 120.0
        # The bar's second frame ("\rbaseline:   0%|...| 5.0/3000.0 [...]"): the clock is running.
        while err.count(b"\rbaseline:") < 2:
            ready, _, _ = select.select([master], [], [], max(deadline - time.monotonic(), 0.0))
            assert ready, f"no progress bar within 120 s; stderr so far: {err!r}"
            err += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child has gone and the terminal is closed
                break
            if not chunk:
                break
            err += chunk
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    text = err.decode(errors="replace")
    assert code == 130, text
    assert re.search(r"(^|[\r\n])interrupted\r?\n$", text), text  # the last line, once the bar is wiped
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert stdout == ""  # no KPI report, no "wrote ..."
    assert not out.exists()
    leftovers = list(tmp_path.rglob("*"))
    assert leftovers in ([], [tmp_path / "runs"]), leftovers  # no temporary folder left either
