"""Policies: the decisions the model's desks ask for, apart from the mechanisms that carry them out.

A policy takes plain values (a score, a queue length, an hour) and returns a decision; it never
sees a desk, an order or the clock. Each decision point has a documented interface (a
``Protocol`` in its module), built-in kinds (today's behaviour is the default) and a factory the
model calls once per run with the scenario's choice (:class:`simcore.scenario.schema.policy.PolicySpec`).
A researcher adds a policy by writing one class against the interface and naming it in the
scenario as ``module:Class`` with its ``params`` (``Class(**params)``); see the README's
"Writing a policy" and ``examples/queue_aware_fraud.py``.

Decision points:

- :mod:`simcore.policies.fraud`: the fraud decision (a risk score to decline, review or pass);
- :mod:`simcore.policies.review_queue`: the review queue's discipline (who is reviewed next, and
  a time limit);
- :mod:`simcore.policies.staffing`: the headcount of the gateway, the analysts and the agents by
  date and hour;
- :mod:`simcore.policies.stock`: the sellers' reorder rule and what triggers a stock count;
- :mod:`simcore.policies.visibility`: which listings buyers of each destination see;
- :mod:`simcore.policies.penalties`: a seller's record to ok, warn or suspend;
- :mod:`simcore.policies.compensation`: a coupon after a cancellation.
"""
