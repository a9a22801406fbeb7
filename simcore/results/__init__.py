"""Results: what a finished run left, turned into its frames (one column spec for the orders
table), its KPIs (with a declared registry of names, units and directions) and output files."""
