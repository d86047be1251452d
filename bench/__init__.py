"""Benchmarks of HallClient and HallServer; each module records its figures beside it."""
