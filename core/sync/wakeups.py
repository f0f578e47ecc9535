"""What webhooks ask of the watcher between two of its rounds.

A webhook is a reason to read one store's orders sooner than its next poll, and each read spends
that store's API allowance. So deliveries only mark their store: however many name it before the
next round, the round reads it once. And a store's bucket of early reads refills at
WEBHOOK_READS_PER_MINUTE: a webhook finding it empty wakes nothing, since the regular poll (every
2 seconds) reads every store anyway — a flood of deliveries, replayed or from a leaked secret,
costs at most that many reads a minute on top of the polls, and never an order.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

# Thirty a minute is the poll's own pace: webhooks can at most double what a store is asked, and a
# shop's busiest minute rarely brings more orders than that (the others come with the next poll).
WEBHOOK_READS_PER_MINUTE = 30.0
WEBHOOK_READS_AT_ONCE = 5  # a few orders placed together each still come in at once


class TokenBucket:
    def __init__(self, per_minute: float, at_once: int, clock=time.monotonic):
        self.per_second, self.capacity, self.clock = per_minute / 60.0, float(at_once), clock
        self.tokens, self.filled_at = float(at_once), clock()

    def take(self) -> bool:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.filled_at) * self.per_second)
        self.filled_at = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


@dataclass
class Marks:
    """Taken by a round: the stores to read early, and when each store's last webhook came."""
    read_now: set[str] = field(default_factory=set)
    heard_at: dict[str, datetime] = field(default_factory=dict)


class WakeUps:
    def __init__(self, per_minute: float = WEBHOOK_READS_PER_MINUTE, at_once: int = WEBHOOK_READS_AT_ONCE,
                 clock=time.monotonic):
        self.wake = threading.Event()
        self._per_minute, self._at_once, self._clock = per_minute, at_once, clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()
        self._marks = Marks()
        self.dropped = 0  # wake-ups left to the next poll because the store's bucket was empty

    def mark(self, channel: str, at: datetime) -> bool:
        """A delivery taken for `channel`; True when it wakes the watcher. Called from the listener's
        thread: only memory is touched here, the round does the rest."""
        with self._lock:
            self._marks.heard_at[channel] = at
            if channel in self._marks.read_now:
                return False  # the next round reads this store already: one read for all of them
            bucket = self._buckets.get(channel)
            if bucket is None:
                bucket = self._buckets[channel] = TokenBucket(self._per_minute, self._at_once, self._clock)
            if not bucket.take():
                self.dropped += 1
                return False
            self._marks.read_now.add(channel)
        self.wake.set()
        return True

    def take(self) -> Marks:
        """What was marked since the last call, cleared: a delivery after this wakes the next round."""
        with self._lock:
            marks, self._marks = self._marks, Marks()
        return marks
