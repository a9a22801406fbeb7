"""Tests of the experiments layer."""
