"""The course's profiles, the one thing both :mod:`~mammokit.course.params` (which resolves a
notebook's parameters for a profile) and :mod:`~mammokit.course.timings` (which records and
prints each notebook's time per profile) need; it sits below both, so neither imports the other
back.

``smoke``: phantoms, tiny, seconds (tests); ``classroom``: a laptop CPU; ``paper``: Table 2 on a GPU.
"""
from __future__ import annotations

PROFILES = ("smoke", "classroom", "paper")
DEFAULT_PROFILE = "classroom"
