//! HTTP serving of the documents, with upstream's caching headers. Every document has an
//! `ETag` (the quoted content hash), and a matching `If-None-Match` gets `304 Not
//! Modified`. A v3 document requested with a current `?hash=` gets `Cache-Control:
//! public, immutable`, and one requested with a stale hash gets `301 Moved Permanently`
//! to the current URL.
//!
//! Entry point: [`OpenApi::respond`].
//!
//! `/openapi/v2` is served as JSON, or as gnostic protobuf for
//! `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` (the only type client-go
//! requests). v3 documents are served as JSON only, which is what kubectl reads. A request
//! that accepts nothing but their protobuf encoding gets `406 Not Acceptable`, as upstream
//! returns for any type it cannot produce. Bodies are not compressed here, although
//! upstream gzips `/openapi/v2` for clients that accept it. Compression is left to the
//! HTTP layer.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_TYPE, ETAG, EXPIRES, HeaderMap, HeaderName, IF_NONE_MATCH,
    LOCATION, VARY,
};
use http::{Method, Response, StatusCode, Uri};

use super::{Document, OpenApi};

const V2_PATH: &str = "/openapi/v2";
const V3_PATH: &str = "/openapi/v3";
const JSON: &str = "application/json";
/// The protobuf media type upstream returns, for either accepted spelling.
const PROTOBUF_V2: &str = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
/// Subtypes that request the v2 protobuf: the current one and the deprecated `@` form.
const PROTOBUF_V2_SUBTYPES: [&str; 2] = [
    "com.github.proto-openapi.spec.v2.v1.0+protobuf",
    "com.github.proto-openapi.spec.v2@v1.0+protobuf",
];

/// An encoding a client accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Json,
    Protobuf,
}

/// One year, upstream's `Expires` horizon for hash-addressed documents.
const IMMUTABLE_SECONDS: u64 = 365 * 24 * 60 * 60;

impl OpenApi {
    /// Serves a request for `/openapi/v2`, `/openapi/v3` or `/openapi/v3/<path>`; returns
    /// `None` for any other path, so the caller can route it elsewhere.
    ///
    /// Responses: `200` with the document (JSON, or protobuf for v2 when requested),
    /// `304` when `If-None-Match` contains the current ETag, `301` to the current `?hash=`
    /// URL of a v3 document requested with a stale hash, `404` for an unknown v3
    /// document, `405` for methods other than GET and HEAD, and `406` when the `Accept`
    /// header admits no encoding served at the path. HEAD gets the headers of GET and no
    /// body.
    pub fn respond(
        &self,
        method: &Method,
        uri: &Uri,
        headers: &HeaderMap,
    ) -> Option<Response<Bytes>> {
        let path = uri.path();
        let v3_path = path
            .strip_prefix(V3_PATH)
            .and_then(|rest| rest.strip_prefix('/'));
        if path != V2_PATH && path != V3_PATH && v3_path.is_none() {
            return None;
        }
        if method != Method::GET && method != Method::HEAD {
            return Some(empty(StatusCode::METHOD_NOT_ALLOWED));
        }

        let vary = || vec![(VARY, "Accept".to_string())];
        let response = if path == V3_PATH {
            // Upstream serves the index as JSON whatever the Accept header requests.
            serve_document(&self.v3_index, headers, Vec::new())
        } else if let Some(v3_path) = v3_path {
            match negotiate(headers, false) {
                Some(_) => self.respond_v3(v3_path, uri.query(), headers),
                None => not_acceptable(),
            }
        } else {
            match negotiate(headers, true) {
                Some(Encoding::Json) => serve_document(&self.v2, headers, vary()),
                Some(Encoding::Protobuf) => {
                    let protobuf = Document {
                        body: self.v2_protobuf.clone(),
                        hash: self.v2.hash.clone(),
                    };
                    let mut response = serve_document(&protobuf, headers, vary());
                    if response.status() == StatusCode::OK {
                        add_header(&mut response, CONTENT_TYPE, PROTOBUF_V2);
                    }
                    response
                }
                None => not_acceptable(),
            }
        };

        Some(if method == Method::HEAD {
            response.map(|_| Bytes::new())
        } else {
            response
        })
    }

    fn respond_v3(&self, path: &str, query: Option<&str>, headers: &HeaderMap) -> Response<Bytes> {
        let Some(document) = self.v3.get(path) else {
            return empty(StatusCode::NOT_FOUND);
        };
        let mut extra = vec![(VARY, "Accept".to_string())];

        if let Some(requested) = query_value(query, "hash") {
            if requested != document.hash {
                let mut response = empty(StatusCode::MOVED_PERMANENTLY);
                let location = format!("{V3_PATH}/{path}?hash={}", document.hash);
                add_header(&mut response, LOCATION, &location);
                add_header(&mut response, ETAG, &quoted(&document.hash));
                return response;
            }
            extra.push((CACHE_CONTROL, "public, immutable".to_string()));
            extra.push((EXPIRES, expires_in_a_year()));
        }
        serve_document(document, headers, extra)
    }
}

fn serve_document(
    document: &Document,
    headers: &HeaderMap,
    extra: Vec<(HeaderName, String)>,
) -> Response<Bytes> {
    let etag = quoted(&document.hash);
    let mut response = if if_none_match(headers, &etag) {
        empty(StatusCode::NOT_MODIFIED)
    } else {
        let mut response = Response::new(document.body.clone());
        add_header(&mut response, CONTENT_TYPE, JSON);
        response
    };
    add_header(&mut response, ETAG, &etag);
    for (name, value) in extra {
        add_header(&mut response, name, &value);
    }
    response
}

fn not_acceptable() -> Response<Bytes> {
    let mut response = empty(StatusCode::NOT_ACCEPTABLE);
    add_header(&mut response, VARY, "Accept");
    response
}

fn empty(status: StatusCode) -> Response<Bytes> {
    let mut response = Response::new(Bytes::new());
    *response.status_mut() = status;
    response
}

/// Adds a header. Every value here is ASCII built by this module, so none is rejected.
fn add_header(response: &mut Response<Bytes>, name: HeaderName, value: &str) {
    if let Ok(value) = http::HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

fn quoted(hash: &str) -> String {
    format!("\"{hash}\"")
}

/// Returns whether `If-None-Match` lists `etag` (quoted, weak or strong) or `*`.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// Returns the value of `key` in a query string, undecoded: hashes are plain hex.
fn query_value<'a>(query: Option<&'a str>, key: &str) -> Option<&'a str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == key)
        .map(|(_, value)| value)
}

/// Returns the encoding to serve for the `Accept` header: that of the first clause, by
/// descending quality and then specificity, that admits JSON or (when `protobuf` is
/// offered) the v2 protobuf. A missing or empty header accepts anything; clauses with
/// `q=0` accept nothing. `None` when no clause admits an offered encoding.
fn negotiate(headers: &HeaderMap, protobuf: bool) -> Option<Encoding> {
    let values: Vec<&str> = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter(|value| !value.trim().is_empty())
        .collect();
    if values.is_empty() {
        return Some(Encoding::Json);
    }

    let mut clauses: Vec<(f32, u8, &str, &str)> = values
        .iter()
        .flat_map(|value| value.split(','))
        .filter_map(|clause| {
            let quality = quality(clause);
            let media_type = clause.split(';').next()?.trim();
            let (main, sub) = media_type.split_once('/')?;
            let wildcards = u8::from(main == "*") + u8::from(sub == "*");
            (quality > 0.0).then_some((quality, wildcards, main, sub))
        })
        .collect();
    clauses.sort_by(|left, right| {
        right
            .0
            .total_cmp(&left.0)
            .then_with(|| left.1.cmp(&right.1))
    });

    clauses.into_iter().find_map(|(_, _, main, sub)| {
        let application = main == "*" || main.eq_ignore_ascii_case("application");
        if application && (sub == "*" || sub.eq_ignore_ascii_case("json")) {
            Some(Encoding::Json)
        } else if protobuf && application && PROTOBUF_V2_SUBTYPES.contains(&sub) {
            Some(Encoding::Protobuf)
        } else {
            None
        }
    })
}

/// Returns the `q` parameter of one Accept clause, 1 when absent or invalid.
fn quality(clause: &str) -> f32 {
    clause
        .split(';')
        .skip(1)
        .filter_map(|parameter| parameter.trim().strip_prefix("q="))
        .find_map(|value| value.trim().parse::<f32>().ok())
        .unwrap_or(1.0)
}

/// Returns the HTTP date one year from now, for `Expires`.
fn expires_in_a_year() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or_default();
    let seconds = i64::try_from(now.saturating_add(IMMUTABLE_SECONDS)).unwrap_or(i64::MAX);
    match k8s_openapi::jiff::Timestamp::from_second(seconds) {
        Ok(timestamp) => timestamp.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    const PROTOBUF_V2_REQUEST: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

    fn openapi() -> &'static OpenApi {
        static OPENAPI: OnceLock<OpenApi> = OnceLock::new();
        OPENAPI.get_or_init(OpenApi::build)
    }

    fn get(uri: &str, headers: &[(HeaderName, &str)]) -> Option<Response<Bytes>> {
        let uri: Uri = uri.parse().expect("valid URI");
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(name.clone(), value.parse().expect("valid header"));
        }
        openapi().respond(&Method::GET, &uri, &map)
    }

    fn header(response: &Response<Bytes>, name: HeaderName) -> &str {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
    }

    #[test]
    fn other_paths_are_not_served() {
        for uri in ["/api/v1", "/openapi", "/openapi/v2/extra", "/openapi/v3x"] {
            assert!(get(uri, &[]).is_none(), "{uri}");
        }
    }

    #[test]
    fn v2_negotiates_json_or_protobuf() {
        let protobuf_then_json = format!("{PROTOBUF_V2_REQUEST}, application/json;q=0.9");
        let json_preferred = format!("{PROTOBUF_V2_REQUEST};q=0.5, application/json");
        let cases = [
            (None, Some(JSON)),
            (Some("application/json"), Some(JSON)),
            (Some("*/*"), Some(JSON)),
            (Some("application/*;q=0.5"), Some(JSON)),
            (Some(PROTOBUF_V2_REQUEST), Some(PROTOBUF_V2)),
            (Some(PROTOBUF_V2), Some(PROTOBUF_V2)),
            (Some(protobuf_then_json.as_str()), Some(PROTOBUF_V2)),
            (Some(json_preferred.as_str()), Some(JSON)),
            (Some("application/json;q=0"), None),
            (Some("text/plain"), None),
        ];
        for (accept, content_type) in cases {
            let headers: Vec<(HeaderName, &str)> =
                accept.map(|value| (ACCEPT, value)).into_iter().collect();
            let response = get("/openapi/v2", &headers).expect("served");
            match content_type {
                Some(content_type) => {
                    assert_eq!(response.status(), StatusCode::OK, "{accept:?}");
                    assert_eq!(header(&response, CONTENT_TYPE), content_type, "{accept:?}");
                    let body = if content_type == JSON {
                        openapi().v2()
                    } else {
                        openapi().v2_protobuf()
                    };
                    assert_eq!(response.body(), body, "{accept:?}");
                    assert_eq!(header(&response, ETAG), quoted(&openapi().v2.hash));
                }
                None => assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE, "{accept:?}"),
            }
        }
    }

    #[test]
    fn v3_protobuf_is_not_acceptable() {
        let accept = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf";
        let response = get("/openapi/v3/api/v1", &[(ACCEPT, accept)]).expect("served");
        assert_eq!(response.status(), StatusCode::NOT_ACCEPTABLE);
    }

    #[test]
    fn etag_allows_revalidation() {
        let response = get("/openapi/v2", &[]).expect("served");
        let etag = header(&response, ETAG).to_string();
        assert_eq!(etag, quoted(&openapi().v2.hash));

        let revalidated = get("/openapi/v2", &[(IF_NONE_MATCH, &etag)]).expect("served");
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
        assert!(revalidated.body().is_empty());

        let stale = get("/openapi/v2", &[(IF_NONE_MATCH, "\"OLD\"")]).expect("served");
        assert_eq!(stale.status(), StatusCode::OK);
    }

    #[test]
    fn v3_index_and_documents() {
        let index = get("/openapi/v3", &[(ACCEPT, PROTOBUF_V2_REQUEST)]).expect("served");
        assert_eq!(index.status(), StatusCode::OK);
        assert_eq!(index.body(), openapi().v3_index());

        let (hash, body) = openapi().v3_group_version("api/v1").expect("api/v1");
        let plain = get("/openapi/v3/api/v1", &[]).expect("served");
        assert_eq!(plain.status(), StatusCode::OK);
        assert_eq!(plain.body(), body);
        assert_eq!(header(&plain, CACHE_CONTROL), "");

        let current = get(&format!("/openapi/v3/api/v1?hash={hash}"), &[]).expect("served");
        assert_eq!(current.status(), StatusCode::OK);
        assert_eq!(header(&current, CACHE_CONTROL), "public, immutable");
        assert!(header(&current, EXPIRES).ends_with(" GMT"));

        let stale = get("/openapi/v3/api/v1?hash=0123", &[]).expect("served");
        assert_eq!(stale.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            header(&stale, LOCATION),
            format!("/openapi/v3/api/v1?hash={hash}")
        );

        let missing = get("/openapi/v3/apis/nope/v1", &[]).expect("served");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn head_has_no_body_and_post_is_rejected() {
        let uri: Uri = "/openapi/v2".parse().expect("valid URI");
        let head = openapi()
            .respond(&Method::HEAD, &uri, &HeaderMap::new())
            .expect("served");
        assert_eq!(head.status(), StatusCode::OK);
        assert!(head.body().is_empty());
        assert!(!header(&head, ETAG).is_empty());

        let post = openapi()
            .respond(&Method::POST, &uri, &HeaderMap::new())
            .expect("served");
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
    }

    #[test]
    fn quality_parsing() {
        let cases = [
            ("application/json", 1.0),
            ("application/json;q=0.5", 0.5),
            ("application/json; q=0", 0.0),
            ("application/json;q=x", 1.0),
        ];
        for (clause, expected) in cases {
            assert_eq!(quality(clause), expected, "{clause}");
        }
    }
}
