# nginx `return 302` as the reference redirect server (sourced by bench/redirect.sh and
# bench/reference.sh, not run).

# start_nginx DIR PORT: nginx (${nginx_bin}) as the current user on 127.0.0.1:PORT, config,
# logs and temp paths under DIR/nginx: worker_processes auto, access_log off, keep-alive
# connections never closed by request count (the shortener does not close them either), every
# path answered `302 https://example.com/`. Sets nginx_pid; returns 1 if it does not answer
# within 10 s.
start_nginx() {
  local dir=$1 port=$2 user_line=""
  mkdir -p "$dir/nginx/logs"
  # When run as root, workers would otherwise switch to "nobody"; keep them our own user.
  [[ $(id -u) == 0 ]] && user_line="user root root;"
  cat >"$dir/nginx/nginx.conf" <<CONF
$user_line
daemon off;
worker_processes auto;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/client_body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$port;
    location / { return 302 https://example.com/; }
  }
}
CONF
  # shellcheck disable=SC2154  # nginx_cpus: optional, set by the caller to pin nginx (taskset -c)
  ${nginx_cpus:+taskset -c "$nginx_cpus"} "${nginx_bin:?}" -p "$dir/nginx" -e "$dir/nginx/logs/error.log" -c "$dir/nginx/nginx.conf" \
    >"$dir/nginx/logs/stdout.log" 2>&1 &
  # shellcheck disable=SC2034  # for the caller
  nginx_pid=$!
  local _
  for _ in $(seq 100); do
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/" && return 0
    sleep 0.1
  done
  return 1
}
