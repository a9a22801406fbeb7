"""The baseline's stock KPIs bin by bin over a year: does it hold a steady state?

    python examples/steady_state.py                 # 5 replications, 365 days after the warm-up
    python examples/steady_state.py --replications 10 --days 720

Runs the shipped baseline for its warm-up plus ``--days`` days (no cool-down), pools the
replications, and prints per 30-day bin of placement: orders, the share cancelled out of stock
(true reason: a dishonest seller's claim does not count, a stock-out the buyer was asked to
cancel does), arrivals lost for want of stock,
and the mean end-of-day record accuracy (share of SKU records, and weighted by demand). The
README's table ("A steady state") is this script's output; tests/model/test_stock.py holds the
same numbers to the issue's tolerances.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import simcore

BASELINE = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
BIN_DAYS = 30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--days", type=int, default=365, help="days after the warm-up")
    args = parser.parse_args()
    warmup = simcore.load_scenario(BASELINE).warmup_days
    bins = args.days // BIN_DAYS
    orders, oos, lost, arrivals = (np.zeros(bins) for _ in range(4))
    acc, acc_w = np.zeros(bins), np.zeros(bins)
    for rep in range(args.replications):
        scn = simcore.load_scenario(BASELINE, {"horizon_days": warmup + args.days, "cooldown_days": 0})
        result = simcore.run(scn, replication=rep)
        o = result.orders
        h = o["placed_hour"].to_numpy() - warmup * 24.0
        keep = (h >= 0) & (h < bins * BIN_DAYS * 24.0)
        b = (h[keep] // (BIN_DAYS * 24.0)).astype(int)
        # A stock-out whatever the seller said (a buyer asked to cancel counts; a cover does not).
        stock_out = ((o["status"] == "cancelled") & (o["true_reason"] == "out_of_stock")).to_numpy()
        orders += np.bincount(b, minlength=bins)
        oos += np.bincount(b, weights=stock_out[keep], minlength=bins)
        ts = result.timeseries
        day = ts["day"].to_numpy() - warmup  # end of day ``day`` after the warm-up
        in_bin = [(day > BIN_DAYS * i) & (day <= BIN_DAYS * (i + 1)) for i in range(bins)]
        lost += [ts["lost_sales"].to_numpy()[m].sum() for m in in_bin]
        arrivals += [(ts["lost_sales"] + ts["orders_placed"]).to_numpy()[m].sum() for m in in_bin]
        acc += [ts["inventory_accuracy"].to_numpy()[m].mean() for m in in_bin]
        acc_w += [ts["inventory_accuracy_weighted"].to_numpy()[m].mean() for m in in_bin]
    share, acc, acc_w = oos / orders, acc / args.replications, acc_w / args.replications
    end = warmup + bins * BIN_DAYS
    print(f"baseline, {args.replications} replications, days {warmup:g}-{end:g} in {BIN_DAYS}-day bins")
    print("| days | orders | out of stock | lost sales | record accuracy | weighted |")
    print("|---|---|---|---|---|---|")
    for i in range(bins):
        lo = warmup + BIN_DAYS * i
        print(
            f"| {lo:g}-{lo + BIN_DAYS:g} | {orders[i]:,.0f} | {100 * share[i]:.2f}% | "
            f"{100 * lost[i] / arrivals[i]:.2f}% | {acc[i]:.3f} | {acc_w[i]:.3f} |"
        )
    print(
        f"out of stock: last three bins / first three {share[-3:].mean() / share[:3].mean():.3f}; "
        f"largest bin off the mean by {100 * np.max(np.abs(share / share.mean() - 1)):.1f}%; "
        f"record accuracy within +-{np.max(np.abs(acc - acc.mean())):.3f} of its mean"
    )


if __name__ == "__main__":
    main()
