#!/usr/bin/env bash
# Side-by-side benchmark: gatehouse and nginx proxy the same small
# keep-alive requests, TLS on both hops (client -> proxy -> upstream group),
# the upstream hop verified and with a client certificate (mTLS), to an
# upstream group of two HTTPS backends (scripts/benchupstream) answering
# "ok". Prints, per proxy and run, requests per second, the proxy's CPU
# time per request, and the new upstream TLS connections the proxy opened
# during the run (as the backends counted them, split into full and
# resumed handshakes). The proxies run alternately, ROUNDS times, so that
# load from elsewhere on the machine hits both alike; the last lines are
# the medians and gatehouse/nginx ratios.
#
# Needs nginx, wrk, openssl and curl (apt-get install nginx wrk openssl curl).
# DURATION (default 8s), CONNS (default 64) and THREADS (default 1) tune
# wrk; ROUNDS (default 3) is the number of paired runs; WORKERS (default
# auto) is worker_processes and KEEPALIVE (default 64) the upstream
# block's keepalive, for both proxies. BASELINE, if set, is another
# gatehouse binary (say, built from an earlier commit) run as a third
# proxy, "baseline", in the same rounds.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nginx wrk openssl curl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (apt-get install $tool)"; exit 1; }
done
duration=${DURATION:-8s}
conns=${CONNS:-64}
threads=${THREADS:-1}
rounds=${ROUNDS:-3}
workers=${WORKERS:-auto}
keepalive=${KEEPALIVE:-64}
baseline=${BASELINE:-}

dir=$(mktemp -d)
pids=()
cleanup() {
  # QUIT is a graceful stop for nginx and gatehouse; the Go backend
  # would dump its goroutines on QUIT, so it gets TERM.
  kill -TERM "${pids[0]}" 2>/dev/null || true
  for p in "${pids[@]:1}"; do kill -QUIT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Throwaway CA, a server certificate for 127.0.0.1 / localhost and a
# client certificate the proxies present to the backends.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=bench-ca -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$dir/srv.key" -out "$dir/srv.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$dir/ext"
openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/ext" -out "$dir/srv.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=bench-proxy \
  -keyout "$dir/cli.key" -out "$dir/cli.csr" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > "$dir/cext"
openssl x509 -req -in "$dir/cli.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/cext" -out "$dir/cli.crt" 2>/dev/null

go build -o "$dir/gatehouse" ./cmd/gatehouse
go build -o "$dir/benchupstream" ./scripts/benchupstream
mkdir -p "$dir/ng" "$dir/gh" "$dir/base"

# The proxy configuration, identical for both: TLS towards clients, mTLS
# towards the upstream group with verification, keep-alive on both sides.
proxy_conf() { cat <<CONF
worker_processes $workers; daemon off; pid $1/proxy.pid; error_log stderr;
events {}
http { access_log off;
  upstream up { server 127.0.0.1:19443; server 127.0.0.1:19444; keepalive $keepalive; }
  server { listen 127.0.0.1:$2 ssl; ssl_certificate $dir/srv.crt; ssl_certificate_key $dir/srv.key;
    keepalive_requests 100000;
    location / {
      proxy_pass https://up;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_verify on; proxy_ssl_trusted_certificate $dir/ca.crt; proxy_ssl_name localhost;
      proxy_ssl_certificate $dir/cli.crt; proxy_ssl_certificate_key $dir/cli.key;
      proxy_ssl_session_reuse on;
    } } }
CONF
}
proxy_conf "$dir/ng" 18443 > "$dir/ng/nginx.conf"
proxy_conf "$dir/gh" 17443 > "$dir/gh/gatehouse.conf"
proxy_conf "$dir/base" 16443 > "$dir/base/gatehouse.conf"

"$dir/benchupstream" -cert "$dir/srv.crt" -key "$dir/srv.key" -ca "$dir/ca.crt" \
  -control 127.0.0.1:19000 127.0.0.1:19443 127.0.0.1:19444 & pids+=($!)
nginx -p "$dir/ng/" -c "$dir/ng/nginx.conf" -e stderr & pids+=($!)
"$dir/gatehouse" -p "$dir/gh/" -c "$dir/gh/gatehouse.conf" -e stderr & pids+=($!)
pidfiles=("$dir/ng/proxy.pid" "$dir/gh/proxy.pid")
if [ -n "$baseline" ]; then
  "$baseline" -p "$dir/base/" -c "$dir/base/gatehouse.conf" -e stderr & pids+=($!)
  pidfiles+=("$dir/base/proxy.pid")
fi
for f in "${pidfiles[@]}"; do
  for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
done
for _ in $(seq 100); do curl -s http://127.0.0.1:19000/ >/dev/null && break; sleep 0.1; done

# cpu_ticks PID...: user+system clock ticks of the processes and children.
cpu_ticks() { local t=0; for p in "$@"; do
  for q in $p $(pgrep -P "$p" || true); do t=$((t + $(awk '{print $14+$15}' /proc/$q/stat))); done; done; echo $t; }
# upstream_counts: "conns full resumed" as the backends counted so far.
upstream_counts() { curl -s http://127.0.0.1:19000/ | awk '{print $2, $4, $6}'; }

results="$dir/results"
: > "$results"
run() { # name port pids...
  local name=$1 port=$2; shift 2
  curl -sk "https://127.0.0.1:$port/" >/dev/null || { echo "bench: $name does not answer"; return 1; }
  wrk -t"$threads" -c"$conns" -d2s "https://127.0.0.1:$port/" >/dev/null   # warm-up
  local t0 u0; t0=$(cpu_ticks "$@"); u0=$(upstream_counts)
  local out; out=$(wrk -t"$threads" -c"$conns" -d"$duration" "https://127.0.0.1:$port/")
  local t1 u1; t1=$(cpu_ticks "$@"); u1=$(upstream_counts)
  local reqs rps; reqs=$(echo "$out" | awk '/requests in/ {print $1}'); rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local hz; hz=$(getconf CLK_TCK)
  local us; us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  local nc full res
  read -r nc full res <<<"$(echo "$u0 $u1" | awk '{print $4 - $1, $5 - $2, $6 - $3}')"
  local errs; errs=$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')
  printf '%-10s %10s req/s   %6s us CPU/request   %6d upstream conns (%d full, %d resumed)   %s\n' \
    "$name" "$rps" "$us" "$nc" "$full" "$res" "$errs"
  echo "$name $rps $us $nc" >> "$results"
}

echo "TLS -> proxy -> mTLS upstream group of 2, keep-alive, $conns connections, $duration," \
  "worker_processes $workers, keepalive $keepalive, $rounds paired rounds"
for r in $(seq "$rounds"); do
  run nginx 18443 "$(cat "$dir/ng/proxy.pid")"
  run gatehouse 17443 "$(cat "$dir/gh/proxy.pid")"
  [ -z "$baseline" ] || run baseline 16443 "$(cat "$dir/base/proxy.pid")"
done

# median NAME COLUMN: the median of a column over the rounds.
median() { awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$results" | sort -g |
  awk '{v[NR] = $1} END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ng_rps=$(median nginx 2); gh_rps=$(median gatehouse 2)
ng_us=$(median nginx 3); gh_us=$(median gatehouse 3)
ng_nc=$(median nginx 4); gh_nc=$(median gatehouse 4)
printf 'median     nginx %s req/s %s us %s conns; gatehouse %s req/s %s us %s conns\n' \
  "$ng_rps" "$ng_us" "$ng_nc" "$gh_rps" "$gh_us" "$gh_nc"
awk -v a="$gh_rps" -v b="$ng_rps" -v c="$gh_us" -v d="$ng_us" \
  'BEGIN { printf "ratio      gatehouse/nginx: %.2fx req/s, %.2fx CPU/request\n", a / b, c / d }'
if [ -n "$baseline" ]; then
  b_rps=$(median baseline 2); b_us=$(median baseline 3); b_nc=$(median baseline 4)
  printf 'median     baseline %s req/s %s us %s conns\n' "$b_rps" "$b_us" "$b_nc"
  awk -v a="$b_rps" -v b="$ng_rps" -v c="$b_us" -v d="$ng_us" \
    'BEGIN { printf "ratio      baseline/nginx: %.2fx req/s, %.2fx CPU/request\n", a / b, c / d }'
fi
