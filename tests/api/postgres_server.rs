//! A private Postgres server in a temporary directory, so a test can really stop and restart
//! one without disturbing the shared server the other tests use.

use std::path::PathBuf;
use std::process::{Command, Output};

pub struct PostgresServer {
    bin: PathBuf,
    dir: String,
    port: u16,
}

impl PostgresServer {
    /// Creates and starts a cluster (this machine needs the Postgres server binaries).
    pub fn start() -> PostgresServer {
        let bin = server_bin()
            .expect("the Postgres server binaries (initdb, pg_ctl): apt-get install postgresql");
        let made = as_owner(Command::new("mktemp").args(["-d", "/tmp/rusk-pg-XXXXXX"]));
        let dir = String::from_utf8(made.stdout).unwrap().trim().to_string();
        assert!(!dir.is_empty(), "mktemp failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PostgresServer { bin, dir, port };
        as_owner(
            Command::new(server.bin.join("initdb"))
                .args(["-D", &server.data(), "-A", "trust", "-U", "postgres"])
                .args(["--no-sync", "-E", "UTF8"]),
        );
        server.up();
        server
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        format!("{}/data", self.dir)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off",
            self.port, self.dir
        );
        as_owner(Command::new(self.bin.join("pg_ctl")).args([
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &format!("{}/log", self.dir),
            "-w",
            "start",
        ]));
    }

    /// Stops the server the way a crash or a failover does to its clients: every connection
    /// is dropped at once.
    pub fn down(&self) {
        as_owner(Command::new(self.bin.join("pg_ctl")).args([
            "-D",
            &self.data(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ]));
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = owner_command(Command::new(self.bin.join("pg_ctl")).args([
            "-D",
            &self.data(),
            "-m",
            "immediate",
            "stop",
        ]))
        .output();
        let _ = owner_command(Command::new("rm").args(["-rf", &self.dir])).output();
    }
}

/// The directory holding `initdb` and `pg_ctl`: from `pg_config`, else the PATH.
fn server_bin() -> Option<PathBuf> {
    let from_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>());
    from_config
        .into_iter()
        .chain(on_path)
        .find(|dir| dir.join("initdb").exists() && dir.join("pg_ctl").exists())
}

/// Postgres refuses to run as root, so as root the commands run as the `postgres` user.
fn owner_command(command: &mut Command) -> Command {
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut wrapped = if is_root {
        let mut runuser = Command::new("runuser");
        runuser
            .args(["-u", "postgres", "--"])
            .arg(command.get_program());
        runuser
    } else {
        Command::new(command.get_program())
    };
    wrapped.args(command.get_args());
    wrapped
}

fn as_owner(command: &mut Command) -> Output {
    let output = owner_command(command).output().unwrap();
    assert!(
        output.status.success(),
        "{:?} failed: {}{}",
        command,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}
