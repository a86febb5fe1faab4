"""The benchmark: the service against a naive PyTorch baseline, over real HTTP on loopback."""
