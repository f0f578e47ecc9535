"""The tools a test that changes the host drives. Its opt-in (TANDEM_TEST_SYSTEM=1, which .ci/run
sets on its throwaway machine) stays in the test file itself, where it can be seen."""

import os
import shutil

import pytest

NEEDS_ROOT_AND_TOOLS = [
    pytest.mark.skipif(os.geteuid() != 0, reason="creates a user: needs root (CI runs as root)"),
    pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("useradd") is None,
                       reason="needs tmux and useradd (.ci/run installs tmux)"),
]


@pytest.fixture
def host_to_itself():
    """One such test at a time on the host, whichever pytest worker runs it: they share a system
    user, /etc/shells and sshd, which two at once would take from under each other."""
    import fcntl
    import tempfile
    from pathlib import Path

    with open(Path(tempfile.gettempdir()) / "tandem-tests-on-the-host.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
