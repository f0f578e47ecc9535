"""Regenerate screenshots/: every screen, from the demo shop, at 80x24 and at 120x36 in English,
and at 80x24 in French (name-fr.svg).

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
from core.i18n import set_language  # noqa: E402
from core.demo import create_demo_database  # noqa: E402
from core.shoptime import set_shop_zone  # noqa: E402
from tui.app import TandemApp  # noqa: E402

# suffix -> (language, size)
VARIANTS = {"": ("en", (80, 24)), "-wide": ("en", (120, 36)), "-fr": ("fr", (80, 24))}
# name -> keys pressed from the home screen to reach it
SCREENS = {
    "home": [], "inbox": ["s"], "sale": ["s", "enter"], "pickup-checks": ["s", "PICKUP", "enter", "p", "1"],
    "resolver": ["m"], "resolver-why": ["m", "w"], "catalog": ["c"], "inbox-search": ["s", "slash", *"maya", "enter"],
    "returns": ["t", "COMPLETED", "enter", "enter", "plus"], "accounts": ["a"],
    "help": ["f1"], "customer": ["s", "enter", "l", *"ana"],
    "locations": ["l"], "supplier": ["f"], "supplier-document": ["f", "n"], "syncs": ["h"],
    "tax-rate": ["t", "COMPLETED", "enter", "enter", "plus", "t"], "cancel": ["s", "enter", "x"],
    "first-run": [],  # the home screen of a shop not set up yet
    "home-live": [],  # the home screen while the demo's watcher runs and a customer has ordered
    "sale-hostile": ["s", "enter"],  # a sale whose customer typed markup and terminal sequences
    "staff": ["p"],  # the owner's list of staff
    "approval": ["s", "enter", "x"],  # a cashier cancelling: a manager's name and PIN first
    "gift-card": ["s", "GIFT", "enter", "g"],  # a gift card's number asked for at the counter
    "prompt": ["l", "a"],  # a one-line question (here: a new location's name)
    "palette": ["ctrl+p"],  # every command by name
    "capture-failed": ["s", "enter"],  # a pickup whose card payment the web store refused to capture
    "rules": ["w"],  # the web stores' rules
    "rule": ["w", "a"],  # a rule being added: what it moves, before Enter
    "product-web": ["c", *"NW000058", "enter", "w"],  # one product: shop → rule → store
    "sale-held-back": ["s", "enter"],  # an order for units a rule holds back, waiting for a manager
}
RULED = ("rules", "rule", "product-web", "sale-held-back")  # pictured on the demo shop with rules
CASHIER = "cara"  # who is at the counter in the approval picture
# What a hostile customer typed into the checkout form: shown as written, nothing run or styled.
HOSTILE_NAME = "[@click=app.quit]Quit[/] [b red]Mallory\x1b[2J\x1b]52;c;cHduZWQ=\x07"
HOSTILE_TITLE = "[link=https://evil.example/]Free helmet[/link] \u202eteltaH"


def _altered_copy(url: str, tmp: Path, name: str, statements: list[tuple[str, dict]]):
    """A copy of the demo shop with `statements` run on its newest open sale (`:id`)."""
    import shutil

    from sqlalchemy import text

    from core.inbox import inbox

    copy = Path(tmp) / f"{name}.sqlite"
    shutil.copy(url.removeprefix("sqlite:///"), copy)
    engine = open_database(f"sqlite:///{copy}")
    newest = inbox(engine).rows[0].sale_id
    with engine.begin() as conn:
        for statement, values in statements:
            conn.execute(text(statement), {**values, "id": newest})
    return engine


def _capture_failed_copy(url: str, tmp: Path, language: str):
    """The newest open sale's payment could not be captured at pickup."""
    return _altered_copy(url, tmp, f"capture-failed-{language}", [
        ("UPDATE websale SET state = 'capture_failed', capture_error = :why WHERE id = :id",
         {"why": "the card issuer declined the capture (insufficient funds)"})])


def _hostile_copy(url: str, tmp: Path, language: str):
    """The newest open sale came from a hostile customer."""
    return _altered_copy(url, tmp, f"hostile-{language}", [
        ("UPDATE websale SET customer_name = :name, customer_email = :email WHERE id = :id",
         {"name": HOSTILE_NAME, "email": "[b]x@example.com[/b]\x1b]0;title\x07"}),
        ("UPDATE websaleline SET title = :title WHERE id = (SELECT min(id) FROM websaleline WHERE sale_id = :id)",
         {"title": HOSTILE_TITLE})])


def _ruled_copy(url: str, tmp: Path, language: str):
    """The demo shop with the rules shops ask for most, and its newest sale held back by one."""
    from decimal import Decimal

    from core.audit import Actor
    from core.i18n import _
    from core.models import RuleKind, RuleScope
    from core.rules import Rule, save_rule

    engine = _altered_copy(url, tmp, f"ruled-{language}", [
        ("UPDATE websale SET held_back_reason = :why WHERE id = :id",
         {"why": _("{sku}: {quantity} ordered, {free} free for the web after {held} held back ({rule})").format(
             sku="RL000067", quantity=1, free=0, held=2, rule=_("keep {units} back").format(units=2) + " · "
             + _("brand {target}").format(target="Ridgeline"))})])
    manager = Actor("max", role="manager")
    for channel in ("Demo web store", "Demo WooCommerce"):
        for rule in (Rule(RuleKind.SAFETY_STOCK, RuleScope.BRAND, "Ridgeline", units=2),
                     Rule(RuleKind.IN_STORE_ONLY, RuleScope.BRAND, "Alpenrad", above_price=Decimal("1500")),
                     Rule(RuleKind.IN_STORE_ONLY, RuleScope.BRAND, "Lumen Lights"),
                     Rule(RuleKind.PRICE, RuleScope.CHANNEL, percent=Decimal("-5"), ending=".99"),
                     Rule(RuleKind.PRICE_FLOOR, RuleScope.BRAND, "Northwind Cycles", percent=Decimal("90"))):
            save_rule(engine, channel, rule, manager)
    return engine


def _live_demo(engine):
    """The demo alive until one customer's order is in and sent on: a watcher and the customers."""
    import time

    from core.demo_live import LiveDemo
    from core.watch_status import watch_status

    live = LiveDemo(engine, first_order_after=(0.5, 1.0), between_orders=(3600.0, 3600.0)).start()
    ends = time.monotonic() + 60
    while time.monotonic() < ends and not any(c.order_at for c in watch_status(engine).channels):
        time.sleep(0.2)
    time.sleep(1.0)
    return live


def _hire(engine) -> None:
    """The pictured shop's staff: its owner, a manager and a cashier (the demo itself has none,
    so that it opens without anyone signing in)."""
    from core.audit import Actor
    from core.staff import add_staff

    owner = Actor("olga", role="owner")
    add_staff(engine, "olga", "owner", Actor("root"))
    add_staff(engine, "max", "manager", owner)
    add_staff(engine, CASHIER, "cashier", owner)


async def shoot(engine, name: str, keys: list[str], size: tuple[int, int], suffix: str) -> Path:
    live = _live_demo(engine) if name == "home-live" else None
    try:
        return await _shoot(engine, name, keys, size, suffix)
    finally:
        if live is not None:
            live.stop()


async def _shoot(engine, name: str, keys: list[str], size: tuple[int, int], suffix: str) -> Path:
    from core.audit import Actor

    person = Actor(CASHIER, role="cashier") if name == "approval" else None
    app = TandemApp(engine, demo=name != "first-run", person=person)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        for key in keys:
            if key == "COMPLETED":  # the order number of a completed demo sale
                from core.inbox import inbox

                rows = inbox(engine, history=True).rows
                await pilot.press(*next(r for r in rows if r.state == "completed").order_number)
                continue
            if key == "GIFT":  # down the inbox to the first sale with a gift card to issue
                rows = pilot.app.screen.page.rows
                await pilot.press(*["down"] * next(i for i, r in enumerate(rows) if r.state == "gift_card_to_issue"))
                continue
            if key == "PICKUP":  # down the inbox to the first sale picked up at the counter
                rows = pilot.app.screen.page.rows
                await pilot.press(*["down"] * next(i for i, r in enumerate(rows) if r.state == "ready" and not r.shipping))
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
        for language in ("en", "fr"):
            # The demo shop is built in the language it is shown in: what the sync writes for
            # people (a hold's reason, say) is in the shop's language.
            set_language(language)
            url = f"sqlite:///{Path(tmp) / f'demo-{language}.sqlite'}"
            create_demo_database(url)
            engine = open_database(url)
            _hire(engine)
            empty = open_database(f"sqlite:///{Path(tmp) / f'empty-{language}.sqlite'}")
            hostile = _hostile_copy(url, Path(tmp), language)
            declined = _capture_failed_copy(url, Path(tmp), language)
            ruled = _ruled_copy(url, Path(tmp), language)
            for name, keys in SCREENS.items():
                for suffix, (spoken, size) in VARIANTS.items():
                    if spoken == language:
                        used = {"first-run": empty, "sale-hostile": hostile,
                                "capture-failed": declined}.get(name, ruled if name in RULED else engine)
                        print(await shoot(used, name, keys, size, suffix))
            engine.dispose()
            empty.dispose()
            hostile.dispose()
            declined.dispose()
            ruled.dispose()


if __name__ == "__main__":
    asyncio.run(main())
