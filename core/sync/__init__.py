"""The sync as a pipeline (`tandem --sync`): each module is one stage, and `runner` calls them in
order for each channel, committing each stage's work before its cursor or mark moves.

    listings  the store's products and variants, stored as web listings
    matching  web listings (and then sale lines) to shop products, by the SPEC's rules
    orders    the store's orders since the cursor, stored as web sales
    settle    holds fallen due, sale states, stock committed, released or sold, once per line
    export    quantities and prices to the store, batched, marks moved per accepted batch

Stages never call one another; only the runner sequences them. The runner's names (run_sync,
SyncOptions, ...) are importable from here; they load on first use so that a stage can be used
alone without the runner.
"""

from __future__ import annotations

RUNNER_NAMES = ("run_sync", "sync_channel", "import_orders", "SyncOptions", "SyncReport", "ChannelResult",
                "SyncBusy", "sync_lock", "export_due", "apply_channel_settings", "ORDERS_CURSOR", "EXPORTED_ON",
                "EXIT_OK", "EXIT_FAILED", "EXIT_CONFIG", "EXIT_BUSY")


def __getattr__(name: str):
    if name in RUNNER_NAMES:
        from core.sync import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'core.sync' has no attribute {name!r}")
