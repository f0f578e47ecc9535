"""What a test that changes the host (a system user, sshd) needs before it runs. The opt-in comes
from the environment — TANDEM_TEST_SYSTEM=1, which .ci/run sets on its throwaway machine — and
stands here as well as in each such test file; running as root is no opt-in."""

import os
import shutil

import pytest

OPTED_IN = os.environ.get("TANDEM_TEST_SYSTEM") == "1"

NEEDS_ROOT_AND_TOOLS = [
    pytest.mark.skipif(not OPTED_IN, reason="changes the host's users: set TANDEM_TEST_SYSTEM=1 to run it (.ci/run does)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="creates a user: needs root (CI runs as root)"),
    pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("useradd") is None,
                       reason="needs tmux and useradd (.ci/run installs tmux)"),
]


@pytest.fixture
def host_to_itself():
    """One such test at a time on the host, whichever pytest worker runs it: they share a system
    user, /etc/shells and sshd, which two at once would take from under each other."""
    if not OPTED_IN:
        pytest.skip("changes the host's users: set TANDEM_TEST_SYSTEM=1 to run it (.ci/run does)")
    import fcntl
    import tempfile
    from pathlib import Path

    with open(Path(tempfile.gettempdir()) / "tandem-tests-on-the-host.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
