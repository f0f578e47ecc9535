"""The README's install for staff over SSH, followed by its script as root on this machine, with no
sudo: Tandem in an environment built from uv.lock on the system's Python, its command on every
user's PATH, one shared shop account whose login shell is /bin/sh (each person's key forces their
own command) with an empty authorized_keys, the sshd block printed — and that account, running
`tandem --demo` in tmux at 80x24, gets the console. Then the service it sets up: system units
that systemd accepts and the README shows word for word, a cron file whose lines run as cron runs
them, an upgrade that installs the new clone's code, and the uninstall that keeps the shop's data
unless told to purge it."""

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

from tests.system import NEEDS_ROOT_AND_TOOLS, host_to_itself  # noqa: F401 - the fixture

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


@pytest.fixture(autouse=True)
def _one_at_a_time_on_the_host(host_to_itself):
    """Before any other fixture touches the host's users."""


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


def install(install_dir: Path, *options: str, user: str = USER, clone: Path = ROOT,
            extras: str | None = None) -> subprocess.CompletedProcess:
    """The script as root, with a `sudo` first on its PATH that only records being called, and a
    `systemctl` that only records its arguments: where systemd runs, the host's own units are
    never touched. Units and cron file go to folders of the test's."""
    trap = install_dir / "trap"
    if not trap.exists():
        trap.mkdir()
        (trap / "sudo").write_text(f"#!/bin/sh\ntouch '{install_dir}/sudo-was-called'\nexit 1\n")
        (trap / "systemctl").write_text(f"#!/bin/sh\necho \"$*\" >> '{install_dir}/systemctl-calls'\n")
        for tool in trap.iterdir():
            tool.chmod(0o755)
    env = {**os.environ, "PATH": f"{trap}:{os.environ['PATH']}",
           "TANDEM_PREFIX": str(install_dir / "opt"), "TANDEM_BIN": str(install_dir / "bin"),
           "TANDEM_UNIT_DIR": str(install_dir / "units"), "TANDEM_CRON_DIR": str(install_dir / "cron.d")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "SUDO_USER", "SUDO_UID", "TANDEM_EXTRAS"):
        env.pop(name, None)
    if extras is not None:
        env["TANDEM_EXTRAS"] = extras
    return subprocess.run([str(clone / "scripts/install-for-ssh.sh"), *options, user], env=env, capture_output=True,
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


SYSTEMD_RUNS = Path("/run/systemd/system").is_dir()  # the script's own test for calling systemctl


def unit_folder(install_dir: Path) -> set[str]:
    folder = install_dir / "units"
    return {path.name for path in folder.iterdir()} if folder.exists() else set()


def settings_of(unit: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def readme_blocks() -> list[tuple[str, str]]:
    """Every fenced block of the README, as (language, text), list items' indentation removed."""
    blocks = []
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for found in re.finditer(r"^( *)```(\w*)\n(.*?)^\1```", readme, re.MULTILINE | re.DOTALL):
        indent = found.group(1)
        lines = found.group(3).splitlines(keepends=True)
        blocks.append((found.group(2), "".join(line.removeprefix(indent) if line.strip() else line.lstrip(" ")
                                               for line in lines)))
    return blocks


def as_the_readme_shows(written: Path, install_dir: Path) -> str:
    """The file as the script writes it for the README's account `shop` and its default paths."""
    return (written.read_text().replace(str(install_dir / "bin"), "/usr/local/bin")
            .replace(str(HOME), "/home/shop").replace(USER, "shop"))


def systemd_accepts(install_dir: Path, names: set[str]) -> None:
    """`systemd-analyze verify` reads unit files without a running systemd; it also checks that
    the user exists and that ExecStart= names a program it may run."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        return  # the settings are checked one by one all the same
    verified = subprocess.run([tool, "verify", *sorted(str(install_dir / "units" / name) for name in names)],
                              capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stderr
    assert "tandem-" not in verified.stderr, verified.stderr  # unknown keys are only warned about


def started_or_explained(done: subprocess.CompletedProcess, install_dir: Path, units: str) -> None:
    calls = install_dir / "systemctl-calls"
    asked = calls.read_text() if calls.exists() else ""
    if SYSTEMD_RUNS:
        assert f"enable {units}\n" in asked and f"restart {units}\n" in asked, asked
    else:
        assert asked == "", "systemctl asked of a systemd that is not running"
        assert f"systemctl daemon-reload && systemctl enable --now {units}" in done.stdout


def test_each_service_is_units_systemd_accepts_as_the_readme_shows_them(install_dir):
    units = install_dir / "units"
    tandem = f"{install_dir / 'bin/tandem'}"
    blocks = readme_blocks()

    # The default: the watcher, and the daily backup.
    done = install(install_dir)
    assert done.returncode == 0, done.stderr
    assert unit_folder(install_dir) == {"tandem-watch.service", "tandem-backup.service", "tandem-backup.timer"}
    assert not (install_dir / "cron.d/tandem").exists()
    watch = settings_of(units / "tandem-watch.service")
    assert watch["User"] == [USER] and watch["WorkingDirectory"] == [str(HOME)]
    assert watch["ExecStart"] == [f"{tandem} --watch"]
    assert (watch["Restart"], watch["RestartSec"], watch["TimeoutStopSec"]) == (["always"], ["5"], ["120"])
    assert watch["After"] == watch["Wants"] == ["network-online.target"]
    assert watch["WantedBy"] == ["multi-user.target"]
    backup = settings_of(units / "tandem-backup.service")
    assert (backup["Type"], backup["User"], backup["ExecStart"]) == (["oneshot"], [USER], [f"{tandem} --backup"])
    daily = settings_of(units / "tandem-backup.timer")
    assert (daily["OnCalendar"], daily["Persistent"], daily["WantedBy"]) == (["daily"], ["true"], ["timers.target"])
    systemd_accepts(install_dir, unit_folder(install_dir))
    started_or_explained(done, install_dir, "tandem-watch.service tandem-backup.timer")
    assert ("ini", as_the_readme_shows(units / "tandem-watch.service", install_dir)) in blocks, \
        "the README's tandem-watch.service is not the one the script writes"

    # A timer instead: the watcher's unit goes, the backup stays.
    done = install(install_dir, "--service", "timer")
    assert done.returncode == 0, done.stderr
    assert unit_folder(install_dir) == {"tandem-sync.service", "tandem-sync.timer", "tandem-backup.service",
                                        "tandem-backup.timer"}
    assert f"{units}/tandem-watch.service" in done.stdout, "what it removed, said"
    sync = settings_of(units / "tandem-sync.service")
    assert (sync["Type"], sync["User"], sync["ExecStart"]) == (["oneshot"], [USER], [f"{tandem} --sync"])
    every = settings_of(units / "tandem-sync.timer")
    assert (every["OnCalendar"], every["Persistent"]) == (["*:0/15"], ["true"])
    systemd_accepts(install_dir, unit_folder(install_dir))
    started_or_explained(done, install_dir, "tandem-sync.timer tandem-backup.timer")
    if SYSTEMD_RUNS:
        assert "disable --now tandem-watch.service" in (install_dir / "systemctl-calls").read_text()
    for name in ("tandem-sync.service", "tandem-sync.timer"):
        assert ("ini", as_the_readme_shows(units / name, install_dir)) in blocks, f"the README's {name}"

    # Run again with no --service, as an upgrade is: the same service as before.
    done = install(install_dir)
    assert done.returncode == 0, done.stderr
    assert unit_folder(install_dir) == {"tandem-sync.service", "tandem-sync.timer", "tandem-backup.service",
                                        "tandem-backup.timer"}

    # none: nothing runs the sync.
    done = install(install_dir, "--service", "none")
    assert done.returncode == 0, done.stderr
    assert unit_folder(install_dir) == set()

    # A unit of the same name that someone wrote by hand is kept aside, never lost.
    units.mkdir(exist_ok=True)
    (units / "tandem-watch.service").write_text("[Service]\nExecStart=/bin/true\n")
    done = install(install_dir, "--service", "watch")
    assert done.returncode == 0, done.stderr
    assert (units / "tandem-watch.service~").read_text() == "[Service]\nExecStart=/bin/true\n"
    assert settings_of(units / "tandem-watch.service")["ExecStart"] == [f"{tandem} --watch"]


def cron_file(text: str) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """/etc/cron.d's format: NAME=value lines, and jobs of five time fields, a user, a command."""
    variables, jobs = {}, {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", line):
            name, value = line.split("=", 1)
            variables[name] = value
        else:
            *when, user, command = line.split(None, 6)
            jobs[command] = (" ".join(when), user)
    return variables, jobs


def as_cron_runs(variables: dict[str, str], command: str) -> subprocess.CompletedProcess:
    """What cron does: a bare environment (HOME, LOGNAME, SHELL, PATH=/usr/bin:/bin) which the
    file's own lines override, /bin/sh -c, as the line's user, in its home."""
    environment = {"HOME": str(HOME), "LOGNAME": USER, "SHELL": "/bin/sh", "PATH": "/usr/bin:/bin", **variables}
    return subprocess.run(["runuser", "-u", USER, "--", "env", "-i",
                           *(f"{name}={value}" for name, value in environment.items()), "/bin/sh", "-c", command],
                          cwd=HOME, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("runuser") is None, reason="runs the cron lines as the shop user with runuser")
def test_the_cron_lines_run_as_cron_runs_them(install_dir):
    done = install(install_dir, "--service", "cron")
    assert done.returncode == 0, done.stderr
    assert unit_folder(install_dir) == set()
    written = install_dir / "cron.d/tandem"
    info = written.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o644, 0), "cron ignores a cron.d file others may write"
    assert ("cron", as_the_readme_shows(written, install_dir)) in readme_blocks(), \
        "the README's /etc/cron.d/tandem is not the one the script writes"
    variables, jobs = cron_file(written.read_text())
    assert jobs["tandem --sync"] == ("*/15 * * * *", USER)
    minute, hour, *rest = jobs["tandem --backup"][0].split()
    assert minute.isdigit() and hour.isdigit() and rest == ["*", "*", "*"], "once a day"
    assert jobs["tandem --backup"][1] == USER

    # cron's own PATH lacks the command: the file's PATH line is what finds it.
    if shutil.which("tandem", path="/usr/bin:/bin") is None:
        assert as_cron_runs({}, "tandem --sync").returncode == 127
    synced = as_cron_runs(variables, "tandem --sync")
    assert synced.returncode == 0, synced.stderr  # no web store yet: nothing to do, and no failure
    data = HOME / ".local/share/tandem"
    assert (data / "tandem.sqlite").exists()

    helped = as_cron_runs(variables, "tandem --help")
    has_backup = "--backup" in helped.stdout
    if has_backup:
        backed_up = as_cron_runs(variables, "tandem --backup")
        assert backed_up.returncode == 0, backed_up.stderr
        assert [path for path in (data / "backups").iterdir() if path.is_file()], "a copy of the database"

    removed = install(install_dir, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert not written.exists() and str(written) in removed.stdout
    if not has_backup:
        pytest.skip("tandem --backup does not exist in this version yet: its cron line was not run")


def test_uninstall_removes_what_it_installed_and_keeps_the_shop_until_purged(install_dir):
    done = install(install_dir)
    assert done.returncode == 0, done.stderr
    units, command, prefix = install_dir / "units", install_dir / "bin/tandem", install_dir / "opt"
    synced = as_user(f"'{command}' --sync")
    assert synced.returncode == 0, synced.stderr
    database = HOME / ".local/share/tandem/tandem.sqlite"
    assert database.exists()
    (units / "tandem-watch.service.d").mkdir()
    (units / "tandem-watch.service.d/listen.conf").write_text("[Service]\nExecStart=\nExecStart=/bin/true\n")
    # Backups kept outside the home, as a shop may set them: a purge leaves them, and says so.
    elsewhere = install_dir / "shop-backups"
    elsewhere.mkdir()
    shutil.chown(elsewhere, USER)
    configured = as_user(f"mkdir -p ~/.config/tandem && printf '[backup]\\nfolder = \"{elsewhere}\"\\n' "
                         f"> ~/.config/tandem/config.toml && '{command}' --backup")
    assert configured.returncode == 0, configured.stderr
    assert list(elsewhere.iterdir())

    # --purge never takes a system account, and refuses before removing anything.
    refused = install(install_dir, "--uninstall", "--purge", user="root")
    assert refused.returncode == 2 and "system account" in refused.stderr
    assert command.exists() and (units / "tandem-watch.service").exists()

    removed = install(install_dir, "--uninstall")
    assert removed.returncode == 0, removed.stderr
    assert unit_folder(install_dir) == {"tandem-watch.service.d"}, "the administrator's drop-in stays"
    assert not command.exists() and not command.is_symlink()
    assert not prefix.exists()
    for gone in (units / "tandem-watch.service", units / "tandem-backup.timer", command, prefix / "venv"):
        assert f"  {gone}\n" in removed.stdout, f"{gone} not said to be removed"
    if SYSTEMD_RUNS:
        assert "disable --now tandem-watch.service tandem-backup.service tandem-backup.timer" in \
            (install_dir / "systemctl-calls").read_text()
    # The account and its data stay, and the output says where they are.
    assert subprocess.run(["getent", "passwd", USER], capture_output=True).returncode == 0
    assert database.exists() and (HOME / ".ssh/authorized_keys").exists()
    kept = removed.stdout.split("install-for-ssh: kept", 1)[1]
    assert str(database) in kept and str(HOME) in kept

    again = install(install_dir, "--uninstall")
    assert again.returncode == 0, again.stderr
    assert "nothing of this installation was left to remove" in again.stdout
    assert database.exists()

    # From an installed state, as a purge usually is: the units too, and the account.
    done = install(install_dir)
    assert done.returncode == 0, done.stderr
    purged = install(install_dir, "--uninstall", "--purge")
    assert purged.returncode == 0, purged.stderr
    assert subprocess.run(["getent", "passwd", USER], capture_output=True).returncode != 0
    assert not HOME.exists()
    assert list(elsewhere.iterdir()) and f"{elsewhere} (outside the home)" in purged.stdout
    assert not (units / "tandem-watch.service").exists() and not command.exists()
    assert install(install_dir, "--uninstall", "--purge").returncode == 0


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="copies the clone's files as git lists them")
def test_running_it_again_installs_the_new_code(install_dir):
    """An upgrade is the script run again from a newer clone, usually of the same version number:
    what is installed must be the clone's code, not a build of it that uv kept from before."""
    clone = install_dir / "clone"
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    done = install(install_dir, "--service", "none", clone=clone, extras="postgres")
    assert done.returncode == 0, done.stderr
    python = str(install_dir / "opt/venv/bin/python")
    assert subprocess.run([python, "-c", "import psycopg"], cwd=install_dir).returncode == 0

    mark = uuid.uuid4().hex
    with (clone / "core/__init__.py").open("a") as module:
        module.write(f"\nUPGRADE_MARK = {mark!r}\n")
    done = install(install_dir, clone=clone)
    assert done.returncode == 0, done.stderr
    shown = subprocess.run([python, "-c", "import core; print(core.UPGRADE_MARK)"],
                           cwd=install_dir, capture_output=True, text=True)
    assert shown.stdout.strip() == mark, shown.stderr
    assert unit_folder(install_dir) == set(), "the service chosen before (none), kept"
    assert subprocess.run([python, "-c", "import psycopg"], cwd=install_dir).returncode == 0, \
        "the extras of the install before, kept: a PostgreSQL shop keeps its driver"

    done = install(install_dir, clone=clone, extras="")
    assert done.returncode == 0, done.stderr
    assert subprocess.run([python, "-c", "import psycopg"], cwd=install_dir, capture_output=True).returncode != 0
