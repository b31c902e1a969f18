"""Benchmarks of the export path against bare HTTP loops on the same local sandbox.

``python -m bench`` (or ``make bench``) runs them and writes ``bench/results/*.json``; see
``bench/README.md`` for what is measured and how to read the table.
"""
