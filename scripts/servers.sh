#!/usr/bin/env bash
# The real peers the tests, benchmarks and demo talk to, all on 127.0.0.1:
# Prosody, ejabberd, two tinyproxy and two microsocks instances (with and
# without credentials), dnsmasq serving SRV records, and two openssl
# s_server instances with bad certificates.
#
#   scripts/servers.sh up       install what is missing, configure, start, wait, register accounts
#   scripts/servers.sh down     stop them all
#   scripts/servers.sh status   one line per server
#
# Idempotent: `up` on running servers only says they are up. Everything
# lives under .state/ in the repository (git-ignored); .state/servers.json
# tells the tests where everything is.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STATE=$ROOT/.state
TEMPLATES=$ROOT/scripts/servers

# Ports well away from the standard ones, so a developer's own servers do not clash.
# A second checkout on the same machine (a worktree, a fresh clone to try CI)
# runs its own servers on shifted ports: XMPP_CORE_PORT_OFFSET=100 ./run test.
# The offset of the servers last started is kept in .state/port-offset, so
# `down` and `status` find them without the variable.
mkdir -p "$STATE"
if [[ -n ${XMPP_CORE_PORT_OFFSET:-} ]]; then
  OFFSET=$XMPP_CORE_PORT_OFFSET
elif [[ -f $STATE/port-offset ]]; then
  OFFSET=$(cat "$STATE/port-offset")
else
  OFFSET=0
fi
[[ $OFFSET =~ ^[0-9]{1,4}$ ]] || { echo "XMPP_CORE_PORT_OFFSET must be a number from 0 to 9999" >&2; exit 2; }
PROSODY_C2S=$((25222 + OFFSET)) PROSODY_C2S_TLS=$((25223 + OFFSET))
PROSODY_HTTP=$((25280 + OFFSET)) PROSODY_HTTPS=$((25281 + OFFSET))
EJABBERD_C2S=$((35222 + OFFSET)) EJABBERD_C2S_TLS=$((35223 + OFFSET))
EJABBERD_HTTP=$((35280 + OFFSET)) EJABBERD_HTTPS=$((35443 + OFFSET)) EJABBERD_DIST=$((35270 + OFFSET))
TINYPROXY_OPEN=$((28888 + OFFSET)) TINYPROXY_AUTH=$((28889 + OFFSET))
SOCKS_OPEN=$((21080 + OFFSET)) SOCKS_AUTH=$((21081 + OFFSET))
DNS_PORT=$((25353 + OFFSET))
UNTRUSTED_TLS=$((25443 + OFFSET)) WRONG_NAME_TLS=$((25444 + OFFSET))
CLOSED_PORT=$((25999 + OFFSET)) # nothing listens here: the "refused target" of proxy tests
# Node names must differ between checkouts' ejabberd instances.
EJABBERD_NODE=ejabberd@localhost
((OFFSET == 0)) || EJABBERD_NODE=ejabberd$OFFSET@localhost
SERVERS=(prosody ejabberd tinyproxy-open tinyproxy-auth socks-open socks-auth dnsmasq tls-untrusted tls-wrong-name)

say() { printf '» %s\n' "$*" >&2; }

# --- packages ---------------------------------------------------------------
# prosody-modules: mod_auth_ccert, Prosody's SASL EXTERNAL with client certificates.
PACKAGES=(prosody prosody-modules lua-unbound ejabberd tinyproxy microsocks dnsmasq-base openssl)
ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return
  say "installing Debian packages: ${missing[*]}"
  if [[ $(id -u) != 0 ]]; then
    echo "need root to apt-get install ${missing[*]}" >&2
    exit 1
  fi
  # Keep the maintainer scripts from starting the daemons: we start our own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  rm -f /usr/sbin/policy-rc.d
  trap - EXIT
}

# --- certificates -----------------------------------------------------------
# Bumped whenever the set of certificates changes, so an older .state/pki is remade.
PKI_VERSION=2
make_pki() {
  local pki=$STATE/pki
  [[ -f $pki/done && $(cat "$pki/done") == "$PKI_VERSION" ]] && return
  say "making a test CA and certificates in .state/pki"
  rm -rf "$pki"
  mkdir -p "$pki"
  (
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=xmpp-core test CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    issue() { # name subject-alt-names
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
      printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$2" > "$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    }
    # The servers' certificate also covers their ANONYMOUS and EXTERNAL domains.
    issue localhost "DNS:localhost,DNS:anon.localhost,DNS:cert.localhost,IP:127.0.0.1"
    issue wrong.example "DNS:wrong.example"
    # Client certificates for SASL EXTERNAL, one account each (RFC 6120 §13.7.1.4 id-on-xmppAddr):
    # alice@localhost on ejabberd, alice@cert.localhost on Prosody (mod_auth_ccert).
    for account in alice@localhost alice@cert.localhost; do
      issue "$account" "otherName:1.3.6.1.5.5.7.8.5;UTF8:$account"
    done
    cat localhost.pem localhost.key ca.pem > localhost-full.pem
    # Self-signed, not under the test CA: "certificate invalid".
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout untrusted.key -out untrusted.pem 2>/dev/null
    chmod 644 ./*.key
    echo "$PKI_VERSION" > done
  )
}

# --- configs ----------------------------------------------------------------
fill() { # template output
  sed -e "s#@STATE@#$STATE#g" \
    -e "s#@PROSODY_C2S@#$PROSODY_C2S#g" -e "s#@PROSODY_C2S_TLS@#$PROSODY_C2S_TLS#g" \
    -e "s#@PROSODY_HTTP@#$PROSODY_HTTP#g" -e "s#@PROSODY_HTTPS@#$PROSODY_HTTPS#g" \
    -e "s#@EJABBERD_C2S@#$EJABBERD_C2S#g" -e "s#@EJABBERD_C2S_TLS@#$EJABBERD_C2S_TLS#g" \
    -e "s#@EJABBERD_HTTP@#$EJABBERD_HTTP#g" -e "s#@EJABBERD_HTTPS@#$EJABBERD_HTTPS#g" \
    "$1" > "$2"
}

write_configs() {
  mkdir -p "$STATE"/{prosody/data,ejabberd/{db,log},tinyproxy,dnsmasq,run}
  fill "$TEMPLATES/prosody.cfg.lua.in" "$STATE/prosody/prosody.cfg.lua"
  fill "$TEMPLATES/ejabberd.yml.in" "$STATE/ejabberd/ejabberd.yml"
  cat > "$STATE/ejabberd/ejabberdctl.cfg" <<CFG
ERLANG_NODE=$EJABBERD_NODE
ERL_DIST_PORT=$EJABBERD_DIST
ERL_EPMD_ADDRESS=127.0.0.1
INET_DIST_INTERFACE=127.0.0.1
EJABBERD_PID_PATH=$STATE/run/ejabberd.pid
EJABBERD_BYPASS_WARNINGS=true
CFG
  cp /etc/ejabberd/inetrc "$STATE/ejabberd/inetrc" 2>/dev/null || : > "$STATE/ejabberd/inetrc"
  # Debian's ejabberdctl switches to the ejabberd user with su; ours runs as the caller.
  sed -e 's/^INSTALLUSER=ejabberd/INSTALLUSER=/' /usr/sbin/ejabberdctl > "$STATE/ejabberd/ejabberdctl"
  chmod +x "$STATE/ejabberd/ejabberdctl"
  local connect_ports=""
  for p in $PROSODY_C2S $PROSODY_C2S_TLS $PROSODY_HTTP $PROSODY_HTTPS $EJABBERD_C2S $EJABBERD_C2S_TLS \
    $EJABBERD_HTTP $EJABBERD_HTTPS $UNTRUSTED_TLS $WRONG_NAME_TLS $CLOSED_PORT; do
    connect_ports+="ConnectPort $p"$'\n'
  done
  for kind in open auth; do
    local port=$TINYPROXY_OPEN auth=""
    if [[ $kind == auth ]]; then port=$TINYPROXY_AUTH auth="BasicAuth proxyuser proxypass"; fi
    cat > "$STATE/tinyproxy/$kind.conf" <<CFG
Port $port
Listen 127.0.0.1
Timeout 600
MaxClients 200
Allow 127.0.0.1
DisableViaHeader Yes
LogLevel Warning
LogFile "$STATE/tinyproxy/$kind.log"
$auth
$connect_ports
CFG
  done
}

# --- processes --------------------------------------------------------------
pidfile() { echo "$STATE/run/$1.pid"; }

alive() { # name
  local pf pid stat
  pf=$(pidfile "$1")
  [[ -f $pf ]] || return 1
  pid=$(cat "$pf")
  stat=$(ps -o stat= -p "$pid" 2>/dev/null) || return 1
  [[ -n $stat && $stat != Z* ]]
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # name port
  local i
  for ((i = 0; i < 300; i++)); do
    port_open "$2" && return 0
    if ! alive "$1"; then
      echo "$1 exited before opening port $2; see $STATE/run/$1.log" >&2
      tail -20 "$STATE/run/$1.log" >&2 || true
      return 1
    fi
    sleep 0.1
  done
  echo "$1 did not open port $2 within 30 s; see $STATE/run/$1.log" >&2
  return 1
}

launch() { # name command...
  local name=$1
  shift
  if alive "$name"; then return; fi
  # setsid: the servers outlive the shell that started them (and ignore its Ctrl-C).
  setsid "$@" > "$STATE/run/$name.log" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$name")"
}

main_port() {
  case $1 in
    prosody) echo $PROSODY_C2S ;;
    ejabberd) echo $EJABBERD_HTTP ;;
    tinyproxy-open) echo $TINYPROXY_OPEN ;;
    tinyproxy-auth) echo $TINYPROXY_AUTH ;;
    socks-open) echo $SOCKS_OPEN ;;
    socks-auth) echo $SOCKS_AUTH ;;
    dnsmasq) echo $DNS_PORT ;;
    tls-untrusted) echo $UNTRUSTED_TLS ;;
    tls-wrong-name) echo $WRONG_NAME_TLS ;;
  esac
}

# A port one of our servers needs, held by a process that is not ours: most
# often another checkout's servers. Say which, and how to get out of the way.
check_ports_free() {
  local s port holder pid dir
  for s in "${SERVERS[@]}"; do
    alive "$s" && continue
    port=$(main_port "$s")
    port_open "$port" || continue
    holder=$(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1) || true
    pid=${holder#pid=}
    dir=""
    if [[ -n $pid ]]; then
      dir=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -o '/[^ ]*/\.state' | head -1) || true
      dir=${dir%/.state}
    fi
    if [[ -n $dir && $dir != "$ROOT" ]]; then
      echo "port $port ($s) is held by the test servers of the checkout $dir (pid $pid)." >&2
      echo "Stop them with '$dir/run servers down', or run this checkout's on other ports: XMPP_CORE_PORT_OFFSET=100 ./run test" >&2
    else
      echo "port $port ($s) is already in use${pid:+ by pid $pid ($(ps -o comm= -p "$pid" 2>/dev/null))}." >&2
      echo "Free it, or run this checkout's servers on other ports: XMPP_CORE_PORT_OFFSET=100 ./run test" >&2
    fi
    exit 1
  done
}

ejabberdctl() {
  HOME=$STATE/ejabberd "$STATE/ejabberd/ejabberdctl" --config-dir "$STATE/ejabberd" \
    --logs "$STATE/ejabberd/log" --spool "$STATE/ejabberd/db" "$@"
}

register_prosody() {
  [[ -f $STATE/prosody/registered ]] && return
  for user in alice:alicepass bob:bobpass; do
    prosodyctl --config "$STATE/prosody/prosody.cfg.lua" register "${user%%:*}" localhost "${user#*:}" >&2
  done
  touch "$STATE/prosody/registered"
}

register_ejabberd() {
  [[ -f $STATE/ejabberd/registered ]] && return
  local user out i
  for user in alice:alicepass bob:bobpass; do
    for ((i = 0; i < 50; i++)); do
      # Registration fails while ejabberd is still starting its modules: retry briefly.
      if out=$(ejabberdctl register "${user%%:*}" localhost "${user#*:}" 2>&1) || [[ $out == *"already registered"* ]]; then
        break
      fi
      sleep 0.2
    done
    ((i < 50)) || { echo "could not register ${user%%:*} on ejabberd: $out" >&2; return 1; }
  done
  touch "$STATE/ejabberd/registered"
}

write_manifest() {
  cat > "$STATE/servers.json" <<JSON
{
  "ca": "$STATE/pki/ca.pem",
  "domain": "localhost",
  "anonymousDomain": "anon.localhost",
  "clientCertificates": {
    "alice@localhost": { "cert": "$STATE/pki/alice@localhost.pem", "key": "$STATE/pki/alice@localhost.key" },
    "alice@cert.localhost": { "cert": "$STATE/pki/alice@cert.localhost.pem", "key": "$STATE/pki/alice@cert.localhost.key" }
  },
  "accounts": { "alice": "alicepass", "bob": "bobpass" },
  "prosody": { "c2s": $PROSODY_C2S, "c2sDirectTls": $PROSODY_C2S_TLS, "http": $PROSODY_HTTP, "https": $PROSODY_HTTPS, "boshPath": "/http-bind", "certificateDomain": "cert.localhost" },
  "ejabberd": { "c2s": $EJABBERD_C2S, "c2sDirectTls": $EJABBERD_C2S_TLS, "http": $EJABBERD_HTTP, "https": $EJABBERD_HTTPS, "boshPath": "/bosh", "certificateDomain": "localhost" },
  "tinyproxy": { "open": $TINYPROXY_OPEN, "auth": $TINYPROXY_AUTH, "user": "proxyuser", "password": "proxypass" },
  "microsocks": { "open": $SOCKS_OPEN, "auth": $SOCKS_AUTH, "user": "sockuser", "password": "sockpass" },
  "dnsmasq": { "port": $DNS_PORT, "srvDomain": "example.test", "noSrvDomain": "nosrv.test" },
  "untrusted": { "https": $UNTRUSTED_TLS },
  "wrongName": { "tls": $WRONG_NAME_TLS },
  "closedPort": $CLOSED_PORT
}
JSON
}

# What the running servers were configured from: this script and its templates.
config_stamp() { cat "$ROOT/scripts/servers.sh" "$TEMPLATES"/*.in | sha256sum | cut -d' ' -f1; }

up() {
  local started=$SECONDS all_up=1 s
  for s in "${SERVERS[@]}"; do
    if ! alive "$s" || ! port_open "$(main_port "$s")"; then all_up=0; fi
  done
  if [[ -f $(pidfile prosody) && $(cat "$STATE/config-stamp" 2>/dev/null) != "$(config_stamp)" ]]; then
    # Servers started from an older configuration would test the wrong thing.
    say "the server configuration changed since the servers started: restarting them"
    down
    all_up=0
  fi
  if ((all_up)) && [[ -f $STATE/servers.json && -f $STATE/ejabberd/registered ]]; then
    say "test servers are up (.state/servers.json)"
    return
  fi
  check_ports_free
  if [[ -f $STATE/port-offset && $(cat "$STATE/port-offset") != "$OFFSET" ]]; then
    # ejabberd's database is tied to its node name, which follows the offset.
    down
    rm -rf "$STATE/ejabberd/db" "$STATE/ejabberd/registered"
  fi
  ensure_packages
  make_pki
  write_configs
  register_prosody
  say "starting test servers"
  launch prosody prosody --config "$STATE/prosody/prosody.cfg.lua" -F
  launch ejabberd env HOME="$STATE/ejabberd" "$STATE/ejabberd/ejabberdctl" --config-dir "$STATE/ejabberd" \
    --logs "$STATE/ejabberd/log" --spool "$STATE/ejabberd/db" foreground
  launch tinyproxy-open tinyproxy -d -c "$STATE/tinyproxy/open.conf"
  launch tinyproxy-auth tinyproxy -d -c "$STATE/tinyproxy/auth.conf"
  launch socks-open microsocks -i 127.0.0.1 -p $SOCKS_OPEN
  launch socks-auth microsocks -i 127.0.0.1 -p $SOCKS_AUTH -u sockuser -P sockpass
  launch dnsmasq dnsmasq --keep-in-foreground --no-resolv --no-hosts --no-dhcp-interface= --bind-interfaces \
    --listen-address=127.0.0.1 --port=$DNS_PORT --user=root --pid-file= --log-facility=- \
    --address=/example.test/127.0.0.1 --address=/nosrv.test/127.0.0.1 \
    --srv-host=_xmpps-client._tcp.example.test,localhost,$PROSODY_C2S_TLS,5,50 \
    --srv-host=_xmpp-client._tcp.example.test,localhost,$PROSODY_C2S,10,50 \
    --srv-host=_xmpp-client._tcp.example.test,localhost,$EJABBERD_C2S,20,10
  launch tls-untrusted openssl s_server -quiet -accept "127.0.0.1:$UNTRUSTED_TLS" \
    -cert "$STATE/pki/untrusted.pem" -key "$STATE/pki/untrusted.key" -www
  launch tls-wrong-name openssl s_server -quiet -accept "127.0.0.1:$WRONG_NAME_TLS" \
    -cert "$STATE/pki/wrong.example.pem" -key "$STATE/pki/wrong.example.key" -www
  for s in "${SERVERS[@]}"; do wait_port "$s" "$(main_port "$s")"; done
  wait_port prosody $PROSODY_HTTP
  wait_port ejabberd $EJABBERD_C2S
  register_ejabberd
  write_manifest
  echo "$OFFSET" > "$STATE/port-offset"
  config_stamp > "$STATE/config-stamp"
  say "test servers are up in $((SECONDS - started)) s (.state/servers.json)"
}

down() {
  local s pid i
  for s in "${SERVERS[@]}"; do
    alive "$s" || { rm -f "$(pidfile "$s")"; continue; }
    pid=$(cat "$(pidfile "$s")")
    # The process group: ejabberdctl's erl children, etc.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do alive "$s" || break; sleep 0.1; done
    alive "$s" && kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$(pidfile "$s")"
  done
  say "test servers stopped"
}

status() {
  local s
  for s in "${SERVERS[@]}"; do
    if alive "$s" && port_open "$(main_port "$s")"; then
      printf '%-16s up    (pid %s, port %s)\n' "$s" "$(cat "$(pidfile "$s")")" "$(main_port "$s")"
    else
      printf '%-16s down\n' "$s"
    fi
  done
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  *)
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
