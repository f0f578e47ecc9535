"""Staff SSH keys in the shared account's `~/.ssh/authorized_keys`.

Every member of staff logs in to the same system account; who they are comes only from the forced
command on their key's line, `restrict,pty,command="tandem --staff NAME" <key> tandem-staff:NAME`.
The trailing comment marks the lines Tandem manages: every other line (the admin's own keys,
another tool's forced commands, comments) belongs to someone else and is kept byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import os
import re
import struct
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from core.i18n import _

# The name goes inside command="…", which sshd hands to the account's shell: nothing here may
# quote, escape or separate words. \Z, not $: `$` also matches before a final newline, so
# STAFF_NAME.match("bob\n") would let a newline into the file.
STAFF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}\Z")
# The program is one plain word in that same shell command, an absolute path or a name on PATH.
PROGRAM = re.compile(r"[A-Za-z0-9_./+-]+")
KINDS = frozenset({
    "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com",
})
MARK = "tandem-staff:"
MANAGED = re.compile(r"(?:^|\s)" + re.escape(MARK) + r"(?P<name>[A-Za-z0-9][A-Za-z0-9._-]{0,31})\Z")


class AuthorizedKeysError(Exception):
    pass


@dataclass(frozen=True)
class PublicKey:
    kind: str
    blob: str  # base64, re-encoded canonically so that one key always compares equal to itself
    comment: str = ""


def _short(text: str, width: int = 24) -> str:
    """A piece of what was given, safe to show: never a whole key, never a control character."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= width else text[:width] + "…"


def _fingerprint_raw(raw: bytes) -> str:
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode().rstrip("=")


def fingerprint(key: PublicKey) -> str:
    """As `ssh-keygen -lf` shows it, so staff can compare it with their own."""
    return _fingerprint_raw(base64.b64decode(key.blob))


def parse_public_key(text: str) -> PublicKey:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any("-----BEGIN" in line or line.startswith("PuTTY-User-Key-File") for line in lines):
        raise AuthorizedKeysError(_("this is a private key: give the public key (the .pub file) instead, "
                                    "and keep the private key where it is"))
    if not lines:
        raise AuthorizedKeysError(_("no public key was given"))
    if lines[0].startswith("---- BEGIN SSH2 PUBLIC KEY"):
        raise AuthorizedKeysError(_("this public key is in the SSH2 format (PuTTYgen's export): convert it "
                                    "with `ssh-keygen -i -f FILE`, or copy the one-line key PuTTYgen shows"))
    if len(lines) > 1:
        raise AuthorizedKeysError(_("{count} lines were given: give exactly one public key").format(count=len(lines)))
    fields = lines[0].split(None, 2)
    kind = fields[0]
    if kind not in KINDS:
        if any(field in KINDS for field in lines[0].split()):
            raise AuthorizedKeysError(_("this line has options before the key (such as command=): "
                                        "give the bare public key, as in the .pub file"))
        raise AuthorizedKeysError(_("unknown key type {kind}: use an ed25519, ECDSA, RSA or security-key "
                                    "public key").format(kind=_short(kind)))
    if len(fields) < 2:
        raise AuthorizedKeysError(_("the {kind} key has no key data after its type").format(kind=kind))
    try:
        raw = base64.b64decode(fields[1], validate=True)
    except (binascii.Error, ValueError):
        raise AuthorizedKeysError(_("the {kind} key's data is not valid base64 (was it cut or wrapped?)").format(
            kind=kind)) from None
    # The blob names its own type first (an SSH string: a 4-byte length, then the bytes); a key
    # whose label and content disagree was edited or pasted together from two keys.
    inner = raw[4:4 + struct.unpack(">I", raw[:4])[0]] if len(raw) >= 4 else b""
    if inner != kind.encode():
        raise AuthorizedKeysError(_("the key is labelled {kind} but its data is not a {kind} key "
                                    "(fingerprint {fingerprint})").format(kind=kind, fingerprint=_fingerprint_raw(raw)))
    return PublicKey(kind, base64.b64encode(raw).decode(), fields[2] if len(fields) > 2 else "")


def _check_name(name: str) -> None:
    if not STAFF_NAME.fullmatch(name):
        raise AuthorizedKeysError(_("{name} cannot be a staff name: use up to 32 letters, digits, dots, dashes "
                                    "or underscores, starting with a letter or digit").format(name=repr(_short(name))))


def managed_line(name: str, key: PublicKey, program: str = "tandem") -> str:
    _check_name(name)
    if not PROGRAM.fullmatch(program):
        raise AuthorizedKeysError(_("{program} cannot be run from a key's forced command: it must be one word "
                                    "(a path or a command name, no quotes, spaces or newlines)").format(
            program=repr(_short(program, 60))))
    return f'restrict,pty,command="{program} --staff {name}" {key.kind} {key.blob} {MARK}{name}'


def _managed(line: bytes) -> str | None:
    """Whose line this is, if Tandem manages it."""
    text = line.decode("utf-8", errors="replace").strip()
    if text.startswith("#"):
        return None  # a commented-out line is not in force, whatever it ends with
    found = MANAGED.search(text)
    return found["name"] if found else None


def _same(owner: str | None, name: str) -> bool:
    # One person whatever the case, as on the staff list: "Anne" is not a second key holder beside "anne".
    return owner is not None and owner.lower() == name.lower()


def _blobs(line: bytes) -> set[bytes]:
    """The keys on a line, decoded: whatever follows a key type (options come before it)."""
    words = line.decode("utf-8", errors="replace").split()
    if words and words[0].startswith("#"):
        return set()  # not in force
    found = set()
    for kind, blob in zip(words, words[1:]):
        if kind in KINDS:
            try:
                found.add(base64.b64decode(blob, validate=True))
            except (binascii.Error, ValueError):
                pass
    return found


@contextmanager
def _locked(directory: Path):
    # Two managers adding staff at once must not each write the file without the other's line.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def _ensure_directory(directory: Path) -> None:
    if directory.exists():
        return
    directory.mkdir(mode=0o700, parents=True)
    if os.geteuid() == 0:  # root setting up ~shop/.ssh: the account must own it, or sshd ignores it
        owner = directory.parent.stat()
        os.chown(directory, owner.st_uid, owner.st_gid)


def _read(path: Path) -> list[bytes]:
    try:
        return path.read_bytes().splitlines(keepends=True)
    except FileNotFoundError:
        return []


def _write(path: Path, lines: list[bytes]) -> None:
    """Written beside the file and renamed over it: a crash leaves the old file or the new one, never
    half of one, and sshd never reads a file that is being written."""
    owner = path.stat() if path.exists() else path.parent.stat()
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tandem-new")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.writelines(lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        if os.geteuid() == 0:
            os.chown(temporary, owner.st_uid, owner.st_gid)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself, on disk
    finally:
        os.close(directory)


def set_staff_key(path: Path, name: str, key_text: str, program: str = "tandem") -> str:
    """Give `name` this key, in place of their previous one, keeping every other line; returns its fingerprint."""
    key = parse_public_key(key_text)
    line = managed_line(name, key, program).encode() + b"\n"
    raw = base64.b64decode(key.blob)
    path = Path(path)
    _ensure_directory(path.parent)
    with _locked(path.parent):
        lines, placed = [], False
        for existing in _read(path):
            owner = _managed(existing)
            if _same(owner, name):
                if not placed:
                    lines.append(line)
                    placed = True
                continue
            if raw in _blobs(existing):
                # sshd goes by the first line holding the key: with two, the person would be whoever that line says.
                if owner:
                    raise AuthorizedKeysError(_("this key ({fingerprint}) is already {other}'s: one key, one person; "
                                                "each person needs a key of their own").format(
                        fingerprint=fingerprint(key), other=owner))
                raise AuthorizedKeysError(_("this key ({fingerprint}) is already in {path} on a line Tandem does not "
                                            "manage: remove that line first").format(
                    fingerprint=fingerprint(key), path=path))
            lines.append(existing)
        if not placed:
            if lines and not lines[-1].endswith((b"\n", b"\r")):
                lines[-1] += b"\n"  # the last line had no end: ours must not join it
            lines.append(line)
        _write(path, lines)
    return fingerprint(key)


def remove_staff_key(path: Path, name: str) -> bool:
    """Drop `name`'s line(s), keeping every other; False when they had none."""
    path = Path(path)
    if not path.exists():
        return False
    with _locked(path.parent):
        lines = _read(path)
        kept = [line for line in lines if not _same(_managed(line), name)]
        if len(kept) == len(lines):
            return False
        _write(path, kept)
    return True


def staff_keys(path: Path) -> dict[str, str]:
    """Each person with a managed line, and their key's fingerprint."""
    found = {}
    for line in _read(Path(path)):
        if name := _managed(line):
            blobs = _blobs(line)
            found[name] = _fingerprint_raw(blobs.pop()) if len(blobs) == 1 else _("unreadable (edited by hand?)")
    return found
