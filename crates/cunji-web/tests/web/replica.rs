//! `serve --read-db`: years' data for reports read on a PostgreSQL streaming replica that the test
//! starts itself (a primary and a hot standby made by `pg_basebackup -R`, on free local ports), never
//! older than the primary: a replica whose replay is paused is waited for, then passed over.
//! Runs in the PostgreSQL pass (`CUNJI_TEST_PG`), which needs the server's programs installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use cunji_store::Store;

use crate::common::{fill, serve_state, Client};

/// A primary and its streaming replica in a temporary directory, stopped and removed on drop.
struct Pair {
    dir: PathBuf,
    bin: PathBuf,
    primary: u16,
    replica: u16,
}

impl Pair {
    fn url(port: u16) -> String {
        format!("postgres://postgres@127.0.0.1:{port}/postgres")
    }

    fn start(name: &str) -> Pair {
        let bin =
            server_programs().expect("PostgreSQL's server programs (initdb, pg_ctl) not found");
        let dir = std::env::temp_dir().join(format!("cunji-replica-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let pair = Pair {
            bin,
            primary: free_port(),
            replica: free_port(),
            dir,
        };
        if is_root() {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&pair.dir));
        }
        let (p, r) = (pair.dir.join("primary"), pair.dir.join("replica"));
        // initdb's own pg_hba.conf trusts local replication connections.
        pair.run_pg(
            "initdb",
            &[
                &"-D",
                &p.as_path(),
                &"-U",
                &"postgres",
                &"-A",
                &"trust",
                &"--no-sync",
            ],
        );
        pair.settle(&p, pair.primary);
        pair.run_pg(
            "pg_ctl",
            &[
                &"-D",
                &p.as_path(),
                &"-l",
                &p.join("log").as_path(),
                &"-w",
                &"start",
            ],
        );
        let port = pair.primary.to_string();
        pair.run_pg(
            "pg_basebackup",
            &[
                &"-h",
                &"127.0.0.1",
                &"-p",
                &port.as_str(),
                &"-U",
                &"postgres",
                &"-D",
                &r.as_path(),
                &"-R",
                &"-X",
                &"stream",
            ],
        );
        pair.settle(&r, pair.replica);
        pair.run_pg(
            "pg_ctl",
            &[
                &"-D",
                &r.as_path(),
                &"-l",
                &r.join("log").as_path(),
                &"-w",
                &"start",
            ],
        );
        pair
    }

    /// The port, the socket directory and a quick, unsafe-on-crash setup: a test cluster.
    fn settle(&self, data: &Path, port: u16) {
        let conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\nfsync = off\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n",
            self.dir.display()
        );
        let path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str(&conf);
        std::fs::write(&path, text).unwrap();
    }

    /// A server program, run as the postgres user when the test runs as root (the server refuses root).
    fn pg_command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn run_pg(&self, program: &str, args: &[&dyn AsRef<std::ffi::OsStr>]) {
        let mut cmd = self.pg_command(program);
        for a in args {
            cmd.arg(a);
        }
        run(&mut cmd);
    }

    /// Runs SQL on the replica outside cunji (pausing and resuming its replay).
    fn on_replica(&self, sql: &str) {
        run(Command::new("psql")
            .arg(Pair::url(self.replica))
            .args(["-qAt", "-c", sql]));
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        for side in ["replica", "primary"] {
            let data = self.dir.join(side);
            let _ = self
                .pg_command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .args(["-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Debian keeps them in /usr/lib/postgresql/VERSION/bin; the newest version is taken.
fn server_programs() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, b)| b)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn caught_up(primary: &Store, replica: &Store) {
    let want = primary.data_version().await.unwrap();
    for _ in 0..200 {
        if replica.data_version().await.unwrap() >= want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the replica did not reach the primary's audit row {want} in 10 s");
}

async fn add_entry(store: &Store, amount: &str, voucher: &str) {
    let csv = format!(
        "village,date,account,amount,voucher\n131124100200,2024-06-01,operating_revenue,{amount},{voucher}\n"
    );
    store
        .import(
            cunji_store::ImportKind::Entries,
            &format!("{voucher}.csv"),
            csv.as_bytes(),
            "test",
            &cunji_store::import::Quiet,
        )
        .await
        .unwrap();
}

/// The village page's 2024 operating income, as the page prints it.
async fn operating_income(client: &mut Client) -> String {
    let page = client.get("/village/131124100200?year=2024").await.text();
    let at = page.find("经营收入").unwrap_or_else(|| panic!("{page}"));
    page[at..].chars().take(200).collect()
}

#[tokio::test]
async fn report_reads_go_to_the_replica_and_are_never_older_than_the_primary() {
    if std::env::var("CUNJI_TEST_PG").is_err() {
        eprintln!("skipped: the read replica is tested in the PostgreSQL pass (CUNJI_TEST_PG)");
        return;
    }
    let pair = Pair::start("reads");
    let primary = Store::open(&Pair::url(pair.primary), false).await.unwrap();
    fill(&primary).await;

    // Not a replica, or not PostgreSQL: refused with a reason.
    let sqlite = Store::open_replica("sqlite:///tmp/x.db")
        .await
        .err()
        .unwrap();
    assert_eq!(
        sqlite.to_string(),
        "只读副本须是 PostgreSQL 数据库（postgres://…）"
    );
    let replica = Store::open_replica(&Pair::url(pair.replica)).await.unwrap();
    caught_up(&primary, &replica).await;
    // Nothing can be written through it.
    let refused = replica
        .import(
            cunji_store::ImportKind::Entries,
            "x.csv",
            "village,date,account,amount\n131124100200,2024-06-01,operating_revenue,1\n".as_bytes(),
            "test",
            &cunji_store::import::Quiet,
        )
        .await;
    assert!(refused.is_err());

    let state = cunji_web::AppState::new(primary.clone(), None).with_replica(replica.clone());
    let addr = serve_state(state.clone()).await;
    let mut admin = Client::signed_in(addr, "admin").await;
    let first = operating_income(&mut admin).await;
    assert!(first.contains("150,000.00"), "{first}");
    assert_eq!((state.data_loads(), state.replica_loads()), (1, 1));

    // Replay paused: the primary's new entry is not on the replica; after a second's wait the
    // page reads the primary and shows it.
    pair.on_replica("SELECT pg_wal_replay_pause()");
    add_entry(&primary, "10000", "R-1").await;
    let paused = operating_income(&mut admin).await;
    assert!(paused.contains("160,000.00"), "{paused}");
    assert_eq!((state.data_loads(), state.replica_loads()), (2, 1));

    // Replay resumed: the replica catches up and serves the next read.
    pair.on_replica("SELECT pg_wal_replay_resume()");
    add_entry(&primary, "1000", "R-2").await;
    caught_up(&primary, &replica).await;
    let resumed = operating_income(&mut admin).await;
    assert!(resumed.contains("161,000.00"), "{resumed}");
    assert_eq!((state.data_loads(), state.replica_loads()), (3, 2));
    primary.close().await;
    replica.close().await;
}
