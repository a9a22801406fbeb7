"""The test suite: a package mirroring simcore's layers, helpers in tests/conftest.py."""
