#!/usr/bin/env bash
# Side-by-side benchmark: gatehouse and nginx proxy the same small
# keep-alive requests, TLS on both hops (client -> proxy -> upstream, the
# upstream verified), to the same upstream (an nginx answering "ok").
# Prints requests per second and the proxy's CPU time per request.
#
# Needs nginx, wrk and openssl (apt-get install nginx wrk openssl).
# DURATION (default 10s), CONNS (default 32) and THREADS (default 1) tune wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in nginx wrk openssl; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is not installed (apt-get install $tool)"; exit 1; }
done
duration=${DURATION:-10s}
conns=${CONNS:-32}
threads=${THREADS:-1}

dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -QUIT "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

# Throwaway CA and a certificate for 127.0.0.1 / localhost.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj /CN=bench-ca -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$dir/srv.key" -out "$dir/srv.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$dir/ext"
openssl x509 -req -in "$dir/srv.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
  -days 1 -extfile "$dir/ext" -out "$dir/srv.crt" 2>/dev/null

go build -o "$dir/gatehouse" ./cmd/gatehouse
mkdir -p "$dir/up" "$dir/ng" "$dir/gh"

# The upstream, shared by both proxies.
cat > "$dir/up/nginx.conf" <<CONF
worker_processes 1; daemon off; pid $dir/up/nginx.pid; error_log stderr;
events {}
http { access_log off;
  server { listen 127.0.0.1:19443 ssl; ssl_certificate $dir/srv.crt; ssl_certificate_key $dir/srv.key;
    keepalive_requests 100000; location / { return 200 "ok"; } } }
CONF

# The proxy configuration, identical for both: TLS towards clients, TLS
# towards the upstream with verification, keep-alive on both sides.
proxy_conf() { cat <<CONF
worker_processes 1; daemon off; pid $1/proxy.pid; error_log stderr;
events {}
http { access_log off;
  upstream up { server 127.0.0.1:19443; keepalive 32; }
  server { listen 127.0.0.1:$2 ssl; ssl_certificate $dir/srv.crt; ssl_certificate_key $dir/srv.key;
    keepalive_requests 100000;
    location / {
      proxy_pass https://up;
      proxy_http_version 1.1; proxy_set_header Connection "";
      proxy_ssl_verify on; proxy_ssl_trusted_certificate $dir/ca.crt; proxy_ssl_name localhost;
      proxy_ssl_session_reuse on;
    } } }
CONF
}
proxy_conf "$dir/ng" 18443 > "$dir/ng/nginx.conf"
proxy_conf "$dir/gh" 17443 > "$dir/gh/gatehouse.conf"

nginx -p "$dir/up/" -c "$dir/up/nginx.conf" -e stderr & pids+=($!)
nginx -p "$dir/ng/" -c "$dir/ng/nginx.conf" -e stderr & pids+=($!)
"$dir/gatehouse" -p "$dir/gh/" -c "$dir/gh/gatehouse.conf" -e stderr & pids+=($!)
for f in "$dir/up/nginx.pid" "$dir/ng/proxy.pid" "$dir/gh/proxy.pid"; do
  for _ in $(seq 100); do [ -s "$f" ] && break; sleep 0.1; done
done

# cpu_ticks PID...: user+system clock ticks of the processes and children.
cpu_ticks() { local t=0; for p in "$@"; do
  for q in $p $(pgrep -P "$p" || true); do t=$((t + $(awk '{print $14+$15}' /proc/$q/stat))); done; done; echo $t; }

run() { # name port pids...
  local name=$1 port=$2; shift 2
  curl -sk "https://127.0.0.1:$port/" >/dev/null || { echo "bench: $name does not answer"; return 1; }
  wrk -t"$threads" -c"$conns" -d2s "https://127.0.0.1:$port/" >/dev/null   # warm-up
  local t0; t0=$(cpu_ticks "$@")
  local out; out=$(wrk -t"$threads" -c"$conns" -d"$duration" "https://127.0.0.1:$port/")
  local t1; t1=$(cpu_ticks "$@")
  local reqs rps; reqs=$(echo "$out" | awk '/requests in/ {print $1}'); rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  local hz; hz=$(getconf CLK_TCK)
  local us; us=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v n="$reqs" 'BEGIN { printf "%.1f", d / hz * 1e6 / n }')
  local errs; errs=$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')
  printf '%-10s %10s req/s   %6s us CPU/request   %s\n' "$name" "$rps" "$us" "$errs"
}

echo "TLS -> proxy -> verified TLS upstream, keep-alive, $conns connections, $duration"
run nginx 18443 "$(cat "$dir/ng/proxy.pid")"
run gatehouse 17443 "$(cat "$dir/gh/proxy.pid")"
