"""Tests of the scenario layer."""
