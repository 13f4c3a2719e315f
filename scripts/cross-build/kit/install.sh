#!/bin/sh
# kiosk-agent installer: installs (or upgrades to) the executable of this kit, its systemd unit
# and default config, then optionally activates the device. Idempotent: running it again with
# the same kit changes nothing; an upgrade never touches the data dir, so the license stays.
#
#   sudo ./install.sh                                   install or upgrade
#   sudo ./install.sh --server URL --key KEY            … and activate online (kiosk-agent activate)
#   sudo ./install.sh --license FILE                    … and install an offline license
#   ./install.sh --root DIR [--license FILE]            into a device image or test tree: no
#                                                       systemctl calls, no user accounts touched
# Layout (under DIR with --root):
#   /opt/kiosk-agent/releases/<version>/kiosk-agent    the executable of each installed version
#   /opt/kiosk-agent/current -> releases/<version>      switched atomically; the previous one stays for rollback
#   /usr/local/bin/kiosk-agent -> /opt/kiosk-agent/current/kiosk-agent
#   /etc/systemd/system/kiosk-agent.service             replaced on upgrade
#   /etc/kiosk-agent/config.json                        written only when absent (the kit's default goes beside it as config.json.default)
#   /usr/lib/sysusers.d/kiosk-agent.conf                the service user, for systemd-sysusers
#   /var/lib/kiosk-agent                                data dir (license, device key, database): never removed or rewritten
set -eu

PROG=install.sh
KIT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=/
SERVER=
KEY=
LICENSE=
START=yes

die() { echo "$PROG: error: $*" >&2; exit 1; }
say() { echo "$PROG: $*"; }

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

while [ $# -gt 0 ]; do
  case "$1" in
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; shift 2 ;;
    --root=*) ROOT=${1#--root=}; shift ;;
    --server) [ $# -ge 2 ] || die "--server needs a URL"; SERVER=$2; shift 2 ;;
    --key) [ $# -ge 2 ] || die "--key needs a license key"; KEY=$2; shift 2 ;;
    --license) [ $# -ge 2 ] || die "--license needs a file"; LICENSE=$2; shift 2 ;;
    --no-start) START=no; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "$PROG: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "$SERVER" ] || [ -n "$KEY" ]; then
  [ -n "$SERVER" ] && [ -n "$KEY" ] || { echo "$PROG: --server and --key go together" >&2; exit 2; }
  [ -z "$LICENSE" ] || { echo "$PROG: use --server/--key or --license, not both" >&2; exit 2; }
fi
if [ -n "$LICENSE" ]; then
  [ -r "$LICENSE" ] || die "cannot read the license file $LICENSE"
  LICENSE=$(cd "$(dirname "$LICENSE")" && pwd)/$(basename "$LICENSE")
fi

# --- the kit ---------------------------------------------------------------------------------
info() { sed -n "s/^$1=//p" "$KIT_DIR/kit.info"; }
[ -f "$KIT_DIR/kit.info" ] && [ -f "$KIT_DIR/SHA256SUMS" ] || die "kit.info or SHA256SUMS missing next to $0: unpack the whole kit"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is missing (apt-get install -y coreutils)"
if ! (cd "$KIT_DIR" && sha256sum -c --quiet --strict SHA256SUMS >/dev/null 2>&1); then
  (cd "$KIT_DIR" && sha256sum -c --quiet SHA256SUMS) >&2 || true
  die "the kit's checksums do not match (SHA256SUMS): it is damaged or altered; download it again. Nothing was installed."
fi
VERSION=$(info version)
TARGET=$(info target)
FLAVOUR=$(info flavour)
ARCH=$(info arch)
[ -n "$VERSION" ] && [ -n "$ARCH" ] || die "kit.info is incomplete"
case "$VERSION" in *[!0-9A-Za-z.+-]*) die "kit.info has a bad version: $VERSION" ;; esac

case "$(uname -m)" in
  x86_64|amd64) HOST_ARCH=x64 ;;
  aarch64|arm64) HOST_ARCH=arm64 ;;
  *) HOST_ARCH=$(uname -m) ;;
esac
CAN_RUN=yes
[ "$HOST_ARCH" = "$ARCH" ] || CAN_RUN=no

if [ "$ROOT" = / ]; then
  [ "$CAN_RUN" = yes ] || die "this kit is for $TARGET, this machine is $(uname -m): use the kit for this machine"
  [ "$(id -u)" = 0 ] || die "run as root (sudo $0 …), or use --root DIR for an image"
  R=
else
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  R=$(cd "$ROOT" && pwd)
  [ "$R" != / ] || R=
fi

PREFIX=/opt/kiosk-agent
DATA=/var/lib/kiosk-agent
USER_NAME=kiosk-agent
RELEASE=$PREFIX/releases/$VERSION
changed=no

# --- the executable: a versioned release directory, then an atomic switch of "current" ------------
mkdir -p "$R$PREFIX/releases"
if [ -f "$R$RELEASE/kiosk-agent" ] && cmp -s "$KIT_DIR/kiosk-agent" "$R$RELEASE/kiosk-agent"; then
  :
else
  tmp="$R$PREFIX/releases/.$VERSION.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  cp "$KIT_DIR/kiosk-agent" "$tmp/kiosk-agent"
  chmod 0755 "$tmp" "$tmp/kiosk-agent"
  cmp -s "$KIT_DIR/kiosk-agent" "$tmp/kiosk-agent" || die "copying the executable to $tmp failed"
  if [ -e "$R$RELEASE" ]; then rm -rf "$R$RELEASE.old.$$"; mv "$R$RELEASE" "$R$RELEASE.old.$$"; fi
  mv "$tmp" "$R$RELEASE"
  rm -rf "$R$RELEASE.old.$$"
  changed=yes
fi
previous=
if [ -L "$R$PREFIX/current" ]; then previous=$(readlink "$R$PREFIX/current"); fi
if [ "$previous" != "releases/$VERSION" ]; then
  ln -sfn "releases/$VERSION" "$R$PREFIX/current.new"
  mv -T "$R$PREFIX/current.new" "$R$PREFIX/current"
  changed=yes
  [ -z "$previous" ] || say "upgraded: ${previous#releases/} -> $VERSION (the previous release stays for rollback)"
fi
# keep the current and the previous release, remove older ones
for d in "$R$PREFIX/releases"/*; do
  [ -d "$d" ] || continue
  n=releases/$(basename "$d")
  [ "$n" = "releases/$VERSION" ] || [ "$n" = "$previous" ] || { rm -rf "$d"; say "removed old release $(basename "$d")"; }
done
mkdir -p "$R/usr/local/bin"
if [ "$(readlink "$R/usr/local/bin/kiosk-agent" 2>/dev/null || true)" != "$PREFIX/current/kiosk-agent" ]; then
  ln -sfn "$PREFIX/current/kiosk-agent" "$R/usr/local/bin/kiosk-agent"
  changed=yes
fi

# --- unit, config, service user, data dir ------------------------------------------------------
install_file() { # mode src dest: copies when different; says whether it did
  if [ -f "$3" ] && cmp -s "$2" "$3"; then return 1; fi
  mkdir -p "$(dirname "$3")"
  cp "$2" "$3.tmp.$$" && chmod "$1" "$3.tmp.$$" && mv -f "$3.tmp.$$" "$3"
  return 0
}
unit_changed=no
if install_file 0644 "$KIT_DIR/kiosk-agent.service" "$R/etc/systemd/system/kiosk-agent.service"; then unit_changed=yes; changed=yes; fi
if [ ! -e "$R/etc/kiosk-agent/config.json" ]; then
  install_file 0644 "$KIT_DIR/config.json" "$R/etc/kiosk-agent/config.json" || true
  changed=yes
elif ! cmp -s "$KIT_DIR/config.json" "$R/etc/kiosk-agent/config.json"; then
  install_file 0644 "$KIT_DIR/config.json" "$R/etc/kiosk-agent/config.json.default" || true
fi
SYSUSERS_LINE="u $USER_NAME - \"kiosk-agent service\" $DATA /usr/sbin/nologin"
sysusers_file="$R/usr/lib/sysusers.d/kiosk-agent.conf"
if [ ! -f "$sysusers_file" ] || [ "$(cat "$sysusers_file")" != "$SYSUSERS_LINE" ]; then
  mkdir -p "$(dirname "$sysusers_file")"
  printf '%s\n' "$SYSUSERS_LINE" > "$sysusers_file"
  changed=yes
fi

if [ -z "$R" ]; then
  if ! getent passwd "$USER_NAME" >/dev/null 2>&1; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
      systemd-sysusers /usr/lib/sysusers.d/kiosk-agent.conf
    else
      useradd --system --user-group --home-dir "$DATA" --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
    fi
    say "created the system user $USER_NAME"
    changed=yes
  fi
else
  # An image or a test tree: its accounts are not ours to edit. systemd-sysusers creates the
  # user from usr/lib/sysusers.d/kiosk-agent.conf at the image's first boot, and systemd hands
  # the data dir (StateDirectory=) to it when the service starts.
  :
fi
if [ ! -d "$R$DATA" ]; then
  mkdir -p "$R$DATA"
  chmod 0700 "$R$DATA"
  changed=yes
fi
[ -n "$R" ] || chown "$USER_NAME:$USER_NAME" "$R$DATA" 2>/dev/null || true

# --- activation ---------------------------------------------------------------------------------
AGENT="$R$RELEASE/kiosk-agent"
activation=0
if [ -n "$LICENSE" ] || [ -n "$SERVER" ]; then
  [ "$CAN_RUN" = yes ] || die "installed, but this $TARGET executable cannot run on $(uname -m) to activate: activate on the device (kiosk-agent license install FILE)"
  if [ -n "$LICENSE" ]; then
    say "installing the license $LICENSE"
    "$AGENT" license install "$LICENSE" --data-dir "$R$DATA" || activation=$?
  else
    say "activating with $SERVER"
    "$AGENT" activate --server "$SERVER" --key "$KEY" --data-dir "$R$DATA" || activation=$?
  fi
  # Files made by root belong to the service user (systemd would fix this at start, too).
  [ -n "$R" ] || chown -R "$USER_NAME:$USER_NAME" "$R$DATA" 2>/dev/null || true
fi

# --- the service ------------------------------------------------------------------------------------
if [ -n "$R" ]; then
  # What "systemctl enable" does, without calling systemctl on a tree that is not running.
  wants="$R/etc/systemd/system/multi-user.target.wants"
  if [ "$(readlink "$wants/kiosk-agent.service" 2>/dev/null || true)" != /etc/systemd/system/kiosk-agent.service ]; then
    mkdir -p "$wants"
    ln -sfn /etc/systemd/system/kiosk-agent.service "$wants/kiosk-agent.service"
    changed=yes
  fi
elif command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  [ "$unit_changed" = no ] || systemctl daemon-reload
  systemctl enable kiosk-agent.service >/dev/null 2>&1 || systemctl enable kiosk-agent.service
  if [ "$START" = yes ]; then
    if [ "$changed" = yes ] || ! systemctl is-active --quiet kiosk-agent.service; then systemctl restart kiosk-agent.service; fi
  fi
else
  say "systemd is not running here: start the agent with /usr/local/bin/kiosk-agent run, or enable kiosk-agent.service later"
fi

if [ "$changed" = yes ]; then
  say "kiosk-agent $VERSION ($TARGET, $FLAVOUR) installed in ${R:-}$PREFIX; data dir ${R:-}$DATA"
else
  say "kiosk-agent $VERSION ($TARGET, $FLAVOUR) is installed already; nothing changed"
fi
if [ "$activation" -ne 0 ]; then
  echo "$PROG: the agent refused the activation (exit $activation, see above); the installation itself is complete" >&2
  exit "$activation"
fi
exit 0
