"""Fault injection knobs of the sandbox (mutable while the server runs)."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

_T = TypeVar("_T")

_RATE_FIELDS = ("rate_429", "rate_5xx", "rate_drop_before", "rate_drop_after")


@dataclass
class Faults:
    """What can go wrong on purpose, per request to an ``/api/`` route.

    Order per request: ``latency`` (sleep) → ``rate_drop_before`` (close the
    connection without answering, nothing processed) → ``rate_429`` (answer 429
    with a ``Retry-After`` header of ``retry_after`` seconds) → ``rate_5xx``
    (answer 503 or 500 with an error envelope, nothing processed) → the request
    is processed → ``rate_drop_after`` (close without sending the answer).

    ``shuffle_results`` (a switch, not a rate): every per-item ``results`` array of a
    bulk write (accounts, deals, deal stages, sales activities) is answered in
    another order than the request's (shuffled with the fault RNG; never the request
    order when it holds two or more items), so a client must pair answers with its
    items by identity, not by position.

    Rates are probabilities in 0..1. Draws come from one RNG seeded with
    ``seed`` (``None``: random), so a serial run with a seed is reproducible.
    A rate of exactly 0 or 1 never consumes a draw. Knobs may be changed at any
    time by assigning the attributes; call :meth:`reseed` to restart the RNG.
    """

    latency: float = 0.0
    rate_429: float = 0.0
    retry_after: float = 1.0
    rate_5xx: float = 0.0
    rate_drop_before: float = 0.0
    rate_drop_after: float = 0.0
    shuffle_results: bool = False
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _lock: threading.Lock = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(self.seed)
        self._check()

    def _check(self) -> None:
        for name in _RATE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value!r}")
        if self.latency < 0 or self.retry_after < 0:
            raise ValueError("latency and retry_after must not be negative")

    def reseed(self, seed: int | None = None) -> None:
        """Restart the RNG (with ``seed``, or the configured seed when omitted)."""
        with self._lock:
            if seed is not None:
                self.seed = seed
            self._rng = random.Random(self.seed)

    def roll(self, rate: float) -> bool:
        """Return True with probability ``rate``."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        with self._lock:
            return self._rng.random() < rate

    def choice(self, options: Sequence[_T]) -> _T:
        """Pick one of ``options`` with the fault RNG."""
        with self._lock:
            return self._rng.choice(options)

    def reorder(self, items: list[_T]) -> list[_T]:
        """``items`` in another order (a copy): shuffled, and never the given order."""
        out = list(items)
        if len(out) < 2:
            return out
        with self._lock:
            self._rng.shuffle(out)
        if all(a is b for a, b in zip(out, items, strict=True)):
            out = out[1:] + out[:1]
        return out

    def clear(self) -> None:
        """Switch every fault off (latency 0, all rates 0, results in request order)."""
        self.latency = 0.0
        self.shuffle_results = False
        for name in _RATE_FIELDS:
            setattr(self, name, 0.0)

    def update(self, **knobs: Any) -> None:
        """Set several knobs at once (unknown names raise ``ValueError``)."""
        allowed = {"latency", "retry_after", "seed", "shuffle_results", *_RATE_FIELDS}
        unknown = set(knobs) - allowed
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(sorted(unknown))}")
        old = self.as_dict()
        for name, value in knobs.items():
            if name == "seed":
                continue
            if name == "shuffle_results":
                if not isinstance(value, bool):
                    raise ValueError(f"shuffle_results must be true or false, got {value!r}")
                self.shuffle_results = value
                continue
            setattr(self, name, float(value))
        try:
            self._check()
        except ValueError:
            for name, value in old.items():
                setattr(self, name, value)
            raise
        if "seed" in knobs:
            self.reseed(None if knobs["seed"] is None else int(knobs["seed"]))

    def as_dict(self) -> dict[str, Any]:
        """Plain dict of the knobs (for the inspection route)."""
        return {
            "latency": self.latency,
            "rate_429": self.rate_429,
            "retry_after": self.retry_after,
            "rate_5xx": self.rate_5xx,
            "rate_drop_before": self.rate_drop_before,
            "rate_drop_after": self.rate_drop_after,
            "shuffle_results": self.shuffle_results,
            "seed": self.seed,
        }
