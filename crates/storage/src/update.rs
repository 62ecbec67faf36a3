//! Guaranteed update: the read-modify-write loop every apiserver update goes through.
//!
//! [`guaranteed_update`] reads the key, lets the caller compute the new value from the
//! current one, and writes it guarded by the mod revision it read. When another writer
//! got in between, it reads again and calls the caller again, so the caller's function
//! must be safe to run more than once. A new value equal to the stored one is not
//! written, which keeps no-op updates from bumping the revision.

use bytes::Bytes;

use crate::interface::{Backend, Error, KeyValue};

/// Maximum attempts before a key that keeps changing under us is reported as a
/// conflict. Each attempt is one read and one conditional write.
pub const MAX_ATTEMPTS: usize = 64;

/// What the caller's update function decides for one attempt.
pub enum UpdateDecision {
    /// Store this value.
    Write(Bytes),
    /// Leave the key as it is and return the current state.
    Keep,
}

/// Failure of a guaranteed update.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError<E> {
    /// The caller's function rejected the update; its error is returned unchanged.
    #[error(transparent)]
    Rejected(E),
    /// The storage layer failed (including [`Error::NotFound`] when the key is missing
    /// and `ignore_not_found` is false).
    #[error(transparent)]
    Storage(#[from] Error),
}

/// Waits a random moment after repeated conflicts. Without it, the writer that just
/// won re-reads first and wins again, and the others can lose every round: a group
/// commit orders the queued writes by arrival.
async fn backoff_after_conflict(attempt: usize) {
    use rand::Rng;

    if attempt == 0 {
        return;
    }
    let ceiling_micros = 250 * (attempt.min(40) as u64);
    let pause = rand::rng().random_range(0..=ceiling_micros);
    tokio::time::sleep(std::time::Duration::from_micros(pause)).await;
}

/// Updates `key` by applying `try_update` to its current state until a conditional
/// write succeeds. `try_update` receives `None` when the key does not exist, which is
/// only possible with `ignore_not_found` (create on update); otherwise a missing key
/// fails with [`Error::NotFound`]. Returns the stored state after the update.
pub async fn guaranteed_update<F, E>(
    backend: &dyn Backend,
    key: &str,
    ignore_not_found: bool,
    try_update: F,
) -> Result<KeyValue, UpdateError<E>>
where
    F: FnMut(Option<&KeyValue>) -> Result<UpdateDecision, E>,
{
    guaranteed_update_from(backend, key, ignore_not_found, None, try_update).await
}

/// Runs [`guaranteed_update`] from `suggestion`, a state of the key read earlier (from
/// the watch cache, for example), instead of reading storage first. The conditional
/// write catches a stale suggestion. A rejection by `try_update`, a no-op result or
/// [`UpdateDecision::Keep`] on the suggestion reads storage and tries again before it
/// counts. So a fresh suggestion saves a read, and a stale one costs one more call of
/// `try_update`.
pub async fn guaranteed_update_from<F, E>(
    backend: &dyn Backend,
    key: &str,
    ignore_not_found: bool,
    suggestion: Option<KeyValue>,
    mut try_update: F,
) -> Result<KeyValue, UpdateError<E>>
where
    F: FnMut(Option<&KeyValue>) -> Result<UpdateDecision, E>,
{
    // Whether `current` came from the suggestion rather than from storage.
    let mut unconfirmed = suggestion.is_some();
    let mut current = match suggestion {
        Some(suggested) => Some(suggested),
        None => backend.get(key).await?,
    };
    let mut last_conflict = None;
    let mut attempt = 0;
    while attempt < MAX_ATTEMPTS {
        if current.is_none() && !ignore_not_found {
            return Err(Error::NotFound {
                key: key.to_string(),
            }
            .into());
        }

        let decision = match try_update(current.as_ref()) {
            Ok(decision) => decision,
            Err(_) if unconfirmed => {
                current = backend.get(key).await?;
                unconfirmed = false;
                continue;
            }
            Err(error) => return Err(UpdateError::Rejected(error)),
        };
        let value = match decision {
            UpdateDecision::Keep if unconfirmed => {
                current = backend.get(key).await?;
                unconfirmed = false;
                continue;
            }
            UpdateDecision::Keep => match current {
                Some(current) => return Ok(current),
                None => {
                    return Err(Error::NotFound {
                        key: key.to_string(),
                    }
                    .into());
                }
            },
            UpdateDecision::Write(value) => value,
        };

        let result = match &current {
            Some(stored) if stored.value == value => {
                if unconfirmed {
                    current = backend.get(key).await?;
                    unconfirmed = false;
                    continue;
                }
                return Ok(stored.clone());
            }
            Some(stored) => backend.update(key, value, stored.mod_revision).await,
            None => backend.create(key, value).await,
        };
        match result {
            Ok(stored) => return Ok(stored),
            Err(error @ (Error::Conflict { .. } | Error::KeyExists { .. })) => {
                tracing::debug!(key, error = %error, "guaranteed update raced another writer; retrying");
                last_conflict = Some(error);
                // A stale suggestion is not a race with another writer, so no pause.
                if !unconfirmed {
                    backoff_after_conflict(attempt).await;
                }
            }
            Err(Error::NotFound { .. }) if ignore_not_found => {
                last_conflict = Some(Error::NotFound {
                    key: key.to_string(),
                });
            }
            Err(other) => return Err(other.into()),
        }
        attempt += 1;
        current = backend.get(key).await?;
        unconfirmed = false;
    }
    tracing::warn!(
        key,
        attempts = MAX_ATTEMPTS,
        "guaranteed update gave up after repeated conflicts"
    );
    Err(last_conflict
        .unwrap_or_else(|| Error::Internal(format!("guaranteed update of {key} made no attempt")))
        .into())
}
