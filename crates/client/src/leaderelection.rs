//! Leader election over a coordination.k8s.io/v1 Lease, after client-go's
//! `tools/leaderelection` (v1.18).
//!
//! Entry point: [`LeaderElector::new`], then [`LeaderElector::run`] with
//! [`LeaderCallbacks`].
//!
//! Candidates try to acquire the Lease every retry period. The holder renews it every
//! retry period and gives up leadership when no renewal succeeded within the renew
//! deadline. A candidate takes over only when the Lease record has not changed for a
//! whole lease duration, measured on its own clock from the moment it first saw that
//! record. The holder's timestamps are never compared with the local clock, so clock
//! skew between candidates does not matter. Updates carry the resourceVersion they
//! read, so two candidates never both win the same round.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::api::{Api, PostParams};
use crate::rest::{ClientError, RestClient};

/// client-go's `JitterFactor`: retry waits are stretched by up to 20%.
const JITTER_FACTOR: f64 = 1.2;

/// The settings of one candidate.
#[derive(Clone, Debug, PartialEq)]
pub struct LeaderElectionConfig {
    /// The namespace of the Lease.
    pub lease_namespace: String,
    /// The name of the Lease.
    pub lease_name: String,
    /// This candidate's identity, unique among candidates (usually hostname plus a
    /// random suffix).
    pub identity: String,
    /// How long others wait after the last change of the Lease before taking it
    /// over (15 s by default).
    pub lease_duration: Duration,
    /// How long the leader keeps retrying a renewal before it gives up leadership
    /// (10 s by default). Must be below `lease_duration`.
    pub renew_deadline: Duration,
    /// The wait between attempts (2 s by default), jittered by up to 20%.
    pub retry_period: Duration,
    /// Whether a leader cancelled through `run`'s `cancel` clears the Lease's holder,
    /// so that another candidate can take over at once.
    pub release_on_cancel: bool,
}

impl LeaderElectionConfig {
    /// Settings with the upstream defaults (15 s, 10 s, 2 s, release on cancel).
    pub fn new(lease_namespace: &str, lease_name: &str, identity: &str) -> Self {
        Self {
            lease_namespace: lease_namespace.to_string(),
            lease_name: lease_name.to_string(),
            identity: identity.to_string(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
            release_on_cancel: true,
        }
    }

    fn validate(&self) -> Result<(), ClientError> {
        let invalid = |message: &str| Err(ClientError::Config(message.to_string()));
        if self.identity.is_empty() {
            return invalid("leader election identity must not be empty");
        }
        if self.lease_name.is_empty() || self.lease_namespace.is_empty() {
            return invalid("leader election lease name and namespace must be set");
        }
        if self.lease_duration <= self.renew_deadline {
            return invalid("leaseDuration must be greater than renewDeadline");
        }
        if self.renew_deadline.as_secs_f64() <= JITTER_FACTOR * self.retry_period.as_secs_f64() {
            return invalid("renewDeadline must be greater than retryPeriod*JitterFactor");
        }
        if self.retry_period.is_zero() {
            return invalid("retryPeriod must be greater than zero");
        }
        Ok(())
    }
}

/// A boxed future the leader runs while it leads.
pub type LeadingFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

type StartedFn = Box<dyn FnOnce(watch::Receiver<bool>) -> LeadingFuture + Send>;
type StoppedFn = Box<dyn FnOnce() + Send>;
type NewLeaderFn = Box<dyn Fn(&str) + Send + Sync>;

/// The callbacks run when leadership starts, stops, or moves to another candidate.
pub struct LeaderCallbacks {
    on_started_leading: StartedFn,
    on_stopped_leading: StoppedFn,
    on_new_leader: Option<NewLeaderFn>,
}

impl LeaderCallbacks {
    /// `on_started_leading` is spawned once leadership is acquired; its receiver turns
    /// true when leadership ends, and the future should stop its work then.
    /// `on_stopped_leading` runs when [`LeaderElector::run`] returns, whether or not
    /// this candidate ever led (as upstream does).
    pub fn new<F, Fut>(
        on_started_leading: F,
        on_stopped_leading: impl FnOnce() + Send + 'static,
    ) -> Self
    where
        F: FnOnce(watch::Receiver<bool>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        Self {
            on_started_leading: Box::new(move |cancel| Box::pin(on_started_leading(cancel))),
            on_stopped_leading: Box::new(on_stopped_leading),
            on_new_leader: None,
        }
    }

    /// Sets a callback for every change of the observed leader, this candidate
    /// included.
    pub fn on_new_leader(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.on_new_leader = Some(Box::new(f));
        self
    }
}

/// The Lease record as last observed, and when (on the local clock).
#[derive(Default)]
struct Observed {
    record: Option<LeaseSpec>,
    time: Option<Instant>,
    leader: String,
}

/// One candidate of a leader election.
pub struct LeaderElector {
    config: LeaderElectionConfig,
    leases: Api<Lease>,
    observed: Mutex<Observed>,
}

impl LeaderElector {
    /// Creates a candidate.
    ///
    /// # Errors
    /// [`ClientError::Config`] for an empty identity or durations that violate
    /// `lease_duration > renew_deadline > 1.2 * retry_period`.
    pub fn new(config: LeaderElectionConfig, client: RestClient) -> Result<Arc<Self>, ClientError> {
        config.validate()?;
        let leases = Api::namespaced(client, &config.lease_namespace);
        Ok(Arc::new(Self {
            config,
            leases,
            observed: Mutex::new(Observed::default()),
        }))
    }

    /// Returns the identity of the leader last observed ("" before any).
    pub fn leader(&self) -> String {
        self.lock().leader.clone()
    }

    /// Returns true when this candidate holds the Lease as last observed.
    pub fn is_leader(&self) -> bool {
        self.lock().leader == self.config.identity
    }

    /// Campaigns until leadership is acquired, runs `on_started_leading`, renews until
    /// a renewal misses the deadline or `cancel` turns true (or its sender is
    /// dropped), then calls `on_stopped_leading`. Returns then; a candidate that lost
    /// leadership does not campaign again.
    pub async fn run(
        self: Arc<Self>,
        callbacks: LeaderCallbacks,
        mut cancel: watch::Receiver<bool>,
    ) {
        let LeaderCallbacks {
            on_started_leading,
            on_stopped_leading,
            on_new_leader,
        } = callbacks;
        let notify = on_new_leader.map(Arc::new);

        let acquired = tokio::select! {
            acquired = self.acquire(notify.clone()) => acquired,
            _ = cancelled(&mut cancel) => false,
        };
        if acquired {
            let (stop_leading, leading) = watch::channel(false);
            tokio::spawn(on_started_leading(leading));
            let cancelled_by_caller = tokio::select! {
                _ = self.renew(notify.clone()) => false,
                _ = cancelled(&mut cancel) => true,
            };
            let _ = stop_leading.send(true);
            if cancelled_by_caller && self.config.release_on_cancel {
                self.release().await;
            }
        }
        on_stopped_leading();
    }

    /// Tries every retry period until the Lease is ours.
    async fn acquire(&self, notify: Option<Arc<NewLeaderFn>>) -> bool {
        tracing::info!(lease = %self.lease_key(), identity = %self.config.identity, "attempting to acquire leader lease");
        loop {
            match self.try_acquire_or_renew(notify.as_deref()).await {
                Ok(true) => {
                    tracing::info!(lease = %self.lease_key(), identity = %self.config.identity, "successfully acquired lease");
                    return true;
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(lease = %self.lease_key(), %error, "error retrieving or updating the lease");
                }
            }
            tokio::time::sleep(jittered(self.config.retry_period)).await;
        }
    }

    /// Renews every retry period; returns when a renewal did not succeed within the
    /// renew deadline.
    async fn renew(&self, notify: Option<Arc<NewLeaderFn>>) {
        loop {
            let deadline = Instant::now() + self.config.renew_deadline;
            let renewed = loop {
                // As upstream, a round that finds another holder (or loses an update
                // race) is retried until the deadline, like an error.
                match self.try_acquire_or_renew(notify.as_deref()).await {
                    Ok(true) => break true,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(lease = %self.lease_key(), %error, "failed to renew the lease");
                    }
                }
                if Instant::now() + self.config.retry_period >= deadline {
                    break false;
                }
                tokio::time::sleep(self.config.retry_period).await;
            };
            if !renewed {
                tracing::info!(lease = %self.lease_key(), identity = %self.config.identity, "failed to renew lease: timed out waiting for the condition");
                return;
            }
            tokio::time::sleep(self.config.retry_period).await;
        }
    }

    /// One round: read the Lease; create it, take it over or renew it when allowed.
    /// Returns whether this candidate is the holder afterwards.
    async fn try_acquire_or_renew(
        &self,
        notify: Option<&NewLeaderFn>,
    ) -> Result<bool, ClientError> {
        let now = now_micro_time();
        let lease_seconds =
            i32::try_from(self.config.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX);
        let mut record = LeaseSpec {
            holder_identity: Some(self.config.identity.clone()),
            lease_duration_seconds: Some(lease_seconds),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            lease_transitions: Some(0),
            ..LeaseSpec::default()
        };

        let Some(current) = self.leases.get_opt(&self.config.lease_name).await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.config.lease_name.clone()),
                    namespace: Some(self.config.lease_namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(record.clone()),
            };
            return match self.leases.create(&lease, &PostParams::default()).await {
                Ok(created) => {
                    self.observe(created.spec.unwrap_or(record), notify);
                    Ok(true)
                }
                Err(error) if error.is_already_exists() => Ok(false),
                Err(error) => Err(error),
            };
        };

        let old = current.spec.clone().unwrap_or_default();
        self.observe(old.clone(), notify);
        let holder = old.holder_identity.clone().unwrap_or_default();
        let is_me = holder == self.config.identity;
        if !holder.is_empty() && !is_me && !self.observed_expired() {
            return Ok(false);
        }

        if is_me {
            record.acquire_time = old.acquire_time.clone();
            record.lease_transitions = old.lease_transitions;
        } else {
            record.lease_transitions = Some(old.lease_transitions.unwrap_or(0) + 1);
        }
        let mut lease = current;
        lease.spec = Some(record.clone());
        match self.leases.replace(&self.config.lease_name, &lease).await {
            Ok(updated) => {
                self.observe(updated.spec.unwrap_or(record), notify);
                Ok(true)
            }
            Err(error) if error.is_conflict() => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// Clears the holder so another candidate can take over without waiting.
    async fn release(&self) {
        let mut result = self.try_release().await;
        // A renewal sent just before the cancel can still land between the read and
        // the update. The update then conflicts, so read again while the Lease is ours.
        for _ in 1..RELEASE_ATTEMPTS {
            match &result {
                Err(error) if error.is_conflict() => result = self.try_release().await,
                _ => break,
            }
        }
        match result {
            Ok(()) => {
                tracing::info!(lease = %self.lease_key(), identity = %self.config.identity, "released the lease")
            }
            Err(error) => {
                tracing::warn!(lease = %self.lease_key(), %error, "failed to release the lease")
            }
        }
    }

    /// Reads the Lease and clears its holder if that is still this candidate.
    async fn try_release(&self) -> Result<(), ClientError> {
        let Some(mut lease) = self.leases.get_opt(&self.config.lease_name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return Ok(());
        }
        let now = now_micro_time();
        spec.holder_identity = Some(String::new());
        spec.lease_duration_seconds = Some(1);
        spec.acquire_time = Some(now.clone());
        spec.renew_time = Some(now);
        self.leases
            .replace(&self.config.lease_name, &lease)
            .await
            .map(|_| ())
    }

    /// Records the Lease as read; the observed time restarts whenever the record
    /// changed.
    fn observe(&self, record: LeaseSpec, notify: Option<&NewLeaderFn>) {
        let new_leader = {
            let mut observed = self.lock();
            if observed.record.as_ref() != Some(&record) {
                observed.time = Some(Instant::now());
            }
            let holder = record.holder_identity.clone().unwrap_or_default();
            observed.record = Some(record);
            if holder != observed.leader {
                observed.leader = holder.clone();
                Some(holder)
            } else {
                None
            }
        };
        if let Some(leader) = new_leader
            && !leader.is_empty()
        {
            tracing::info!(lease = %self.lease_key(), leader, "new leader observed");
            if let Some(notify) = notify {
                notify(&leader);
            }
        }
    }

    /// Returns whether the observed record is older than its lease duration on the local
    /// clock.
    fn observed_expired(&self) -> bool {
        let observed = self.lock();
        let duration = observed
            .record
            .as_ref()
            .and_then(|r| r.lease_duration_seconds)
            .map(|s| Duration::from_secs(u64::try_from(s.max(0)).unwrap_or(0)))
            .unwrap_or(self.config.lease_duration);
        match observed.time {
            Some(time) => time + duration <= Instant::now(),
            None => false,
        }
    }

    fn lease_key(&self) -> String {
        format!("{}/{}", self.config.lease_namespace, self.config.lease_name)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Observed> {
        self.observed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Reads and updates of the Lease that [`LeaderElector::release`] tries before it
/// gives up on conflicts.
const RELEASE_ATTEMPTS: usize = 3;

/// Returns the current wall-clock time at microsecond precision.
pub(crate) fn now_micro_time() -> MicroTime {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let micros = i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX);
    MicroTime(Timestamp::from_microsecond(micros).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// Stretches `period` by a random fraction of up to 20%.
fn jittered(period: Duration) -> Duration {
    period.mul_f64(1.0 + (JITTER_FACTOR - 1.0) * rand::random::<f64>())
}

async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    let _ = cancel.wait_for(|stop| *stop).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_checks_durations() {
        let mut config = LeaderElectionConfig::new("ns", "lease", "me");
        assert!(config.validate().is_ok());
        config.renew_deadline = config.lease_duration;
        assert!(config.validate().is_err());
        config.renew_deadline = Duration::from_secs(2);
        assert!(
            config.validate().is_err(),
            "renew deadline below 1.2 * retry"
        );
        config = LeaderElectionConfig::new("ns", "lease", "");
        assert!(config.validate().is_err());
    }
}
