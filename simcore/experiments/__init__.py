"""Experiments: admitting runs (the memory check), running one scenario, designs, sweep files,
the store (run files keyed by arm), executors, and sweeps with their sequential-precision rounds.
Nothing is imported here: ``analysis`` reads the store without importing SimPy."""
