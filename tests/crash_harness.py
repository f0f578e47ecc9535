"""Runs `tandem --sync` and kills it with SIGKILL at one chosen step of its own work.

    python -m tests.crash_harness TARGET NTH before|after -- tandem arguments...
    python -m tests.crash_harness --count FILE -- tandem arguments...
    python -m tests.crash_harness --within TARGET NTH SECONDS -- tandem arguments...

TARGET names a function the sync calls, as `module:attribute` (`core.sync.runner:store_orders`,
`core.connectors.shopify:ShopifyConnector.set_stock`). The process kills itself on the NTH call,
just before the call or just after it returns, so the crash lands exactly between two steps
(inside an open transaction, after the store accepted a batch but before its mark, ...).
With `--count`, nothing is killed: the number of calls of every target is written to FILE, which
is how the crash test learns the steps a clean run goes through. Only the test suite uses this;
the product has no crash hooks of its own.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import os
import signal
import sys
import threading
from collections import Counter

TARGETS = (
    "core.sync.runner:store_listings",
    "core.sync.runner:match_channel",
    "core.sync.runner:store_orders",
    "core.sync.runner:_save_cursor",
    "core.sync.runner:settle_sales",
    "core.sync.export:_mark",
    "core.connectors.shopify:ShopifyConnector.set_stock",
    "core.connectors.shopify:ShopifyConnector.set_prices",
    "core.connectors.woocommerce:WooCommerceConnector.set_stock",
    "core.connectors.woocommerce:WooCommerceConnector.set_prices",
    "core.connectors.http:StoreClient.request",
)


def _owner_and_name(target: str):
    module_name, _, path = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    return owner, name


def _wrap(target: str, on_call) -> None:
    owner, name = _owner_and_name(target)
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        on_call(target, "before")
        result = original(*args, **kwargs)
        on_call(target, "after")
        return result

    setattr(owner, name, wrapper)


def _small_pages() -> None:
    """Shopify's pages and requests as small as they once were (4 orders a page, one stock call of
    250 a request), so the test's small store still gives a crash many places to land between."""
    from core.connectors import shopify

    shopify.ORDER_PAGE = 4
    shopify.ShopifyConnector.stock_batch_size = shopify.STOCK_BATCH


def main(argv: list[str]) -> int:
    _small_pages()
    separator = argv.index("--")
    options, tandem_args = argv[:separator], argv[separator + 1:]
    calls: Counter[str] = Counter()
    if options[0] == "--count":
        count_file = options[1]
        atexit.register(lambda: open(count_file, "w").write(json.dumps(calls)))

        def on_call(target, moment):
            if moment == "before":
                calls[target] += 1
        for target in TARGETS:
            _wrap(target, on_call)
    elif options[0] == "--within":
        # A moment inside a call rather than between two: a timer started on the NTH call of TARGET
        # kills the process SECONDS later, mid-request or wherever the work has got to by then.
        # Due after the run's last step, it fires as the process exits: a kill is never missed.
        chosen, nth, delay = options[1], int(options[2]), float(options[3])
        timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGKILL))
        timer.daemon = True
        atexit.register(lambda: timer.join() if timer.is_alive() else None)

        def on_call(target, moment):
            calls[target] += moment == "before"
            if moment == "before" and calls[target] == nth:
                timer.start()
        _wrap(chosen, on_call)
    else:
        chosen, nth, when = options[0], int(options[1]), options[2]

        def on_call(target, moment):
            if moment == "before":
                calls[target] += 1
            if moment == when and calls[target] == nth:
                os.kill(os.getpid(), signal.SIGKILL)
        _wrap(chosen, on_call)

    from cli import main as tandem

    return tandem(tandem_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
