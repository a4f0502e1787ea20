"""The parameters cell of the faulty template of tests/run/test_run_faults.py (modes ok, raise, exit, kill9, sleep, big)."""

from __future__ import annotations


PARAMS = '''mode = "ok"  # ok | raise | exit | kill9 | sleep | big
sleep_s: float = 60  # seconds to sleep in mode sleep
start: "time" = None  # start
end: "time" = None  # end
region = None
profile = None
endpoint_url = None
evidence = None
offline = False'''
