"""The API keys in force, with their quotas: read at start, re-read when the keys file changes or on SIGHUP.

The file's format is ``app/keys.py``; keys in ``CLAIMSIFT_API_KEYS`` are bare (no quota). The file is
checked every ``POLL_S`` and re-read once a change has settled (an editor may write it in two steps), so
a change applies within about half a second; ``SIGHUP`` re-reads it at once. A file that cannot be read
or parsed leaves the keys in force unchanged and logs why (line numbers, never a key). A request holds
the key it was admitted with until it finishes; the next request sees the new keys. Quota state is kept
by name, so a key rotated under the same name keeps its bucket.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import signal
import threading
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.keys import ApiKeyConfigError, KeyEntry, parse_env_keys, read_keys_file, unique_keys
from app.quota import KeyQuota
from app.settings import Settings

log = logging.getLogger(__name__)

POLL_S = 0.25

FileSignature = tuple[int, int, int] | None  # mtime (ns), size, inode; None when the file is missing


class KeyRing:
    """The keys in force and every key's quota; ``match`` finds a presented key's quota."""

    def __init__(self, settings: Settings) -> None:
        self._env = parse_env_keys(settings.api_keys.get_secret_value())
        self._path = settings.api_keys_file
        self.quotas: dict[str, KeyQuota] = {}  # every name ever in force, so counters never go back
        self.reloads: Counter[str] = Counter()
        self._keys: list[tuple[bytes, KeyQuota]] = []
        self._seen = self._loaded = self._signature()
        self._watcher: asyncio.Task[None] | None = None
        self._install(settings.api_key_entries())

    @property
    def enabled(self) -> bool:
        return bool(self._keys)

    @property
    def names(self) -> list[str]:
        return [quota.name for _, quota in self._keys]

    def match(self, presented: bytes) -> KeyQuota | None:
        """The quota of the key with this digest; every key is compared, without early exit."""
        found = None
        for known, quota in self._keys:
            if hmac.compare_digest(presented, known):
                found = quota
        return found

    def reload(self, why: str) -> bool:
        """Re-read the keys file; on any problem keep the keys in force and log why."""
        self._loaded = self._signature()
        before = set(self.names)
        try:
            entries = unique_keys(self._env + self._read_file())
        except ApiKeyConfigError as exc:
            self.reloads["failed"] += 1
            log.error("keys file not reloaded (%s); the %d keys in force stay: %s", why, len(before), exc)
            return False
        self._install(entries)
        self.reloads["ok"] += 1
        after = set(self.names)
        log.info(
            "keys file reloaded (%s): %d keys; added %s; removed %s",
            why,
            len(after),
            ", ".join(sorted(after - before)) or "none",
            ", ".join(sorted(before - after)) or "none",
        )
        return True

    def start(self) -> None:
        """Watch the keys file and re-read it on SIGHUP; call on the running event loop."""
        if self._path is None:
            return
        loop = asyncio.get_running_loop()
        self._watcher = loop.create_task(self._watch())
        if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():
            loop.add_signal_handler(signal.SIGHUP, self.reload, "SIGHUP")

    async def stop(self) -> None:
        if self._watcher is None:
            return
        self._watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._watcher
        self._watcher = None
        if hasattr(signal, "SIGHUP") and threading.current_thread() is threading.main_thread():
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(POLL_S)
            signature = self._signature()
            if signature != self._seen:
                self._seen = signature  # changed: read it once it has stayed the same for one poll
            elif signature != self._loaded:
                self.reload("file changed")

    def _install(self, entries: list[KeyEntry]) -> None:
        keys = []
        for entry in entries:
            quota = self.quotas.get(entry.name)
            if quota is None:
                quota = self.quotas[entry.name] = KeyQuota(entry.name, entry.limits)
            else:
                quota.update(entry.limits)
            keys.append((entry.digest, quota))
        self._keys = keys  # one assignment: a request sees the old set or the new one, never a mix

    def _read_file(self) -> list[KeyEntry]:
        return [] if self._path is None else read_keys_file(self._path)

    def _signature(self) -> FileSignature:
        if self._path is None:
            return None
        try:
            stat = os.stat(self._path)  # follows symlinks: a Kubernetes secret update swaps one
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size, stat.st_ino


class KeyMetrics(Collector):
    """Per-key counters by the key's name, read from the quotas when Prometheus scrapes."""

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring

    def collect(self) -> Iterator[Metric]:
        quotas = list(self._ring.quotas.values())
        requests = CounterMetricFamily(
            "claimsift_key_requests", "Requests by API key name and status.", labels=["key", "status"]
        )
        sentences = CounterMetricFamily(
            "claimsift_key_sentences",
            "Sentences charged to each API key (cache hits included).",
            labels=["key"],
        )
        throttled = CounterMetricFamily(
            "claimsift_key_throttled",
            "Requests refused with 429 quota_exceeded, by key and the limit hit (rate, concurrency).",
            labels=["key", "limit"],
        )
        in_flight = GaugeMetricFamily(
            "claimsift_key_requests_in_flight", "Requests being served, by API key name.", labels=["key"]
        )
        for quota in quotas:
            for status, count in sorted(quota.requests.items()):
                requests.add_metric([quota.name, status], count)
            sentences.add_metric([quota.name], quota.sentences)
            for limit in ("rate", "concurrency"):
                throttled.add_metric([quota.name, limit], quota.throttled[limit])
            in_flight.add_metric([quota.name], quota.in_flight)
        reloads = CounterMetricFamily(
            "claimsift_key_reloads", "Re-reads of the keys file by result (ok, failed).", labels=["result"]
        )
        for result in ("ok", "failed"):
            reloads.add_metric([result], self._ring.reloads[result])
        yield from (requests, sentences, throttled, in_flight, reloads)
        yield GaugeMetricFamily("claimsift_api_keys", "API keys in force.", value=len(self._ring.names))
