"""When to retry and how long to wait: exponential backoff with full jitter, floored by Retry-After."""

from __future__ import annotations

import email.utils
import random
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from claimsift_client.errors import RETRY_STATUSES


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry 429/503 answers and connection failures."""

    attempts: int = 4  # tries in all, the first included
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0  # cap of the exponential backoff
    max_retry_after_s: float = 120.0  # the longest server-requested wait this client accepts

    def delay(self, attempt: int, retry_after_s: float | None) -> float:
        """Seconds to wait before try ``attempt + 1`` (``attempt`` counts from 1)."""
        # Full jitter spreads clients that failed together; Retry-After is the server's floor.
        backoff = random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))
        return max(backoff, min(retry_after_s or 0.0, self.max_retry_after_s))


def should_retry(response: httpx.Response) -> bool:
    return response.status_code in RETRY_STATUSES


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds: either delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
