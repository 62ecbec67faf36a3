//! The OpenAPI documents of the API, generated from the implementation: the schemas of the
//! k8s-openapi types the server stores, the resources and verbs of
//! `apimachinery::scheme`, and the patch metadata of `apimachinery::patch::merge_keys`.
//! kubectl reads them for `explain`, for the strategic merge patches of `apply`, and to
//! learn whether the server validates fields itself (`fieldValidation`).
//!
//! Entry points: [`OpenApi::build`], once at start-up, and [`OpenApi::respond`], which
//! serves `GET /openapi/v2` (Swagger 2.0, as JSON or as gnostic protobuf), `GET
//! /openapi/v3` (the index of v3 documents) and `GET /openapi/v3/<path>` (one OpenAPI 3.0
//! document per group version, such as `apis/apps/v1`). The JSON documents are checked in
//! under `api/openapi-spec/`.

mod definitions;
mod kinds;
mod operations;
mod parameters;
mod protobuf;
mod serve;
mod v2;
mod v3;

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Map, json};

/// The served documents, serialized once.
#[derive(Clone, Debug)]
pub struct OpenApi {
    v2: Document,
    /// The v2 document as a gnostic `openapi.v2.Document` message; it shares the JSON
    /// form's hash, as upstream's does.
    v2_protobuf: Bytes,
    v3_index: Document,
    /// v3 documents by path under `/openapi/v3/` (`api/v1`, `apis/apps/v1`).
    v3: BTreeMap<String, Document>,
}

/// One serialized document and its content hash.
#[derive(Clone, Debug)]
struct Document {
    body: Bytes,
    /// Upper-case hex SHA-512 of `body`, as upstream computes its ETags and v3 hashes.
    hash: String,
}

impl Document {
    fn new(body: Vec<u8>) -> Self {
        let hash = content_hash(&body);
        Self {
            body: Bytes::from(body),
            hash,
        }
    }
}

/// Returns the upper-case hex SHA-512 of `data`.
fn content_hash(data: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA512, data);
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect()
}

impl OpenApi {
    /// Generates and serializes every document. Call it once at start-up and share the
    /// result: the `build_time` test of `tests/openapi_drift.rs` measured about 0.12 s in
    /// a release build and 1.5 to 3 s in a debug build, on a loaded 2-core machine.
    /// Returns the documents, built on first use and shared by every server in the
    /// process (building them takes seconds in a debug build).
    pub fn shared() -> &'static OpenApi {
        static DOCUMENTS: std::sync::OnceLock<OpenApi> = std::sync::OnceLock::new();
        DOCUMENTS.get_or_init(OpenApi::build)
    }

    /// Returns whether a delete of the resource returns the deleted object instead
    /// of a Status, as the resource's upstream registry does.
    pub fn delete_returns_object(group: &str, resource: &str) -> bool {
        operations::RETURNS_DELETED_OBJECT.contains(&(group, resource))
    }

    pub fn build() -> OpenApi {
        let kinds = kinds::kinds();
        let definitions = definitions::build(&kinds);
        let parameter_set = parameters::ParameterSet::new(&definitions);
        let paths = operations::build(&kinds, &parameter_set);

        let swagger = v2::document(&paths, &definitions);
        let v2 = Document::new(swagger.to_json());
        let v2_protobuf = Bytes::from(protobuf::encode(&swagger));
        let v3: BTreeMap<String, Document> = v3::documents(&paths, &definitions)
            .into_iter()
            .map(|(key, body)| (key, Document::new(body)))
            .collect();

        let mut index = Map::new();
        for (key, document) in &v3 {
            let url = format!("/openapi/v3/{key}?hash={}", document.hash);
            index.insert(key.clone(), json!({ "serverRelativeURL": url }));
        }
        // serde_json fails only on maps with non-string keys, and this one has none.
        let v3_index =
            Document::new(serde_json::to_vec(&json!({ "paths": index })).unwrap_or_default());

        OpenApi {
            v2,
            v2_protobuf,
            v3_index,
            v3,
        }
    }

    /// Returns the Swagger 2.0 document (JSON).
    pub fn v2(&self) -> &Bytes {
        &self.v2.body
    }

    /// Returns the Swagger 2.0 document encoded as gnostic's `openapi.v2.Document`
    /// protobuf message.
    pub fn v2_protobuf(&self) -> &Bytes {
        &self.v2_protobuf
    }

    /// Returns the v3 index: `{"paths": {"api/v1": {"serverRelativeURL":
    /// "/openapi/v3/api/v1?hash=<HASH>"}, ...}}`.
    pub fn v3_index(&self) -> &Bytes {
        &self.v3_index.body
    }

    /// Returns the hash and the body of the v3 document at `path` under `/openapi/v3/`
    /// (`api/v1`, `apis/apps/v1`, `apis/apps`, `version`), or `None` if there is none.
    pub fn v3_group_version(&self, path: &str) -> Option<(&str, &Bytes)> {
        self.v3
            .get(path)
            .map(|document| (document.hash.as_str(), &document.body))
    }

    /// Returns the paths of the v3 documents, sorted.
    pub fn v3_paths(&self) -> impl Iterator<Item = &str> {
        self.v3.keys().map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_hash_is_upper_case_sha512() {
        // SHA-512 of the empty string.
        let expected = "CF83E1357EEFB8BDF1542850D66D8007D620E4050B5715DC83F4A921D36CE9CE\
                        47D0D13C5D85F2B0FF8318D2877EEC2F63B931BD47417A81A538327AF927DA3E";
        assert_eq!(content_hash(b""), expected);
    }

    #[test]
    fn index_points_at_each_document_with_its_hash() {
        let openapi = OpenApi::build();
        let index: serde_json::Value =
            serde_json::from_slice(openapi.v3_index()).expect("index is JSON");
        let paths = index["paths"].as_object().expect("paths");
        assert_eq!(paths.len(), openapi.v3.len());

        let (hash, body) = openapi.v3_group_version("apis/apps/v1").expect("apps/v1");
        assert_eq!(hash, content_hash(body));
        assert_eq!(
            paths["apis/apps/v1"]["serverRelativeURL"],
            format!("/openapi/v3/apis/apps/v1?hash={hash}")
        );
        assert!(openapi.v3_group_version("apis/nope/v1").is_none());
    }

    #[test]
    fn build_is_deterministic() {
        let first = OpenApi::build();
        let second = OpenApi::build();
        assert_eq!(first.v2.hash, second.v2.hash);
        assert_eq!(first.v3_index.hash, second.v3_index.hash);
    }
}
