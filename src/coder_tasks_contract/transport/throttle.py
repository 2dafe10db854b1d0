"""Client-side pacing: a per-route request budget per minute, and reading a 429's Retry-After.

Coder limits each endpoint to 512 requests a minute per client (RATE-1); pacing below that keeps a
default run from being rate limited at all, and Retry-After is honoured when it happens anyway.
"""

from __future__ import annotations

import collections
import email.utils
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone

WINDOW_SECONDS = 60.0


class RateLimiter:
    """At most ``per_minute`` requests in any sliding 60 s window, counted separately for each key.

    ``per_minute=None`` means unlimited (the embedded reference server has no rate limit to respect).
    """

    def __init__(
        self,
        per_minute: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute is not None and per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self.waited = 0.0

    def acquire(self, key: str) -> float:
        """Wait until one more request to ``key`` fits in the window; returns the seconds waited."""
        if self.per_minute is None:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                sent = self._sent[key]
                while sent and now - sent[0] >= WINDOW_SECONDS:
                    sent.popleft()
                if len(sent) < self.per_minute:
                    sent.append(now)
                    self.waited += waited
                    return waited
                delay = WINDOW_SECONDS - (now - sent[0])
            delay = max(delay, 0.01)
            self._sleep(delay)
            waited += delay


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is unreadable
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now or datetime.now(timezone.utc)
    return max((when - current).total_seconds(), 0.0)
