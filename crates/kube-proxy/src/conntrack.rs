//! Deletion of stale conntrack entries through the `conntrack` tool. UDP has no
//! connection teardown, so after an endpoint goes away (or a rejected service gains
//! endpoints) the kernel keeps steering a flow by its old entry until it is deleted.

use std::net::IpAddr;
use std::sync::Arc;

use crate::exec::{Cmd, ExecError, Executor};
use crate::service::Protocol;

/// Runs `conntrack -D` with filters. A deletion that matched nothing succeeds.
#[derive(Clone)]
pub struct Conntrack {
    executor: Arc<dyn Executor>,
}

impl Conntrack {
    pub fn new(executor: Arc<dyn Executor>) -> Self {
        Conntrack { executor }
    }

    /// Deletes the entries whose original destination is `ip`.
    pub fn clear_entries_for_ip(&self, ip: IpAddr, protocol: Protocol) -> Result<(), ExecError> {
        let ip = ip.to_string();
        self.delete(
            ip_family_args(&ip),
            &["--orig-dst", &ip, "-p", protocol.lower()],
        )
    }

    /// Deletes the entries whose original destination port is `port`.
    pub fn clear_entries_for_port(
        &self,
        port: u16,
        ipv6: bool,
        protocol: Protocol,
    ) -> Result<(), ExecError> {
        let port = port.to_string();
        let family: &[&str] = if ipv6 { &["-f", "ipv6"] } else { &[] };
        self.delete(family, &["-p", protocol.lower(), "--dport", &port])
    }

    /// Deletes the entries from `original_destination` that were DNATed to `endpoint_ip`.
    pub fn clear_entries_for_nat(
        &self,
        original_destination: IpAddr,
        endpoint_ip: IpAddr,
        protocol: Protocol,
    ) -> Result<(), ExecError> {
        let original = original_destination.to_string();
        let endpoint = endpoint_ip.to_string();
        self.delete(
            ip_family_args(&original),
            &[
                "--orig-dst",
                &original,
                "--dst-nat",
                &endpoint,
                "-p",
                protocol.lower(),
            ],
        )
    }

    /// Deletes the entries to node port `port` that were DNATed to `endpoint_ip`.
    pub fn clear_entries_for_port_nat(
        &self,
        endpoint_ip: IpAddr,
        port: u16,
        protocol: Protocol,
    ) -> Result<(), ExecError> {
        let endpoint = endpoint_ip.to_string();
        let port = port.to_string();
        self.delete(
            ip_family_args(&endpoint),
            &[
                "-p",
                protocol.lower(),
                "--dport",
                &port,
                "--dst-nat",
                &endpoint,
            ],
        )
    }

    fn delete(&self, family: &[&str], filters: &[&str]) -> Result<(), ExecError> {
        let mut args = vec!["-D"];
        args.extend_from_slice(family);
        args.extend_from_slice(filters);
        let cmd = Cmd::new("conntrack", &args);
        let output = self.executor.run(&cmd)?;
        // conntrack exits 1 when no entry matched and prints that count on stderr.
        if output.success() || output.stderr.contains("0 flow entries have been deleted") {
            return Ok(());
        }
        Err(ExecError::Failed {
            command: cmd.display(),
            code: output.code,
            stderr: output.stderr.trim().to_string(),
        })
    }
}

fn ip_family_args(ip: &str) -> &'static [&'static str] {
    if ip.contains(':') {
        &["-f", "ipv6"]
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::CmdOutput;
    use crate::exec::fake::FakeExecutor;

    #[test]
    fn commands_and_no_match_exit() {
        let fake = Arc::new(FakeExecutor::default());
        fake.respond(
            "conntrack -D --orig-dst 10.0.0.10",
            CmdOutput {
                code: Some(1),
                stdout: String::new(),
                stderr: "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n"
                    .to_string(),
            },
        );
        let conntrack = Conntrack::new(fake.clone());
        conntrack
            .clear_entries_for_ip("10.0.0.10".parse().unwrap(), Protocol::Udp)
            .unwrap();
        conntrack
            .clear_entries_for_nat(
                "10.0.0.10".parse().unwrap(),
                "10.1.0.2".parse().unwrap(),
                Protocol::Udp,
            )
            .unwrap();
        conntrack
            .clear_entries_for_port(30053, false, Protocol::Udp)
            .unwrap();
        let lines: Vec<String> = fake.take().iter().map(Cmd::display).collect();
        assert_eq!(
            lines,
            [
                "conntrack -D --orig-dst 10.0.0.10 -p udp",
                "conntrack -D --orig-dst 10.0.0.10 --dst-nat 10.1.0.2 -p udp",
                "conntrack -D -p udp --dport 30053",
            ]
        );

        fake.respond(
            "conntrack",
            CmdOutput {
                code: Some(1),
                stdout: String::new(),
                stderr: "Operation not permitted".to_string(),
            },
        );
        assert!(
            conntrack
                .clear_entries_for_ip("10.0.0.10".parse().unwrap(), Protocol::Udp)
                .is_err()
        );
    }
}
