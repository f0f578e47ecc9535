"""Staff from the command line, and what an SSH key's forced command lets a person do: their name
comes from the command alone; besides the console, only `import-catalog` from standard input is
taken, for the roles allowed; the audit lists who did what, and who approved it.
(`pytest -k approval` selects the approval tests among them.)"""

from __future__ import annotations

import base64
import io
import json
import os
import struct

import pytest

from cli import main

CATALOG = b"sku,description,price,quantity\nTUBE,Tube 700x25,8.99,10\nBELL,Bell,12.00,3\n"


def public_key(seed: int) -> str:
    kind = b"ssh-ed25519"
    blob = struct.pack(">I", len(kind)) + kind + struct.pack(">I", 32) + bytes([seed]) * 32
    return f"ssh-ed25519 {base64.b64encode(blob).decode()} person{seed}@laptop\n"


@pytest.fixture
def shop(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("TANDEM_AUTHORIZED_KEYS", str(tmp_path / "ssh" / "authorized_keys"))
    monkeypatch.delenv("SSH_ORIGINAL_COMMAND", raising=False)
    db = f"sqlite:///{tmp_path / 'shop.sqlite'}"
    (tmp_path / "ssh").mkdir(mode=0o700)
    (tmp_path / "ssh" / "authorized_keys").write_text("# the shop's own line\nssh-ed25519 AAAAforeign admin@host\n")
    for name, seed in (("olga", 1), ("max", 2), ("cara", 3)):
        (tmp_path / f"{name}.pub").write_text(public_key(seed))
    assert run(capfd, "--add-staff", "olga", "--role", "owner", "--ssh-key", str(tmp_path / "olga.pub"), "--db", db)[0] == 0
    assert run(capfd, "--add-staff", "max", "--role", "manager", "--ssh-key", str(tmp_path / "max.pub"), "--db", db)[0] == 0
    assert run(capfd, "--add-staff", "cara", "--role", "cashier", "--db", db)[0] == 0
    return tmp_path, db


def run(capfd, *argv, stdin: bytes | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(list(argv))
    out, err = capfd.readouterr()
    return code, out, err


def test_staff_keys_go_in_with_their_forced_command_and_foreign_lines_stay(shop, capfd):
    tmp_path, db = shop
    lines = (tmp_path / "ssh" / "authorized_keys").read_text().splitlines()
    assert lines[:2] == ["# the shop's own line", "ssh-ed25519 AAAAforeign admin@host"]
    assert any(line.startswith('restrict,pty,command="') and '--staff olga"' in line and line.endswith("tandem-staff:olga")
               for line in lines)
    assert oct((tmp_path / "ssh" / "authorized_keys").stat().st_mode & 0o777) == "0o600"
    code, out, _err = run(capfd, "--list-staff", "--db", db)
    listed = {line.split()[0]: line.split() for line in out.splitlines()}
    assert code == 0 and listed["olga"][1] == "owner" and listed["olga"][-1].startswith("SHA256:")
    assert listed["cara"][1:3] == ["cashier", "active"] and listed["cara"][-1] == "-"


def test_a_private_key_is_refused_and_nobody_is_added(shop, capfd):
    tmp_path, db = shop
    (tmp_path / "secret").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n")
    code, _out, err = run(capfd, "--add-staff", "zoe", "--role", "cashier", "--ssh-key", str(tmp_path / "secret"),
                          "--db", db)
    assert code == 2 and "private key" in err
    assert "zoe" not in run(capfd, "--list-staff", "--db", db)[1]


def test_approval_a_person_acts_as_their_role_from_the_command_line(shop, capfd):
    _tmp, db = shop
    code, _out, err = run(capfd, "--staff", "cara", "--add-location", "Riverside", "--db", db)
    assert code == 1 and "cara (cashier) may not add, rename or retire a location" in err
    assert run(capfd, "--staff", "max", "--add-location", "Riverside", "--db", db)[0] == 0
    code, _out, err = run(capfd, "--staff", "max", "--add-staff", "zoe", "--role", "cashier", "--db", db)
    assert code == 1 and "may not manage staff" in err
    code, _out, err = run(capfd, "--staff", "nobody", "--db", db)
    assert code == 2 and "nobody called 'nobody' works here" in err


@pytest.mark.parametrize("who,allowed", [("max", True), ("olga", True), ("cara", False)])
def test_approval_import_catalog_over_ssh_for_the_roles_allowed(shop, capfd, monkeypatch, who, allowed):
    _tmp, db = shop
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", "import-catalog")
    code, out, err = run(capfd, "--staff", who, "--db", db, stdin=CATALOG, monkeypatch=monkeypatch)
    if allowed:
        assert code == 0 and "standard input: 2 rows for Shop: 2 added" in out
    else:
        assert code == 1 and "cara (cashier) may not import the catalog" in err
    monkeypatch.delenv("SSH_ORIGINAL_COMMAND")
    audited = json.loads(run(capfd, "--audit", "--json", "--staff", who, "--db", db)[1])
    assert any(entry["action"] == "catalog_import" for entry in audited) == allowed


@pytest.mark.parametrize("request_", ["bash -i", "ls /", "import-catalog; rm -rf /", "tandem --add-staff x --role owner",
                                      "import-catalog --location"])
def test_anything_else_over_ssh_is_refused_in_one_line(shop, capfd, monkeypatch, request_):
    _tmp, db = shop
    monkeypatch.setenv("SSH_ORIGINAL_COMMAND", request_)
    code, out, err = run(capfd, "--staff", "olga", "--db", db, stdin=CATALOG, monkeypatch=monkeypatch)
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and "refused" in err


def test_the_audit_lists_who_did_what_by_person_and_since_a_day(shop, capfd):
    _tmp, db = shop
    run(capfd, "--staff", "max", "--add-location", "Riverside", "--db", db)
    entries = json.loads(run(capfd, "--audit", "--json", "--db", db)[1])
    assert [entry["actor"] for entry in entries if entry["action"] == "location_added"] == ["max"]
    assert {entry["entity_id"] for entry in entries if entry["action"] == "staff_added"} == {"olga", "max", "cara"}
    assert json.loads(run(capfd, "--audit", "--json", "--staff", "cara", "--db", db)[1]) == []
    assert json.loads(run(capfd, "--audit", "--json", "--since", "2999-01-01", "--db", db)[1]) == []
    code, out, _err = run(capfd, "--audit", "--db", db)
    assert code == 0 and "max  added a location  location" in out


def test_headless_runs_are_the_service_not_a_person(shop, capfd):
    tmp_path, db = shop
    config = tmp_path / "config.toml"
    run(capfd, "--add-location", "Shop", "--db", db)
    # A store without credentials yet: its sync stops at once, after the settings are applied.
    config.write_text('[channels.Web]\nplatform = "shopify"\nurl = "https://shop.example.com"\nlocation = "Shop"\n')
    run(capfd, "--sync", "--db", db, "--config", str(config))
    config.write_text("")  # the web store taken out of the settings: the sync retires it, as the service
    run(capfd, "--sync", "--db", db, "--config", str(config))
    actors = {entry["actor"] for entry in json.loads(run(capfd, "--audit", "--json", "--db", db)[1])
              if entry["entity"] == "saleschannel"}
    assert actors == {"tandem service"}, actors


def test_a_person_sets_their_own_pin_twice_never_shown(shop, capfd, monkeypatch):
    _tmp, db = shop
    code, out, err = run(capfd, "--staff", "cara", "--set-pin", "cara", "--db", db, stdin=b"4321\n4321\n",
                         monkeypatch=monkeypatch)
    assert code == 0 and "4321" not in out + err
    code, _out, err = run(capfd, "--set-pin", "cara", "--db", db, stdin=b"4321\n4322\n", monkeypatch=monkeypatch)
    assert code == 1 and "differ" in err
    assert os.environ.get("SSH_ORIGINAL_COMMAND") is None


def test_the_readme_shows_exactly_what_tandem_roles_prints(capfd):
    from pathlib import Path

    from core.roles import role_lines

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- roles -->", 1)[1].split("<!-- /roles -->", 1)[0]
    shown = block.strip().removeprefix("```text").removesuffix("```").strip("\n").splitlines()
    code, out, _err = run(capfd, "--roles")
    assert code == 0 and out.splitlines() == role_lines() == shown


def test_the_forced_command_names_this_tandem_by_its_absolute_path(shop, capfd, monkeypatch):
    """sshd's PATH may not reach where Tandem is installed: a bare `tandem` would not run."""
    tmp_path, db = shop
    program = tmp_path / "bin" / "tandem"
    program.parent.mkdir()
    program.write_text("#!/bin/sh\n")
    program.chmod(0o755)
    monkeypatch.setattr("sys.argv", [str(program)])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    assert run(capfd, "--add-staff", "cara", "--role", "cashier", "--ssh-key", str(tmp_path / "cara.pub"),
               "--db", db)[0] == 0
    line = next(line for line in (tmp_path / "ssh" / "authorized_keys").read_text().splitlines()
                if line.endswith("tandem-staff:cara"))
    assert f'command="{program} --staff cara"' in line
