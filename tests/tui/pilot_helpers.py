"""Small steps shared by the screen tests."""


async def settle(app, pilot, wait: float = 0.0) -> None:
    """Let background workers finish and their messages reach the screen (and a digit the
    resolver holds, to tell a key from a scan, be read)."""
    from textual.worker import WorkerCancelled, WorkerFailed

    await pilot.pause(wait)
    while getattr(app.screen, "held_digits", ""):
        await pilot.pause(0.02)
    # A worker's message may start another worker (a write's Done reloads the screen): settle
    # again until a pause leaves no worker running, rather than trusting one round to be enough.
    for _round in range(50):
        for _attempt in range(20):
            try:
                await app.workers.wait_for_complete()
                break
            except (WorkerFailed, WorkerCancelled):
                # A worker that failed is reported on screen (tui.failures), which is what tests
                # check; one cancelled was replaced by a newer one of its group (an exclusive
                # worker). Whether either is still pending here depends only on how fast the
                # machine ran it; the others are waited for again.
                continue
        await pilot.pause()
        if all(worker.is_finished for worker in app.workers):
            break


async def settle_until(app, pilot, shown, bound: float = 10.0) -> None:
    """Settle until `shown()` is true: a write's worker posts a message whose handler starts a
    reload worker of its own, which one settle may not see start. Fails after `bound` seconds."""
    import time

    deadline = time.monotonic() + bound
    await settle(app, pilot)
    while not shown():
        assert time.monotonic() < deadline, f"not shown within {bound} s"
        await settle(app, pilot, 0.05)


async def press_and_settle(app, pilot, *keys: str) -> None:
    await settle(app, pilot)
    for key in keys:
        await pilot.press(key)
        await settle(app, pilot)


async def open_sale(app, pilot, order_number: str) -> None:
    """Through the inbox, as staff do: s, / and the order's number, Enter, arrow down to the order
    if the number starts others too, Enter."""
    from tui.screens.inbox import InboxScreen
    from tui.screens.sale import SaleScreen

    await press_and_settle(app, pilot, "s")
    assert isinstance(app.screen, InboxScreen)
    await pilot.press("slash", *order_number.lstrip("#"))
    await press_and_settle(app, pilot, "enter")
    await settle(app, pilot, 0.2)
    keys = [str(r.order_number) for r in app.screen.page.rows]
    for _ in range(keys.index(order_number)):
        await pilot.press("down")
    await press_and_settle(app, pilot, "enter")
    assert isinstance(app.screen, SaleScreen) and app.screen.detail.sale.order_number == order_number


async def back_home(app, pilot) -> None:
    """esc until the home screen, as staff do (a search on screen takes one esc of its own)."""
    from tui.screens.home import HomeScreen

    for _ in range(6):
        if isinstance(app.screen, HomeScreen):
            return
        await press_and_settle(app, pilot, "escape")
    assert isinstance(app.screen, HomeScreen)
