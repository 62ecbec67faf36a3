//! The request chain before the registry: authentication, authorization and
//! admission, in upstream's order.
//!
//! Each stage is a trait so that real implementations (x509 and token authn, Node
//! and RBAC authz, admission plugins and webhooks) plug in without touching the
//! handlers. Until they exist the server runs the pass-through stages below, which
//! trust every client, as documented in the README.

use apimachinery::errors::StatusError;
use http::HeaderMap;
use serde_json::Value;

use crate::request_info::RequestInfo;

/// The authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

/// Identifies the caller of a request. `Ok(None)` means the credentials were absent
/// and the next authenticator (or anonymous access) decides.
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, headers: &HeaderMap) -> Result<Option<UserInfo>, StatusError>;
}

/// Decides whether `user` may perform the request.
pub trait Authorizer: Send + Sync {
    fn authorize(&self, user: &UserInfo, request: &RequestInfo) -> Result<(), StatusError>;
}

/// Admission of a write: `mutate` may change the object, `validate` may only reject.
/// Both run for create, update, patch and delete.
#[async_trait::async_trait]
pub trait Admission: Send + Sync {
    async fn mutate(
        &self,
        _user: &UserInfo,
        _request: &RequestInfo,
        _object: &mut Value,
    ) -> Result<(), StatusError> {
        Ok(())
    }

    async fn validate(
        &self,
        _user: &UserInfo,
        _request: &RequestInfo,
        _object: &Value,
    ) -> Result<(), StatusError> {
        Ok(())
    }
}

/// Authenticates everyone as a cluster administrator.
///
/// NOTE: there is no authentication yet, so every client is trusted; keep the
/// server on a trusted network.
pub struct TrustAll;

impl Authenticator for TrustAll {
    fn authenticate(&self, _headers: &HeaderMap) -> Result<Option<UserInfo>, StatusError> {
        Ok(Some(UserInfo {
            name: "system:admin".to_string(),
            groups: vec![
                "system:masters".to_string(),
                "system:authenticated".to_string(),
            ],
        }))
    }
}

/// Allows every request.
pub struct AlwaysAllow;

impl Authorizer for AlwaysAllow {
    fn authorize(&self, _user: &UserInfo, _request: &RequestInfo) -> Result<(), StatusError> {
        Ok(())
    }
}

/// Admits every write unchanged.
pub struct AdmitAll;

impl Admission for AdmitAll {}

/// The configured stages.
pub struct Chain {
    pub authenticator: Box<dyn Authenticator>,
    pub authorizer: Box<dyn Authorizer>,
    pub admission: Box<dyn Admission>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain {
            authenticator: Box::new(TrustAll),
            authorizer: Box::new(AlwaysAllow),
            admission: Box::new(AdmitAll),
        }
    }
}

impl Chain {
    /// Runs authentication and authorization; returns the caller.
    pub fn admit_request(
        &self,
        headers: &HeaderMap,
        request: &RequestInfo,
    ) -> Result<UserInfo, StatusError> {
        let user = self
            .authenticator
            .authenticate(headers)?
            .ok_or_else(|| StatusError::unauthorized("Unauthorized"))?;
        self.authorizer.authorize(&user, request)?;
        Ok(user)
    }
}
