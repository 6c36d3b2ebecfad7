"""Whole-file checks that need memory across rows: duplicates and row groups.

:class:`DuplicateTracker` (non-grouping kinds) remembers, per key field, only
``value → first row`` (a string and an int per item), so a file of a million rows
stays small. The first row with a key is kept; every later one gets an error
Problem naming both rows.

:class:`Grouper` (pipelines, activities) merges the rows that share a group key
(``pipelineId`` / ``externalActivityId``) into one payload item. Rows need not be
adjacent. A row that conflicts with its group gets a Problem naming both rows, and
the whole group is held back (both endpoints are create-only, so a partial group
could never be completed later): :meth:`Grouper.finish` returns the good groups
and a Problem for every other row of a held-back group.
"""

from __future__ import annotations

from .base import DuplicateTracker, Group, Grouper

__all__ = ["DuplicateTracker", "Group", "Grouper"]
