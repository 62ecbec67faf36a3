//! Building responses: JSON bodies, Status errors, content negotiation and gzip.

use std::io::Write;

use apimachinery::errors::StatusError;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use super::body::ApiBody;

/// Responses at or above this size are gzip-compressed when the client accepts it,
/// upstream's threshold.
pub const GZIP_THRESHOLD: usize = 128 * 1024;

pub type ApiResponse = Response<ApiBody>;

/// Representation of a response that a client requests in its Accept header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    /// The object or list itself.
    Object,
    /// A meta.k8s.io Table.
    Table,
    /// PartialObjectMetadata or PartialObjectMetadataList.
    Metadata,
}

/// Picks the representation from an Accept header: the first acceptable media type
/// wins, as upstream negotiates. Returns `None` when nothing offered is served.
pub fn negotiate(accept: Option<&str>) -> Option<Representation> {
    let Some(accept) = accept.filter(|accept| !accept.trim().is_empty()) else {
        return Some(Representation::Object);
    };
    for media_type in accept.split(',') {
        let mut parts = media_type.split(';').map(str::trim);
        let essence = parts.next().unwrap_or_default().to_ascii_lowercase();
        let parameters: Vec<(String, String)> = parts
            .filter_map(|part| part.split_once('='))
            .map(|(key, value)| (key.trim().to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let parameter = |name: &str| {
            parameters
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };

        let json_like = matches!(
            essence.as_str(),
            "application/json" | "*/*" | "application/*" | "application/yaml" | PROTOBUF_MEDIA_TYPE
        );
        if !json_like {
            continue;
        }
        match parameter("as") {
            None => return Some(Representation::Object),
            Some("Table")
                if parameter("g") == Some("meta.k8s.io")
                    && matches!(parameter("v"), Some("v1") | Some("v1beta1")) =>
            {
                return Some(Representation::Table);
            }
            Some("PartialObjectMetadata" | "PartialObjectMetadataList")
                if parameter("g") == Some("meta.k8s.io")
                    && matches!(parameter("v"), Some("v1") | Some("v1beta1")) =>
            {
                return Some(Representation::Metadata);
            }
            _ => continue,
        }
    }
    None
}

/// Media type of protobuf bodies.
pub const PROTOBUF_MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Serialization of a response body that a client requests in its Accept header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Protobuf,
}

/// Picks the serialization: that of the first media type [`negotiate`] would accept,
/// JSON when there is none.
pub fn negotiate_format(accept: Option<&str>) -> Format {
    for media_type in accept.unwrap_or_default().split(',') {
        let essence = media_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if negotiate(Some(media_type)).is_none() {
            continue;
        }
        return match essence.as_str() {
            "application/yaml" => Format::Yaml,
            PROTOBUF_MEDIA_TYPE => Format::Protobuf,
            _ => Format::Json,
        };
    }
    Format::Json
}

/// Re-encodes a complete JSON response body as YAML or protobuf. Streams, bodies of
/// other types and bodies protobuf cannot carry (kinds outside the protobuf schema,
/// such as custom resources) stay JSON.
pub fn reformat(response: ApiResponse, format: Format) -> ApiResponse {
    if format == Format::Json
        || response.headers().get(header::CONTENT_TYPE)
            != Some(&HeaderValue::from_static("application/json"))
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match body.into_bytes() {
        Ok(bytes) if !bytes.is_empty() => bytes,
        Ok(_) => return Response::from_parts(parts, ApiBody::empty()),
        Err(stream) => return Response::from_parts(parts, stream),
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, ApiBody::Full(Some(bytes)));
    };
    let (encoded, content_type) = match format {
        Format::Yaml => (
            Bytes::from(apimachinery::yaml::to_yaml(&value)),
            "application/yaml",
        ),
        Format::Protobuf => {
            let text = |field: &str| value.get(field).and_then(|v| v.as_str()).unwrap_or("");
            let encoded = apimachinery::meta::GroupVersionKind::from_api_version(
                text("apiVersion"),
                text("kind"),
            )
            .ok()
            .filter(apimachinery::protobuf::is_supported)
            .and_then(|gvk| apimachinery::protobuf::encode(&gvk, &value).ok());
            match encoded {
                Some(encoded) => (Bytes::from(encoded), PROTOBUF_MEDIA_TYPE),
                None => return Response::from_parts(parts, ApiBody::Full(Some(bytes))),
            }
        }
        Format::Json => return Response::from_parts(parts, ApiBody::Full(Some(bytes))),
    };
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    Response::from_parts(parts, ApiBody::full(encoded))
}

/// Builds a JSON response.
pub fn json(code: u16, body: Bytes) -> ApiResponse {
    let mut response = Response::new(ApiBody::full(body));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Builds a JSON response whose body comes in parts (see [`ApiBody::Parts`]).
pub fn json_parts(code: u16, parts: Vec<Bytes>) -> ApiResponse {
    let mut response = json(code, Bytes::new());
    *response.body_mut() = ApiBody::parts(parts);
    response
}

/// Builds a JSON response with a given content type.
pub fn json_with_type(code: u16, body: Bytes, content_type: &'static str) -> ApiResponse {
    let mut response = json(code, body);
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Builds a text response.
pub fn text(code: u16, body: impl Into<Bytes>) -> ApiResponse {
    let mut response = Response::new(ApiBody::full(body.into()));
    *response.status_mut() =
        StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Builds the response of a Status error.
pub fn status_error(error: &StatusError) -> ApiResponse {
    let code = u16::try_from(error.code()).unwrap_or(500);
    let mut response = json(code, Bytes::from(error.to_json_bytes()));
    if let Some(seconds) = error.retry_after_seconds()
        && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Compresses the body when the client accepts gzip and the body is large enough.
pub fn maybe_gzip(response: ApiResponse, accept_encoding: Option<&str>) -> ApiResponse {
    let accepts_gzip = accept_encoding.is_some_and(|value| {
        value.split(',').any(|coding| {
            coding
                .split(';')
                .next()
                .is_some_and(|name| name.trim().eq_ignore_ascii_case("gzip"))
        })
    });
    if !accepts_gzip {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let chunks: Vec<Bytes> = match body {
        ApiBody::Full(Some(bytes)) => vec![bytes],
        ApiBody::Parts(chunks) => chunks.into(),
        other => return Response::from_parts(parts, other),
    };
    let length: usize = chunks.iter().map(Bytes::len).sum();
    if length < GZIP_THRESHOLD {
        return Response::from_parts(parts, ApiBody::parts(chunks));
    }
    let mut encoder =
        flate2::write::GzEncoder::new(Vec::with_capacity(length / 4), flate2::Compression::fast());
    if chunks.iter().any(|chunk| encoder.write_all(chunk).is_err()) {
        return Response::from_parts(parts, ApiBody::parts(chunks));
    }
    match encoder.finish() {
        Ok(compressed) => {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts
                .headers
                .insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            Response::from_parts(parts, ApiBody::full(compressed))
        }
        Err(_) => Response::from_parts(parts, ApiBody::parts(chunks)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_kubectl_accept_headers() {
        let kubectl_get = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(Some(kubectl_get)), Some(Representation::Table));
        assert_eq!(negotiate(None), Some(Representation::Object));
        assert_eq!(negotiate(Some("*/*")), Some(Representation::Object));
        assert_eq!(
            negotiate(Some(
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
            )),
            Some(Representation::Metadata)
        );
        assert_eq!(
            negotiate(Some("application/vnd.kubernetes.protobuf")),
            Some(Representation::Object)
        );
        assert_eq!(negotiate(Some("text/html")), None);
        assert_eq!(
            negotiate(Some(
                "application/vnd.kubernetes.protobuf, application/json"
            )),
            Some(Representation::Object)
        );
        assert_eq!(
            negotiate(Some("application/json;as=Table;v=v9;g=meta.k8s.io")),
            None
        );
    }

    #[test]
    fn format_follows_the_first_acceptable_media_type() {
        assert_eq!(negotiate_format(None), Format::Json);
        assert_eq!(negotiate_format(Some("application/yaml")), Format::Yaml);
        assert_eq!(
            negotiate_format(Some(
                "text/html, application/vnd.kubernetes.protobuf, application/json"
            )),
            Format::Protobuf
        );
        assert_eq!(
            negotiate_format(Some("application/json;as=Table;v=v1;g=meta.k8s.io")),
            Format::Json
        );
        let yaml = reformat(
            json(200, Bytes::from_static(b"{\"b\":1,\"a\":\"x\"}")),
            Format::Yaml,
        );
        assert_eq!(yaml.headers()[header::CONTENT_TYPE], "application/yaml");
        let ApiBody::Full(Some(body)) = yaml.into_body() else {
            panic!("full body expected");
        };
        assert_eq!(&body[..], b"a: x\nb: 1\n");
    }

    #[test]
    fn large_bodies_are_gzipped_only_when_accepted() {
        let big = Bytes::from(vec![b'a'; GZIP_THRESHOLD]);
        let plain = maybe_gzip(json(200, big.clone()), None);
        assert!(plain.headers().get(header::CONTENT_ENCODING).is_none());
        let zipped = maybe_gzip(json(200, big), Some("gzip, deflate"));
        assert_eq!(zipped.headers()[header::CONTENT_ENCODING], "gzip");
        let small = maybe_gzip(json(200, Bytes::from_static(b"{}")), Some("gzip"));
        assert!(small.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
