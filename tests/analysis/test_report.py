"""simcore reports: one self-contained HTML file (or PNG files) for a run folder or a sweep store,
written atomically; anything else is refused with the folder's name."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
from pathlib import Path

import pytest

import simcore
from analysis.report import HEADLINE_KPIS, ReportError, write_report
from simcore.experiments.sweep import read_sweep, run_sweep
from tests.conftest import SCENARIOS, seed, shipped

IMG = re.compile(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
RUN_FIGURES = ["order_flow", "cancellations", "refund_delays", "disputes", "daily"]

TINY_SWEEP = f"""\
base: {(SCENARIOS / "baseline.yaml").as_posix()}
replications: 2
seed: {seed(5)}
set: {{horizon_days: 10, warmup_days: 2, cooldown_days: 2, buyers.orders_per_hour: 2}}
grid:
  sellers.inventory_accuracy: [0.3, 0.9]
strategies:
  status_quo: {{}}
  weekly_count: {{sellers.strategy.sync_interval_days: 7}}
"""


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    scn = shipped(
        "baseline", {"horizon_days": 20, "warmup_days": 2, "cooldown_days": 5, "buyers.orders_per_hour": 10}
    )
    out = tmp_path_factory.mktemp("run") / "run"
    simcore.write_outputs(simcore.run(scn), out)
    return out


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sweep")
    (d / "tiny.yaml").write_text(TINY_SWEEP, encoding="utf-8")
    run_sweep(read_sweep(d / "tiny.yaml"), d / "store")
    return d / "store"


def images(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in IMG.findall(text)]


@pytest.mark.property
def test_run_report_is_one_self_contained_html_file(run_dir, tmp_path):
    out = tmp_path / "report.html"
    out.write_text("an old report", encoding="utf-8")  # replaced whole
    assert write_report(run_dir, out, dpi=40) == [out]
    text = out.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    pngs = images(text)
    assert len(pngs) == len(RUN_FIGURES)
    assert all(p.startswith(b"\x89PNG\r\n\x1a\n") for p in pngs)
    assert not re.search(r"https?://", text)
    assert "<script" not in text and "<link" not in text
    assert "<h1>simcore run: baseline</h1>" in text
    assert "cancellation rate" in text and "payment_failure_rate" in text  # the KPI report and table
    assert "buyers.orders_per_hour" in text
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary file left


@pytest.mark.property
def test_run_report_as_png_files(run_dir, tmp_path):
    written = write_report(run_dir, tmp_path / "figs", fmt="png", dpi=40)
    assert [p.name for p in written] == [f"{name}.png" for name in RUN_FIGURES]
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in written)


@pytest.mark.slow
@pytest.mark.property
def test_sweep_report_draws_response_curves_and_differences(sweep_dir, tmp_path):
    out = tmp_path / "sweep.html"
    write_report(sweep_dir, out, dpi=40)
    text = out.read_text(encoding="utf-8")
    # One response figure per headline KPI and the forest plot (one varied key: no heatmap).
    assert len(images(text)) == len(HEADLINE_KPIS) + 1
    assert "<h2>Response to sellers.inventory_accuracy</h2>" in text
    assert "<h2>Paired differences from status_quo</h2>" in text
    assert text.count("<td>weekly_count</td>") == 2  # a summary row per cell
    assert not re.search(r"https?://", text)
    written = write_report(sweep_dir, tmp_path / "figs", fmt="png", dpi=40)
    assert {p.name for p in written} >= {"response_cancellation_rate.png", "forest.png"}


@pytest.mark.parametrize("what", ["empty", "missing", "half_a_run"])
def test_refuses_a_folder_that_is_neither_a_run_nor_a_sweep(run_dir, tmp_path, what):
    folder = tmp_path / what
    if what != "missing":
        folder.mkdir()
    if what == "half_a_run":
        (folder / "orders.parquet").write_bytes((run_dir / "orders.parquet").read_bytes())
    with pytest.raises(ReportError, match=re.escape(str(folder))) as caught:
        write_report(folder, tmp_path / "r.html")
    assert isinstance(caught.value, ValueError)
    if what == "half_a_run":
        assert "missing timeseries.parquet, kpis.json, scenario.yaml" in str(caught.value)
    assert not (tmp_path / "r.html").exists()


def test_refuses_unknown_formats_and_outputs_of_the_wrong_kind(run_dir, tmp_path):
    with pytest.raises(ReportError, match="html or png"):
        write_report(run_dir, tmp_path / "r.pdf", fmt="pdf")
    with pytest.raises(ReportError, match="exists as a folder"):
        write_report(run_dir, tmp_path, fmt="html")
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(ReportError, match="exists as a file"):
        write_report(run_dir, tmp_path / "file", fmt="png")


def test_a_report_imports_neither_simpy_nor_pyplot(run_dir, tmp_path):
    code = (
        "import sys; from analysis.report import write_report; "
        f"write_report({str(run_dir)!r}, {str(tmp_path / 'r.html')!r}, dpi=20); "
        "print('simpy' in sys.modules, 'matplotlib.pyplot' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


@pytest.mark.slow
@pytest.mark.property
def test_report_command(run_dir, sweep_dir, tmp_path, capsys):
    from simcore.cli import main

    out = tmp_path / "r.html"
    assert main(["report", str(run_dir), "--out", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote the report of {run_dir} to {out}\n"
    assert len(images(out.read_text(encoding="utf-8"))) >= 4
    figs = tmp_path / "figs"
    assert main(["report", str(sweep_dir), "--out", str(figs), "--format", "png"]) == 0
    assert "figures of" in capsys.readouterr().out and list(figs.glob("*.png"))
    assert main(["report", str(tmp_path / "nothing"), "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "does not exist" in err and "Traceback" not in err
    assert not (tmp_path / "x.html").exists()
