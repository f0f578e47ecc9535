"""What a person is told when a background job fails for a reason that is not theirs.

Screens do their database work in worker threads that do not stop the app on an error; without
this, such an error would vanish and the person would wait for nothing. Each screen with workers
mixes this in, so the failure is said in words on the screen that was working.
"""

from __future__ import annotations

from textual.worker import Worker, WorkerState


class ReportsFailures:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            from core.db import (
                describe_failure,  # the database stack loads after the first paint
            )

            self.app.notify(describe_failure(event.worker.error), severity="error", timeout=8)
