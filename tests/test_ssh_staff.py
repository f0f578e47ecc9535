"""Staff over real SSH, end to end, as root on this machine: Tandem installed for a throwaway shared
account by scripts/install-for-ssh.sh, two people added with their own keys by that account itself
(`tandem --add-staff ... --ssh-key`, which writes its ~/.ssh/authorized_keys), a loopback sshd, and
the OpenSSH client. Each key is its own person: the owner's `ssh ... import-catalog < catalog.csv`
imports and is audited under her name; the cashier's is refused in one line and writes nothing;
anything else on the ssh command line is refused in one line with exit 2, and no shell runs; the
cashier's interactive session (ssh -tt in tmux at 80x24) is the console, headed with his name and
role, and ctrl+q ends it.

It needs nothing outside the repository (not ../shared): the sshd it starts is written here."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.system import NEEDS_ROOT_AND_TOOLS, host_to_itself  # noqa: F401 - the fixture

from tests.waiting import until

ROOT = Path(__file__).resolve().parents[1]
USER = "tandemssh"
HOME = Path(f"/home/{USER}")
SBIN_PATH = f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin"

pytestmark = [
    # It creates a system user: only where the environment asks for it (.ci/run sets
    # TANDEM_TEST_SYSTEM=1 on its throwaway machine), never merely because it runs as root.
    pytest.mark.skipif(os.environ.get("TANDEM_TEST_SYSTEM") != "1",
                       reason="changes the host's users: set TANDEM_TEST_SYSTEM=1 to run it (.ci/run does)"),
    *NEEDS_ROOT_AND_TOOLS,
    pytest.mark.skipif(shutil.which("sshd", path=SBIN_PATH) is None or shutil.which("ssh") is None
                       or shutil.which("ssh-keygen") is None,
                       reason="needs OpenSSH's server and client (apt-get install openssh-server openssh-client)"),
]


@pytest.fixture(autouse=True)
def _one_at_a_time_on_the_host(host_to_itself):
    """Before any other fixture touches the host's users."""


CATALOG = "sku,description,price,quantity\nBELL-1,Brass bicycle bell,25.00,6\nTUBE-700,Inner tube 700c,8.99,12\n"
# What the cashier tries to import: a price cut and a product of his own; none of it may land.
CASHIERS_CATALOG = "sku,description,price,quantity\nBELL-1,Brass bicycle bell,1.00,600\nFREE-1,Something free,0.01,1\n"


def as_user(command: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(["su", "-l", "-s", "/bin/sh", USER, "-c", command], input=stdin, capture_output=True,
                          text=True, timeout=120)


def running_as_user() -> bool:
    return subprocess.run(["pgrep", "-u", USER], capture_output=True).returncode == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Shop:
    """The installed shared account, its two people's keys (on the client side, root's), and the sshd."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.bin = folder / "bin"
        self.tandem = self.bin / "tandem"
        self.venv = folder / "opt/venv"
        self.keys = folder / "client"  # the staff's machines: private keys, root's only
        self.public = folder / "public"  # the .pub files they hand over, which the account can read
        self.sshd_dir = folder / "sshd"
        self.port = 0

    def tandem_as_user(self, arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        # The command on the account's PATH, as with the script's default TANDEM_BIN (/usr/local/bin).
        return as_user(f"PATH='{self.bin}':\"$PATH\"; export PATH; tandem {arguments}", stdin)

    def ssh_command(self, person: str, *options: str) -> list[str]:
        return ["ssh", "-F", "/dev/null", "-p", str(self.port), "-i", str(self.keys / person),
                "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none", "-o", "BatchMode=yes",
                "-o", f"UserKnownHostsFile={self.sshd_dir / 'known_hosts'}", "-o", "StrictHostKeyChecking=yes",
                "-o", "ConnectTimeout=60", "-o", "LogLevel=ERROR", *options, f"{USER}@127.0.0.1"]

    def ssh(self, person: str, remote: str, stdin: str = "", tty: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([*self.ssh_command(person, "-tt" if tty else "-T"), remote], input=stdin,
                              capture_output=True, text=True, timeout=120)

    def products(self) -> list[tuple[str, str, int]]:
        """The products in the account's own database, read by the account (root writing beside its
        SQLite file could leave journal files it cannot open)."""
        reader = ("import json, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); print(json.dumps(c.execute("
                  "'SELECT sku, description, price FROM product ORDER BY sku').fetchall()))")
        done = as_user(f"'{self.venv}/bin/python' -c \"{reader}\" {HOME}/.local/share/tandem/tandem.sqlite")
        assert done.returncode == 0, done.stderr
        return [tuple(row) for row in json.loads(done.stdout)]

    def audit(self, *arguments: str) -> list[dict]:
        done = self.tandem_as_user(" ".join(["--audit", "--json", *arguments]))
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def _install(folder: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TANDEM_PREFIX": str(folder / "opt"), "TANDEM_BIN": str(folder / "bin")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "SUDO_USER", "SUDO_UID", "TANDEM_DATABASE_URL", "TANDEM_CONFIG",
                 "TANDEM_AUTHORIZED_KEYS"):
        env.pop(name, None)
    return subprocess.run([str(ROOT / "scripts/install-for-ssh.sh"), USER], env=env, capture_output=True, text=True,
                          timeout=900)


def _start_sshd(shop: Shop) -> None:
    """sshd on loopback, keys only, for the test account alone; it binds before it detaches, so a
    port taken meanwhile shows as a failed start, and another port is tried."""
    directory = shop.sshd_dir
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(directory / "host_key")], check=True)
    host_key = (directory / "host_key.pub").read_text().split()
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation directory
    sshd = shutil.which("sshd", path=SBIN_PATH)
    failures = []
    for _attempt in range(5):
        shop.port = free_port()
        config = directory / "sshd_config"
        config.write_text(
            f"Port {shop.port}\nListenAddress 127.0.0.1\nHostKey {directory / 'host_key'}\n"
            f"PidFile {directory / 'sshd.pid'}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            f"UsePAM no\nAllowUsers {USER}\nDisableForwarding yes\n")
        started = subprocess.run([sshd, "-f", str(config), "-E", str(directory / "sshd.log")], capture_output=True,
                                 text=True, timeout=60)
        if started.returncode == 0:
            break
        failures.append(started.stderr + (directory / "sshd.log").read_text(errors="replace"))
    else:
        pytest.fail("sshd did not start:\n" + "\n".join(failures))
    assert until(lambda: (directory / "sshd.pid").exists() and (directory / "sshd.pid").read_text().strip(), 60), \
        "sshd wrote no pid file"
    (directory / "known_hosts").write_text(f"[127.0.0.1]:{shop.port} {host_key[0]} {host_key[1]}\n")


def _stop_sshd(shop: Shop) -> None:
    pid_file = shop.sshd_dir / "sshd.pid"
    if not pid_file.exists():
        return
    pid = pid_file.read_text().strip()
    if pid.isdigit():
        subprocess.run(["pkill", "-KILL", "-P", pid], capture_output=True)  # its connections' own processes
        subprocess.run(["kill", "-KILL", pid], capture_output=True)


@contextmanager
def the_account_alone():
    """One run at a time has the account: another pytest on this machine, or another xdist worker
    given this module's other test, waits here rather than deleting the user under this one."""
    with open(Path(tempfile.gettempdir()) / f"{USER}-test.lock", "w") as lock:
        def taken() -> bool:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        if not until(taken, 900, 0.5):
            pytest.fail(f"another run has held the account {USER} for 15 minutes")
        yield  # released when the file closes, whatever happens


@pytest.fixture(scope="module")
def shop():
    with the_account_alone():
        yield from _shop()


def _shop():
    folder = Path(tempfile.mkdtemp(prefix="tandem-ssh-staff-"))
    folder.chmod(0o755)  # the account must reach its command, its environment and the .pub files
    subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True)  # a previous run's leftovers
    subprocess.run(["userdel", "-r", USER], capture_output=True)
    shop = Shop(folder)
    try:
        shop.keys.mkdir(mode=0o700)
        shop.public.mkdir(mode=0o755)
        shop.sshd_dir.mkdir(mode=0o700)
        done = _install(folder)
        assert done.returncode == 0, done.stdout + done.stderr

        # 1. Two people, each with a key of their own, added by the shared account itself.
        for person in ("mia", "ned"):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", f"{person}@till",
                            "-f", str(shop.keys / person)], check=True)
            shutil.copy(shop.keys / f"{person}.pub", shop.public / f"{person}.pub")
            (shop.public / f"{person}.pub").chmod(0o644)
        for person, role in (("mia", "owner"), ("ned", "cashier")):
            added = shop.tandem_as_user(f"--add-staff {person} --role {role} --ssh-key '{shop.public}/{person}.pub'")
            assert added.returncode == 0, added.stderr
        for person, pin in (("mia", "135790"), ("ned", "246802")):
            pinned = shop.tandem_as_user(f"--set-pin {person}", stdin=f"{pin}\n{pin}\n")
            assert pinned.returncode == 0, pinned.stderr

        # 2. The loopback sshd.
        _start_sshd(shop)
        yield shop
    finally:
        _stop_sshd(shop)
        subprocess.run(["pkill", "-KILL", "-u", USER], capture_output=True)  # nothing of the test user outlives it
        until(lambda: not running_as_user(), 30)
        subprocess.run(["userdel", "-r", USER], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def tmux():
    """A tmux server of the test's own, whose panes stay after their program ends (so that a failure
    can still show the last screen); killed whatever happens."""
    socket_name = f"tandem-ssh-{uuid.uuid4().hex[:8]}"
    config = Path(tempfile.mkdtemp(prefix="tandem-tmux-")) / "tmux.conf"
    config.write_text("set -g remain-on-exit on\n")

    def run(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run(["tmux", "-L", socket_name, "-f", str(config), *arguments], capture_output=True,
                              text=True, timeout=60)

    yield run
    run("kill-server")
    shutil.rmtree(config.parent, ignore_errors=True)


def processes() -> str:
    """What is still running of the session, for a failure's message: the account's processes and the
    ssh clients, with their threads' states."""
    listed = subprocess.run(["ps", "-eLo", "pid,lwp,ppid,user,stat,etime,wchan:24,args"], capture_output=True,
                            text=True).stdout.splitlines()
    return "\n".join(listed[:1] + [line for line in listed[1:] if USER in line or " ssh " in line])


def fingerprint(public_key: Path) -> str:
    return subprocess.run(["ssh-keygen", "-lf", str(public_key)], capture_output=True, text=True,
                          check=True).stdout.split()[1]


def test_each_key_is_its_own_person_and_only_the_owner_imports(shop):
    # Each person's line, with this Tandem's own command (sshd's PATH does not reach it), in the
    # account's own authorized_keys, as the staff list shows it.
    lines = (HOME / ".ssh/authorized_keys").read_text().splitlines()
    for person in ("mia", "ned"):
        kind, blob = (shop.public / f"{person}.pub").read_text().split()[:2]
        assert f'restrict,pty,command="{shop.tandem} --staff {person}" {kind} {blob} tandem-staff:{person}' in lines
    listed = shop.tandem_as_user("--list-staff")
    assert listed.returncode == 0, listed.stderr
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    for person, role in (("mia", "owner"), ("ned", "cashier")):
        assert role in rows[person] and "PIN set" in rows[person], listed.stdout
        assert fingerprint(shop.public / f"{person}.pub") in rows[person], listed.stdout
    audited_before = shop.audit()

    # The cashier's import is refused in one line, and nothing of his file lands.
    refused = shop.ssh("ned", "import-catalog", stdin=CASHIERS_CATALOG)
    assert refused.returncode == 1, (refused.returncode, refused.stdout, refused.stderr)
    assert refused.stdout == "" and len(refused.stderr.splitlines()) == 1, refused.stderr
    assert "ned" in refused.stderr and "cashier" in refused.stderr and "catalog" in refused.stderr, refused.stderr
    assert shop.products() == []
    refused_elsewhere = shop.ssh("ned", "import-catalog --location Shop", stdin=CASHIERS_CATALOG)
    assert refused_elsewhere.returncode == 1 and len(refused_elsewhere.stderr.splitlines()) == 1, refused_elsewhere

    # The owner's import, the POS export on standard input.
    imported = shop.ssh("mia", "import-catalog", stdin=CATALOG)
    assert imported.returncode == 0, imported.stderr
    assert "2 added" in imported.stdout, imported.stdout
    assert shop.products() == [("BELL-1", "Brass bicycle bell", 2500), ("TUBE-700", "Inner tube 700c", 899)]

    # The cashier again, now that there is something to change: still nothing of his lands.
    again = shop.ssh("ned", "import-catalog", stdin=CASHIERS_CATALOG)
    assert again.returncode == 1 and len(again.stderr.splitlines()) == 1, again
    assert shop.products() == [("BELL-1", "Brass bicycle bell", 2500), ("TUBE-700", "Inner tube 700c", 899)]

    # Anything else on the ssh command line, with or without a terminal, by either person: one
    # line, exit 2, and no shell ran it.
    trace = HOME / "a-shell-ran"
    for person in ("ned", "mia"):
        for remote, tty in (("ls /", False), ("bash -i", False), ("bash -i", True), (f"touch {trace}; ls /", False),
                            (f"import-catalog; touch {trace}", False), (f"import-catalog $(touch {trace})", False)):
            done = shop.ssh(person, remote, stdin=CATALOG if "import" in remote else "", tty=tty)
            said = done.stdout + done.stderr
            assert done.returncode == 2, (person, remote, tty, done.returncode, said)
            assert len(said.splitlines()) == 1 and "refused" in said, (person, remote, tty, said)
            assert said.startswith("tandem: "), (person, remote, said)  # Tandem said it, not a shell
    assert not trace.exists(), "a shell ran a command given on the ssh command line"
    assert shop.products() == [("BELL-1", "Brass bicycle bell", 2500), ("TUBE-700", "Inner tube 700c", 899)]

    # The audit: mia's import under her name, from the loopback client; nothing at all under ned.
    audited = shop.audit()
    new = audited[len(audited_before):]
    assert audited[:len(audited_before)] == audited_before
    assert [(entry["actor"], entry["action"], entry["client"]) for entry in new] == [
        ("mia", "catalog_import", "127.0.0.1")], new
    assert "2 added" in new[0]["note"], new
    assert not [entry for entry in audited if "ned" in (entry["actor"], entry["approved_by"])], audited
    assert shop.audit("--staff", "mia") == new
    assert shop.audit("--staff", "ned") == []


def test_the_cashier_gets_the_console_as_himself_and_ctrl_q_ends_it(shop, tmux, tmp_path):
    audited_before = shop.audit()
    session = "ned"
    # ssh's exit status, written by the shell in the pane that waits for it: tmux 3.3a does not
    # always reap its pane's process (seen here under load: ssh left a zombie, #{pane_dead} 1 and
    # #{pane_dead_status} empty for good), so the test does not ask tmux for it.
    status = tmp_path / "ssh-status"
    ssh = " ".join(f"'{word}'" for word in shop.ssh_command("ned", "-tt"))
    started = tmux("new-session", "-d", "-s", session, "-x", "80", "-y", "24",
                   f"{ssh}; echo $? > '{status}.new' && mv '{status}.new' '{status}'")
    assert started.returncode == 0, started.stderr

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", session).stdout

    def pane(field: str) -> str:
        return tmux("display-message", "-p", "-t", session, f"#{{{field}}}").stdout.strip()

    # No PIN asked: his key already says who he is.
    assert until(lambda: "ned · cashier" in screen() or status.exists(), 120, 0.5), screen()
    shown = screen()
    assert not status.exists(), f"the session ended at once:\n{shown}"
    title = shown.splitlines()[0]
    assert "Tandem" in title and "ned · cashier" in title, shown
    assert "Who is at the counter" not in shown, shown  # the PIN sign-in of a console reached without a key
    assert pane("pane_width") == "80" and pane("pane_height") == "24"
    assert until(lambda: "^q quit" in screen(), 60, 0.5), screen()
    assert subprocess.run(["pgrep", "-u", USER, "-f", "--", "--staff ned"], capture_output=True).returncode == 0

    tmux("send-keys", "-t", session, "C-q")
    assert until(status.exists, 120, 0.2), f"ctrl+q did not end the session:\n{screen()}\n{processes()}"
    assert status.read_text().strip() == "0", screen()
    assert until(lambda: not running_as_user(), 60, 0.2), f"something of the session outlived it:\n{processes()}"
    assert shop.audit() == audited_before, "the console session, opened and closed, wrote nothing"
    assert shop.audit("--staff", "ned") == []
