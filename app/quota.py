"""Per-key quotas: sentences per second with a burst (a token bucket), and a cap on requests in flight.

The API key guard (``app/api/auth.py``) finds the caller's ``KeyQuota``, takes one of its concurrency
slots and refuses a key whose bucket is empty before the body is read. It makes the quota current for
the request; the service charges the request's sentences with ``charge_current`` once it has counted
them (after segmenting, before inference). Over quota is ``429 quota_exceeded`` with a ``Retry-After``
computed from the bucket, so a throttled client waits as long as the bucket needs to refill.

A request with more sentences than the burst is admitted once the bucket is full and leaves the bucket
in debt: the key's next requests wait until the debt is repaid. The rate holds over time, and no request
is too large to ever pass.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from app.errors import QuotaExceeded
from app.keys import Limits

Clock = Callable[[], float]


class TokenBucket:
    """``burst`` tokens at most, refilled at ``rate`` per second; one token is one sentence."""

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    def wait_s(self, count: float) -> float:
        """Seconds until ``count`` tokens (at most a full bucket) can be taken; 0 means now."""
        needed = min(count, self.burst)
        return max(0.0, (needed - self.tokens) / self.rate)

    def take(self, count: float) -> float:
        """Take ``count`` tokens if ``wait_s(count)`` is 0 (the bucket may go into debt) and return 0;
        otherwise take nothing and return the wait."""
        wait = self.wait_s(count)
        if wait == 0:
            self._tokens -= count
        return wait

    def resize(self, rate: float, burst: float) -> None:
        """New limits from a reloaded keys file; the tokens (or debt) carry over, capped by the burst."""
        self._refill()
        self.rate, self.burst = rate, burst
        self._tokens = min(self._tokens, burst)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


class KeyQuota:
    """One key's limits and what it used, by the key's name; it outlives reloads of the keys file."""

    def __init__(self, name: str, limits: Limits, clock: Clock = time.monotonic) -> None:
        self.name = name
        self._clock = clock
        self.limits = Limits()
        self.bucket: TokenBucket | None = None
        self.in_flight = 0
        self.requests: Counter[str] = Counter()  # by HTTP status
        self.sentences = 0  # charged to the bucket, cache hits included
        self.throttled: Counter[str] = Counter()  # 429 quota_exceeded, by the limit hit
        self.update(limits)

    def update(self, limits: Limits) -> None:
        if limits.rate is None:
            self.bucket = None
        elif self.bucket is None:
            self.bucket = TokenBucket(limits.rate, limits.bucket_size, self._clock)
        else:
            self.bucket.resize(limits.rate, limits.bucket_size)
        self.limits = limits

    def enter(self) -> None:
        """Admit a request before its body is read: a free concurrency slot, and a token left."""
        cap = self.limits.concurrency
        if cap is not None and self.in_flight >= cap:
            self._refuse("concurrency", f"{self.in_flight} requests of this key are in flight", 1.0)
        if self.bucket is not None and (wait := self.bucket.wait_s(1)) > 0:
            self._refuse("rate", "this key has used its sentences for now", wait)
        self.in_flight += 1

    def leave(self) -> None:
        self.in_flight -= 1

    def charge(self, sentences: int) -> None:
        """Take the request's sentences from the bucket, or refuse the request with 429."""
        if self.bucket is not None and (wait := self.bucket.take(sentences)) > 0:
            self._refuse("rate", f"this request has {sentences} sentences", wait)
        self.sentences += sentences

    def _refuse(self, limit: str, why: str, wait_s: float) -> None:
        self.throttled[limit] += 1
        retry_after = max(1, math.ceil(wait_s))
        raise QuotaExceeded(
            f"API key {self.name!r} is over its quota of {self.limits.describe()}: {why}; "
            f"retry after {retry_after} s",
            retry_after_s=retry_after,
        )


_current: ContextVar[KeyQuota | None] = ContextVar("claimsift_key_quota", default=None)


@contextlib.contextmanager
def serving(quota: KeyQuota) -> Iterator[None]:
    """Make ``quota`` the one ``charge_current`` charges while the request runs (this task only)."""
    token = _current.set(quota)
    try:
        yield
    finally:
        _current.reset(token)


def charge_current(sentences: int) -> None:
    """Charge the sentences to the calling request's key; nothing when keys are off."""
    quota = _current.get()
    if quota is not None:
        quota.charge(sentences)
