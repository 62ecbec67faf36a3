//! The token manager: requests service account tokens through the TokenRequest
//! API (`POST .../serviceaccounts/<name>/token`) for projected volumes, caches
//! them per pod, and decides when a cached token needs a refresh.
//!
//! A token is refreshed once 80% of its lifetime has passed, or 24 hours after it
//! was issued, whichever comes first, each moved earlier by up to 10 seconds of
//! jitter (the rule of upstream's kubelet token manager). When a refresh fails
//! the cached token is returned while it has not expired.
//!
//! Entry points: [`TokenManager::get_service_account_token`], and
//! [`TokenManager::delete_pod_tokens`] when a pod is gone.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use client::rest::RestClient;
use k8s_openapi::api::authentication::v1::{BoundObjectReference, TokenRequest, TokenRequestSpec};
use rand::Rng;

/// A token is refreshed no later than this long after it was issued.
const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);
/// The maximum random amount a refresh is moved earlier, so tokens issued
/// together are not all refreshed in the same sync.
const MAX_JITTER: Duration = Duration::from_secs(10);

/// A token request for one pod, as a projected volume source defines it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TokenKey {
    pub namespace: String,
    pub service_account: String,
    pub pod_name: String,
    pub pod_uid: String,
    pub audiences: Vec<String>,
    pub expiration_seconds: i64,
}

/// A token the API server issued.
#[derive(Clone, Debug)]
pub struct Token {
    pub token: String,
    pub expiration: SystemTime,
    /// The lifetime the server granted, which may differ from the one requested.
    pub expiration_seconds: i64,
}

/// The per-kubelet token cache.
#[derive(Default)]
pub struct TokenManager {
    cache: Mutex<HashMap<TokenKey, Token>>,
}

impl TokenManager {
    /// Returns the token for `key`: the cached one unless it needs a refresh,
    /// else a new one from the API server.
    ///
    /// # Errors
    ///
    /// A message with the failed request when no token could be obtained and no
    /// unexpired one is cached.
    pub async fn get_service_account_token(
        &self,
        client: &RestClient,
        key: &TokenKey,
    ) -> Result<String, String> {
        let now = SystemTime::now();
        let cached = self.lock().get(key).cloned();
        if let Some(token) = &cached
            && !requires_refresh(token, now, random_jitter())
        {
            return Ok(token.token.clone());
        }

        match request_token(client, key).await {
            Ok(token) => {
                let value = token.token.clone();
                self.lock().insert(key.clone(), token);
                Ok(value)
            }
            Err(error) => match cached {
                Some(token) if token.expiration > now => {
                    tracing::warn!(
                        namespace = %key.namespace,
                        service_account = %key.service_account,
                        pod = %key.pod_name,
                        %error,
                        "failed to refresh service account token, using the cached one"
                    );
                    Ok(token.token)
                }
                _ => Err(error),
            },
        }
    }

    /// Forgets the tokens of the pod with `uid`.
    pub fn delete_pod_tokens(&self, uid: &str) {
        self.lock().retain(|key, _| key.pod_uid != uid);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, Token>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn random_jitter() -> Duration {
    MAX_JITTER.mul_f64(rand::rng().random::<f64>())
}

/// True once `now` is past 80% of the token's lifetime or past 24 hours after it
/// was issued, each moved earlier by `jitter`.
pub fn requires_refresh(token: &Token, now: SystemTime, jitter: Duration) -> bool {
    let lifetime = Duration::from_secs(u64::try_from(token.expiration_seconds).unwrap_or(0));
    let issued = token
        .expiration
        .checked_sub(lifetime)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let max_age_deadline = issued + MAX_TTL.saturating_sub(jitter);
    let refresh_deadline = token
        .expiration
        .checked_sub(lifetime / 5 + jitter)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    now > max_age_deadline || now > refresh_deadline
}

async fn request_token(client: &RestClient, key: &TokenKey) -> Result<Token, String> {
    let request = TokenRequest {
        spec: TokenRequestSpec {
            audiences: key.audiences.clone(),
            expiration_seconds: Some(key.expiration_seconds),
            bound_object_ref: Some(BoundObjectReference {
                api_version: Some("v1".to_string()),
                kind: Some("Pod".to_string()),
                name: Some(key.pod_name.clone()),
                uid: Some(key.pod_uid.clone()),
            }),
        },
        ..Default::default()
    };
    let path = format!(
        "/api/v1/namespaces/{}/serviceaccounts/{}/token",
        key.namespace, key.service_account
    );
    let response: TokenRequest = crate::api::create(client, &path, &request)
        .await
        .map_err(|e| format!("TokenRequest POST {path} failed: {e}"))?;
    let status = response
        .status
        .ok_or_else(|| format!("TokenRequest response of {path} has no status"))?;
    let expiration = SystemTime::UNIX_EPOCH
        + Duration::from_secs(
            u64::try_from(status.expiration_timestamp.0.as_second()).unwrap_or(0),
        );
    Ok(Token {
        token: status.token,
        expiration,
        expiration_seconds: response
            .spec
            .expiration_seconds
            .unwrap_or(key.expiration_seconds),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(issued: SystemTime, lifetime_seconds: i64) -> Token {
        Token {
            token: "t".to_string(),
            expiration: issued + Duration::from_secs(lifetime_seconds as u64),
            expiration_seconds: lifetime_seconds,
        }
    }

    #[test]
    fn refresh_after_80_percent_of_lifetime() {
        let issued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let hour = token(issued, 3600);
        let cases = [
            (0, Duration::ZERO, false),
            (2879, Duration::ZERO, false),
            (2881, Duration::ZERO, true),
            (2875, Duration::from_secs(10), true),
            (3601, Duration::ZERO, true),
        ];
        for (elapsed, jitter, expected) in cases {
            let now = issued + Duration::from_secs(elapsed);
            assert_eq!(
                requires_refresh(&hour, now, jitter),
                expected,
                "{elapsed}s after issue with jitter {jitter:?}"
            );
        }
    }

    #[test]
    fn refresh_after_24_hours() {
        let issued = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let week = token(issued, 7 * 24 * 3600);
        let day = 24 * 3600;
        assert!(!requires_refresh(
            &week,
            issued + Duration::from_secs(day - 1),
            Duration::ZERO
        ));
        assert!(requires_refresh(
            &week,
            issued + Duration::from_secs(day + 1),
            Duration::ZERO
        ));
    }
}
