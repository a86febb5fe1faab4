# Benchmarks (see docs/performance.md). Timing numbers need a quiet machine; CI runs only bench-smoke.
PYTHON ?= python

.PHONY: bench bench-smoke

# The service against the naive PyTorch baseline at concurrency 1, 8, 16 and 32, the default model and the
# large one (prepared first, as `claimsift prepare` does); writes the table to the doc.
bench:
	CLAIMSIFT_ADAPTED_MODEL=claimsift-news-large $(PYTHON) -m app prepare
	$(PYTHON) -m bench.run --other-model claimsift-news-large --write docs/performance.md

# The same code on a tiny load, to show it still runs; prints numbers that mean nothing.
bench-smoke:
	$(PYTHON) -m bench.run --smoke
