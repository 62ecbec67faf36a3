//! Health endpoints `/healthz`, `/livez` and `/readyz`, with upstream's output.
//!
//! Each endpoint runs a list of named checks. `GET /readyz` answers `ok` or a 500
//! listing the failed checks; `?verbose` lists every check as `[+]name ok` or
//! `[-]name failed: reason withheld`; `?exclude=name` skips a check; `/readyz/<name>`
//! runs one check.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// Result of one check: `Err` carries the reason, which is logged but not served.
pub type CheckResult = Result<(), String>;

/// One named health check.
pub struct Check {
    pub name: String,
    run: Arc<dyn Fn() -> Pin<Box<dyn Future<Output = CheckResult> + Send>> + Send + Sync>,
}

impl Check {
    pub fn new<F, Fut>(name: &str, run: F) -> Check
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = CheckResult> + Send + 'static,
    {
        Check {
            name: name.to_string(),
            run: Arc::new(move || Box::pin(run())),
        }
    }

    /// A check that always passes, upstream's `ping`.
    pub fn ping() -> Check {
        Check::new("ping", || async { Ok(()) })
    }
}

/// The checks of one endpoint.
pub struct HealthEndpoint {
    /// `healthz`, `livez` or `readyz`.
    pub name: &'static str,
    pub checks: Vec<Check>,
}

/// What the handler serves: status code and text body.
#[derive(Debug, PartialEq, Eq)]
pub struct HealthResponse {
    pub code: u16,
    pub body: String,
}

impl HealthEndpoint {
    /// Runs the checks for a request of `sub_path` (empty for the whole endpoint, or a
    /// check name) with the request's query string.
    pub async fn respond(&self, sub_path: &str, query: &str) -> HealthResponse {
        let mut verbose = false;
        let mut excluded = Vec::new();
        for (key, value) in query_pairs(query) {
            match key.as_str() {
                "verbose" => verbose = value != "false",
                "exclude" => excluded.push(value),
                _ => {}
            }
        }

        if !sub_path.is_empty() {
            let Some(check) = self.checks.iter().find(|check| check.name == sub_path) else {
                return HealthResponse {
                    code: 404,
                    body: "404 page not found\n".to_string(),
                };
            };
            return match (check.run)().await {
                Ok(()) => HealthResponse {
                    code: 200,
                    body: "ok".to_string(),
                },
                Err(reason) => {
                    tracing::warn!(endpoint = self.name, check = %check.name, reason = %reason, "health check failed");
                    HealthResponse {
                        code: 500,
                        body: format!("internal server error: {reason}\n"),
                    }
                }
            };
        }

        let mut lines = Vec::new();
        let mut failed = false;
        for check in &self.checks {
            if excluded.iter().any(|name| name == &check.name) {
                lines.push(format!("[+]{} excluded: ok", check.name));
                continue;
            }
            match (check.run)().await {
                Ok(()) => lines.push(format!("[+]{} ok", check.name)),
                Err(reason) => {
                    failed = true;
                    tracing::warn!(endpoint = self.name, check = %check.name, reason = %reason, "health check failed");
                    lines.push(format!("[-]{} failed: reason withheld", check.name));
                }
            }
        }

        if failed {
            lines.push(format!("{} check failed", self.name));
            return HealthResponse {
                code: 500,
                body: lines.join("\n") + "\n",
            };
        }
        if verbose {
            lines.push(format!("{} check passed", self.name));
            return HealthResponse {
                code: 200,
                body: lines.join("\n") + "\n",
            };
        }
        HealthResponse {
            code: 200,
            body: "ok".to_string(),
        }
    }
}

/// Splits a query string into decoded key/value pairs; a bare key has an empty value.
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Decodes `%XX` escapes of a path segment; unlike a query value, `+` stays a plus.
pub fn percent_decode_path(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    percent_decode(&text.replace('+', "%2B"))
}

/// Decodes `%XX` escapes and `+` (a space in form encoding). Invalid escapes stay as
/// written.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 3;
                    }
                    None => {
                        out.push(b'%');
                        index += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            byte => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(etcd_ok: bool) -> HealthEndpoint {
        HealthEndpoint {
            name: "readyz",
            checks: vec![
                Check::ping(),
                Check::new("etcd", move || async move {
                    if etcd_ok {
                        Ok(())
                    } else {
                        Err("connection refused".into())
                    }
                }),
            ],
        }
    }

    #[tokio::test]
    async fn healthy_endpoint_says_ok() {
        let response = endpoint(true).respond("", "").await;
        assert_eq!(
            response,
            HealthResponse {
                code: 200,
                body: "ok".into()
            }
        );
    }

    #[tokio::test]
    async fn verbose_lists_every_check() {
        let response = endpoint(true).respond("", "verbose").await;
        assert_eq!(response.code, 200);
        assert_eq!(
            response.body,
            "[+]ping ok\n[+]etcd ok\nreadyz check passed\n"
        );
    }

    #[tokio::test]
    async fn failed_check_is_withheld_and_500() {
        let response = endpoint(false).respond("", "").await;
        assert_eq!(response.code, 500);
        assert_eq!(
            response.body,
            "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n"
        );
    }

    #[tokio::test]
    async fn excluded_check_is_skipped() {
        let response = endpoint(false).respond("", "exclude=etcd").await;
        assert_eq!(response.code, 200);
    }

    #[tokio::test]
    async fn single_check_path() {
        assert_eq!(endpoint(true).respond("etcd", "").await.body, "ok");
        assert_eq!(endpoint(false).respond("etcd", "").await.code, 500);
        assert_eq!(endpoint(true).respond("nope", "").await.code, 404);
    }

    #[test]
    fn percent_decode_cases() {
        assert_eq!(percent_decode("a%3Db"), "a=b");
        assert_eq!(percent_decode("a+b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("app%20in%20(a%2Cb)"), "app in (a,b)");
    }
}
