//! A PostgreSQL primary and its streaming hot standby (made by `pg_basebackup`), both made for
//! one test from the machine's PostgreSQL server binaries and removed after it. The test makes
//! its own primary so that it neither changes the access rules of the machine's cluster nor
//! copies every database on it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection, RunQueryDsl};

/// How long a cluster may take to start or to accept connections.
const CLUSTER_START_SECONDS_MAX: u64 = 60;
/// The server programs the clusters need.
const SERVER_PROGRAMS: [&str; 4] = ["initdb", "pg_ctl", "pg_basebackup", "postgres"];
/// The operating-system user that runs the clusters when the tests run as root.
const SERVER_USER: &str = "postgres";

pub struct Cluster {
    pub data: PathBuf,
    pub port: u16,
}

pub struct PrimaryAndStandby {
    bin: PathBuf,
    root: tempfile::TempDir,
    pub primary: Cluster,
    pub standby: Cluster,
}

/// The directory holding PostgreSQL's server programs: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<version>/bin`; none when they are not installed.
pub fn server_binaries() -> Option<PathBuf> {
    let has_all = |dir: &Path| SERVER_PROGRAMS.iter().all(|program| dir.join(program).is_file());
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.filter_map(|d| d.ok()).map(|d| d.path().join("bin")).collect())
        .unwrap_or_default();
    versions.sort_by_key(|dir| {
        dir.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok())
    });
    from_pg_config.into_iter().chain(versions.into_iter().rev()).find(|dir| has_all(dir))
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

impl PrimaryAndStandby {
    /// Starts a fresh primary and a standby streaming from it; none when the server programs
    /// are missing.
    pub fn start() -> Option<PrimaryAndStandby> {
        let bin = server_binaries()?;
        let root = tempfile::tempdir().expect("temp dir");
        if running_as_root() {
            // PostgreSQL refuses to run as root: the clusters belong to the server's user.
            run(Command::new("chown").args(["-R", SERVER_USER]).arg(root.path()));
        }
        let primary = Cluster { data: root.path().join("primary"), port: super::free_port() };
        let standby = Cluster { data: root.path().join("standby"), port: super::free_port() };
        let clusters = PrimaryAndStandby { bin, root, primary, standby };
        clusters.make_primary();
        clusters.make_standby();
        Some(clusters)
    }

    /// A command of the server's programs, run as the server's user when the tests are root.
    fn server_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if running_as_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", SERVER_USER, "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn make_primary(&self) {
        let data = &self.primary.data;
        run(self.server_command("initdb").arg("-D").arg(data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]));
        // initdb's access rules already trust replication connections from this machine.
        let settings = format!(
            "port = {}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nwal_level = replica\n\
             max_wal_senders = 4\nfsync = off\nhot_standby = on\n",
            self.primary.port,
            self.root.path().display()
        );
        append(&data.join("postgresql.conf"), &settings);
        self.start_cluster(&self.primary);
    }

    fn make_standby(&self) {
        run(self.server_command("pg_basebackup").arg("-D").arg(&self.standby.data).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.primary.port.to_string(),
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
        ]));
        // The copy carries the primary's settings; the last line of a setting wins.
        append(&self.standby.data.join("postgresql.conf"), &format!("port = {}\n", self.standby.port));
        self.start_standby();
    }

    fn start_cluster(&self, cluster: &Cluster) {
        let log = self.root.path().join(format!("{}.log", cluster.port));
        run(self.server_command("pg_ctl").arg("-D").arg(&cluster.data).arg("-l").arg(&log).args([
            "-w",
            "-t",
            &CLUSTER_START_SECONDS_MAX.to_string(),
            "start",
        ]));
        wait_for_connection(&url(cluster.port, "postgres"));
    }

    pub fn start_standby(&self) {
        self.start_cluster(&self.standby);
    }

    /// Stops the standby at once (`immediate`: like a crash of its host).
    pub fn stop_standby(&self) {
        self.stop(&self.standby);
    }

    /// Stops the primary at once (`immediate`: what is only in its shared memory is lost, as
    /// in a crash of the database server), then starts it again.
    pub fn crash_and_restart_primary(&self) {
        self.stop(&self.primary);
        self.start_cluster(&self.primary);
    }

    fn stop(&self, cluster: &Cluster) {
        let _ =
            self.server_command("pg_ctl").arg("-D").arg(&cluster.data).args(["-m", "immediate", "-w", "stop"]).output();
    }

    pub fn primary_url(&self, database: &str) -> String {
        url(self.primary.port, database)
    }

    pub fn standby_url(&self, database: &str) -> String {
        url(self.standby.port, database)
    }

    /// Creates `database` on the primary; it reaches the standby by replication.
    pub fn create_database(&self, database: &str) {
        let mut admin = PgConnection::establish(&self.primary_url("postgres")).expect("primary");
        diesel::sql_query(format!("CREATE DATABASE \"{database}\"")).execute(&mut admin).expect("create database");
    }

    /// Holds the standby's replay of the primary's log (it still receives it), or lets it go on.
    pub fn pause_replay(&self, paused: bool) {
        let mut standby = PgConnection::establish(&self.standby_url("postgres")).expect("standby");
        let call = if paused { "pg_wal_replay_pause()" } else { "pg_wal_replay_resume()" };
        diesel::sql_query(format!("SELECT {call}")).execute(&mut standby).expect("replay control");
    }
}

impl Drop for PrimaryAndStandby {
    fn drop(&mut self) {
        self.stop(&self.standby);
        self.stop(&self.primary);
    }
}

fn url(port: u16, database: &str) -> String {
    format!("postgres://postgres@127.0.0.1:{port}/{database}")
}

fn wait_for_connection(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(CLUSTER_START_SECONDS_MAX);
    while PgConnection::establish(url).is_err() {
        assert!(Instant::now() < deadline, "no connection to {url} within {CLUSTER_START_SECONDS_MAX} s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    let mut out = std::fs::OpenOptions::new().append(true).open(file).expect("open settings");
    out.write_all(text.as_bytes()).expect("append settings");
}

fn run(command: &mut Command) {
    let out = command.output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
