//! Thin wrapper over the iptables command-line tools, run through an [`Executor`].

use std::sync::Arc;

use crate::exec::{Cmd, ExecError, Executor};
use crate::net::IpFamily;

/// The iptables programs to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    /// `iptables`, `iptables-save` and `iptables-restore` as the alternatives on PATH
    /// resolve them (Debian 12 defaults to the nft variant).
    #[default]
    System,
    /// `iptables-nft` and its save and restore programs.
    Nft,
    /// `iptables-legacy` and its save and restore programs.
    Legacy,
}

/// The kernel interface behind a [`Backend`], which decides how restore cost grows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// nf_tables: a restore costs time in its own input size only.
    Nft,
    /// x_tables: every restore reads and replaces the whole table.
    Legacy,
}

/// The iptables programs of one IP family and backend.
#[derive(Clone)]
pub struct Iptables {
    executor: Arc<dyn Executor>,
    backend: Backend,
    iptables: String,
    save: String,
    restore: String,
}

impl Iptables {
    /// Uses `iptables`, `iptables-save` and `iptables-restore` for IPv4 and the
    /// `ip6tables` programs for IPv6, as the system resolves them.
    pub fn new(executor: Arc<dyn Executor>, family: IpFamily) -> Self {
        Iptables::with_backend(executor, family, Backend::System)
    }

    /// Uses the programs of `backend`, such as `iptables-legacy-restore`.
    pub fn with_backend(executor: Arc<dyn Executor>, family: IpFamily, backend: Backend) -> Self {
        let family_base = match family {
            IpFamily::V4 => "iptables",
            IpFamily::V6 => "ip6tables",
        };
        let base = match backend {
            Backend::System => family_base.to_string(),
            Backend::Nft => format!("{family_base}-nft"),
            Backend::Legacy => format!("{family_base}-legacy"),
        };
        Iptables {
            executor,
            backend,
            save: format!("{base}-save"),
            restore: format!("{base}-restore"),
            iptables: base,
        }
    }

    /// Returns the kernel interface the programs use: known for an explicit backend,
    /// else read from `iptables --version` (`(nf_tables)` or `(legacy)`).
    pub fn mode(&self) -> Result<Mode, ExecError> {
        match self.backend {
            Backend::Nft => Ok(Mode::Nft),
            Backend::Legacy => Ok(Mode::Legacy),
            Backend::System => {
                let version = self
                    .executor
                    .run_checked(&Cmd::new(&self.iptables, &["--version"]))?;
                Ok(if version.stdout.contains("nf_tables") {
                    Mode::Nft
                } else {
                    Mode::Legacy
                })
            }
        }
    }

    /// Creates `chain` in `table` unless it exists.
    pub fn ensure_chain(&self, table: &str, chain: &str) -> Result<(), ExecError> {
        let create = Cmd::new(&self.iptables, &["-w", "-t", table, "-N", chain]);
        let created = self.executor.run(&create)?;
        if created.success() {
            return Ok(());
        }
        // `-N` also fails when the chain exists; tell that apart from a real failure.
        if self
            .executor
            .run(&Cmd::new(&self.iptables, &["-w", "-t", table, "-S", chain]))?
            .success()
        {
            return Ok(());
        }
        Err(ExecError::Failed {
            command: create.display(),
            code: created.code,
            stderr: created.stderr.trim().to_string(),
        })
    }

    /// Inserts the rule at the top of `chain` unless an identical rule exists.
    pub fn ensure_rule_first(
        &self,
        table: &str,
        chain: &str,
        args: &[&str],
    ) -> Result<(), ExecError> {
        let mut check = vec!["-w", "-t", table, "-C", chain];
        check.extend_from_slice(args);
        if self
            .executor
            .run(&Cmd::new(&self.iptables, &check))?
            .success()
        {
            return Ok(());
        }
        let mut insert = vec!["-w", "-t", table, "-I", chain];
        insert.extend_from_slice(args);
        self.executor
            .run_checked(&Cmd::new(&self.iptables, &insert))?;
        Ok(())
    }

    /// Deletes the rule if present; returns whether one was deleted.
    pub fn delete_rule(&self, table: &str, chain: &str, args: &[&str]) -> Result<bool, ExecError> {
        let mut delete = vec!["-w", "-t", table, "-D", chain];
        delete.extend_from_slice(args);
        Ok(self
            .executor
            .run(&Cmd::new(&self.iptables, &delete))?
            .success())
    }

    /// Returns `iptables-save -t TABLE` output.
    pub fn save(&self, table: &str) -> Result<String, ExecError> {
        Ok(self
            .executor
            .run_checked(&Cmd::new(&self.save, &["-t", table]))?
            .stdout)
    }

    /// Applies restore input with `iptables-restore --noflush --counters`: chains the
    /// input declares are flushed and rewritten, all others keep rules and counters.
    pub fn restore(&self, data: &str) -> Result<(), ExecError> {
        let cmd = Cmd::new(&self.restore, &["--noflush", "--counters"])
            .with_stdin(data.as_bytes().to_vec());
        self.executor.run_checked(&cmd)?;
        Ok(())
    }
}
