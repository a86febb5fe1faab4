# Benchmarks (see docs/performance.md). Timing numbers need a quiet machine; CI runs only bench-smoke.
PYTHON ?= python

.PHONY: bench bench-smoke

# The service against the naive PyTorch baseline at concurrency 1, 8, 16 and 32; writes the table to the doc.
bench:
	$(PYTHON) -m bench.run --write docs/performance.md

# The same code on a tiny load, to show it still runs; prints numbers that mean nothing.
bench-smoke:
	$(PYTHON) -m bench.run --smoke
