"""The order benchmark of mini: wrk through the gateway, with a floor and an audit.

Run it with ``python3 manage_all.py bench`` (or ``.venv/bin/python -m bench``);
see bench/run.py for what it does and docs/performance.md for the method and results.
"""
