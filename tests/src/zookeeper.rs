//! A ZooKeeper of our own (Debian's package, from `make setup`) for ClickHouse cluster tests:
//! standalone, own data folder, free loopback port.

use crate::process::{free_port, wait_for, Guard};
use anyhow::{bail, Result};
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub struct ZooKeeper {
    pub port: u16,
    _process: Guard,
}

const JAR: &str = "/usr/share/java/zookeeper.jar";

impl ZooKeeper {
    pub async fn start(dir: &Path) -> Result<ZooKeeper> {
        if !Path::new(JAR).exists() {
            bail!("no ZooKeeper at {JAR}: run `make setup`");
        }
        std::fs::create_dir_all(dir.join("data"))?;
        let port = free_port()?;
        let config = dir.join("zoo.cfg");
        std::fs::write(
            &config,
            format!(
                "tickTime=2000\ndataDir={}\nclientPort={port}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
                 4lw.commands.whitelist=ruok,srvr\n",
                dir.join("data").display()
            ),
        )?;
        let mut command = Command::new("java");
        command
            .args(["-Xmx256m", "-cp", JAR, "-Dzookeeper.admin.enableServer=false"])
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&config);
        let process = Guard::spawn("zookeeper", command, &dir.join("zookeeper.log"))?;
        // `ruok` answers as soon as it listens; `srvr` says when it serves sessions, and
        // ClickHouse 18.16 crashes if its first session is refused
        wait_for("ZooKeeper to serve", Duration::from_secs(60), || async move { serving(port).then_some(()) }).await?;
        Ok(ZooKeeper { port, _process: process })
    }
}

fn serving(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    // a server still starting may accept and never answer: without a timeout this read would
    // block the wait (and the test) for good
    let timeout = Some(std::time::Duration::from_secs(2));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    let mut answer = String::new();
    stream.write_all(b"srvr").is_ok()
        && stream.read_to_string(&mut answer).is_ok()
        && answer.contains("Mode: standalone")
}
