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
