"""Small steps shared by the screen tests."""


async def settle(app, pilot, wait: float = 0.0) -> None:
    """Let background workers finish and their messages reach the screen."""
    await pilot.pause(wait)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def press_and_settle(app, pilot, *keys: str) -> None:
    await settle(app, pilot)
    for key in keys:
        await pilot.press(key)
        await settle(app, pilot)


async def open_sale(app, pilot, order_number: str) -> None:
    """Through the inbox, as staff do: s, type the order's number (the search box takes it with no
    key first), Enter, arrow down to the order if the number starts others too, Enter."""
    from tui.screens.inbox import InboxScreen
    from tui.screens.sale import SaleScreen

    await press_and_settle(app, pilot, "s")
    assert isinstance(app.screen, InboxScreen)
    await pilot.press(*order_number.lstrip("#"))
    await press_and_settle(app, pilot, "enter")
    await settle(app, pilot, 0.2)
    keys = [str(r.order_number) for r in app.screen.page.rows]
    for _ in range(keys.index(order_number)):
        await pilot.press("down")
    await press_and_settle(app, pilot, "enter")
    assert isinstance(app.screen, SaleScreen) and app.screen.detail.sale.order_number == order_number
