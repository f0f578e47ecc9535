"""The marks of a test that changes the host itself (it creates a system user): it runs only where
the environment asks for it (.ci/run sets TANDEM_TEST_SYSTEM=1 on its throwaway machine), never
merely because it runs as root, and only with the tools it drives."""

import os
import shutil

import pytest

SYSTEM_TEST = [
    pytest.mark.skipif(os.environ.get("TANDEM_TEST_SYSTEM") != "1",
                       reason="changes the host's users: set TANDEM_TEST_SYSTEM=1 to run it (.ci/run does)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="creates a user: needs root (CI runs as root)"),
    pytest.mark.skipif(shutil.which("tmux") is None or shutil.which("useradd") is None,
                       reason="needs tmux and useradd (.ci/run installs tmux)"),
]
