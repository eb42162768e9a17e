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
                 4lw.commands.whitelist=ruok\n",
                dir.join("data").display()
            ),
        )?;
        let mut command = Command::new("java");
        command
            .args(["-Xmx256m", "-cp", JAR, "-Dzookeeper.admin.enableServer=false"])
            .arg("org.apache.zookeeper.server.ZooKeeperServerMain")
            .arg(&config);
        let process = Guard::spawn("zookeeper", command, &dir.join("zookeeper.log"))?;
        wait_for("ZooKeeper to answer ruok", Duration::from_secs(60), || async move { ruok(port).then_some(()) })
            .await?;
        Ok(ZooKeeper { port, _process: process })
    }
}

fn ruok(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return false };
    let mut answer = [0u8; 4];
    stream.write_all(b"ruok").is_ok() && stream.read_exact(&mut answer).is_ok() && &answer == b"imok"
}
