#!/usr/bin/env bash
# Install or update autorig under a prefix, in one command (run it again for every update):
#
#   sudo deploy/install.sh [--prefix /opt/autorig] [--server-name example.com] [options]
#
#   1. the static pages with three.js built (npm ci + scripts/build_static.sh in this checkout)
#   2. PREFIX/venv with the package (pip install of this checkout; skipped when unchanged)
#   3. PREFIX/static: an exact copy of the pages, where nginx serves them (stale files replaced,
#      removed files deleted)
#   4. PREFIX/etc/autorig.env: created once with new secrets, then kept as the operator edits it
#   5. PREFIX/etc/systemd/*.service and PREFIX/etc/nginx/autorig.conf rendered from deploy/*.in
#   6. the database migrated (`autorig migrate`, as the service user)
#   7. with systemd: the units in /etc/systemd/system, the site in /etc/nginx/sites-enabled,
#      `nginx -t` and a reload, and the units (re)started when anything changed
#
# Every file is written only when its content differs, so a second run changes nothing and
# says so. Options:
#   --prefix DIR          installation folder (default /opt/autorig)
#   --user NAME           service user, created when missing (default autorig)
#   --server-name NAME    nginx server_name and the env file's PUBLIC_BASE_URL (default: host name)
#   --listen ADDR         nginx listen address (default 80)
#   --backend HOST:PORT   where nginx finds the backend (default 127.0.0.1:8000)
#   --venv-from DIR       use this existing virtualenv (a symlink) instead of building PREFIX/venv
#   --no-system           touch nothing outside PREFIX: no user, no /etc, no systemctl (tests)
#   --no-worker           do not install or start the worker unit (a backend-only host)
#   --no-backend          only the worker unit (a worker-only host)
#   --no-migrate          skip the database migration
set -euo pipefail

SOURCE=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/autorig
SVC_USER=autorig
SERVER_NAME=$(hostname -f 2>/dev/null || hostname)
LISTEN=80
BACKEND=127.0.0.1:8000
VENV_FROM=
SYSTEM=1
WORKER=1
BACKEND_UNIT=1
MIGRATE=1
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3

die() { echo "install: error: $*" >&2; exit 1; }
while (($#)); do
  case "$1" in
    --prefix) PREFIX=${2:?}; shift ;;
    --user) SVC_USER=${2:?}; shift ;;
    --server-name) SERVER_NAME=${2:?}; shift ;;
    --listen) LISTEN=${2:?}; shift ;;
    --backend) BACKEND=${2:?}; shift ;;
    --venv-from) VENV_FROM=$(cd "${2:?}" && pwd); shift ;;
    --no-system) SYSTEM=0 ;;
    --no-worker) WORKER=0 ;;
    --no-backend) BACKEND_UNIT=0 ;;
    --no-migrate) MIGRATE=0 ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
  shift
done
mkdir -p "$PREFIX"
PREFIX=$(cd "$PREFIX" && pwd)
STATIC=$PREFIX/static
ENV_FILE=$PREFIX/etc/autorig.env
# systemd is running (sd_booted): units can be installed and started.
SYSTEMD=0
[ "$SYSTEM" = 1 ] && [ -d /run/systemd/system ] && SYSTEMD=1
[ "$SYSTEM" = 1 ] && [ "$(id -u)" != 0 ] && die "run as root (or with --no-system to stay inside the prefix)"

CHANGES=0
changed() { CHANGES=$((CHANGES + 1)); echo "  $*"; }

# put SRC DEST [MODE]: copy when the content differs (atomically: a reader never sees half a file).
put() {
  local src=$1 dest=$2 mode=${3:-0644}
  if cmp -s "$src" "$dest"; then return 0; fi
  mkdir -p "$(dirname "$dest")"
  local what=updated
  [ -e "$dest" ] || what=added
  install -m "$mode" "$src" "$dest.install-tmp"
  mv -f "$dest.install-tmp" "$dest"
  changed "$what ${dest#"$PREFIX"/}"
}

# render TEMPLATE DEST: substitute the @NAME@ placeholders, then put.
render() {
  local tmp
  tmp=$(mktemp)
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@USER@|$SVC_USER|g" -e "s|@STATIC@|$STATIC|g" \
      -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@LISTEN@|$LISTEN|g" -e "s|@BACKEND@|$BACKEND|g" \
      -e "s|@MAX_UPLOAD_MB@|$MAX_UPLOAD_MB|g" -e "s|@MAX_BODY_MB@|$((MAX_UPLOAD_MB + 1))|g" \
      -e "s|@PROXY_TIMEOUT_S@|$PROXY_TIMEOUT_S|g" "$1" > "$tmp"
  put "$tmp" "$2"
  rm -f "$tmp"
}

echo "install: autorig from $SOURCE into $PREFIX"

# 1. Static pages with three.js (the viewer loads it from static/vendor, never from a CDN).
if [ ! -f "$SOURCE/src/autorig/web/static/vendor/three/.version" ] || [ -f "$SOURCE/package.json" ]; then
  if [ ! -f "$SOURCE/node_modules/three/build/three.module.js" ]; then
    command -v npm >/dev/null || die "npm is missing (apt-get install npm) and three.js is not built yet"
    (cd "$SOURCE" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  "$SOURCE/scripts/build_static.sh"
fi

# 2. The virtualenv: a regular (non-editable) install, redone only when the sources changed.
if [ -n "$VENV_FROM" ]; then
  if [ "$(readlink "$PREFIX/venv" 2>/dev/null)" != "$VENV_FROM" ]; then
    rm -rf "$PREFIX/venv"
    ln -s "$VENV_FROM" "$PREFIX/venv"
    changed "venv -> $VENV_FROM"
  fi
else
  stamp=$(cd "$SOURCE" && tar -c --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
          --exclude=__pycache__ pyproject.toml src | sha1sum | cut -c1-16)
  if [ "$(cat "$PREFIX/venv/.autorig-source" 2>/dev/null)" != "$stamp" ]; then
    [ -x "$PREFIX/venv/bin/python" ] || "$PY" -m venv "$PREFIX/venv"
    "$PREFIX/venv/bin/pip" install -q --upgrade pip wheel
    "$PREFIX/venv/bin/pip" install -q --upgrade "$SOURCE[web,worker]"
    echo "$stamp" > "$PREFIX/venv/.autorig-source"
    changed "venv: autorig installed from $SOURCE ($stamp)"
  fi
fi

# 3. The pages where nginx reads them: an exact copy (the classic "fix does not show up" is a
#    forgotten copy, so it is part of every update).
src_static=$SOURCE/src/autorig/web/static
mkdir -p "$STATIC"
while IFS= read -r -d '' f; do
  put "$f" "$STATIC/${f#"$src_static"/}"
done < <(find "$src_static" -type f ! -name '*.install-tmp' -print0 | sort -z)
while IFS= read -r -d '' f; do
  rel=${f#"$STATIC"/}
  if [ ! -f "$src_static/$rel" ]; then rm -f "$f"; changed "removed ${f#"$PREFIX"/}"; fi
done < <(find "$STATIC" -type f -print0 | sort -z)
find "$STATIC" -mindepth 1 -type d -empty -delete

# 4. The env file: created once with fresh secrets, then the operator's.
if [ ! -f "$ENV_FILE" ]; then
  mkdir -p "$(dirname "$ENV_FILE")"
  secret() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(32))'; }
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@SECRET_KEY@|$(secret)|" \
      -e "s|@WORKER_TOKEN@|$(secret)|g" "$SOURCE/deploy/autorig.env.in" > "$ENV_FILE"
  chmod 0640 "$ENV_FILE"
  changed "added etc/autorig.env (new SECRET_KEY and WORKER_TOKEN; edit it, it is kept on updates)"
fi
MAX_UPLOAD_MB=$(sed -n 's/^MAX_UPLOAD_MB=\([0-9]*\).*/\1/p' "$ENV_FILE" | tail -1)
MAX_UPLOAD_MB=${MAX_UPLOAD_MB:-200}
PROXY_TIMEOUT_S=$((MAX_UPLOAD_MB > 120 ? MAX_UPLOAD_MB : 120))

# 5. Units and the nginx site, rendered inside the prefix.
render "$SOURCE/deploy/autorig-backend.service.in" "$PREFIX/etc/systemd/autorig-backend.service"
render "$SOURCE/deploy/autorig-worker.service.in" "$PREFIX/etc/systemd/autorig-worker.service"
render "$SOURCE/deploy/nginx-site.conf.in" "$PREFIX/etc/nginx/autorig.conf"
mkdir -p "$PREFIX/var"

# The service user owns the data folder and may read the env file.
as_user=()
if [ "$SYSTEM" = 1 ]; then
  if ! id "$SVC_USER" >/dev/null 2>&1; then
    useradd --system --home-dir "$PREFIX/var" --no-create-home --shell /usr/sbin/nologin "$SVC_USER"
    changed "added user $SVC_USER"
  fi
  chown -R "$SVC_USER:$SVC_USER" "$PREFIX/var"
  chown "root:$SVC_USER" "$ENV_FILE"
  as_user=(runuser -u "$SVC_USER" --)
fi

# 6. Database migrations (also run at every start; here so that a failure stops the update).
if [ "$MIGRATE" = 1 ] && [ "$BACKEND_UNIT" = 1 ]; then
  (cd "$PREFIX" && "${as_user[@]}" "$PREFIX/venv/bin/autorig" migrate --env-file "$ENV_FILE")
fi

# 7. systemd and nginx.
units=()
[ "$BACKEND_UNIT" = 1 ] && units+=(autorig-backend.service)
[ "$WORKER" = 1 ] && units+=(autorig-worker.service)
if [ "$SYSTEMD" = 1 ]; then
  for u in "${units[@]}"; do put "$PREFIX/etc/systemd/$u" "/etc/systemd/system/$u"; done
  if [ -d /etc/nginx/sites-available ] && [ "$BACKEND_UNIT" = 1 ]; then
    put "$PREFIX/etc/nginx/autorig.conf" /etc/nginx/sites-available/autorig
    [ -L /etc/nginx/sites-enabled/autorig ] || { ln -sf ../sites-available/autorig /etc/nginx/sites-enabled/autorig; changed "enabled the nginx site"; }
    nginx -t -q
    systemctl reload-or-restart nginx
  fi
  systemctl daemon-reload
  systemctl enable -q "${units[@]}"
  if ((CHANGES > 0)) || ! systemctl is-active -q "${units[@]}"; then
    systemctl restart "${units[@]}"
    echo "install: restarted ${units[*]}"
  fi
elif [ "$SYSTEM" = 1 ]; then
  echo "install: systemd is not running here; start the units yourself (see $PREFIX/etc/systemd)"
fi

if ((CHANGES == 0)); then
  echo "install: up to date, nothing changed"
else
  echo "install: $CHANGES changes"
fi
