"""The batcher with the real model underneath: token-budget batches, admission, and every future resolving.

``FaultyBackend`` wraps the real backend only to see the batches it is given (and, for the fault tests,
to fail or stall one on purpose, which cannot be caused from outside).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence

import pytest

from app.batching import Batcher, StageTimes
from app.errors import InferenceFailed, Overloaded
from app.model.types import Backend, Label, LabelSet, Prediction, Tokens, predict_texts
from tests.faulty import FaultyBackend

SENTENCES = [
    "It rained.",
    "The council voted 7-2 on Monday to extend the bus lane on Harbour Road.",
    "Prices rose.",
    "Officials said the work would start in March and cost about four million euros, "
    "with the rest of the money coming from a regional fund that was set up in 2019.",
    "We must act.",
    "The decision is a mistake that will hurt the shops along the road for years.",
]


@pytest.fixture
def batcher(faulty: FaultyBackend) -> Iterator[Batcher]:
    batcher = Batcher(faulty, max_batch=4, max_wait_s=0.0, max_queued=64, token_budget=64)
    batcher.start()
    yield batcher
    faulty.gate.set()
    batcher.stop()


async def test_batches_fit_the_token_budget_and_group_similar_lengths(
    batcher: Batcher, faulty: FaultyBackend, real_backend: Backend
) -> None:
    faulty.gate.clear()  # hold the first batch so that every request below is queued together
    labels = real_backend.default_labels
    first = asyncio.create_task(batcher.submit(["Warm."], labels, False))
    await asyncio.sleep(0.05)
    requests = [batcher.submit(SENTENCES[i::3], labels, False) for i in range(3)]
    tasks = [asyncio.ensure_future(r) for r in requests]
    await asyncio.sleep(0.05)
    faulty.gate.set()
    results = await asyncio.gather(first, *tasks)
    for batch in faulty.batches[1:]:
        tokens = [len(row) for row in real_backend.tokenize(batch)]
        assert len(batch) <= 4
        assert len(batch) == 1 or len(batch) * max(tokens) <= 64
        assert tokens == sorted(tokens)  # length-sorted: short sentences never pad to a long one
    assert sorted(t for batch in faulty.batches[1:] for t in batch) == sorted(SENTENCES)
    assert any(len({SENTENCES.index(t) % 3 for t in batch}) > 1 for batch in faulty.batches[1:])
    # Each request gets its own rows, in its own order, as if its sentences had been sent alone.
    for i, rows in enumerate(results[1:]):
        alone = predict_texts(real_backend, SENTENCES[i::3], labels, False)
        assert [max(range(3), key=r.scores.__getitem__) for r in rows] == [
            max(range(3), key=r.scores.__getitem__) for r in alone
        ]


async def test_label_sets_never_share_a_batch(batcher: Batcher, faulty: FaultyBackend) -> None:
    custom = LabelSet((Label("question", "asks something"), Label("statement", "states something")))
    faulty.gate.clear()
    default = asyncio.ensure_future(batcher.submit(["It rained.", "Why?"], faulty.default_labels, False))
    other = asyncio.ensure_future(batcher.submit(["Is it raining?", "Yes."], custom, False))
    await asyncio.sleep(0.05)
    faulty.gate.set()
    rows_default, rows_custom = await asyncio.gather(default, other)
    assert {len(r.scores) for r in rows_default} == {3} and {len(r.scores) for r in rows_custom} == {2}
    assert sorted(map(sorted, faulty.batches)) == [["Is it raining?", "Yes."], ["It rained.", "Why?"]]


async def test_a_full_queue_refuses_at_once_with_retry_after(batcher: Batcher, faulty: FaultyBackend) -> None:
    labels = faulty.default_labels
    await batcher.submit(SENTENCES, labels, False)  # measures a rate for Retry-After
    faulty.gate.clear()
    # The inference thread takes at most one window (16) of these, so at least 44 stay queued.
    admitted = [asyncio.ensure_future(batcher.submit([f"Row {i}."], labels, False)) for i in range(60)]
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(Overloaded) as refused:
        await batcher.submit([f"Extra {i}." for i in range(30)], labels, False)
    assert time.perf_counter() - started < 0.1
    assert int(refused.value.headers["Retry-After"]) >= 1
    faulty.gate.set()
    assert len(await asyncio.gather(*admitted)) == 60


async def test_a_failed_batch_fails_its_requests_and_the_thread_lives_on(
    batcher: Batcher, faulty: FaultyBackend
) -> None:
    labels = faulty.default_labels
    faulty.poison = "POISON"
    with pytest.raises(InferenceFailed):
        await batcher.submit(["POISON pill.", "Fine words."], labels, False)
    faulty.poison = None
    assert len(await batcher.submit(["Still serving."], labels, False)) == 1


async def test_a_caller_that_left_is_not_computed(batcher: Batcher, faulty: FaultyBackend) -> None:
    labels = faulty.default_labels
    faulty.gate.clear()
    holder = asyncio.ensure_future(batcher.submit(["Hold."], labels, False))
    await asyncio.sleep(0.05)
    left = asyncio.ensure_future(batcher.submit(["Nobody waits for me."], labels, False))
    await asyncio.sleep(0.01)
    left.cancel()
    faulty.gate.set()
    await holder
    await batcher.submit(["After."], labels, False)
    assert all("Nobody waits for me." not in batch for batch in faulty.batches)


async def test_stop_resolves_what_is_still_queued(faulty: FaultyBackend) -> None:
    never_started = Batcher(faulty, max_batch=4, max_wait_s=0.0, max_queued=64)
    waiting = asyncio.ensure_future(never_started.submit(["Queued."], faulty.default_labels, False))
    await asyncio.sleep(0.01)
    never_started.stop(timeout_s=0.1)
    with pytest.raises(Overloaded):
        await asyncio.wait_for(waiting, 5)
    with pytest.raises(Overloaded):
        await never_started.submit(["Too late."], faulty.default_labels, False)


async def test_a_fault_outside_the_model_still_resolves_every_caller(
    batcher: Batcher, real_backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    labels = real_backend.default_labels
    cut = batcher._cut

    def broken_cut(window: list[object]) -> list[object]:
        raise MemoryError("injected: cannot build batches")

    monkeypatch.setattr(batcher, "_cut", broken_cut)
    with pytest.raises(InferenceFailed):
        await asyncio.wait_for(batcher.submit(["It rained."], labels, False), timeout=10)
    monkeypatch.setattr(batcher, "_cut", cut)
    (prediction,) = await asyncio.wait_for(batcher.submit(["It rained."], labels, False), timeout=10)
    assert len(prediction.scores) == 3


class CountingTokens(FaultyBackend):
    """Also records every Tokens object ``tokenize`` hands out, to follow them into ``predict``."""

    def __init__(self, backend: Backend) -> None:
        super().__init__(backend)
        self.handed_out: list[Tokens] = []
        self.predicted: list[Tokens] = []

    def tokenize(self, texts: Sequence[str]) -> list[Tokens]:
        rows = self.inner.tokenize(texts)
        self.handed_out += rows
        return rows

    def predict(self, tokens: Sequence[Tokens], labels: LabelSet, multi_label: bool) -> list[Prediction]:
        self.predicted += tokens
        return super().predict(tokens, labels, multi_label)


async def test_each_sentence_is_tokenized_once_and_the_model_gets_those_tokens(real_backend: Backend) -> None:
    counting = CountingTokens(real_backend)
    batcher = Batcher(counting, max_batch=2, max_wait_s=0.0, max_queued=64, token_budget=64)
    batcher.start()
    try:
        rows = await batcher.submit(SENTENCES, real_backend.default_labels, False)
    finally:
        batcher.stop()
    assert len(rows) == len(SENTENCES)
    assert sorted(row.text for row in counting.handed_out) == sorted(SENTENCES)
    assert sorted(map(id, counting.predicted)) == sorted(map(id, counting.handed_out))


async def test_stage_times_say_where_a_request_waited(batcher: Batcher, faulty: FaultyBackend) -> None:
    labels = faulty.default_labels
    faulty.gate.clear()  # the first request holds the inference thread; the second waits in the queue
    first = asyncio.ensure_future(batcher.submit(["Hold the thread."], labels, False))
    await asyncio.sleep(0)  # let it queue
    while batcher.queued:  # until the inference thread has taken it (and waits at the gate)
        await asyncio.sleep(0.01)
    times = StageTimes()
    second = asyncio.ensure_future(batcher.submit(["Queued behind it."], labels, False, times))
    await asyncio.sleep(0.2)
    faulty.gate.set()
    await asyncio.gather(first, second)
    assert times.queue_s >= 0.15  # it could not be taken while the first batch was held
    assert 0 < times.tokenize_s < times.queue_s
    assert times.inference_s > 0
