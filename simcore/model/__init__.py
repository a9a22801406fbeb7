"""The model: the marketplace's mechanisms as SimPy processes and the state they keep.

A run's :class:`simcore.model.world.World` builds every part from the run context
(:mod:`simcore.model.context`), runs the clock and leaves a :class:`~simcore.model.world.RunRecord`.
The vocabulary (:mod:`simcore.model.vocabulary`) and the orders' column spec
(:mod:`simcore.model.columns`) import no SimPy, so ``analysis`` may read them. Nothing is imported
here: importing a submodule must not pull in the rest.
"""
