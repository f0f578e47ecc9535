"""Staff keys in authorized_keys: Tandem's lines written, replaced and removed, everyone else's kept
byte for byte, the file never half written, and every doubtful key or name refused. Temporary
folders only; keys built by hand (so the tests run everywhere) and, where ssh-keygen exists, real ones."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from core import authorized_keys
from core.authorized_keys import (
    STAFF_NAME,
    AuthorizedKeysError,
    PublicKey,
    fingerprint,
    managed_line,
    parse_public_key,
    remove_staff_key,
    set_staff_key,
    staff_keys,
)

ROOT = Path(__file__).resolve().parents[2]
SSH_KEYGEN = shutil.which("ssh-keygen")
needs_ssh_keygen = pytest.mark.skipif(SSH_KEYGEN is None, reason="needs ssh-keygen (OpenSSH's client tools)")


def wire(data: bytes) -> bytes:
    """An SSH wire string: 4-byte big-endian length, then the bytes."""
    return struct.pack(">I", len(data)) + data


def key_line(seed: int, comment: str = "", kind: str = "ssh-ed25519", inner: str | None = None) -> str:
    """A well-formed public key line, built by hand: its type, then 32 bytes of key."""
    blob = wire((inner or kind).encode()) + wire(bytes([seed]) * 32)
    return f"{kind} {base64.b64encode(blob).decode()} {comment}".strip()


def blob_of(line: str) -> str:
    return line.split()[1]


ALICE, ALICE_NEW, BOB, ADMIN, BACKUP = (key_line(n, f"key{n}@host") for n in (1, 2, 3, 4, 5))

# Everything a real authorized_keys may hold that is not Tandem's, down to the bytes: a comment in
# Latin-1, the admin's own key, a blank line, another tool's forced command ending in CRLF, a key
# with options and trailing spaces, a commented-out line that once was Tandem's, no final newline.
FOREIGN = (
    b"# keys of the shop's machine\n"
    b"# caf\xe9 (not UTF-8)\n"
    + ADMIN.encode() + b"\n"
    b"\n"
    b'no-port-forwarding,command="/usr/bin/borg serve --restrict-to-path /backup" ' + BACKUP.encode() + b"\r\n"
    b'from="10.0.0.0/8",no-agent-forwarding ' + key_line(6).encode() + b"   \n"
    b'#restrict,pty,command="tandem --staff carol" ' + key_line(7).encode() + b" tandem-staff:carol\n"
    b"   # indented comment, no final newline"
)


@pytest.fixture
def keys_file(tmp_path) -> Path:
    path = tmp_path / "home" / ".ssh" / "authorized_keys"
    path.parent.mkdir(parents=True, mode=0o700)
    path.write_bytes(FOREIGN)
    return path


def managed_bytes(name: str, line: str, program: str = "tandem") -> bytes:
    return managed_line(name, parse_public_key(line), program).encode() + b"\n"


# Reading keys.

def test_a_hand_built_key_is_read_and_its_fingerprint_is_openssh_s():
    line = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f anne@till"
    key = parse_public_key(line + "\n")
    assert key == PublicKey("ssh-ed25519", blob_of(line), "anne@till")
    # As `ssh-keygen -lf` prints it for this key (checked once with OpenSSH 9).
    assert fingerprint(key) == "SHA256:ZkAslGjFiUHdGf/WUL8rQvkib4PTvQatUV0OUQSncCA"


def test_a_key_without_comment_and_every_supported_type_are_read():
    assert parse_public_key(key_line(1)).comment == ""
    for kind in ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
                 "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"):
        assert parse_public_key(key_line(1, "c", kind=kind)).kind == kind


@pytest.mark.parametrize("text, words", [
    ("", "no public key"),
    ("  \n\n", "no public key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
     "private key"),
    ("PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n", "private key"),
    ("---- BEGIN SSH2 PUBLIC KEY ----\nAAAAC3NzaC1lZDI1NTE5\n---- END SSH2 PUBLIC KEY ----\n", "SSH2 format"),
    ('command="/bin/sh" ' + key_line(1), "options before the key"),
    ("restrict " + key_line(1), "options before the key"),
    (key_line(1, "a") + "\n" + key_line(2, "b") + "\n", "2 lines"),
    ("ssh-dss AAAAB3NzaC1kc3MAAACBAP", "unknown key type ssh-dss"),
    ("ssh-ed25519", "no key data"),
    ("ssh-ed25519 AAAA*not-base64* me", "not valid base64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4 me", "not valid base64"),
    (key_line(1, kind="ssh-rsa", inner="ssh-ed25519"), "labelled ssh-rsa but its data is not"),
    ("ssh-ed25519 " + base64.b64encode(b"\x00\x00").decode(), "labelled ssh-ed25519"),
])
def test_doubtful_keys_are_refused_in_plain_words(text, words):
    with pytest.raises(AuthorizedKeysError, match=words) as refused:
        parse_public_key(text)
    for line in text.splitlines():
        if len(line) > 30:
            assert line not in str(refused.value), "the whole key is never echoed"


def test_a_long_unknown_type_is_shown_only_in_part():
    junk = "A" * 200
    with pytest.raises(AuthorizedKeysError) as refused:
        parse_public_key(junk)
    assert junk not in str(refused.value) and "AAAA" in str(refused.value)


# The managed line.

def test_the_managed_line_forces_the_person_s_command_and_marks_itself():
    key = parse_public_key(ALICE)
    assert managed_line("alice", key) == (
        f'restrict,pty,command="tandem --staff alice" ssh-ed25519 {blob_of(ALICE)} tandem-staff:alice')
    assert managed_line("Bob.S_2-x", key, "/opt/tandem/bin/tandem").startswith(
        'restrict,pty,command="/opt/tandem/bin/tandem --staff Bob.S_2-x" ssh-ed25519 ')


@pytest.mark.parametrize("name", ["", "-x", ".x", "_x", "a b", 'a"b', "a\\b", "bob\n", "a\nb", "a;id", "a$b",
                                  "../x", "é", "x" * 33])
def test_unsafe_names_are_refused(name):
    assert not STAFF_NAME.match(name)
    with pytest.raises(AuthorizedKeysError, match="cannot be a staff name"):
        managed_line(name, parse_public_key(ALICE))


@pytest.mark.parametrize("name", ["a", "9", "Bob.Smith_2-x", "x" * 32])
def test_safe_names_are_accepted(name):
    assert STAFF_NAME.match(name)
    assert managed_line(name, parse_public_key(ALICE)).endswith(f" tandem-staff:{name}")


@pytest.mark.parametrize("program", ['tan"dem', "tandem\n", "/opt/my tandem", "tandem;id", "$(id)", ""])
def test_an_unsafe_program_is_refused(program):
    with pytest.raises(AuthorizedKeysError, match="forced command"):
        managed_line("alice", parse_public_key(ALICE), program)


def test_an_unsafe_name_or_program_leaves_the_file_alone(keys_file):
    for name, program in (('a"b', "tandem"), ("alice", 'tan"dem')):
        with pytest.raises(AuthorizedKeysError):
            set_staff_key(keys_file, name, ALICE, program)
    assert keys_file.read_bytes() == FOREIGN


# Writing the file.

def test_foreign_lines_are_kept_byte_for_byte_through_adding_replacing_and_removing(keys_file):
    # The foreign file had no final newline: the first line Tandem adds ends it, and nothing else changes.
    base = FOREIGN + b"\n"
    assert set_staff_key(keys_file, "alice", ALICE) == fingerprint(parse_public_key(ALICE))
    assert keys_file.read_bytes() == base + managed_bytes("alice", ALICE)
    set_staff_key(keys_file, "bob", BOB, "/opt/tandem/bin/tandem")
    assert keys_file.read_bytes() == base + managed_bytes("alice", ALICE) + managed_bytes(
        "bob", BOB, "/opt/tandem/bin/tandem")
    set_staff_key(keys_file, "alice", ALICE_NEW)
    assert keys_file.read_bytes() == base + managed_bytes("alice", ALICE_NEW) + managed_bytes(
        "bob", BOB, "/opt/tandem/bin/tandem"), "replaced where it was"
    assert remove_staff_key(keys_file, "alice") is True
    assert remove_staff_key(keys_file, "bob") is True
    assert keys_file.read_bytes() == base


def test_replacing_leaves_one_line_for_the_person_and_the_old_key_no_longer_lets_them_in(keys_file):
    set_staff_key(keys_file, "alice", ALICE)
    keys_file.write_bytes(keys_file.read_bytes() + managed_bytes("alice", BOB))  # a second line, by hand
    set_staff_key(keys_file, "alice", ALICE_NEW)
    text = keys_file.read_bytes().decode("latin-1")
    assert text.count("tandem-staff:alice") == 1
    assert blob_of(ALICE) not in text and blob_of(BOB) not in text and blob_of(ALICE_NEW) in text
    assert staff_keys(keys_file) == {"alice": fingerprint(parse_public_key(ALICE_NEW))}


def test_a_name_is_one_person_whatever_its_case(keys_file):
    """As on the staff list, where "Anne" and "anne" are the same person."""
    set_staff_key(keys_file, "Anne", ALICE)
    set_staff_key(keys_file, "anne", ALICE)  # her own key again: not "another person's"
    set_staff_key(keys_file, "anne", ALICE_NEW)
    assert staff_keys(keys_file) == {"anne": fingerprint(parse_public_key(ALICE_NEW))}
    assert remove_staff_key(keys_file, "ANNE") is True
    assert keys_file.read_bytes() == FOREIGN + b"\n"


def test_setting_the_same_key_again_changes_nothing(keys_file):
    set_staff_key(keys_file, "alice", ALICE)
    before = keys_file.read_bytes()
    set_staff_key(keys_file, "alice", ALICE)
    assert keys_file.read_bytes() == before


def test_removing_drops_only_that_person(keys_file):
    set_staff_key(keys_file, "alice", ALICE)
    set_staff_key(keys_file, "bob", BOB)
    assert remove_staff_key(keys_file, "alice") is True
    assert keys_file.read_bytes() == FOREIGN + b"\n" + managed_bytes("bob", BOB)
    assert remove_staff_key(keys_file, "alice") is False
    assert remove_staff_key(keys_file, "carol") is False, "a commented-out line is not carol's key"
    assert b"tandem-staff:carol" in keys_file.read_bytes()
    assert remove_staff_key(keys_file.with_name("missing"), "bob") is False


def test_staff_keys_lists_the_managed_lines_only(keys_file):
    assert staff_keys(keys_file) == {}
    set_staff_key(keys_file, "alice", ALICE)
    set_staff_key(keys_file, "bob", BOB)
    assert staff_keys(keys_file) == {"alice": fingerprint(parse_public_key(ALICE)),
                                     "bob": fingerprint(parse_public_key(BOB))}
    assert staff_keys(keys_file.with_name("missing")) == {}


def test_one_key_is_one_person(keys_file):
    set_staff_key(keys_file, "alice", ALICE)
    before = keys_file.read_bytes()
    # The same key, even written differently (another comment), for another person.
    with pytest.raises(AuthorizedKeysError, match="already alice's: one key, one person") as refused:
        set_staff_key(keys_file, "bob", blob_of(ALICE).join(["ssh-ed25519 ", " someone-else"]))
    assert fingerprint(parse_public_key(ALICE)) in str(refused.value)
    assert keys_file.read_bytes() == before
    assert staff_keys(keys_file) == {"alice": fingerprint(parse_public_key(ALICE))}


def test_a_key_already_on_a_foreign_line_is_refused(keys_file):
    # sshd would go by the first line with that key: the admin's, with no forced command.
    with pytest.raises(AuthorizedKeysError, match="does not manage"):
        set_staff_key(keys_file, "alice", ADMIN)
    assert keys_file.read_bytes() == FOREIGN
    # A commented-out line is not in force: its key may be given.
    set_staff_key(keys_file, "carol", key_line(7))
    assert staff_keys(keys_file) == {"carol": fingerprint(parse_public_key(key_line(7)))}


def test_a_refused_key_leaves_the_person_s_line(keys_file):
    set_staff_key(keys_file, "alice", ALICE)
    before = keys_file.read_bytes()
    with pytest.raises(AuthorizedKeysError):
        set_staff_key(keys_file, "alice", "-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert keys_file.read_bytes() == before


def test_a_new_file_is_private_in_a_private_folder(tmp_path):
    previous = os.umask(0o022)  # the usual umask, which would leave a plain new file 0644 and a folder 0755
    try:
        path = tmp_path / "home" / ".ssh" / "authorized_keys"
        set_staff_key(path, "alice", ALICE)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == managed_bytes("alice", ALICE)


def test_an_existing_file_becomes_private(keys_file):
    keys_file.chmod(0o644)
    set_staff_key(keys_file, "alice", ALICE)
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    keys_file.chmod(0o644)
    remove_staff_key(keys_file, "alice")
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_root_keeps_the_file_s_owner(keys_file):
    os.chown(keys_file, 4321, 4322)
    set_staff_key(keys_file, "alice", ALICE)
    assert (keys_file.stat().st_uid, keys_file.stat().st_gid) == (4321, 4322)
    # A new file and folder belong to whoever owns the home they are in (root acting for the shop).
    home = keys_file.parents[2] / "shop"
    home.mkdir()
    os.chown(home, 4321, 4322)
    set_staff_key(home / ".ssh" / "authorized_keys", "alice", ALICE)
    for made in (home / ".ssh", home / ".ssh" / "authorized_keys"):
        assert (made.stat().st_uid, made.stat().st_gid) == (4321, 4322)


def test_a_failure_before_the_rename_leaves_the_old_file_and_no_temporary(keys_file, monkeypatch):
    written = []

    def fail(source, target):
        written.append(Path(source).read_bytes())
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        set_staff_key(keys_file, "alice", ALICE)
    assert written and managed_bytes("alice", ALICE) in written[0], "it failed after writing the new content"
    assert keys_file.read_bytes() == FOREIGN
    assert [p.name for p in keys_file.parent.iterdir()] == ["authorized_keys"]


def test_a_process_killed_between_writing_and_renaming_leaves_the_old_file_whole(keys_file):
    crash = textwrap.dedent(f"""
        import os, signal
        from core.authorized_keys import set_staff_key
        os.replace = lambda source, target: os.kill(os.getpid(), signal.SIGKILL)
        set_staff_key({str(keys_file)!r}, "alice", {ALICE!r})
    """)
    done = subprocess.run([sys.executable, "-c", crash], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert keys_file.read_bytes() == FOREIGN
    leftovers = [p for p in keys_file.parent.iterdir() if p != keys_file]
    # The new file was complete when the process died, under a name sshd never reads.
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".authorized_keys.")
    assert leftovers[0].read_bytes() == FOREIGN + b"\n" + managed_bytes("alice", ALICE)
    # The next change goes through, and leaves that stray alone rather than reading it.
    set_staff_key(keys_file, "alice", ALICE)
    assert staff_keys(keys_file) == {"alice": fingerprint(parse_public_key(ALICE))}


def test_the_new_file_reaches_the_disk_before_it_takes_the_old_one_s_place(keys_file, monkeypatch):
    synced, replaced = [], []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        synced.append(os.fstat(descriptor).st_ino)
        real_fsync(descriptor)

    def replace(source, target):
        replaced.append(os.stat(source).st_ino)
        assert replaced[0] in synced, "renamed before its content was on disk"
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    set_staff_key(keys_file, "alice", ALICE)
    assert replaced == [keys_file.stat().st_ino]


def test_managers_adding_staff_at_once_lose_no_one(keys_file):
    """Each change reads, edits and rewrites the file: without a lock, two at once would each write
    the file without the other's line."""
    add = textwrap.dedent("""
        import base64, struct, sys, time
        from core.authorized_keys import set_staff_key
        wire = lambda data: struct.pack(">I", len(data)) + data
        person, start, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
        time.sleep(max(0, start - time.time()))
        for round in range(5):
            blob = wire(b"ssh-ed25519") + wire(bytes([100 + person, round]) * 16)
            set_staff_key(path, f"p{person}", "ssh-ed25519 " + base64.b64encode(blob).decode())
    """)
    start = time.time() + 2
    workers = [subprocess.Popen([sys.executable, "-c", add, str(n), str(start), str(keys_file)], cwd=ROOT)
               for n in range(12)]
    assert [worker.wait(timeout=120) for worker in workers] == [0] * 12
    assert sorted(staff_keys(keys_file)) == sorted(f"p{n}" for n in range(12))
    assert keys_file.read_bytes().startswith(FOREIGN + b"\n")


def test_the_module_never_writes_in_place(keys_file, monkeypatch):
    """The file is only ever replaced whole: opening authorized_keys itself for writing would let sshd
    (or a crash) see half a file."""
    real_open = os.open

    def watched(path, flags, *args, **kwargs):
        if Path(path) == keys_file and flags & (os.O_WRONLY | os.O_RDWR):
            raise AssertionError("authorized_keys opened for writing")
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(authorized_keys.os, "open", watched)
    inode = keys_file.stat().st_ino
    set_staff_key(keys_file, "alice", ALICE)
    assert keys_file.stat().st_ino != inode, "a new file took the old one's place"


# Real keys, where OpenSSH is installed.

@needs_ssh_keygen
@pytest.mark.parametrize("kind, bits", [("ed25519", None), ("ecdsa", "256"), ("ecdsa", "384"), ("ecdsa", "521"),
                                        ("rsa", "2048")])
def test_real_keys_are_read_with_openssh_s_fingerprint(tmp_path, kind, bits):
    key = tmp_path / "key"
    subprocess.run([SSH_KEYGEN, "-q", "-t", kind, *(["-b", bits] if bits else []), "-N", "", "-C", "anne@till",
                    "-f", str(key)], check=True)
    public = Path(f"{key}.pub").read_text()
    expected = subprocess.run([SSH_KEYGEN, "-lf", f"{key}.pub"], capture_output=True, text=True, check=True)
    assert fingerprint(parse_public_key(public)) == expected.stdout.split()[1]
    with pytest.raises(AuthorizedKeysError, match="private key"):
        parse_public_key(key.read_text())


@needs_ssh_keygen
def test_openssh_reads_the_written_file(keys_file, tmp_path):
    """Every line of the file, Tandem's with their options included, is one OpenSSH understands."""
    key = tmp_path / "anne"
    subprocess.run([SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    keys_file.write_bytes(FOREIGN.replace(b"# caf\xe9 (not UTF-8)\n", b""))
    set_staff_key(keys_file, "anne", Path(f"{key}.pub").read_text())
    set_staff_key(keys_file, "bob", BOB, "/opt/tandem/bin/tandem")
    listed = subprocess.run([SSH_KEYGEN, "-lf", str(keys_file)], capture_output=True, text=True)
    assert listed.returncode == 0, listed.stderr
    prints = re.findall(r"SHA256:[A-Za-z0-9+/]+", listed.stdout)  # (a comment's CR splits its line)
    assert fingerprint(parse_public_key(Path(f"{key}.pub").read_text())) in prints
    assert fingerprint(parse_public_key(BOB)) in prints
    assert len(prints) == 5, listed.stdout
    assert set(staff_keys(keys_file)) == {"anne", "bob"}
