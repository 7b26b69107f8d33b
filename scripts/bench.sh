#!/usr/bin/env bash
# Side-by-side benchmark of gatehouse, nginx and HAProxy as TLS-terminating
# reverse proxies in front of an upstream group of two HTTPS backends
# (scripts/benchupstream) reached over verified mTLS with keep-alive.
#
# nginx and gatehouse run the very same generated nginx.conf; HAProxy runs
# an equivalent generated haproxy.cfg, which the script first proves to
# verify the upstream certificate and to present the client certificate:
# through it a backend that requires a client certificate answers, while
# a server checked against a wrong CA, or one sent no client certificate,
# fails.
#
# Scenarios (one load each, the same for every proxy):
#   ka      HTTPS keep-alive, 100-byte responses, CONNS connections (wrk)
#   plain   plain-HTTP front, TLS upstream, otherwise as ka (wrk)
#   big     1 MiB responses over HTTPS keep-alive, BIGCONNS connections (wrk)
#   resume  a new TLS connection per request, resuming a session
#           (scripts/benchclient -resume; wrk cannot resume)
#   full    a new TLS connection per request, full handshake with the
#           ECDSA P-256 server certificate (scripts/benchclient)
# For each: requests per second (MB/s for big), the proxy's CPU time per
# request (utime+stime from /proc/PID/stat of all its processes: nginx's
# master and workers, HAProxy's one process), the new upstream connections
# it opened (as the backends counted them: full and resumed handshakes),
# and, per round, its peak RSS (VmHWM summed over its processes; the
# proxies start afresh each round, so it is the peak over all scenarios).
# Every figure is also given as a ratio to nginx's. The proxies run one at a
# time on the same ports, in an order that rotates each round, so that load
# from elsewhere on the machine hits them alike; the medians of the ROUNDS
# rounds make the closing markdown table.
#
# Needs nginx, haproxy, wrk, openssl, curl and go
# (apt-get install nginx haproxy wrk openssl curl).
# Knobs: DURATION (seconds per scenario per proxy, default 5), ROUNDS
# (default 3), CONNS (default 64), BIGCONNS (default 16), THREADS (wrk's,
# default 1), WORKERS (worker_processes, default auto), KEEPALIVE (the
# upstream block's keepalive, default 64), SCENARIOS (default
# "ka plain big resume full"), PROXIES (default "nginx haproxy gatehouse").
# BASELINE, if set, is another gatehouse binary (say, built from an earlier
# commit) run as a fourth proxy, "baseline", on the same nginx.conf.
# Everything listens on 127.0.0.1 only; certificates are made at run time
# in a temporary directory that is removed at the end, with every process
# the script started; every wait and request is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nginx haproxy wrk openssl curl go; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (apt-get install $tool)"; exit 1; }
done
duration=${DURATION:-5}; duration=${duration%s}
rounds=${ROUNDS:-3}
conns=${CONNS:-64}
bigconns=${BIGCONNS:-16}
threads=${THREADS:-1}
workers=${WORKERS:-auto}
keepalive=${KEEPALIVE:-64}
scenarios=${SCENARIOS:-ka plain big resume full}
proxies=(${PROXIES:-nginx haproxy gatehouse})
baseline=${BASELINE:-}
[ -z "$baseline" ] || proxies+=(baseline)

dir=$(mktemp -d)
# nginx's workers run as nobody and write proxy_temp under the prefix.
chmod 711 "$dir"
bg=()       # long-lived helpers (the backends)
proxy_pid=  # the proxy now running
stop_proxy() { # TERM is a fast stop for all three; KILL after 5 s.
  [ -n "$proxy_pid" ] || return 0
  kill -TERM "$proxy_pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$proxy_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=
}
cleanup() {
  stop_proxy
  for p in "${bg[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- certificates: a CA, the backends' and proxies' server certificate
# (ECDSA P-256) for localhost/127.0.0.1, the proxies' client certificate,
# and a second, unrelated CA for the negative check.
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>/dev/null; }
ec -x509 -days 1 -subj /CN=bench-ca -keyout "$dir/ca.key" -out "$dir/ca.crt"
ec -x509 -days 1 -subj /CN=bench-other-ca -keyout "$dir/other.key" -out "$dir/other.crt"
ec -subj /CN=localhost -keyout "$dir/srv.key" -out "$dir/srv.csr"
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$dir/ext"
openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/ext" -out "$dir/srv.crt" 2>/dev/null
ec -subj /CN=bench-proxy -keyout "$dir/cli.key" -out "$dir/cli.csr"
printf 'extendedKeyUsage=clientAuth\n' > "$dir/cext"
openssl x509 -req -in "$dir/cli.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/cext" -out "$dir/cli.crt" 2>/dev/null
cat "$dir/srv.crt" "$dir/srv.key" > "$dir/srv.pem"   # HAProxy wants both in one file
cat "$dir/cli.crt" "$dir/cli.key" > "$dir/cli.pem"

mkdir -p "$dir/bin"
go build -o "$dir/bin/gatehouse" ./cmd/gatehouse
go build -o "$dir/bin/benchupstream" ./scripts/benchupstream
go build -o "$dir/bin/benchclient" ./scripts/benchclient

# --- the configurations. Protocols are spelled out because nginx 1.22's
# defaults lack TLSv1.3 (1.23.4 added it), which gatehouse and HAProxy offer.
cat > "$dir/nginx.conf" <<CONF
worker_processes $workers; daemon off; pid proxy.pid; error_log stderr;
events { worker_connections 4096; }
http {
  access_log off;
  upstream up { server 127.0.0.1:19443; server 127.0.0.1:19444; keepalive $keepalive; }
  ssl_certificate $dir/srv.crt; ssl_certificate_key $dir/srv.key;
  ssl_protocols TLSv1.2 TLSv1.3;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:18443 ssl;
    listen 127.0.0.1:18080;
    location / {
      proxy_pass https://up;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_protocols TLSv1.2 TLSv1.3;
      proxy_ssl_verify on; proxy_ssl_trusted_certificate $dir/ca.crt; proxy_ssl_name localhost;
      proxy_ssl_certificate $dir/cli.crt; proxy_ssl_certificate_key $dir/cli.key;
      proxy_ssl_session_reuse on;
    } } }
CONF

# HAProxy: nbthread is left at its default (the number of CPUs); every
# server line verifies the backend's certificate against the CA and name and
# presents the client certificate; "http-reuse always" shares idle upstream
# connections between client connections, as nginx's keepalive does.
hap_server() { # name port extra...
  local n=$1 p=$2; shift 2
  echo "  server $n 127.0.0.1:$p ssl verify required ca-file $dir/ca.crt verifyhost localhost sni str(localhost) $*"
}
hap_conf() { # front-backend lines for the benchmark or the check
  cat <<CONF
global
  maxconn 4096
  ssl-server-verify required
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
CONF
}
{ hap_conf
  cat <<CONF
frontend tls
  bind 127.0.0.1:18443 ssl crt $dir/srv.pem
  bind 127.0.0.1:18080
  default_backend up
backend up
  balance roundrobin
$(hap_server s1 19443 crt "$dir/cli.pem")
$(hap_server s2 19444 crt "$dir/cli.pem")
CONF
} > "$dir/haproxy.cfg"
grep -q "ssl verify required ca-file $dir/ca.crt verifyhost localhost .* crt $dir/cli.pem" "$dir/haproxy.cfg" ||
  { echo "bench: haproxy.cfg does not verify the upstream or send the client certificate"; exit 1; }
haproxy -c -q -f "$dir/haproxy.cfg" || { echo "bench: haproxy.cfg is invalid"; exit 1; }
mkdir -p "$dir/nginx" "$dir/gatehouse" "$dir/baseline"
chmod 755 "$dir/nginx" "$dir/gatehouse" "$dir/baseline"
nginx -t -q -p "$dir/nginx/" -c "$dir/nginx.conf" -e stderr
"$dir/bin/gatehouse" -t -q -p "$dir/gatehouse/" -c "$dir/nginx.conf" -e stderr

"$dir/bin/benchupstream" -cert "$dir/srv.crt" -key "$dir/srv.key" -ca "$dir/ca.crt" \
  -control 127.0.0.1:19000 127.0.0.1:19443 127.0.0.1:19444 & bg+=($!)
for _ in $(seq 100); do curl -m 5 -s http://127.0.0.1:19000/ >/dev/null && break; sleep 0.1; done

# --- process control. children PID: PID and its children.
children() { echo "$1"; pgrep -P "$1" || true; }
start_proxy() { # name
  case $1 in
    nginx) nginx -p "$dir/nginx/" -c "$dir/nginx.conf" -e stderr & ;;
    gatehouse) "$dir/bin/gatehouse" -p "$dir/gatehouse/" -c "$dir/nginx.conf" -e stderr & ;;
    baseline) "$baseline" -p "$dir/baseline/" -c "$dir/nginx.conf" -e stderr & ;;
    haproxy) haproxy -db -f "$dir/${2:-haproxy.cfg}" & ;;
  esac
  proxy_pid=$!
  local url=${3:-https://127.0.0.1:18443/}
  for _ in $(seq 100); do
    [ "$(curl -m 5 -sk -o /dev/null -w '%{http_code}' "$url")" = 200 ] && return 0
    sleep 0.1
  done
  echo "bench: $1 does not answer 200 at $url"; return 1
}
cpu_ticks() { local t=0 q; for q in $(children "$proxy_pid"); do
  t=$((t + $(awk '{print $14+$15}' "/proc/$q/stat" 2>/dev/null || echo 0))); done; echo $t; }
peak_rss_kb() { local t=0 q; for q in $(children "$proxy_pid"); do
  t=$((t + $(awk '/^VmHWM/ {print $2}' "/proc/$q/status" 2>/dev/null || echo 0))); done; echo $t; }
upstream_counts() { curl -m 5 -s http://127.0.0.1:19000/ | awk '{print $2, $4, $6}'; }

# --- prove haproxy.cfg's upstream checks: the good server answers, the
# one checked against another CA and the one without a client certificate
# do not.
{ hap_conf
  cat <<CONF
frontend good
  bind 127.0.0.1:18091
  default_backend good
frontend wrongca
  bind 127.0.0.1:18092
  default_backend wrongca
frontend nocert
  bind 127.0.0.1:18093
  default_backend nocert
backend good
$(hap_server s1 19443 crt "$dir/cli.pem")
backend wrongca
  server s1 127.0.0.1:19443 ssl verify required ca-file $dir/other.crt verifyhost localhost sni str(localhost) crt $dir/cli.pem
backend nocert
$(hap_server s1 19443)
CONF
} > "$dir/haproxy-check.cfg"
start_proxy haproxy haproxy-check.cfg http://127.0.0.1:18091/ >/dev/null
wrongca=$(curl -m 5 -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18092/)
nocert=$(curl -m 5 -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18093/)
stop_proxy
if [ "${wrongca:0:1}" != 5 ] || [ "${nocert:0:1}" != 5 ]; then
  echo "bench: HAProxy's upstream checks are not in force (wrong CA: $wrongca, no client certificate: $nocert)"; exit 1
fi
echo "haproxy.cfg checked: client certificate sent and required (200), wrong CA refused ($wrongca), no client certificate refused ($nocert)"

# --- one scenario: warm-up is done by the caller; prints and records.
results="$dir/results"
: > "$results"
measure() { # proxy round scenario
  local p=$1 r=$2 s=$3 out reqs rps errs note=
  local t0 u0; t0=$(cpu_ticks); u0=$(upstream_counts)
  case $s in
    ka|plain|big)
      local url=https://127.0.0.1:18443/ c=$conns
      [ "$s" = plain ] && url=http://127.0.0.1:18080/
      [ "$s" = big ] && url=https://127.0.0.1:18443/1m c=$bigconns
      out=$(wrk -t"$threads" -c"$c" -d"${duration}s" "$url")
      reqs=$(echo "$out" | awk '/requests in/ {print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      errs=$(echo "$out" | awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}')
      ;;
    resume|full)
      local flag=; [ "$s" = resume ] && flag=-resume
      out=$("$dir/bin/benchclient" -c "$conns" -d "${duration}s" $flag 127.0.0.1:18443 2>&1)
      reqs=$(echo "$out" | awk '/^requests/ {print $2}')
      rps=$(echo "$out" | awk '/^requests/ {print $10}')
      errs=$(echo "$out" | awk '/^requests/ {print $4}')
      note="client: $(echo "$out" | awk '/^requests/ {print $6}') of $reqs resumed"
      ;;
  esac
  local t1 u1; t1=$(cpu_ticks); u1=$(upstream_counts)
  local us; us=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" -v n="$reqs" 'BEGIN { printf "%.1f", n ? d / hz * 1e6 / n : 0 }')
  local nc full res
  read -r nc full res <<<"$(echo "$u0 $u1" | awk '{print $4 - $1, $5 - $2, $6 - $3}')"
  [ "$s" = big ] && rps=$(awk -v r="$rps" 'BEGIN { printf "%.1f", r * 1048576 / 1e6 }')
  printf '%-9s round %d %-6s %10s %-5s %7s us CPU/req  %6d upstream conns (%d full, %d resumed)  %d errors  %s\n' \
    "$p" "$r" "$s" "$rps" "$([ "$s" = big ] && echo MB/s || echo req/s)" "$us" "$nc" "$full" "$res" "$errs" "$note"
  echo "$p $s $rps $us $nc $full $res $errs" >> "$results"
}

est=$(( ${#proxies[@]} * rounds * ($(wc -w <<<"$scenarios") * duration + 2) ))
echo "TLS (and plain HTTP) -> proxy -> mTLS upstream group of 2; $(nproc) CPUs;" \
  "worker_processes $workers, keepalive $keepalive; $conns connections ($bigconns for 1 MiB);" \
  "${duration}s per scenario per proxy, $rounds rounds; about $((est / 60 + 1)) minutes"
n=${#proxies[@]}
for r in $(seq "$rounds"); do
  for i in $(seq 0 $((n - 1))); do
    p=${proxies[$(((i + r - 1) % n))]}
    start_proxy "$p"
    wrk -t"$threads" -c"$conns" -d1s https://127.0.0.1:18443/ >/dev/null   # warm-up: pools, heap
    for s in $scenarios; do measure "$p" "$r" "$s"; done
    rss=$(awk -v k="$(peak_rss_kb)" 'BEGIN { printf "%.1f", k / 1024 }')
    echo "$p rss $rss" >> "$results"
    printf '%-9s round %d peak RSS %s MiB\n' "$p" "$r" "$rss"
    stop_proxy
  done
done

# --- medians and the table.
median() { # proxy scenario column
  awk -v p="$1" -v s="$2" -v c="$3" '$1 == p && $2 == s {print $c}' "$results" | sort -g |
    awk '{v[NR] = $1} END { if (!NR) print 0; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
ngv=$(nginx -v 2>&1 | sed 's,.*/,,'); hav=$(haproxy -v | awk 'NR == 1 {split($3, v, "-"); print v[1]}')
others=(); for p in haproxy gatehouse baseline; do
  [[ " ${proxies[*]} " == *" $p "* ]] && others+=("$p"); done
declare -A label=([haproxy]="HAProxy $hav" [gatehouse]=gatehouse [baseline]=baseline)
header="| scenario | nginx $ngv |"; sep="|---|---|"
for p in "${others[@]}"; do header="$header ${label[$p]} |"; sep="$sep---|"; done
declare -A title=(
  [ka]="HTTPS keep-alive, 100 B, $conns conns"
  [plain]="plain-HTTP front, TLS upstream, 100 B, $conns conns"
  [big]="1 MiB keep-alive, $bigconns conns"
  [resume]="new TLS connection per request (resumed), $conns conns"
  [full]="full ECDSA P-256 handshake per request, $conns conns")
row() { # label unit-format column scenario
  local line="| $1 | $(printf "$2" "$(median nginx "$4" "$3")")"
  for p in "${others[@]}"; do line="$line | $(ratio "$(median "$p" "$4" "$3")" "$(median nginx "$4" "$3")")"; done
  echo "$line |"
}
conns_row() { # scenario: new upstream connections, absolute for every proxy
  local line="| same: new upstream TLS connections (full + resumed)" p
  for p in nginx "${others[@]}"; do
    line="$line | $(median "$p" "$1" 5) ($(median "$p" "$1" 6) + $(median "$p" "$1" 7))"; done
  echo "$line |"
}
echo
echo "medians of $rounds rounds, ${duration}s each; nginx absolute, the others as ratios to nginx"
echo
echo "$header"; echo "$sep"
for s in $scenarios; do
  if [ "$s" = big ]; then row "${title[$s]}: MB/s" "%'.0f" 3 "$s"
  else row "${title[$s]}: req/s" "%'.0f" 3 "$s"; fi
  row "same: proxy CPU per request" "%s µs" 4 "$s"
  conns_row "$s"
done
row "peak RSS (VmHWM summed over the processes)" "%s MiB" 3 rss

# The spread behind each median, and any failed requests.
range() { # proxy scenario column
  awk -v p="$1" -v s="$2" -v c="$3" '$1 == p && $2 == s {print $c}' "$results" | sort -g |
    awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%s-%s", lo, hi}'; }
echo
echo "spread over the rounds (min-max of req/s or MB/s, CPU us per request; peak RSS MiB):"
for s in $scenarios rss; do
  line=$(printf '%-7s' "$s")
  for p in "${proxies[@]}"; do
    if [ "$s" = rss ]; then line="$line  $p $(range "$p" rss 3)"
    else line="$line  $p $(range "$p" "$s" 3) / $(range "$p" "$s" 4)"; fi
  done
  echo "$line"
done
awk '$2 != "rss" && $8 > 0 {n++; e = e " " $1 "/" $2 ":" $8} END { if (n) print "failed requests in" n " runs:" e }' "$results" |
  sed 's/in\([0-9]\)/in \1/'
