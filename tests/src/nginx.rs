//! nginx as the load balancer in front of server processes, on loopback (Debian's
//! `nginx-light`; `../shared/notes/nginx.md`): round robin, no sticky sessions, the
//! client's Host passed on (the kiosk's signatures cover `@authority`), and event streams
//! passed through as they come.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::dirs::process::Daemon;
use crate::dirs::temp_folder;

const NGINX: &str = "/usr/sbin/nginx";

pub struct Nginx {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    pub port: u16,
    dir: PathBuf,
    _daemon: Daemon,
}

impl Nginx {
    /// nginx on `port` (on 127.0.0.1; the servers' `public_url`, chosen before they
    /// start), balancing over `upstreams` (ports on 127.0.0.1), which must already
    /// listen (a request while all are down marks them failed).
    pub fn start(port: u16, upstreams: &[u16]) -> anyhow::Result<Nginx> {
        anyhow::ensure!(
            std::path::Path::new(NGINX).exists(),
            "{NGINX} is missing (Debian: apt-get install nginx-light; the README's test command does)"
        );
        let dir = temp_folder("nginx")?;
        use std::os::unix::fs::PermissionsExt as _;
        // The worker runs as nobody and must reach its temporary folders.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
        std::fs::create_dir_all(dir.join("tmp"))?;
        let servers: String = upstreams
            .iter()
            .map(|p| format!("    server 127.0.0.1:{p} max_fails=0;\n"))
            .collect();
        std::fs::write(
            dir.join("nginx.conf"),
            format!(
                r#"worker_processes 1;
error_log stderr info;
pid nginx.pid;
events {{ worker_connections 256; }}
http {{
  log_format paths '$request_method $uri $status $upstream_addr';
  access_log access.log paths;
  client_body_temp_path tmp/body; proxy_temp_path tmp/proxy; fastcgi_temp_path tmp/fastcgi;
  uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;
  client_max_body_size 2m;
  upstream sspr {{
{servers}  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://sspr;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 1h;
      proxy_next_upstream error timeout;
    }}
  }}
}}
"#
            ),
        )?;
        let conf = dir.join("nginx.conf").display().to_string();
        let prefix = format!("{}/", dir.display());
        let daemon = Daemon::start(
            "nginx",
            NGINX,
            &["-c", &conf, "-p", &prefix, "-g", "daemon off;"],
            &dir.join("nginx.out"),
            false,
        )?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = daemon.exited() {
                anyhow::bail!("nginx exited ({status}):\n{}", daemon.log_tail(20));
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "nginx never listened on {port}:\n{}",
                daemon.log_tail(20)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx {
            base: format!("http://127.0.0.1:{port}"),
            port,
            dir,
            _daemon: daemon,
        })
    }

    /// The requests nginx passed on, one a line: `METHOD PATH STATUS UPSTREAM`.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("access.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// What nginx logged (its error log: upstream failures among others).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("nginx.out"))
            .with_context(|| "nginx log")
            .unwrap_or_default()
    }
}
