"""Side-by-side benchmarks of safercities against the peer library a user would otherwise pick.

Run ``python -m bench --sizes S M`` (``make bench``) or ``--sizes L`` (``make bench-large``).
See ``../shared/BENCHMARKS.md`` for the cases, the goals and how to measure.
"""
