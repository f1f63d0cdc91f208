"""Benchmarks: each figure of issue 7 against its baseline, measured in the same run.

Run ``python -m benchmarks`` (see ``benchmarks/__main__.py``); the README's
"Performance" section has the table of the last full run.
"""
