//! Throwaway certificates for mTLS tests, made with the `openssl` command: a CA, a server
//! certificate for `localhost`, and a client certificate with a SPIFFE URI SAN, as Istio issues.

use crate::envoy::MtlsFiles;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The client's identity, as the filter should record it.
pub const CLIENT_SPIFFE_ID: &str = "spiffe://cluster.local/ns/demo/sa/frontend";

pub struct TestCerts {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
}

impl TestCerts {
    pub fn envoy_files(&self) -> MtlsFiles {
        MtlsFiles {
            server_cert: self.server_cert.clone(),
            server_key: self.server_key.clone(),
            client_ca: self.ca.clone(),
        }
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("openssl").args(args).current_dir(dir).output().context("running openssl")?;
    if !output.status.success() {
        bail!("openssl {} failed: {}", args.join(" "), String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}

/// Creates the CA, server and client certificates in `dir`.
pub fn make(dir: &Path) -> Result<TestCerts> {
    std::fs::create_dir_all(dir)?;
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=meshward-test-ca"]);
    openssl(dir, &ca)?;
    for (name, san) in [("server", "DNS:localhost,IP:127.0.0.1"), ("client", &format!("URI:{CLIENT_SPIFFE_ID}"))] {
        std::fs::write(dir.join(format!("{name}.ext")), format!("subjectAltName={san}\n"))?;
        let (key, csr, pem, ext) =
            (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"), format!("{name}.ext"));
        let mut req = vec!["req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=meshward-test"]);
        openssl(dir, &req)?;
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        )?;
    }
    Ok(TestCerts {
        ca: dir.join("ca.pem"),
        server_cert: dir.join("server.pem"),
        server_key: dir.join("server.key"),
        client_cert: dir.join("client.pem"),
        client_key: dir.join("client.key"),
    })
}
