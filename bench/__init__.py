"""The provider's benchmark: export speed against the tools users would pick instead, flat memory,
requests under vendor quotas, deferred waits at triggerer scale, import cost.

``make bench`` (its own environment, ``.venv-bench``) runs ``python -m bench`` and writes
``bench/results/bench.json``, ``bench/results/bench.png`` and a table; see ``bench/README.md``.
"""
