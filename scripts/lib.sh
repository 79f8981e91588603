# Shared by scripts/*: installing what is missing, with apt-get, only when it is missing.

# apt_install PACKAGE... : installs the packages not yet installed (needs root or sudo).
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  echo "installing: ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# need_cargo: the Rust toolchain is the one thing we cannot apt-get (Debian's is too old).
need_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo not found: install Rust 1.75 or newer with rustup (https://rustup.rs), then run this again" >&2
    exit 1
  fi
}

# --- Servers on 127.0.0.1 for the demo and the benchmarks -------------------------------
# servers_init: a scratch directory ($work) and a list of background servers ($pids), each
# in its own session; on exit every one is ended by process group and $work removed.
servers_init() {
  work=$(mktemp -d)
  pids=()
  trap servers_stop EXIT
}

servers_stop() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}

# wait_for_file PATH: until PATH is non-empty (a server wrote its port there), at most 10 s.
wait_for_file() {
  for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
  echo "no $1 after 10 s" >&2
  exit 1
}

# start_kamailio: a real Kamailio on 127.0.0.1 (UDP and TCP) with the tests' configuration
# (200 Keepalive to sip:HOST, 404 to a user part, 503 to "busy"); sets $sip_port.
start_kamailio() {
  sip_port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  sed -e "s/@LISTEN_UDP@/udp:127.0.0.1:$sip_port/" -e "s/@LISTEN_TCP@/tcp:127.0.0.1:$sip_port/" \
    tests/kamailio/kamailio.cfg > "$work/kamailio.cfg"
  setsid /usr/sbin/kamailio -DD -E -f "$work/kamailio.cfg" -Y "$work" -m 16 -M 4 \
    >"$work/kamailio.log" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$sip_port") 2>/dev/null && return 0; sleep 0.1; done
  echo "kamailio did not start: $(cat "$work/kamailio.log")" >&2
  exit 1
}

# start_rtsp_server AUTH: GStreamer's RTSP server (tests/rtsp/server.py; /test open,
# /secure behind AUTH = basic or digest, user:secret); sets $rtsp_port.
start_rtsp_server() {
  setsid /usr/bin/python3 tests/rtsp/server.py "$1" >"$work/rtsp.port" 2>"$work/rtsp.log" </dev/null &
  pids+=($!)
  wait_for_file "$work/rtsp.port"
  rtsp_port=$(head -1 "$work/rtsp.port")
}

# start_fault_peer PROGRAM PROTO TRANSPORT BEHAVIOUR [BIND]: the tests' fault-injecting
# peer; sets $p to its port. Not to be called in $(...): its PID must reach $pids.
start_fault_peer() {
  local out="$work/peer.${#pids[@]}"
  setsid "$1" "$2" "$3" "$4" "${5:-127.0.0.1:0}" >"$out" 2>/dev/null </dev/null &
  pids+=($!)
  wait_for_file "$out"
  p=$(head -1 "$out")
}
