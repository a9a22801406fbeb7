"""Tests of the policy layer: built-in kinds, researchers' classes, and their exact traces."""
