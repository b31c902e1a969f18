"""One process of the Tele2 rotation soak: N requests through the connection in the environment.

Prints ``{"failures": int, "requests": int}`` as its last line; every failure's repr goes to stderr.
"""

from __future__ import annotations

import json
import sys
import time


def main(count: int) -> None:
    from airflow_provider_telephony.hooks.tele2 import Tele2AtsHook

    failures = 0
    with Tele2AtsHook() as hook:
        for _ in range(count):
            try:
                hook.get_employees()
            except Exception as exc:  # the soak counts every kind of failure
                failures += 1
                print(repr(exc), file=sys.stderr)
            time.sleep(0.01)
        requests = hook.exchange.stats.requests
    print(json.dumps({"failures": failures, "requests": requests}))


if __name__ == "__main__":
    main(int(sys.argv[1]))
