"""Waiting for something a background thread or process does, without betting on its timing:
`until` returns as soon as the condition holds, and the bound is only there so a broken run ends."""

import time


def until(condition, seconds: float = 90.0, step: float = 0.05) -> bool:
    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        if condition():
            return True
        time.sleep(step)
    return condition()
