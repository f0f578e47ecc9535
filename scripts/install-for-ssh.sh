#!/bin/sh
# Install Tandem for staff who log in over SSH, as the README's "Running over SSH" describes, on a
# stock Debian or Ubuntu (any Linux with useradd, usermod and su). Run it as root, from a clone of
# the repository:
#
#     scripts/install-for-ssh.sh [USER]        # USER defaults to "shop"
#
# USER is the one account every member of staff logs in to; each person's key in its
# ~/.ssh/authorized_keys forces `tandem --staff NAME`, which is how Tandem knows who they are.
# TANDEM_PREFIX (default /opt/tandem) holds Tandem's own environment, TANDEM_BIN (default
# /usr/local/bin) its command, TANDEM_PYTHON (default /usr/bin/python3, 3.11 or newer) the Python
# it runs on: all readable by every user, none under root's home.
set -eu

source_dir=$(cd "$(dirname "$0")/.." && pwd)
user=${1:-shop}
prefix=${TANDEM_PREFIX:-/opt/tandem}
bin=${TANDEM_BIN:-/usr/local/bin}
python=${TANDEM_PYTHON:-/usr/bin/python3}

if [ "$(id -u)" -ne 0 ]; then
    echo "install-for-ssh: run it as root" >&2
    exit 2
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "install-for-ssh: $python is not Python 3.11 or newer; set TANDEM_PYTHON" >&2
    exit 2
fi
if [ ! -f "$source_dir/uv.lock" ]; then
    echo "install-for-ssh: $source_dir/uv.lock is missing; run it from a clone of the repository" >&2
    exit 2
fi

# As the shop user, in its own login environment. runuser is su for root's scripts (no
# password prompt, no PAM authentication); su does the same where util-linux lacks it.
as_user() {
    if command -v runuser >/dev/null 2>&1; then
        runuser -l -s /bin/sh "$user" -c "$1"
    else
        su -l -s /bin/sh "$user" -c "$1"
    fi
}

# 1. uv. Where Python is "externally managed" (Debian 12, Ubuntu 23.04 and later) `pip install uv`
#    is refused outside a virtual environment, so uv gets one of its own.
if command -v uv >/dev/null 2>&1; then
    uv=$(command -v uv)
else
    "$python" -m venv "$prefix/uv"
    "$prefix/uv/bin/pip" install --quiet uv
    uv="$prefix/uv/bin/uv"
fi

# 2. Tandem in $prefix/venv, on the system's Python, with exactly the versions in uv.lock: the
#    ones the tests passed with. `uv sync --locked` installs the lock as it is and stops if it no
#    longer matches pyproject.toml (--frozen would install a stale lock without a word; `uv tool
#    install` ignores the lock and resolves afresh). --no-editable copies Tandem itself in, so the
#    clone may move or go; copies rather than links into root's cache, which root may clean;
#    bytecode compiled now, since the shop user cannot write it into root's files and would
#    otherwise recompile Textual at every login. Its command is linked into $bin, on every PATH.
mkdir -p "$prefix" "$bin"
UV_PROJECT_ENVIRONMENT="$prefix/venv" UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    "$uv" sync --project "$source_dir" --locked --no-dev --no-editable --compile-bytecode --quiet \
    --python "$python"
chmod 755 "$prefix"
chmod -R a+rX "$prefix/venv"  # whatever root's umask, the shop user must read and run it
ln -sf "$prefix/venv/bin/tandem" "$bin/tandem"

# 3. The shared account. Its login shell is /bin/sh because sshd runs each key's forced command
#    through it; no one reaches a shell, since every line Tandem writes in authorized_keys has
#    `restrict` and a `command=`. The password is '*': no password can match it, yet unlike a
#    locked ('!') account, sshd still accepts its keys.
if id "$user" >/dev/null 2>&1; then
    usermod -s /bin/sh -p '*' "$user"
else
    useradd -m -s /bin/sh -p '*' "$user"
fi

# 4. Where its keys go: ~/.ssh (0700) and an empty authorized_keys (0600), made by the account
#    itself so that it owns them, as sshd requires. Tandem writes the lines (--add-staff).
as_user 'umask 077 && mkdir -p "$HOME/.ssh" && touch "$HOME/.ssh/authorized_keys" &&
    chmod 700 "$HOME/.ssh" && chmod 600 "$HOME/.ssh/authorized_keys"'

# 5. Its settings and database live in its home; show where.
as_user "'$bin/tandem' --paths"

# What is left for the administrator: sshd's settings, and the first person. `su` without -l keeps
# root's PATH, so the command is named in full when $bin is not on it.
tandem=tandem
[ "$(command -v tandem || true)" = "$bin/tandem" ] || tandem="$bin/tandem"
cat <<EOF

install-for-ssh: done. Add this block at the end of /etc/ssh/sshd_config, then reload sshd
(systemctl reload ssh):

Match User $user
    DisableForwarding yes
    PermitTTY yes
    PasswordAuthentication no
    KbdInteractiveAuthentication no
    AuthenticationMethods publickey

Then add the first person, the owner, with their public key (a .pub file '$user' can read):

    su -s /bin/sh $user -c '$tandem --add-staff NAME --role owner --ssh-key /path/to/their_key.pub'

and set their PIN with:

    su -s /bin/sh $user -c '$tandem --set-pin NAME'
EOF
