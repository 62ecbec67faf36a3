//! Lease-based leader election (`coordination.k8s.io/v1` Lease), client-go's
//! `leaderelection` with a Lease lock: acquire when the lease is free or expired,
//! renew every retry period, and give up leadership when renewing fails for longer
//! than the renew deadline. Entry point: [`LeaderElector::run`].

use std::time::{Duration, Instant};

use client::rest::{ClientError, RestClient};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use serde_json::json;
use tokio::sync::watch;

/// The settings of one election.
#[derive(Clone, Debug)]
pub struct LeaderElectionConfig {
    /// The Lease namespace.
    pub lease_namespace: String,
    /// The Lease name.
    pub lease_name: String,
    /// This candidate's identity, unique per process.
    pub identity: String,
    /// How long a lease stays valid after its last renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a failed renewal before it steps down.
    pub renew_deadline: Duration,
    /// The wait between acquire and renew attempts.
    pub retry_period: Duration,
}

/// Runs an election.
pub struct LeaderElector {
    config: LeaderElectionConfig,
    client: RestClient,
}

enum Attempt {
    Acquired,
    HeldByOther(String),
    Failed(String),
}

impl LeaderElector {
    /// Creates an elector.
    pub fn new(config: LeaderElectionConfig, client: RestClient) -> LeaderElector {
        LeaderElector { config, client }
    }

    fn path(&self) -> String {
        format!(
            "/apis/coordination.k8s.io/v1/namespaces/{}/leases/{}",
            self.config.lease_namespace, self.config.lease_name
        )
    }

    /// Waits until this candidate holds the lease. Returns false if `cancel` fired
    /// first.
    pub async fn acquire(&self, cancel: &mut watch::Receiver<bool>) -> bool {
        let mut last_holder = String::new();
        loop {
            match self.try_acquire_or_renew().await {
                Attempt::Acquired => {
                    tracing::info!(lease = %self.path(), identity = %self.config.identity, "successfully acquired lease");
                    return true;
                }
                Attempt::HeldByOther(holder) => {
                    if holder != last_holder {
                        tracing::info!(leader = %holder, "new leader elected");
                        last_holder = holder;
                    }
                }
                Attempt::Failed(error) => {
                    tracing::warn!(lease = %self.path(), %error, "failed to acquire lease; retrying");
                }
            }
            if sleep_or_cancel(self.config.retry_period, cancel).await {
                return false;
            }
        }
    }

    /// Renews the lease until a renewal fails for longer than the renew deadline
    /// (returns false) or `cancel` fires (releases the lease and returns true).
    pub async fn renew(&self, cancel: &mut watch::Receiver<bool>) -> bool {
        let mut last_renewal = Instant::now();
        loop {
            if sleep_or_cancel(self.config.retry_period, cancel).await {
                self.release().await;
                return true;
            }
            match self.try_acquire_or_renew().await {
                Attempt::Acquired => last_renewal = Instant::now(),
                Attempt::HeldByOther(holder) => {
                    tracing::error!(leader = %holder, "lease taken over by another candidate");
                    return false;
                }
                Attempt::Failed(error) => {
                    tracing::warn!(%error, "failed to renew lease");
                    if last_renewal.elapsed() > self.config.renew_deadline {
                        tracing::error!("failed to renew lease within the renew deadline");
                        return false;
                    }
                }
            }
        }
    }

    async fn try_acquire_or_renew(&self) -> Attempt {
        let now = MicroTime(crate::framework::types::now());
        let duration_seconds = self.config.lease_duration.as_secs() as i32;
        let existing: Result<Lease, ClientError> = self.client.get(&self.path()).request_json().await;
        let lease = match existing {
            Ok(lease) => lease,
            Err(ClientError::Api(status)) if status.code() == 404 => {
                let body = json!({
                    "apiVersion": "coordination.k8s.io/v1",
                    "kind": "Lease",
                    "metadata": {"name": self.config.lease_name, "namespace": self.config.lease_namespace},
                    "spec": {
                        "holderIdentity": self.config.identity,
                        "leaseDurationSeconds": duration_seconds,
                        "acquireTime": now,
                        "renewTime": now,
                        "leaseTransitions": 0,
                    },
                });
                let path = format!(
                    "/apis/coordination.k8s.io/v1/namespaces/{}/leases",
                    self.config.lease_namespace
                );
                let created: Result<Lease, ClientError> = self.client.post(&path).json(&body).request_json().await;
                return match created {
                    Ok(_) => Attempt::Acquired,
                    Err(error) => Attempt::Failed(error.to_string()),
                };
            }
            Err(error) => return Attempt::Failed(error.to_string()),
        };

        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let expired = spec.renew_time.as_ref().is_none_or(|renewed| {
            let valid_for = spec.lease_duration_seconds.unwrap_or(duration_seconds);
            let expiry = renewed.0.as_second() + i64::from(valid_for);
            expiry < now.0.as_second()
        });
        if !holder.is_empty() && holder != self.config.identity && !expired {
            return Attempt::HeldByOther(holder);
        }

        let mut updated = lease.clone();
        let mut new_spec = spec.clone();
        if holder != self.config.identity {
            new_spec.acquire_time = Some(now.clone());
            new_spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        new_spec.holder_identity = Some(self.config.identity.clone());
        new_spec.lease_duration_seconds = Some(duration_seconds);
        new_spec.renew_time = Some(now);
        updated.spec = Some(new_spec);
        let replaced: Result<Lease, ClientError> = self.client.put(&self.path()).json(&updated).request_json().await;
        match replaced {
            Ok(_) => Attempt::Acquired,
            Err(error) => Attempt::Failed(error.to_string()),
        }
    }

    /// Clears the holder so another candidate can take over at once.
    async fn release(&self) {
        let existing: Result<Lease, ClientError> = self.client.get(&self.path()).request_json().await;
        let Ok(mut lease) = existing else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        let result: Result<Lease, ClientError> = self.client.put(&self.path()).json(&lease).request_json().await;
        match result {
            Ok(_) => tracing::info!(lease = %self.path(), "released lease"),
            Err(error) => tracing::warn!(%error, "failed to release lease"),
        }
    }
}

/// Sleeps for `duration`; returns true when `cancel` fired instead.
async fn sleep_or_cancel(duration: Duration, cancel: &mut watch::Receiver<bool>) -> bool {
    if *cancel.borrow() {
        return true;
    }
    tokio::select! {
        _ = tokio::time::sleep(duration) => false,
        changed = cancel.changed() => changed.is_err() || *cancel.borrow(),
    }
}
