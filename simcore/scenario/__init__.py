"""The scenario language: YAML (with ``extends`` and dotted overrides) validated once, at the
edge, into a frozen :class:`simcore.scenario.schema.Scenario`; distribution specs; safe YAML
reading with the line of every key; the generated reference. Imports no SimPy."""
