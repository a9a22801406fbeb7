"""Results: what a finished run left, turned into its frames (by the orders' column spec), its
KPIs (with the registry of names, units and directions) and its output files. Nothing is
imported here: ``analysis`` reads the registry without importing SimPy."""
