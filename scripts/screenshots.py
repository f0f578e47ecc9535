"""Regenerate screenshots/: every screen, from the demo shop, at 80x24 and at 120x36.

    uv run python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cli import DEMO_TIME_ZONE  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import create_demo_database  # noqa: E402
from core.shoptime import set_shop_zone  # noqa: E402
from tui.app import TandemApp  # noqa: E402

SIZES = {"": (80, 24), "-wide": (120, 36)}
# name -> keys pressed from the home screen to reach it
SCREENS = {
    "home": [], "inbox": ["s"], "sale": ["s", "enter"], "pickup-checks": ["s", "PICKUP", "enter", "p", "1"],
    "resolver": ["m"], "resolver-why": ["m", "w"], "catalog": ["c"], "inbox-search": ["s", "slash", *"maya", "enter"],
    "returns": ["t", "COMPLETED", "enter", "enter", "plus"], "accounts": ["a"],
    "help-en": ["f1"], "help-fr": ["f1", "f2"], "customer": ["s", "enter", "l", *"ana"],
    "locations": ["l"], "supplier": ["f"], "supplier-document": ["f", "n"], "syncs": ["h"],
    "tax-rate": ["t", "COMPLETED", "enter", "enter", "plus", "t"], "cancel": ["s", "enter", "x"],
    "first-run": [],  # the home screen of a shop not set up yet
}


async def shoot(engine, name: str, keys: list[str], size: tuple[int, int], suffix: str) -> Path:
    app = TandemApp(engine, demo=name != "first-run")
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for key in keys:
            if key == "COMPLETED":  # the order number of a completed demo sale
                from core.inbox import inbox

                rows = inbox(engine, history=True).rows
                await pilot.press(*next(r for r in rows if r.state == "completed").order_number)
                continue
            if key == "PICKUP":  # down the inbox to the first sale picked up at the counter
                rows = pilot.app.screen.page.rows
                await pilot.press(*["down"] * next(i for i, r in enumerate(rows) if r.status == "ready for pickup"))
                continue
            await pilot.press(key)
            await pilot.pause()
            await app.workers.wait_for_complete()
        await pilot.pause()
        path = ROOT / "screenshots" / f"{name}{suffix}.svg"
        app.save_screenshot(filename=path.name, path=str(path.parent))
    return path


async def main() -> None:
    set_shop_zone(DEMO_TIME_ZONE)
    (ROOT / "screenshots").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'demo.sqlite'}"
        create_demo_database(url)
        engine = open_database(url)
        empty = open_database(f"sqlite:///{Path(tmp) / 'empty.sqlite'}")
        for name, keys in SCREENS.items():
            for suffix, size in SIZES.items():
                print(await shoot(empty if name == "first-run" else engine, name, keys, size, suffix))
        engine.dispose()
        empty.dispose()


if __name__ == "__main__":
    asyncio.run(main())
