"""The real `tandem` process in a real terminal (tmux at 80x24), driven only by keys, as staff
would over SSH; and what happens when the connection drops."""

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (.ci/run installs it)")
TANDEM = str(Path(sys.executable).with_name("tandem"))


class Terminal:
    def __init__(self, name: str, env: dict, tmp: Path):
        self.name = f"tandem-test-{name}-{os.getpid()}"
        # A tmux server of its own: a session started on a server already running gets that
        # server's environment, not this test's, and two tests' demos would share one data folder.
        self.tmux = ["tmux", "-L", self.name]
        own = {"XDG_DATA_HOME": str(tmp / "data"), "XDG_CONFIG_HOME": str(tmp / "config"),
               "XDG_STATE_HOME": str(tmp / "state"), **env}
        # Given to tandem itself as well: inside a pane tmux sets TERM its own way.
        command = "exec env " + " ".join(f"{key}={shlex.quote(value)}" for key, value in own.items()) + \
            f" {TANDEM} --demo"
        # The pane stays when tandem ends, so a failure shows what it last printed (a traceback).
        subprocess.run([*self.tmux, "new-session", "-d", "-s", self.name, "-x", "80", "-y", "24", command,
                        ";", "set-option", "-t", self.name, "remain-on-exit", "on"],
                       check=True, env={**os.environ, **own})

    def screen(self) -> str:
        return subprocess.run([*self.tmux, "capture-pane", "-p", "-t", self.name], capture_output=True,
                              text=True).stdout

    # A bound, not a pace: a screen that paints in a second here is waited for up to a minute on
    # a machine busy with the rest of the suite (the demo's own web stores run in the same process).
    def wait_for(self, text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.screen()}")

    def wait_gone(self, text: str, seconds: float = 60) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            screen = self.screen()
            if text not in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never went away; the screen was:\n{self.screen()}")

    def keys(self, *keys: str) -> None:
        for key in keys:
            subprocess.run([*self.tmux, "send-keys", "-t", self.name, key], check=True)
            time.sleep(0.25)  # a lone Escape must not merge with the next key into Alt+key

    def pid(self) -> int:
        out = subprocess.run([*self.tmux, "list-panes", "-t", self.name, "-F", "#{pane_pid}"], capture_output=True,
                             text=True)
        return int(out.stdout.split()[0])

    def alive(self) -> bool:
        """Whether tandem still runs in the pane."""
        dead = subprocess.run([*self.tmux, "display-message", "-p", "-t", self.name, "#{pane_dead}"],
                              capture_output=True, text=True)
        return dead.returncode == 0 and dead.stdout.strip() == "0"

    def close(self) -> None:
        subprocess.run([*self.tmux, "kill-server"], capture_output=True)


@pytest.mark.parametrize("env", [{}, {"TERM": "xterm", "NO_COLOR": "1"}], ids=["default", "xterm-no-color"])
def test_every_screen_by_keys_only_then_quit(tmp_path, env):
    terminal = Terminal("walk", env, tmp_path)
    try:
        terminal.wait_for("products")
        for key, title in (("s", "Sales inbox"), ("m", "Match resolver"), ("c", "Catalog"), ("t", "Returns"),
                           ("a", "Accounts")):
            terminal.keys(key)
            # The screen's own header: the home menu names every screen too ("s  Sales inbox — …").
            terminal.wait_for(f"— {title}")
            # One key, then its effect on screen, before the next: an Escape still unread when the
            # next key arrives would be read with it as Alt+key, as on any terminal.
            terminal.keys("Escape")
            terminal.wait_for("Last sync")
        terminal.keys("s")
        terminal.wait_for("Enter opens a sale")
        inbox = terminal.wait_for("ready for pickup")  # the page painted, not only its status line
        order = next(line.split()[0] for line in inbox.splitlines()
                     if line.lstrip().startswith("#") and "ready for pickup" in line)
        # The demo is alive: a new web sale may arrive and move the rows at any moment, so the sale
        # is found by its number, as staff would, not by counting rows.
        terminal.keys(*order.lstrip("#"))
        terminal.wait_for(f"matching “{order.lstrip('#')}”")
        terminal.keys("Enter")  # from the search box to what it found
        terminal.wait_for("f Filter")  # the table's own keys in the footer: the cursor is on it
        terminal.keys("Enter")
        terminal.wait_for("authorised")  # only the sale screen says it
        # The header is repainted apart from the body: waited for, not read at once.
        terminal.wait_for(f"Sale {order}")
        terminal.keys("p")
        terminal.wait_for("Pickup of")
        terminal.keys("Escape")
        terminal.wait_gone("Pickup of")
        terminal.keys("Escape")
        terminal.wait_for("Enter opens a sale")
        terminal.keys("Escape")  # clears the search
        terminal.wait_gone("matching")
        terminal.keys("Escape")
        terminal.wait_for("Last sync")
        terminal.keys("F1")
        terminal.wait_for("PgUp PgDn scroll the answer")
        terminal.keys("g", "i", "f", "t")
        terminal.wait_gone("What matters most for selling online?")  # the search leaves the gift-card question
        terminal.wait_for("How do I sell gift cards")
        terminal.keys("F2")  # the whole console in French, at once
        terminal.wait_for("Aide")
        terminal.keys("Escape")
        terminal.wait_for("Dernière synchro")
        terminal.keys("F2")
        terminal.wait_for("Last sync")
        terminal.keys("q")
        terminal.wait_for("Leave Tandem?")
        terminal.keys("y")
        deadline = time.monotonic() + 5
        while terminal.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not terminal.alive(), "q then y quits"
    finally:
        terminal.close()


def running(pid: int) -> bool:
    """Alive, not merely a zombie: once its tmux server is gone, an ended tandem may wait for a
    parent that never reaps it (PID 1 in a container)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_app_exits_when_the_terminal_hangs_up(tmp_path):
    terminal = Terminal("hangup", {}, tmp_path)
    try:
        terminal.wait_for("products")
        pid = terminal.pid()
        os.kill(pid, 0)
        terminal.close()  # tmux sends SIGHUP to the program, as sshd does when a connection drops
        deadline = time.monotonic() + 30  # a bound, not a pace: it ends at once on an idle machine
        while time.monotonic() < deadline:
            if not running(pid):
                return
            time.sleep(0.05)
        raise AssertionError("tandem was still running 30 s after the hang-up")
    finally:
        terminal.close()
