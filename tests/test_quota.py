"""Token buckets and per-key quotas, on a clock the test moves."""

from __future__ import annotations

import pytest

from app.errors import QuotaExceeded
from app.keys import Limits
from app.quota import KeyQuota, TokenBucket, charge_current, serving


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_full_bucket_gives_its_burst_then_refills_at_the_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    assert bucket.take(20) == 0
    assert bucket.take(1) == pytest.approx(0.1)  # one token takes 1/rate seconds to come back
    clock.now += 0.5
    assert bucket.tokens == pytest.approx(5)
    assert bucket.take(6) == pytest.approx(0.1)
    assert bucket.take(5) == 0
    clock.now += 60
    assert bucket.tokens == 20  # never more than the burst


def test_a_request_larger_than_the_burst_passes_on_a_full_bucket_and_leaves_a_debt() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    assert bucket.take(50) == 0
    assert bucket.tokens == -30
    assert bucket.wait_s(1) == pytest.approx(3.1)  # the debt is repaid before the next sentence
    assert bucket.take(50) == pytest.approx(5.0)  # and a big one waits for a full bucket again


def test_new_limits_keep_the_tokens_the_bucket_holds() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10, burst=20, clock=clock)
    bucket.take(15)
    bucket.resize(rate=1, burst=100)
    assert bucket.tokens == 5
    bucket.resize(rate=1, burst=2)
    assert bucket.tokens == 2


def test_the_burst_defaults_to_one_second_of_the_rate() -> None:
    assert Limits(rate=2.5).bucket_size == 3
    assert Limits(rate=0.2).bucket_size == 1
    assert Limits(rate=5, burst=40).bucket_size == 40


def test_over_the_rate_is_429_quota_exceeded_with_the_buckets_wait() -> None:
    clock = Clock()
    quota = KeyQuota("newsroom", Limits(rate=4, burst=8), clock)
    quota.enter()
    quota.charge(8)
    with pytest.raises(QuotaExceeded) as refused:
        quota.charge(6)
    error = refused.value
    assert (error.status, error.code) == (429, "quota_exceeded")
    assert error.headers == {"Retry-After": "2"}  # 6 sentences at 4 per second: 1.5 s, rounded up
    assert "'newsroom' is over its quota of 4 sentences/s (burst 8)" in error.message
    assert quota.sentences == 8 and quota.throttled["rate"] == 1


def test_an_empty_bucket_refuses_before_the_body_is_read() -> None:
    clock = Clock()
    quota = KeyQuota("batch", Limits(rate=2, burst=2), clock)
    quota.enter()
    quota.charge(2)
    quota.leave()
    with pytest.raises(QuotaExceeded, match="used its sentences") as refused:
        quota.enter()
    assert refused.value.headers["Retry-After"] == "1"
    assert quota.in_flight == 0
    clock.now += 0.5
    quota.enter()  # one sentence is back


def test_the_concurrency_cap_counts_requests_in_flight() -> None:
    quota = KeyQuota("crawler", Limits(concurrency=2))
    quota.enter()
    quota.enter()
    with pytest.raises(QuotaExceeded, match="2 requests of this key are in flight"):
        quota.enter()
    assert quota.throttled["concurrency"] == 1
    quota.leave()
    quota.enter()
    assert quota.in_flight == 2


def test_a_key_without_limits_is_never_refused() -> None:
    quota = KeyQuota("legacy", Limits())
    for _ in range(1000):
        quota.enter()
        quota.charge(2048)
    assert quota.sentences == 2048 * 1000 and not quota.throttled


def test_charge_current_charges_the_serving_key_only() -> None:
    quota = KeyQuota("cms", Limits(rate=1, burst=5))
    charge_current(100)  # no key: keys are off, nothing is charged
    with serving(quota):
        charge_current(3)
    charge_current(100)
    assert quota.sentences == 3
