//! A ClickHouse server of our own: own config, data folder and ports (never the system service).

use crate::process::{free_port, Guard};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub struct ClickHouse {
    pub dir: PathBuf,
    pub http_port: u16,
    pub tcp_port: u16,
    /// extra server configuration (XML elements inside `<yandex>`)
    extra: String,
    process: Option<Guard>,
    http: reqwest::Client,
}

/// A ClickHouse cluster of single-replica shards on loopback, coordinated by one ZooKeeper:
/// what each server's configuration needs to know about the others.
#[derive(Debug, Clone)]
pub struct ClusterPlan {
    pub name: String,
    pub zookeeper_port: u16,
    /// (http port, tcp port) per shard
    pub nodes: Vec<(u16, u16)>,
}

impl ClusterPlan {
    pub fn new(name: &str, zookeeper_port: u16, shards: usize) -> Result<Self> {
        let nodes = (0..shards).map(|_| Ok((free_port()?, free_port()?))).collect::<Result<_>>()?;
        Ok(ClusterPlan { name: name.to_owned(), zookeeper_port, nodes })
    }

    /// `remote_servers`, ZooKeeper, the distributed DDL queue and this node's macros.
    fn config(&self, index: usize) -> Result<String> {
        let shards: String = self
            .nodes
            .iter()
            .map(|(_, tcp)| format!("<shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>{tcp}</port></replica></shard>"))
            .collect();
        Ok(format!(
            "<remote_servers><{name}>{shards}</{name}></remote_servers>\n\
             <zookeeper><node><host>127.0.0.1</host><port>{zk}</port></node><session_timeout_ms>30000</session_timeout_ms><operation_timeout_ms>10000</operation_timeout_ms></zookeeper>\n\
             <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>\n\
             <macros><shard>{shard:02}</shard><replica>node{shard}</replica></macros>\n\
             <interserver_http_port>{interserver}</interserver_http_port>\n\
             <interserver_http_host>127.0.0.1</interserver_http_host>\n",
            name = self.name,
            zk = self.zookeeper_port,
            shard = index + 1,
            interserver = free_port()?,
        ))
    }
}

fn server_binary() -> String {
    std::env::var("MESHWARD_CLICKHOUSE_SERVER").unwrap_or_else(|_| "clickhouse-server".into())
}

fn config_xml(dir: &Path, http_port: u16, tcp_port: u16, extra: &str) -> String {
    let d = dir.display();
    format!(
        r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/server.err.log</errorlog><size>50M</size><count>1</count></logger>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/data/tmp/</tmp_path>
  <user_files_path>{d}/data/user_files/</user_files_path>
  <format_schema_path>{d}/data/format_schemas/</format_schema_path>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
{extra}</yandex>
"#
    )
}

impl ClickHouse {
    /// Starts a server in `dir` on free ports and waits until it answers.
    pub async fn start(dir: &Path) -> Result<ClickHouse> {
        std::fs::create_dir_all(dir.join("data"))?;
        let mut server = ClickHouse {
            dir: dir.to_path_buf(),
            http_port: free_port()?,
            tcp_port: free_port()?,
            extra: String::new(),
            process: None,
            http: reqwest::Client::new(),
        };
        // a free port can be taken by another test's server between choosing and binding it:
        // then the server stops at once, and another pair of ports is tried
        for attempt in 0.. {
            match server.launch().await {
                Ok(()) => break,
                Err(err) if attempt < 3 && format!("{err:#}").contains("Address already in use") => {
                    server.http_port = free_port()?;
                    server.tcp_port = free_port()?;
                }
                Err(err) => return Err(err),
            }
        }
        Ok(server)
    }

    /// Starts node `index` of a planned cluster in `dir`.
    pub async fn start_in_cluster(dir: &Path, plan: &ClusterPlan, index: usize) -> Result<ClickHouse> {
        std::fs::create_dir_all(dir.join("data"))?;
        let (http_port, tcp_port) = *plan.nodes.get(index).context("no such node in the cluster plan")?;
        let mut server = ClickHouse {
            dir: dir.to_path_buf(),
            http_port,
            tcp_port,
            extra: plan.config(index)?,
            process: None,
            http: reqwest::Client::new(),
        };
        server.launch().await?;
        Ok(server)
    }

    async fn launch(&mut self) -> Result<()> {
        let config = self.dir.join("config.xml");
        std::fs::write(&config, config_xml(&self.dir, self.http_port, self.tcp_port, &self.extra))?;
        let mut command = Command::new(server_binary());
        command.arg(format!("--config-file={}", config.display())).current_dir(&self.dir);
        let mut guard = Guard::spawn("clickhouse-server", command, &self.dir.join("stdout.log"))
            .context("clickhouse-server not found: run `make setup`")?;
        let url = format!("{}/ping", self.url());
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let answered = self.http.get(&url).send().await.is_ok_and(|r| r.status().is_success());
            if answered {
                break;
            }
            // a server that stopped (a port taken, a bad configuration) will not answer
            let stopped = guard.exited();
            if stopped.is_some() || std::time::Instant::now() >= deadline {
                let why = stopped.unwrap_or_else(|| "ClickHouse did not answer /ping within 60 s".to_owned());
                bail!("{why}\n{}", crate::process::tail(&self.dir.join("server.err.log"), 20));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.process = Some(guard);
        Ok(())
    }

    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().and_then(crate::process::Guard::pid)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// SIGKILL: a crash, not a shutdown.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.process.take() {
            p.kill9();
        }
    }

    /// SIGSTOP: the server keeps its sockets (connections are accepted) and answers nothing,
    /// as a server stuck in a stall or a paused VM does; `resume` sends SIGCONT.
    pub fn pause(&self) -> Result<()> {
        self.signal("-STOP")
    }

    pub fn resume(&self) -> Result<()> {
        self.signal("-CONT")
    }

    fn signal(&self, signal: &str) -> Result<()> {
        let pid = self.pid().context("ClickHouse is not running")?;
        let status = Command::new("kill").arg(signal).arg(pid.to_string()).status()?;
        anyhow::ensure!(status.success(), "kill {signal} {pid} failed");
        Ok(())
    }

    /// Starts the server again on the same folder and ports.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill9();
        self.launch().await
    }

    /// Runs a query and returns the body (TSV unless the query says otherwise).
    pub async fn query(&self, sql: &str) -> Result<String> {
        let response = self.http.post(self.url()).body(sql.to_owned()).send().await.context("querying ClickHouse")?;
        let status = response.status();
        let body = response.text().await?;
        if !status.is_success() {
            bail!("ClickHouse answered {status} to `{sql}`: {body}");
        }
        Ok(body)
    }

    /// A single number, e.g. `SELECT count() FROM ...`.
    pub async fn count(&self, sql: &str) -> Result<u64> {
        let body = self.query(sql).await?;
        body.trim().parse().with_context(|| format!("`{sql}` did not return a number: {body:?}"))
    }
}
