//! Command-line flags of the kube-scheduler, with upstream names and defaults.

use std::net::IpAddr;

use clap::Parser;

/// Where the legacy scheduler Policy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// A file.
    File(String),
    /// The `policy.cfg` key of a ConfigMap.
    ConfigMap {
        /// The namespace.
        namespace: String,
        /// The name.
        name: String,
    },
}

/// The kube-scheduler's flags.
#[derive(Clone, Debug, Parser)]
#[command(
    name = "kube-scheduler",
    about = "The Kubernetes scheduler: assigns pending pods to nodes."
)]
pub struct Options {
    /// Path to a kubeconfig file with the API server address and credentials; the
    /// KUBECONFIG files or the in-cluster configuration when empty.
    #[arg(long, default_value = "")]
    pub kubeconfig: String,

    /// Path to a KubeSchedulerConfiguration file (kubescheduler.config.k8s.io/v1).
    #[arg(long, default_value = "")]
    pub config: String,

    /// Elect a leader through a Lease before scheduling; overrides the configuration
    /// file's leaderElection.leaderElect.
    #[arg(long, num_args = 0..=1, default_missing_value = "true")]
    pub leader_elect: Option<bool>,

    /// The namespace of the leader election Lease.
    #[arg(long, default_value = "kube-system")]
    pub leader_elect_resource_namespace: String,

    /// The name of the leader election Lease.
    #[arg(long, default_value = "kube-scheduler")]
    pub leader_elect_resource_name: String,

    /// The HTTPS port for /healthz, /livez, /readyz and /metrics; 0 picks a free port.
    #[arg(long, default_value_t = 10259)]
    pub secure_port: u16,

    /// The IP address the secure port listens on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind_address: IpAddr,

    /// DEPRECATED, removed in Kubernetes 1.23 and accepted for compatibility with the
    /// 1.18 design: a file with a legacy scheduler Policy (kind Policy, apiVersion v1).
    /// Used when --policy-configmap is empty or --use-legacy-policy-config is set. The
    /// Policy replaces the plugins of the only profile.
    #[arg(long, default_value = "")]
    pub policy_config_file: String,

    /// DEPRECATED like --policy-config-file: the name of a ConfigMap whose `policy.cfg`
    /// key holds the Policy. It must exist before the scheduler starts unless
    /// --use-legacy-policy-config is set.
    #[arg(long = "policy-configmap", default_value = "")]
    pub policy_config_map: String,

    /// DEPRECATED like --policy-config-file: the namespace of --policy-configmap.
    #[arg(long = "policy-configmap-namespace", default_value = "kube-system")]
    pub policy_config_map_namespace: String,

    /// DEPRECATED like --policy-config-file: read the Policy from
    /// --policy-config-file and ignore --policy-configmap.
    #[arg(long, num_args = 0..=1, default_missing_value = "true", default_value = "false")]
    pub use_legacy_policy_config: bool,

    /// Log format: `text` or `json`.
    #[arg(long, default_value = "text")]
    pub logging_format: String,

    /// Log verbosity (0-10), mapped onto tracing levels when RUST_LOG is unset.
    #[arg(short = 'v', long = "v", default_value_t = 0)]
    pub verbosity: u8,
}

impl Options {
    /// Returns the Policy source the flags select, in 1.18's precedence: the file when
    /// --use-legacy-policy-config is set or no ConfigMap is named, else the ConfigMap.
    ///
    /// # Errors
    ///
    /// --use-legacy-policy-config without --policy-config-file.
    pub fn policy_source(&self) -> Result<Option<PolicySource>, String> {
        if self.use_legacy_policy_config && self.policy_config_file.is_empty() {
            return Err(
                "policyConfigFile: Required value: required when --use-legacy-policy-config is true"
                    .to_string(),
            );
        }
        if self.use_legacy_policy_config
            || (!self.policy_config_file.is_empty() && self.policy_config_map.is_empty())
        {
            return Ok(Some(PolicySource::File(self.policy_config_file.clone())));
        }
        if !self.policy_config_map.is_empty() {
            let namespace = if self.policy_config_map_namespace.is_empty() {
                "kube-system".to_string()
            } else {
                self.policy_config_map_namespace.clone()
            };
            return Ok(Some(PolicySource::ConfigMap {
                namespace,
                name: self.policy_config_map.clone(),
            }));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(flags: &[&str]) -> Options {
        let mut args = vec!["kube-scheduler"];
        args.extend_from_slice(flags);
        Options::try_parse_from(args).expect("flags")
    }

    #[test]
    fn policy_source_precedence() {
        assert_eq!(parse(&[]).policy_source(), Ok(None));
        assert_eq!(
            parse(&["--policy-config-file=/p.json"]).policy_source(),
            Ok(Some(PolicySource::File("/p.json".into())))
        );
        assert_eq!(
            parse(&["--policy-config-file=/p.json", "--policy-configmap=cm"]).policy_source(),
            Ok(Some(PolicySource::ConfigMap {
                namespace: "kube-system".into(),
                name: "cm".into()
            }))
        );
        assert_eq!(
            parse(&[
                "--policy-config-file=/p.json",
                "--policy-configmap=cm",
                "--use-legacy-policy-config"
            ])
            .policy_source(),
            Ok(Some(PolicySource::File("/p.json".into())))
        );
        assert_eq!(
            parse(&["--policy-configmap=cm", "--policy-configmap-namespace=ns"]).policy_source(),
            Ok(Some(PolicySource::ConfigMap {
                namespace: "ns".into(),
                name: "cm".into()
            }))
        );
        assert!(
            parse(&["--use-legacy-policy-config=true"])
                .policy_source()
                .is_err()
        );
    }
}
