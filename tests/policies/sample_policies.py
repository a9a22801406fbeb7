"""Policies written as a researcher would, for the tests (named ``tests.policies.sample_policies:...``)."""

from __future__ import annotations

from simcore.policies.fraud import DECLINE, PASS, REVIEW


class Recording:
    """Today's thresholds, recording every call and answer (class-wide: one run at a time)."""

    calls: list[tuple[float, int, float, float, bool, str]] = []

    def __init__(self, decline: float = 0.75, review: float = 0.35):
        self.decline, self.review = decline, review
        Recording.calls = []

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        answer = DECLINE if score >= self.decline else REVIEW if score >= self.review else PASS
        Recording.calls.append((score, queue, hour, amount, verified, answer))
        return answer


class ReviewUnverified:
    """Sends every unverified buyer's order to review, passes the rest."""

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        return PASS if verified else REVIEW


class Shouting:
    """Answers with a word the referee does not know."""

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        return "DECLINE"


class NoDecide:
    """Has no decide method."""

    def judge(self, score: float) -> str:
        return PASS


class Failing:
    """Raises on the first order it is asked about."""

    def decide(self, score: float, queue: int, hour: float, amount: float, verified: bool) -> str:
        return "pass" if score < 0 else str(1 / 0)


class VolumeBlind:
    """A penalty rule: warns a seller with one ruling and suspends one with two, once it has
    ``floor`` orders in the window, whatever its volume beyond."""

    def __init__(self, floor: int = 10):
        self.floor = floor

    def judge(self, orders: int, cancellations: int, rulings: int, by_reason: dict[str, int]) -> str:
        if orders < self.floor or not rulings:
            return "ok"
        return "suspend" if rulings >= 2 else "warn"


class Lenient:
    """A penalty rule answering a word the review does not know."""

    def judge(self, orders: int, cancellations: int, rulings: int, by_reason: dict[str, int]) -> str:
        return "fine"


class Crashing:
    """A penalty rule that raises."""

    def judge(self, orders: int, cancellations: int, rulings: int, by_reason: dict[str, int]) -> str:
        raise RuntimeError("boom")


class LowestScoreFirst:
    """A review-queue discipline: the least risky order first."""

    def priority(self, score: float, hour: float) -> float:
        return score


class NightShiftOff:
    """Staffing: nobody from 22:00 to 06:00, the key's count otherwise."""

    def servers(self, day, hour: int, base: int) -> int:
        return 0 if hour >= 22 or hour < 6 else base


class NegativeStaff:
    """Staffing that answers a negative headcount."""

    def servers(self, day, hour: int, base: int) -> int:
        return -1


class BigOrdersOnly:
    """Compensation: a coupon of a tenth of the order for orders over $50, giving back all the
    trust; nothing for the rest."""

    def compensate(self, reason: str, amount: float) -> tuple[float, float]:
        return (round(0.1 * amount, 2), 1.0) if amount > 50.0 else (0.0, 0.0)


class NegativeCoupon:
    """Compensation that answers a negative coupon."""

    def compensate(self, reason: str, amount: float) -> tuple[float, float]:
        return -1.0, 0.0


class HideFromFirstDestination:
    """Listing visibility: the first half of the sellers hidden from the first destination."""

    def hidden(self, blocked, destinations):
        import numpy as np

        out = np.zeros_like(blocked, dtype=bool)
        out[: len(out) // 2, 0] = True
        return out


class WrongShape:
    """Listing visibility that answers one flag per seller, not per seller and destination."""

    def hidden(self, blocked, destinations):
        return blocked[:, 0]


class TwoWeeksNoFloor:
    """Reorder rule: two weeks of demand at the point, a month's per order, no floors."""

    def levels(self, units_per_day):
        import numpy as np

        return np.ceil(units_per_day * 14).astype(int), np.maximum(np.ceil(units_per_day * 30), 1).astype(int)


class FloatLevels:
    """Reorder rule answering fractional units."""

    def levels(self, units_per_day):
        return units_per_day * 10, units_per_day * 30


class CountsEveryOtherStockout:
    """Count trigger: a count after every second stock-out a seller finds."""

    def __init__(self):
        self.seen = 0

    def count_after_stockout(self, days_since_count):
        self.seen += 1
        return self.seen % 2 == 0
