//! A PostgreSQL and a Redis of the test's own that take TLS connections only, with
//! certificates the test makes with openssl for 127.0.0.1 (issue 19). Stopped on drop.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::edge::free_port;

/// A CA, a server certificate it signed for 127.0.0.1, and an unrelated CA.
pub struct Certs {
    pub dir: tempfile::TempDir,
}

impl Certs {
    pub fn make() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let sh = |script: &str| {
            let out = Command::new("sh")
                .args(["-ec", script])
                .current_dir(dir.path())
                .output()
                .expect("openssl is installed (scripts/setup)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        let ca = |name: &str| {
            format!(
                "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN={name} -keyout {name}.key -out {name}.pem 2>/dev/null"
            )
        };
        sh(&ca("ca"));
        sh(&ca("other-ca"));
        sh("openssl req -new -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.pem 2>/dev/null
            chmod 0644 *.pem *.key");
        Self { dir }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA that signed the servers' certificates.
    pub fn ca(&self) -> String {
        self.path("ca.pem").to_string_lossy().into_owned()
    }

    /// A CA that signed nothing here.
    pub fn other_ca(&self) -> String {
        self.path("other-ca.pem").to_string_lossy().into_owned()
    }
}

/// Runs `program` as the `postgres` user when this process is root (PostgreSQL refuses
/// to run as root).
fn as_postgres(program: &Path) -> Command {
    if unsafe { libc::geteuid() } == 0 {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(program);
        cmd
    } else {
        Command::new(program)
    }
}

fn pg_bin(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed (scripts/setup)")
        .map(|e| e.unwrap().path().join("bin"))
        .collect();
    dirs.sort();
    dirs.pop().expect("a PostgreSQL version").join(name)
}

/// A PostgreSQL cluster (initdb) on a free port: `ssl = on` with the test's certificate,
/// and `hostssl` only in pg_hba.conf, so a plain TCP connection is refused.
pub struct TlsPostgres {
    pub port: u16,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsPostgres {
    pub fn start(certs: &Certs) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            let out = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .output()
                .unwrap();
            assert!(out.status.success());
        }
        let run = |cmd: &mut Command| {
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{cmd:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(as_postgres(&pg_bin("initdb"))
            .args(["-U", "postgres", "--auth=trust", "-D"])
            .arg(&data)
            .stdout(Stdio::null()));
        // The key must belong to the server's user and be private to it.
        for file in ["server.pem", "server.key"] {
            std::fs::copy(certs.path(file), data.join(file)).unwrap();
        }
        if root {
            run(Command::new("chown")
                .args(["postgres:postgres"])
                .arg(data.join("server.pem"))
                .arg(data.join("server.key")));
        }
        run(Command::new("chmod")
            .arg("0600")
            .arg(data.join("server.key")));
        let port = free_port();
        std::fs::write(
            data.join("postgresql.auto.conf"),
            format!(
                "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
                 ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'\nfsync = off\n",
                data.display()
            ),
        )
        .unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        run(as_postgres(&pg_bin("pg_ctl"))
            .args(["-w", "-t", "30", "-l"])
            .arg(dir.path().join("log"))
            .arg("-D")
            .arg(&data)
            .arg("start")
            .stdout(Stdio::null()));
        Self {
            port,
            data,
            _dir: dir,
        }
    }

    /// A URL of database `db` with these query parameters.
    pub fn url(&self, db: &str, query: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}?{query}", self.port)
    }
}

impl Drop for TlsPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&pg_bin("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(&self.data)
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// A redis-server with only a TLS port (no persistence) and one ACL user, `reel`
/// (the default user is off).
pub struct TlsRedis {
    pub port: u16,
    _child: tokio::process::Child,
}

impl TlsRedis {
    pub async fn start(certs: &Certs) -> Self {
        let port = free_port();
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", "0", "--tls-port", &port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--tls-cert-file")
            .arg(certs.path("server.pem"))
            .arg("--tls-key-file")
            .arg(certs.path("server.key"))
            .arg("--tls-ca-cert-file")
            .arg(certs.path("ca.pem"))
            .args(["--tls-auth-clients", "no"])
            .args(["--user", "default", "off"])
            .args(["--user", "reel", "on", ">redis-pw", "~*", "&*", "+@all"])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed (scripts/setup)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return Self {
                    port,
                    _child: child,
                };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server (TLS) did not start on {port}");
    }

    pub fn url(&self) -> String {
        format!("rediss://reel:redis-pw@127.0.0.1:{}", self.port)
    }
}
