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

# start_kamailio [tls]: a real Kamailio on 127.0.0.1 (UDP and TCP) with the tests'
# configuration (200 Keepalive to sip:HOST, 404 to a user part, 503 to "busy"); sets
# $sip_port. With "tls" it also listens on TLS (kamailio-tls-modules) with the certificate
# make_test_pki made in $work/pki, on $sips_port.
start_kamailio() {
  local free='import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  local defines=()
  sip_port=$(/usr/bin/python3 -c "$free")
  sips_port=0
  if [ "${1:-}" = tls ]; then
    sips_port=$(/usr/bin/python3 -c "$free")
    defines=(-A WITH_TLS)
    printf '%s\n' '[server:default]' 'method = TLSv1.2+' 'verify_certificate = no' \
      'require_certificate = no' "private_key = $work/pki/server.key" \
      "certificate = $work/pki/server.pem" > "$work/tls.cfg"
  fi
  sed -e "s/@LISTEN_UDP@/udp:127.0.0.1:$sip_port/" -e "s/@LISTEN_TCP@/tcp:127.0.0.1:$sip_port/" \
    -e "s/@LISTEN_TLS@/tls:127.0.0.1:$sips_port/" -e "s|@TLS_CONFIG@|$work/tls.cfg|" \
    tests/kamailio/kamailio.cfg > "$work/kamailio.cfg"
  setsid /usr/sbin/kamailio -DD -E -f "$work/kamailio.cfg" -Y "$work" -m 16 -M 4 "${defines[@]}" \
    >"$work/kamailio.log" 2>&1 </dev/null &
  pids+=($!)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$sip_port") 2>/dev/null &&
      { [ "$sips_port" = 0 ] || (exec 3<>"/dev/tcp/127.0.0.1/$sips_port") 2>/dev/null; } && return 0
    sleep 0.1
  done
  echo "kamailio did not start: $(cat "$work/kamailio.log")" >&2
  exit 1
}

# make_test_pki: a CA and a server certificate for 127.0.0.1 and localhost (P-256, two
# days), made with the openssl command in $work/pki: ca.pem, server.pem, server.key.
make_test_pki() {
  local d="$work/pki"
  mkdir -p "$d"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj /CN=keepalived-checks-bench-ca -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
    'keyUsage=digitalSignature' 'extendedKeyUsage=serverAuth' > "$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 2 -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
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
