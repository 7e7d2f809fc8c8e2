// nginx as a second baseline: a proxy_pass config with a keep-alive upstream, streaming both
// ways (no request or response buffering), one worker and no master so the child's pid is the
// process doing the work (its CPU is read from /proc like the others). Pure config text.

export interface NginxConfigOptions {
  /** Where nginx keeps its pid and temp files. */
  prefix: string;
  listenPort: number;
  upstreamPort: number;
}

export function nginxConfig(o: NginxConfigOptions): string {
  return `daemon off;
master_process off;
worker_processes 1;
pid ${o.prefix}/nginx.pid;
error_log stderr warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${o.prefix}/body;
  proxy_temp_path ${o.prefix}/proxy;
  fastcgi_temp_path ${o.prefix}/fastcgi;
  uwsgi_temp_path ${o.prefix}/uwsgi;
  scgi_temp_path ${o.prefix}/scgi;
  upstream bench_upstream {
    server 127.0.0.1:${o.upstreamPort};
    keepalive 256;
    keepalive_requests 1000000;
  }
  server {
    listen 127.0.0.1:${o.listenPort} reuseport;
    keepalive_requests 1000000;
    client_max_body_size 64m;
    client_body_buffer_size 2m;
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_request_buffering off;
      proxy_buffering off;
    }
  }
}
`;
}
