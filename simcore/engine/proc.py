"""The type of a SimPy process: a generator of events, handed to ``env.process``."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, TypeVar

import simpy

T = TypeVar("T")

#: A SimPy generator process that yields events and returns ``T`` (``Proc[bool]``: a process
#: whose ``yield from`` gives a bool). ``Proc`` alone returns nothing of use.
Proc = Generator[simpy.Event, Any, T]
