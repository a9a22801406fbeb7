"""11.11 against sellers' and carriers' daily capacity: ship-by misses and handover time by day.

Runs ``scenarios/promo_1111.yaml`` as shipped (sellers hand over at most 1.35x their mean orders
a day, carriers pick up at most 1.5x a destination's mean parcels) and with capacity unlimited, on
one seed and ``--replications`` replications, and draws, by the day orders were cleared for the
seller: the share cancelled ``ship_deadline_missed`` and the mean hours from clearance to
shipment. Prints the peak's figures against ordinary days (the 4 weeks before the warm-up sale).

    python examples/promo_capacity.py [--replications 3] [--out docs/figures/promo-1111-capacity.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import simcore  # noqa: E402

HERE = Path(__file__).resolve().parent
SCENARIO = HERE.parent / "scenarios" / "promo_1111.yaml"
UNLIMITED = {"sellers.daily_capacity": None, "shipping.pickup_capacity_factor": None}


def by_day(scn: simcore.Scenario, replications: int) -> pd.DataFrame:
    """Per clearance day (date): orders cleared, share missing ship-by, mean hours to shipment."""
    frames = []
    for r in range(replications):
        o = simcore.run(scn, replication=r).orders
        cleared = o[o["cleared_at"].notna()].copy()
        cleared["day"] = cleared["cleared_at"].dt.floor("D")
        cleared["missed"] = cleared["cancel_reason"] == "ship_deadline_missed"
        cleared["handover_h"] = (cleared["shipped_at"] - cleared["cleared_at"]) / pd.Timedelta(hours=1)
        frames.append(cleared[["day", "missed", "handover_h"]])
    c = pd.concat(frames)
    return c.groupby("day").agg(
        cleared=("missed", "size"), missed=("missed", "mean"), handover_h=("handover_h", "mean")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE.parent / "docs" / "figures" / "promo-1111-capacity.png")
    args = ap.parse_args()
    runs = {
        "capacity (as shipped)": by_day(simcore.load_scenario(SCENARIO), args.replications),
        "unlimited": by_day(simcore.load_scenario(SCENARIO, UNLIMITED), args.replications),
    }
    peak = pd.Timestamp("2026-11-11")
    ordinary = (pd.Timestamp("2026-10-11"), pd.Timestamp("2026-11-07"))  # 4 weeks before the warm-up
    after = (peak, peak + pd.Timedelta(days=6))  # the peak and the week after it
    for name, d in runs.items():
        base = d.loc[ordinary[0] : ordinary[1]]
        hot = d.loc[after[0] : after[1]]
        base_miss = np.average(base["missed"], weights=base["cleared"])
        hot_miss = np.average(hot["missed"], weights=hot["cleared"])
        base_h = np.average(base["handover_h"].fillna(0), weights=base["cleared"])
        hot_h = np.average(hot["handover_h"].fillna(0), weights=hot["cleared"])
        print(
            f"{name:22s} ship-by missed: ordinary days {100 * base_miss:.2f}%, 11.11-11.17 "
            f"{100 * hot_miss:.2f}% (x{hot_miss / base_miss:.1f}); mean hours to shipment "
            f"{base_h:.1f} -> {hot_h:.1f}"
        )
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    window = slice(pd.Timestamp("2026-10-25"), pd.Timestamp("2026-12-05"))
    for name, d in runs.items():
        d = d.loc[window]
        ax1.plot(d.index, 100 * d["missed"], marker=".", label=name)
        ax2.plot(d.index, d["handover_h"], marker=".", label=name)
    for ax in (ax1, ax2):
        ax.axvspan(peak, peak + pd.Timedelta(days=1), color="tab:red", alpha=0.12)
        ax.grid(alpha=0.3)
    ax1.set_ylabel("ship-by missed (% of cleared)")
    ax2.set_ylabel("mean hours, cleared to shipped")
    ax1.legend(loc="upper right")
    ax1.set_title(f"promo_1111: orders by the day they were cleared ({args.replications} replications)")
    fig.autofmt_xdate()
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
