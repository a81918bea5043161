"""`make bench` (issue 10 §9): seeded municipal-scale data, and each hot path measured against a baseline.

benchmarks.data generates the data set-based in SQL, benchmarks.paths holds one measurement per path,
benchmarks.runner times them (interleaved with their baselines) and writes benchmarks/results/latest.json.
"""
