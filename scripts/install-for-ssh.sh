#!/bin/sh
# Install Tandem for staff who log in over SSH, with the service that keeps the web stores in
# step, as the README's "Running over SSH" describes, on a stock Debian or Ubuntu (any Linux with
# useradd, usermod and su). Run it as root, from a clone of the repository:
#
#     scripts/install-for-ssh.sh [--service watch|timer|cron|none] [USER]   # USER: "shop" by default
#     scripts/install-for-ssh.sh --uninstall [--purge] [USER]
#
# USER is the one account every member of staff logs in to; each person's key in its
# ~/.ssh/authorized_keys forces `tandem --staff NAME`, which is how Tandem knows who they are.
# --service says what runs the sync as USER: watch (`tandem --watch` as a system service, the
# default), timer (`tandem --sync` from a systemd timer every 15 minutes), cron (the same from
# /etc/cron.d/tandem) or none; the first three also run `tandem --backup` every day. Running the
# script again upgrades Tandem and keeps the service chosen last time unless --service says
# otherwise. --uninstall removes what the script installed and keeps the account with its data;
# --purge removes the account and its home as well.
# TANDEM_PREFIX (default /opt/tandem) holds Tandem's own environment, TANDEM_BIN (default
# /usr/local/bin) its command, TANDEM_PYTHON (default /usr/bin/python3, 3.11 or newer) the Python
# it runs on: all readable by every user, none under root's home. TANDEM_EXTRAS names Tandem's
# optional parts to install with it (postgres: the PostgreSQL driver); a re-run keeps those of the
# last install unless it is set, to "" for none. TANDEM_UNIT_DIR (default /etc/systemd/system)
# and TANDEM_CRON_DIR (default /etc/cron.d) receive the service's files.
set -eu

usage() {
    echo "usage: install-for-ssh.sh [--service watch|timer|cron|none] [USER]" >&2
    echo "       install-for-ssh.sh --uninstall [--purge] [USER]" >&2
    exit 2
}

service='' uninstall=no purge=no user=''
while [ $# -gt 0 ]; do
    case $1 in
        --service) [ $# -ge 2 ] || usage; service=$2; shift 2 ;;
        --service=*) service=${1#--service=}; shift ;;
        --uninstall) uninstall=yes; shift ;;
        --purge) purge=yes; shift ;;
        -*) usage ;;
        *) [ -z "$user" ] || usage; user=$1; shift ;;
    esac
done
user=${user:-shop}
case $service in
    ''|watch|timer|cron|none) ;;
    *) echo "install-for-ssh: --service takes watch, timer, cron or none" >&2; exit 2 ;;
esac
if [ "$uninstall" = yes ] && [ -n "$service" ]; then usage; fi
if [ "$purge" = yes ] && [ "$uninstall" = no ]; then usage; fi

source_dir=$(cd "$(dirname "$0")/.." && pwd)
prefix=${TANDEM_PREFIX:-/opt/tandem}
bin=${TANDEM_BIN:-/usr/local/bin}
python=${TANDEM_PYTHON:-/usr/bin/python3}
unit_dir=${TANDEM_UNIT_DIR:-/etc/systemd/system}
cron_dir=${TANDEM_CRON_DIR:-/etc/cron.d}

if [ "$(id -u)" -ne 0 ]; then
    echo "install-for-ssh: run it as root" >&2
    exit 2
fi
# The name and the paths go into unit files, a cron file and shell commands run as root: only
# characters that mean the same in all of them.
case $user in
    -*|*[!A-Za-z0-9._-]*) echo "install-for-ssh: '$user' is not a user name this script takes" >&2; exit 2 ;;
esac
for path in "$prefix" "$bin"; do
    case $path in
        /*) ;;
        *) echo "install-for-ssh: $path is not an absolute path" >&2; exit 2 ;;
    esac
    case $path in
        *[!A-Za-z0-9/._+-]*) echo "install-for-ssh: $path: only letters, digits and / . _ + - please" >&2; exit 2 ;;
    esac
done

# As the shop user, in its own login environment. runuser is su for root's scripts (no
# password prompt, no PAM authentication); su does the same where util-linux lacks it.
as_user() {
    if command -v runuser >/dev/null 2>&1; then
        runuser -l -s /bin/sh "$user" -c "$1"
    else
        su -l -s /bin/sh "$user" -c "$1"
    fi
}

# --- The service's files ------------------------------------------------------------------------
# Each file the script writes says so on its first line; only files saying so are replaced
# quietly or removed, so a unit an administrator wrote by hand under the same name is never lost.
marker="Written by Tandem's scripts/install-for-ssh.sh"
all_units="tandem-watch.service tandem-sync.service tandem-sync.timer tandem-backup.service tandem-backup.timer"
removed_list='' kept_list=''

removed() { removed_list="$removed_list
  $1"; }
kept() { kept_list="$kept_list
  $1"; }
ours() { [ -f "$1" ] && grep -qF "$marker" "$1"; }
in_list() { case " $2 " in *" $1 "*) return 0 ;; esac; return 1; }

# systemctl can only start and stop units where systemd is the running init; elsewhere (a
# container, a chroot) the files are written and systemd picks them up when it runs.
systemd_runs() { [ -d /run/systemd/system ]; }

# Standard input to $1, mode 0644, replaced in one step. The temporary name starts with a dot,
# which neither cron nor systemd reads; a file of that name the script did not write is kept
# beside it with a "~", a name both ignore.
put() {
    target=$1 temporary="$(dirname "$1")/.$(basename "$1").new"
    cat >"$temporary"
    chmod 644 "$temporary"
    if [ -e "$target" ] && ! ours "$target"; then
        mv "$target" "$target~"
        echo "install-for-ssh: $target was not written by this script; it is now $target~"
    fi
    mv "$temporary" "$target"
}

# Stop, disable and delete those of the named units the script wrote.
drop_units() {
    found=
    for name in "$@"; do
        if ours "$unit_dir/$name"; then
            found="$found $name"
        elif [ -e "$unit_dir/$name" ]; then
            kept "$unit_dir/$name (not written by this script)"
        fi
        # Drop-ins (NAME.d) are the administrator's.
        [ ! -d "$unit_dir/$name.d" ] || kept "$unit_dir/$name.d (drop-ins)"
    done
    [ -n "$found" ] || return 0
    if systemd_runs; then
        # shellcheck disable=SC2086  # one word per unit
        systemctl disable --now $found ||
            echo "install-for-ssh: systemctl could not stop or disable all of:$found" >&2
    fi
    for name in $found; do
        # The links `systemctl enable` made in *.wants would point at nothing.
        rm -f "$unit_dir/$name" "$unit_dir"/*.wants/"$name"
        removed "$unit_dir/$name"
    done
    if systemd_runs; then
        systemctl daemon-reload
        # shellcheck disable=SC2086
        systemctl reset-failed $found 2>/dev/null || true
    fi
}

drop_cron() {
    if ours "$cron_dir/tandem"; then
        rm -f "$cron_dir/tandem"
        removed "$cron_dir/tandem"
    elif [ -e "$cron_dir/tandem" ]; then
        kept "$cron_dir/tandem (not written by this script)"
    fi
}

# The account's home is the services' working directory; systemd gives a User= service that
# user's HOME, under which Tandem finds its settings and database, as it does at a login.
unit_text() {
    case $1 in
        tandem-watch.service) cat <<UNIT
# $marker, which replaces this file when run
# again: put changes in a drop-in (systemctl edit tandem-watch.service).
[Unit]
Description=Tandem live sync
After=network-online.target
Wants=network-online.target

[Service]
User=$user
WorkingDirectory=$home
ExecStart=$bin/tandem --watch
Restart=always
RestartSec=5
# SIGTERM ends the step under way first; give a full sync of a big catalog time to commit.
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
UNIT
        ;;
        tandem-sync.service) cat <<UNIT
# $marker, which replaces this file when run
# again: put changes in a drop-in (systemctl edit tandem-sync.service).
[Unit]
Description=Tandem sync with every web store
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
User=$user
WorkingDirectory=$home
ExecStart=$bin/tandem --sync
UNIT
        ;;
        tandem-sync.timer) cat <<UNIT
# $marker, which replaces this file when run
# again: put changes in a drop-in (systemctl edit tandem-sync.timer).
[Unit]
Description=Tandem sync every 15 minutes

[Timer]
OnCalendar=*:0/15
Persistent=true

[Install]
WantedBy=timers.target
UNIT
        ;;
        tandem-backup.service) cat <<UNIT
# $marker, which replaces this file when run
# again: put changes in a drop-in (systemctl edit tandem-backup.service).
[Unit]
Description=Tandem backup of the shop's database

[Service]
Type=oneshot
User=$user
WorkingDirectory=$home
ExecStart=$bin/tandem --backup
UNIT
        ;;
        tandem-backup.timer) cat <<UNIT
# $marker, which replaces this file when run
# again: put changes in a drop-in (systemctl edit tandem-backup.timer).
[Unit]
Description=Tandem backup every day

[Timer]
OnCalendar=daily
Persistent=true

[Install]
WantedBy=timers.target
UNIT
        ;;
    esac
}

# cron runs commands with PATH=/usr/bin:/bin and no login; the file's own PATH line finds
# tandem. No redirection into a file: Tandem keeps a log of its own, and what a run still prints
# goes to the account's cron mail, as any job's output does.
cron_text() {
    cat <<CRON
# $marker, which replaces this file when run
# again and removes it with --uninstall.
PATH=$bin:/usr/bin:/bin
*/15 * * * *  $user  tandem --sync
0 0 * * *     $user  tandem --backup
CRON
}

# --- Uninstall ----------------------------------------------------------------------------------
if [ "$uninstall" = yes ]; then
    home=
    if id "$user" >/dev/null 2>&1; then
        home=$(getent passwd "$user" | cut -d: -f6)
        # The accounts useradd makes for people start at 1000; below are the system's own.
        # Refused before anything is removed, so a mistyped name leaves the machine as it was.
        if [ "$purge" = yes ] && [ "$(id -u "$user")" -lt 1000 ]; then
            echo "install-for-ssh: $user is a system account (uid $(id -u "$user")); --purge removes" \
                 "only the shop's account" >&2
            exit 2
        fi
    fi
    # Where the account's data is, asked while its tandem is still there to answer.
    paths=
    if [ -n "$home" ] && [ -x "$bin/tandem" ]; then
        paths=$(as_user "'$bin/tandem' --paths" 2>/dev/null | sed 's/^/    /') || paths=
    fi

    # shellcheck disable=SC2086  # one word per unit
    drop_units $all_units
    drop_cron
    if [ -L "$bin/tandem" ] && [ "$(readlink "$bin/tandem")" = "$prefix/venv/bin/tandem" ]; then
        rm -f "$bin/tandem"
        removed "$bin/tandem"
    elif [ -e "$bin/tandem" ] || [ -L "$bin/tandem" ]; then
        kept "$bin/tandem (not a link to $prefix/venv/bin/tandem)"
    fi
    # Only what the script put in $prefix, never the folder's other contents: TANDEM_PREFIX
    # could name a folder that holds more than Tandem.
    for part in venv uv; do
        if [ -d "$prefix/$part" ]; then
            rm -rf "${prefix:?}/$part"
            removed "$prefix/$part"
        fi
    done
    rm -f "$prefix/service" "$prefix/extras"
    if [ -d "$prefix" ]; then
        if rmdir "$prefix" 2>/dev/null; then
            removed "$prefix"
        else
            kept "$prefix (it holds files this script did not put there)"
        fi
    fi

    account=
    if [ -z "$home" ]; then
        account="install-for-ssh: there is no account $user here"
    elif [ "$purge" = yes ]; then
        # userdel also complains of a mail spool the account never had; only whether the
        # account is gone decides.
        said=$(userdel -r "$user" 2>&1) || true
        if id "$user" >/dev/null 2>&1; then
            echo "install-for-ssh: the account $user is still there ($said); is it logged in or running" \
                 "something (ps -u $user)? Run this again once it is not." >&2
            exit 1
        fi
        if [ -e "$home" ]; then
            removed "the account $user"
            kept "$home (userdel left it: it is not the account's own)"
        else
            removed "the account $user and its home $home, with all Tandem kept there"
        fi
        # What the settings put outside the home (a backup folder, a database elsewhere) stays,
        # and is named. The words of `tandem --paths` may be French; its paths are not.
        set -f
        for token in $paths; do
            case $token in
                sqlite:///*) token=${token#sqlite:///} ;;
            esac
            case $token in
                "$home"/*) ;;
                /*) [ ! -e "$token" ] || kept "$token (outside the home)" ;;
                postgresql*) kept "the PostgreSQL database its settings named (drop it there if it should go)" ;;
            esac
        done
        set +f
        [ -n "$paths" ] || kept "whatever its settings put outside the home (no tandem was left to say where)"
        kept "the \"Match User $user\" block in /etc/ssh/sshd_config, if you added it"
    else
        kept_list="
  the account $user and its home $home, with Tandem's settings, secrets, database and backups${paths:+:
$paths}$kept_list"
    fi
    if [ -n "$removed_list" ]; then
        echo "install-for-ssh: removed$removed_list"
    else
        echo "install-for-ssh: nothing of this installation was left to remove"
    fi
    [ -z "$account" ] || echo "$account"
    [ -z "$kept_list" ] || echo "install-for-ssh: kept$kept_list"
    exit 0
fi

# --- Install ------------------------------------------------------------------------------------
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "install-for-ssh: $python is not Python 3.11 or newer; set TANDEM_PYTHON" >&2
    exit 2
fi
if [ ! -f "$source_dir/uv.lock" ]; then
    echo "install-for-ssh: $source_dir/uv.lock is missing; run it from a clone of the repository" >&2
    exit 2
fi
# A re-run (an upgrade) sets up the same service as before unless --service says otherwise, and
# the same extras: `uv sync` removes whatever the lock's chosen parts do not name, so an upgrade
# that forgot TANDEM_EXTRAS=postgres would take the database's driver away from a running shop.
if [ -z "$service" ]; then
    service=$(cat "$prefix/service" 2>/dev/null || echo watch)
    case $service in watch|timer|cron|none) ;; *) service=watch ;; esac
fi
if [ "${TANDEM_EXTRAS+set}" = set ]; then
    extras=$(echo "$TANDEM_EXTRAS" | tr ',' ' ')
else
    extras=$(cat "$prefix/extras" 2>/dev/null || true)
fi
extra_options=''
for extra in $extras; do
    case $extra in
        *[!a-z0-9_-]*) echo "install-for-ssh: '$extra' is not the name of one of Tandem's extras" >&2; exit 2 ;;
    esac
    extra_options="$extra_options --extra $extra"
done

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
#    otherwise recompile Textual at every login. Tandem itself is built afresh each time: uv
#    would otherwise reuse the wheel it built of an earlier clone of the same version number, and
#    an upgrade would install the old code. Its command is linked into $bin, on every PATH.
mkdir -p "$prefix" "$bin"
# shellcheck disable=SC2086  # one word per option
UV_PROJECT_ENVIRONMENT="$prefix/venv" UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    "$uv" sync --project "$source_dir" --locked --no-dev --no-editable --compile-bytecode --quiet \
    --reinstall-package tandem --python "$python" $extra_options
printf '%s\n' "$extras" >"$prefix/extras"
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
home=$(getent passwd "$user" | cut -d: -f6)

# 4. Where its keys go: ~/.ssh (0700) and an empty authorized_keys (0600), made by the account
#    itself so that it owns them, as sshd requires. Tandem writes the lines (--add-staff).
as_user 'umask 077 && mkdir -p "$HOME/.ssh" && touch "$HOME/.ssh/authorized_keys" &&
    chmod 700 "$HOME/.ssh" && chmod 600 "$HOME/.ssh/authorized_keys"'

# 5. Its settings and database live in its home; show where.
as_user "'$bin/tandem' --paths"

# 6. The service, as the account, from the system's units: they run from boot whoever is logged
#    in, where a user's own units stop at its last logout unless lingering is on. One way at a
#    time, since a second sync only finds the first one's lock: choosing another way removes
#    the files of the one before.
case $service in
    watch) units="tandem-watch.service tandem-backup.service tandem-backup.timer"
           start="tandem-watch.service tandem-backup.timer" ;;
    timer) units="tandem-sync.service tandem-sync.timer tandem-backup.service tandem-backup.timer"
           start="tandem-sync.timer tandem-backup.timer" ;;
    *) units='' start='' ;;
esac
others=
for name in $all_units; do
    in_list "$name" "$units" || others="$others $name"
done
# shellcheck disable=SC2086  # one word per unit
drop_units $others
[ "$service" = cron ] || drop_cron
pending=
if [ -n "$units" ]; then
    mkdir -p "$unit_dir"
    for name in $units; do
        unit_text "$name" | put "$unit_dir/$name"
    done
    if systemd_runs; then
        systemctl daemon-reload
        # shellcheck disable=SC2086
        systemctl enable $start
        # restart rather than start: after an upgrade the watcher must run the new code.
        # shellcheck disable=SC2086
        systemctl restart $start
    else
        pending="systemctl daemon-reload && systemctl enable --now $start"
    fi
fi
if [ "$service" = cron ]; then
    mkdir -p "$cron_dir"
    cron_text | put "$cron_dir/tandem"
fi
echo "$service" >"$prefix/service"

# What is left for the administrator: sshd's settings, and the first person. `su` without -l keeps
# root's PATH, so the command is named in full when $bin is not on it.
tandem=tandem
[ "$(command -v tandem || true)" = "$bin/tandem" ] || tandem="$bin/tandem"
echo
if [ -n "$removed_list" ]; then
    echo "install-for-ssh: the service is now '$service'; removed the files of the one before:$removed_list"
fi
if [ -n "$kept_list" ]; then
    echo "install-for-ssh: left as they are:$kept_list"
fi
case $service in
    watch) echo "install-for-ssh: $unit_dir/tandem-watch.service runs '$bin/tandem --watch' as $user," \
                "and tandem-backup.timer '$bin/tandem --backup' every day; its log: journalctl -u tandem-watch" ;;
    timer) echo "install-for-ssh: $unit_dir/tandem-sync.timer runs '$bin/tandem --sync' as $user every 15" \
                "minutes, and tandem-backup.timer '$bin/tandem --backup' every day; the log: journalctl -u tandem-sync" ;;
    cron) echo "install-for-ssh: $cron_dir/tandem runs 'tandem --sync' as $user every 15 minutes and" \
               "'tandem --backup' every day at midnight"
          if ! command -v cron >/dev/null 2>&1 && ! command -v crond >/dev/null 2>&1 &&
              [ ! -x /usr/sbin/cron ] && [ ! -x /usr/sbin/crond ]; then
              echo "install-for-ssh: no cron is installed here; the file waits for one (apt-get install cron)"
          fi ;;
    none) echo "install-for-ssh: no service: nothing runs the sync until you run it or schedule it" \
               "(run this script again with --service watch, timer or cron)" ;;
esac
if [ -n "$pending" ]; then
    echo "install-for-ssh: systemd is not running here, so the units are written to $unit_dir and not" \
         "started. Once it runs: $pending"
fi
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
