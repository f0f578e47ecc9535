#!/bin/sh
# Install Tandem for staff who log in over SSH, as the README's "Installing for staff over SSH"
# describes, on a stock Debian or Ubuntu (and macOS, with TANDEM_PYTHON set). Run as root from a
# clone of the repository:
#
#     sudo scripts/install-for-ssh.sh [USER]        # USER defaults to "shop"
#
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
    echo "install-for-ssh: run it as root (sudo)" >&2
    exit 2
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "install-for-ssh: $python is not Python 3.11 or newer; set TANDEM_PYTHON" >&2
    exit 2
fi

# 1. uv. Where Python is "externally managed" (Debian 12, Ubuntu 23.04 and later) `pip install uv`
#    is refused outside a virtual environment, so uv gets one of its own.
if command -v uv >/dev/null 2>&1; then
    uv=$(command -v uv)
else
    "$python" -m venv "$prefix/uv"
    "$prefix/uv/bin/pip" install --quiet uv
    uv="$prefix/uv/bin/uv"
fi

# 2. Tandem in its own environment under $prefix, on the system's Python, its command in $bin
#    (on every user's PATH, and where the login shell below points).
mkdir -p "$prefix" "$bin"
chmod 755 "$prefix"
UV_TOOL_DIR="$prefix/tools" UV_TOOL_BIN_DIR="$bin" \
    "$uv" tool install --force --quiet --python "$python" "$source_dir"

# 3. The shop's user, whose login shell is Tandem: logging in over SSH is opening the console.
grep -qx "$bin/tandem" /etc/shells 2>/dev/null || echo "$bin/tandem" >> /etc/shells
if id "$user" >/dev/null 2>&1; then
    usermod -s "$bin/tandem" "$user"
else
    useradd -m -s "$bin/tandem" "$user"
fi

# 4. Its settings and database live in its home; show where.
su -l -s /bin/sh "$user" -c "'$bin/tandem' --paths"
echo "install-for-ssh: done. '$user' now lands in Tandem when logging in; give them an SSH key or a password."
