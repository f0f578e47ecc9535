"""The README's install for staff over SSH, followed by its script as root on this machine, with no
sudo: Tandem in an environment built from uv.lock on the system's Python, its command on every
user's PATH, one shared shop account whose login shell is /bin/sh (each person's key forces their
own command) with an empty authorized_keys, the sshd block printed — and that account, running
`tandem --demo` in tmux at 80x24, gets the console."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import time
import tomllib
import uuid
from pathlib import Path

import pytest

from tests.system import NEEDS_ROOT_AND_TOOLS

ROOT = Path(__file__).resolve().parents[1]
USER = "tandemshop"
HOME = Path(f"/home/{USER}")

pytestmark = [
    # It creates a system user: only where the environment asks for it (.ci/run sets
    # TANDEM_TEST_SYSTEM=1 on its throwaway machine), never merely because it runs as root.
    pytest.mark.skipif(os.environ.get("TANDEM_TEST_SYSTEM") != "1",
                       reason="changes the host's users: set TANDEM_TEST_SYSTEM=1 to run it (.ci/run does)"),
    *NEEDS_ROOT_AND_TOOLS,
]

SSHD_BLOCK = f"""\
Match User {USER}
    DisableForwarding yes
    PermitTTY yes
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    AuthenticationMethods publickey
"""


@pytest.fixture
def install_dir():
    folder = Path(tempfile.mkdtemp(prefix="tandem-install-"))
    folder.chmod(0o755)  # the shop user must reach its command and environment
    subprocess.run(["userdel", "-r", USER], capture_output=True)
    shells = Path("/etc/shells")
    before = shells.read_bytes() if shells.exists() else None
    yield folder
    subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True)  # nothing of the test user outlives it
    subprocess.run(["userdel", "-r", USER], capture_output=True)
    if before is not None and shells.read_bytes() != before:
        shells.write_bytes(before)  # the test fails on it below; the host is put back all the same
    shutil.rmtree(folder, ignore_errors=True)


def locked_versions() -> dict[str, str]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    return {package["name"]: package["version"] for package in lock["package"] if "version" in package}


def as_user(command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["su", "-l", "-s", "/bin/sh", USER, "-c", command], capture_output=True, text=True,
                          timeout=120)


def running_as_user() -> bool:
    return subprocess.run(["pgrep", "-u", USER], capture_output=True).returncode == 0


def screen(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout


def install(install_dir: Path) -> subprocess.CompletedProcess:
    """The script as root, with a `sudo` first on its PATH that only records being called."""
    trap = install_dir / "trap"
    trap.mkdir()
    (trap / "sudo").write_text(f"#!/bin/sh\ntouch '{install_dir}/sudo-was-called'\nexit 1\n")
    (trap / "sudo").chmod(0o755)
    env = {**os.environ, "PATH": f"{trap}:{os.environ['PATH']}",
           "TANDEM_PREFIX": str(install_dir / "opt"), "TANDEM_BIN": str(install_dir / "bin")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "SUDO_USER", "SUDO_UID"):
        env.pop(name, None)
    return subprocess.run([str(ROOT / "scripts/install-for-ssh.sh"), USER], env=env, capture_output=True,
                          text=True, timeout=900)


def test_the_script_needs_no_sudo():
    script = (ROOT / "scripts/install-for-ssh.sh").read_text()
    assert "sudo" not in script
    assert "run it as root" in script


def test_the_shop_account_is_set_up_from_the_lock_and_opens_the_console(install_dir):
    shells_before = Path("/etc/shells").read_bytes()
    done = install(install_dir)
    assert done.returncode == 0, done.stderr
    assert not (install_dir / "sudo-was-called").exists(), "the script called sudo"
    command = install_dir / "bin/tandem"
    venv = install_dir / "opt/venv"
    assert command.resolve() == (venv / "bin/tandem").resolve()
    assert f"{HOME}/" in done.stdout, "where its settings and data are, from `tandem --paths` as the user"

    # Exactly the locked versions, read by the shop user itself; no development tools.
    locked = locked_versions()
    assert "textual" in locked
    lister = install_dir / "versions.py"
    lister.write_text("import importlib.metadata as m, json, re\n"
                      "print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name'].lower()): d.version\n"
                      "                  for d in m.distributions()}))\n")
    lister.chmod(0o644)
    listed = as_user(f"'{venv}/bin/python' '{lister}'")
    assert listed.returncode == 0, listed.stderr
    installed = json.loads(listed.stdout)
    assert installed["textual"] == locked["textual"]
    assert {name: version for name, version in installed.items() if locked.get(name) != version} == {}
    assert "pytest" not in installed and "mutmut" not in installed

    # One shared account: /bin/sh (the forced commands run through it), no password, /etc/shells untouched.
    passwd = subprocess.run(["getent", "passwd", USER], capture_output=True, text=True).stdout.strip().split(":")
    assert passwd[6] == "/bin/sh"
    shadow = subprocess.run(["getent", "shadow", USER], capture_output=True, text=True).stdout.split(":")
    assert shadow[1] == "*", "no password can match, and sshd still takes its keys"
    assert Path("/etc/shells").read_bytes() == shells_before

    # Its keys' file, empty and private, its own.
    uid = int(passwd[2])
    for path, mode in ((HOME / ".ssh", 0o700), (HOME / ".ssh/authorized_keys", 0o600)):
        info = path.stat()
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (mode, uid), path
    assert (HOME / ".ssh/authorized_keys").read_bytes() == b""

    # What the administrator does next.
    assert SSHD_BLOCK in done.stdout
    assert (f"su -s /bin/sh {USER} -c '{command} --add-staff NAME --role owner "
            "--ssh-key /path/to/their_key.pub'") in done.stdout
    assert f"su -s /bin/sh {USER} -c '{command} --set-pin NAME'" in done.stdout

    # The console, as the shop user, at 80x24.
    session = f"install-{uuid.uuid4().hex[:8]}"
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                    f"su -l {USER} -c '{command} --demo'"], check=True)
    try:
        deadline, shown = time.monotonic() + 120, ""
        while time.monotonic() < deadline and not ("products" in shown and "Last sync" in shown):
            time.sleep(0.5)
            shown = screen(session)
        assert "Tandem" in shown and "products" in shown and "Last sync" in shown, shown
        subprocess.run(["tmux", "send-keys", "-t", session, "C-q"], check=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and running_as_user():
            time.sleep(0.5)
        assert not running_as_user(), "ctrl+q ends the session"
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    assert (HOME / ".local/share/tandem/demo.sqlite").exists(), "its own demo database, in its home"


@pytest.mark.skipif(shutil.which("sshd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin") is None,
                    reason="needs OpenSSH's server (sshd) to read the block")
def test_the_printed_sshd_block_is_one_this_sshd_reads_and_applies_to_the_shop_account(tmp_path):
    sshd = shutil.which("sshd", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "host_key")], check=True)
    config = tmp_path / "sshd_config"
    config.write_text(f"HostKey {tmp_path / 'host_key'}\nPasswordAuthentication yes\n\n{SSHD_BLOCK}")

    def effective(user: str) -> str:
        shown = subprocess.run([sshd, "-T", "-f", str(config), "-C", f"user={user},host=till,addr=192.0.2.7"],
                               capture_output=True, text=True)
        assert shown.returncode == 0, shown.stderr
        return shown.stdout

    shop = effective(USER)
    for setting in ("disableforwarding yes", "permittty yes", "passwordauthentication no",
                    "kbdinteractiveauthentication no", "authenticationmethods publickey"):
        assert re.search(rf"^{setting}$", shop, re.MULTILINE), setting
    assert re.search(r"^passwordauthentication yes$", effective("someone-else"), re.MULTILINE)
