//! certificates.k8s.io/v1: CertificateSigningRequests.
//!
//! Entry point: [`strategies`]. A request's spec never changes after create, because
//! updates keep the stored spec. The status subresource may set `status.certificate`,
//! and the approval subresource may add Approved or Denied conditions.
//!
//! The request must be a PKCS#10 structure whose signature verifies with its own public
//! key, and an issued certificate must parse as X.509, as upstream checks.
//!
//! NOTE: upstream also fills `spec.username`, `uid`, `groups` and `extra` from the
//! requesting user. Requests are not authenticated yet, so they are left to the caller.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use apimachinery::errors::{BadValue, FieldError, FieldPath};
use apimachinery::validation::{
    DNS1123_SUBDOMAIN_MAX_LENGTH, is_dns1123_label, is_dns1123_subdomain,
};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition, CertificateSigningRequestStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use base64::Engine;
use x509_parser::certificate::X509Certificate;
use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;

use super::{ResourceStrategy, entry};
use crate::registry::strategy::Strategy;

/// The signer name of v1beta1 requests without one; v1 rejects it on create.
pub const LEGACY_UNKNOWN_SIGNER_NAME: &str = "kubernetes.io/legacy-unknown";

/// The key usages upstream accepts, sorted as its error messages list them.
const VALID_USAGES: [&str; 23] = [
    "any",
    "cert sign",
    "client auth",
    "code signing",
    "content commitment",
    "crl sign",
    "data encipherment",
    "decipher only",
    "digital signature",
    "email protection",
    "encipher only",
    "ipsec end system",
    "ipsec tunnel",
    "ipsec user",
    "key agreement",
    "key encipherment",
    "microsoft sgc",
    "netscape sgc",
    "ocsp signing",
    "s/mime",
    "server auth",
    "signing",
    "timestamping",
];

const ALL_STATUS_VALUES: [&str; 3] = ["False", "True", "Unknown"];
const TRUE_ONLY: [&str; 1] = ["True"];

/// Condition types that may only be True, and that updates may never remove.
const FINAL_CONDITION_TYPES: [&str; 3] = ["Approved", "Denied", "Failed"];

/// Returns the strategies of the certificates.k8s.io/v1 resources.
pub fn strategies() -> Vec<ResourceStrategy> {
    vec![entry(Arc::new(CertificateSigningRequestStrategy))]
}

/// Permissions of one update path and tolerances for stored data (upstream's
/// `certificateValidationOptions`).
#[derive(Clone, Copy, Default)]
struct Options {
    allow_setting_approval_conditions: bool,
    allow_setting_certificate: bool,
    allow_both_approved_and_denied: bool,
    allow_legacy_signer_name: bool,
    allow_duplicate_condition_types: bool,
    allow_empty_condition_type: bool,
    allow_arbitrary_certificate: bool,
    allow_unknown_usages: bool,
    allow_duplicate_usages: bool,
}

impl Options {
    /// Upstream's `getValidationOptions`: relaxations for problems the stored object has.
    fn for_objects(
        new: &CertificateSigningRequest,
        old: Option<&CertificateSigningRequest>,
    ) -> Options {
        let Some(old) = old else {
            return Options::default();
        };
        let old_conditions = conditions(old);
        let old_types: Vec<&str> = old_conditions.iter().map(|c| c.type_.as_str()).collect();
        let old_usages = old.spec.usages.as_deref().unwrap_or_default();
        let unique_usages: BTreeSet<&String> = old_usages.iter().collect();
        let unique_types: BTreeSet<&str> = old_types.iter().copied().collect();
        Options {
            allow_both_approved_and_denied: old_types.contains(&"Approved")
                && old_types.contains(&"Denied"),
            allow_legacy_signer_name: old.spec.signer_name == LEGACY_UNKNOWN_SIGNER_NAME,
            allow_duplicate_condition_types: unique_types.len() != old_types.len(),
            allow_empty_condition_type: old_types.contains(&""),
            allow_arbitrary_certificate: certificate(new) == certificate(old)
                || validate_certificate_pem(certificate(old)).is_err(),
            allow_unknown_usages: old_usages
                .iter()
                .any(|usage| !VALID_USAGES.contains(&usage.as_str())),
            allow_duplicate_usages: unique_usages.len() != old_usages.len(),
            ..Options::default()
        }
    }
}

fn conditions(request: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    request
        .status
        .as_ref()
        .and_then(|status| status.conditions.as_deref())
        .unwrap_or_default()
}

fn certificate(request: &CertificateSigningRequest) -> &[u8] {
    request
        .status
        .as_ref()
        .and_then(|status| status.certificate.as_ref())
        .map_or(&[], |bytes| bytes.0.as_slice())
}

/// Strategy of `certificatesigningrequests`.
pub struct CertificateSigningRequestStrategy;

impl Strategy for CertificateSigningRequestStrategy {
    type Object = CertificateSigningRequest;

    fn default(&self, request: &mut CertificateSigningRequest) {
        let conditions = request
            .status
            .as_mut()
            .and_then(|status| status.conditions.as_mut());
        for condition in conditions.into_iter().flatten() {
            if condition.status.is_empty() {
                condition.status = "True".to_string();
            }
        }
    }

    fn prepare_for_create(&self, request: &mut CertificateSigningRequest) {
        request.status = None;
    }

    fn prepare_for_update(
        &self,
        request: &mut CertificateSigningRequest,
        old: &CertificateSigningRequest,
    ) {
        request.spec = old.spec.clone();
        request.status = old.status.clone();
    }

    fn validate(&self, request: &CertificateSigningRequest) -> Vec<FieldError> {
        validate_request(request, Options::for_objects(request, None))
    }

    fn validate_update(
        &self,
        request: &CertificateSigningRequest,
        old: &CertificateSigningRequest,
    ) -> Vec<FieldError> {
        validate_request_update(request, old, Options::for_objects(request, Some(old)))
    }

    fn allow_unconditional_update(&self) -> bool {
        false
    }

    fn selectable_fields(&self, object: &serde_json::Value) -> BTreeMap<String, String> {
        BTreeMap::from([(
            "spec.signerName".to_string(),
            crate::registry::strategy::field_at(object, "spec.signerName"),
        )])
    }

    fn selectable_field_names(&self) -> &'static [&'static str] {
        &["spec.signerName"]
    }

    fn prepare_for_status_update(
        &self,
        request: &mut CertificateSigningRequest,
        old: &CertificateSigningRequest,
    ) {
        request.spec = old.spec.clone();
        let status = request.status.get_or_insert_with(Default::default);
        for condition_type in ["Approved", "Denied"] {
            preserve_condition_instances(status, conditions(old), condition_type);
        }
        populate_condition_timestamps(request, old);
    }

    fn validate_status_update(
        &self,
        request: &CertificateSigningRequest,
        old: &CertificateSigningRequest,
    ) -> Vec<FieldError> {
        let options = Options {
            allow_setting_certificate: true,
            ..Options::for_objects(request, Some(old))
        };
        validate_request_update(request, old, options)
    }

    /// Prepares a write to the `approval` subresource: only conditions change, so the
    /// spec and `status.certificate` are kept from `old`, and new conditions get their
    /// timestamps.
    fn prepare_for_approval_update(
        &self,
        request: &mut CertificateSigningRequest,
        old: &CertificateSigningRequest,
    ) {
        request.spec = old.spec.clone();
        let certificate = old
            .status
            .as_ref()
            .and_then(|status| status.certificate.clone());
        request
            .status
            .get_or_insert_with(Default::default)
            .certificate = certificate;
        populate_condition_timestamps(request, old);
    }

    /// Validates a write to the `approval` subresource, which may add or change
    /// Approved and Denied conditions.
    fn validate_approval_update(
        &self,
        request: &CertificateSigningRequest,
        old: &CertificateSigningRequest,
    ) -> Vec<FieldError> {
        let options = Options {
            allow_setting_approval_conditions: true,
            ..Options::for_objects(request, Some(old))
        };
        validate_request_update(request, old, options)
    }
}

/// Replaces the conditions of `condition_type` in `status` by those of `old`, keeping
/// their positions where the counts match.
fn preserve_condition_instances(
    status: &mut CertificateSigningRequestStatus,
    old: &[CertificateSigningRequestCondition],
    condition_type: &str,
) {
    let old_instances: Vec<&CertificateSigningRequestCondition> = old
        .iter()
        .filter(|condition| condition.type_ == condition_type)
        .collect();
    let conditions = status.conditions.get_or_insert_with(Vec::new);
    let new_count = conditions
        .iter()
        .filter(|condition| condition.type_ == condition_type)
        .count();
    if new_count == old_instances.len() {
        let mut replacements = old_instances.into_iter();
        for condition in conditions
            .iter_mut()
            .filter(|condition| condition.type_ == condition_type)
        {
            if let Some(replacement) = replacements.next() {
                *condition = replacement.clone();
            }
        }
    }
}

/// Upstream's `populateConditionTimestamps`: an unset update time becomes now, and an
/// unset transition time is copied from the old condition of the same type and status,
/// or becomes now.
fn populate_condition_timestamps(
    request: &mut CertificateSigningRequest,
    old: &CertificateSigningRequest,
) {
    let now = Time(apimachinery::meta::now_time());
    let old_conditions = conditions(old).to_vec();
    let Some(new_conditions) = request
        .status
        .as_mut()
        .and_then(|status| status.conditions.as_mut())
    else {
        return;
    };
    for condition in new_conditions {
        if condition.last_update_time.is_none() {
            condition.last_update_time = Some(now.clone());
        }
        if condition.last_transition_time.is_none() {
            let previous = old_conditions
                .iter()
                .find(|old| old.type_ == condition.type_ && old.status == condition.status)
                .and_then(|old| old.last_transition_time.clone());
            condition.last_transition_time = Some(previous.unwrap_or_else(|| now.clone()));
        }
    }
}

/// Upstream's `validateCertificateSigningRequest`.
fn validate_request(request: &CertificateSigningRequest, options: Options) -> Vec<FieldError> {
    let spec_path = FieldPath::new("spec");
    let spec = &request.spec;
    let mut errors = Vec::new();

    if let Err(message) = validate_request_pem(&spec.request.0) {
        errors.push(FieldError::invalid(
            &spec_path.child("request"),
            go_bytes(&spec.request.0),
            message,
        ));
    }

    let usages = spec.usages.as_deref().unwrap_or_default();
    let usages_path = spec_path.child("usages");
    if usages.is_empty() {
        errors.push(FieldError::required(&usages_path, ""));
    }
    if !options.allow_unknown_usages {
        for (index, usage) in usages.iter().enumerate() {
            if !VALID_USAGES.contains(&usage.as_str()) {
                errors.push(FieldError::not_supported(
                    &usages_path.index(index),
                    usage,
                    &VALID_USAGES,
                ));
            }
        }
    }
    if !options.allow_duplicate_usages {
        let mut seen = BTreeSet::new();
        for (index, usage) in usages.iter().enumerate() {
            if !seen.insert(usage.as_str()) {
                errors.push(FieldError::duplicate(&usages_path.index(index), usage));
            }
        }
    }

    let signer_path = spec_path.child("signerName");
    if !options.allow_legacy_signer_name && spec.signer_name == LEGACY_UNKNOWN_SIGNER_NAME {
        errors.push(FieldError::invalid(
            &signer_path,
            &spec.signer_name,
            "the legacy signerName is not allowed via this API version",
        ));
    } else {
        errors.extend(validate_signer_name(&signer_path, &spec.signer_name));
    }

    if let Some(seconds) = spec.expiration_seconds
        && seconds < 600
    {
        errors.push(FieldError::invalid(
            &spec_path.child("expirationSeconds"),
            seconds,
            "may not specify a duration less than 600 seconds (10 minutes)",
        ));
    }

    errors.extend(validate_conditions(conditions(request), options));

    if !options.allow_arbitrary_certificate
        && let Err(message) = validate_certificate_pem(certificate(request))
    {
        errors.push(FieldError::invalid(
            &FieldPath::from_names(["status", "certificate"]),
            "<certificate data>",
            message,
        ));
    }
    errors
}

fn validate_conditions(
    conditions: &[CertificateSigningRequestCondition],
    options: Options,
) -> Vec<FieldError> {
    let path = FieldPath::from_names(["status", "conditions"]);
    let mut errors = Vec::new();
    let mut seen_types = BTreeSet::new();
    let (mut has_approved, mut has_denied) = (false, false);
    for (index, condition) in conditions.iter().enumerate() {
        let item = path.index(index);
        if !options.allow_empty_condition_type && condition.type_.is_empty() {
            errors.push(FieldError::required(&item.child("type"), ""));
        }

        let allowed: &[&str] = if FINAL_CONDITION_TYPES.contains(&condition.type_.as_str()) {
            &TRUE_ONLY
        } else {
            &ALL_STATUS_VALUES
        };
        if condition.status.is_empty() {
            errors.push(FieldError::required(&item.child("status"), ""));
        } else if !allowed.contains(&condition.status.as_str()) {
            errors.push(FieldError::not_supported(
                &item.child("status"),
                &condition.status,
                allowed,
            ));
        }

        if !options.allow_both_approved_and_denied {
            let conflict = match condition.type_.as_str() {
                "Approved" => {
                    has_approved = true;
                    has_denied
                }
                "Denied" => {
                    has_denied = true;
                    has_approved
                }
                _ => false,
            };
            if conflict {
                errors.push(FieldError::invalid(
                    &item.child("type"),
                    &condition.type_,
                    "Approved and Denied conditions are mutually exclusive",
                ));
            }
        }

        if !options.allow_duplicate_condition_types && !seen_types.insert(condition.type_.as_str())
        {
            errors.push(FieldError::duplicate(&item.child("type"), &condition.type_));
        }
    }
    errors
}

/// Upstream's `validateCertificateSigningRequestUpdate`.
fn validate_request_update(
    request: &CertificateSigningRequest,
    old: &CertificateSigningRequest,
    options: Options,
) -> Vec<FieldError> {
    let mut errors = validate_request(request, options);
    let conditions_path = FieldPath::from_names(["status", "conditions"]);
    let of_type = |request: &CertificateSigningRequest,
                   condition_type: &str|
     -> Vec<CertificateSigningRequestCondition> {
        conditions(request)
            .iter()
            .filter(|condition| condition.type_ == condition_type)
            .cloned()
            .collect()
    };

    for condition_type in FINAL_CONDITION_TYPES {
        if of_type(request, condition_type).len() < of_type(old, condition_type).len() {
            errors.push(FieldError::forbidden(
                &conditions_path,
                format!("updates may not remove a condition of type \"{condition_type}\""),
            ));
        }
    }

    if !options.allow_setting_approval_conditions {
        for condition_type in ["Approved", "Denied"] {
            let (new_conditions, old_conditions) = (
                of_type(request, condition_type),
                of_type(old, condition_type),
            );
            if new_conditions.len() > old_conditions.len() {
                errors.push(FieldError::forbidden(
                    &conditions_path,
                    format!("updates may not add a condition of type \"{condition_type}\""),
                ));
            } else if new_conditions.len() == old_conditions.len()
                && new_conditions != old_conditions
            {
                // NOTE: upstream appends a go-cmp diff of the conditions to this message.
                errors.push(FieldError::forbidden(
                    &conditions_path,
                    format!("updates may not modify a condition of type \"{condition_type}\""),
                ));
            }
        }
    }

    if certificate(request) != certificate(old) {
        if !options.allow_setting_certificate {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["status", "certificate"]),
                "updates may not set certificate content",
            ));
        } else if !certificate(old).is_empty() {
            errors.push(FieldError::forbidden(
                &FieldPath::from_names(["status", "certificate"]),
                "updates may not modify existing certificate content",
            ));
        }
    }
    errors
}

/// Upstream's `ValidateSignerName`: `<fully qualified domain>/<DNS subdomain path>`.
fn validate_signer_name(path: &FieldPath, signer_name: &str) -> Vec<FieldError> {
    if signer_name.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let segments: Vec<&str> = signer_name.split('/').collect();
    let [domain, name] = segments.as_slice() else {
        return vec![FieldError::invalid(
            path,
            signer_name,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        )];
    };
    let mut errors = Vec::new();
    if domain.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errors.push(FieldError::too_long(
            path,
            Some(DNS1123_SUBDOMAIN_MAX_LENGTH),
        ));
    }
    let labels: Vec<&str> = domain.split('.').collect();
    for label in &labels {
        let messages = is_dns1123_label(label);
        if !messages.is_empty() {
            for message in messages {
                errors.push(FieldError::invalid(
                    path,
                    *domain,
                    format!("validating label \"{label}\": {message}"),
                ));
            }
            break;
        }
    }
    if labels.len() < 2 {
        errors.push(FieldError::invalid(
            path,
            *domain,
            "should be a domain with at least two segments separated by dots",
        ));
    }
    // NOTE: upstream also caps the path segment's length; the DNS subdomain check
    // below already limits it to 253 characters.
    for message in is_dns1123_subdomain(name) {
        errors.push(FieldError::invalid(path, *name, message));
    }
    errors
}

/// Renders bytes as Go's `%#v` of a byte slice: `[]byte{0x2d, 0x2d}`.
fn go_bytes(bytes: &[u8]) -> BadValue {
    let items: Vec<String> = bytes.iter().map(|byte| format!("0x{byte:x}")).collect();
    BadValue::Raw(format!("[]byte{{{}}}", items.join(", ")))
}

/// One decoded PEM block.
struct PemBlock {
    label: String,
    has_headers: bool,
    der: Vec<u8>,
}

/// Decodes the first PEM block of `data` and returns it with the rest of the input, as
/// Go's `pem.Decode` does. Returns `None` when no well-formed block is found.
fn decode_pem(data: &[u8]) -> Option<(PemBlock, &[u8])> {
    let text = std::str::from_utf8(data).ok()?;
    let begin = text.find("-----BEGIN ")?;
    let after_begin = &text[begin + "-----BEGIN ".len()..];
    let label_end = after_begin.find("-----")?;
    let label = after_begin[..label_end].to_string();
    let body_start = &after_begin[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_start.find(&end_marker)?;
    let body = &body_start[..end];
    let rest_offset = text.len() - body_start.len() + end + end_marker.len();

    let has_headers = body.lines().any(|line| line.contains(':'));
    let encoded: String = body
        .lines()
        .filter(|line| !line.contains(':'))
        .flat_map(|line| line.chars().filter(|c| !c.is_whitespace()))
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(&encoded)
        .ok()?;
    Some((
        PemBlock {
            label,
            has_headers,
            der,
        },
        &data[rest_offset..],
    ))
}

/// Upstream's `validateCSR`: one PEM block of type CERTIFICATE REQUEST holding a
/// PKCS#10 request whose signature verifies with the public key it carries.
fn validate_request_pem(request: &[u8]) -> Result<(), String> {
    let Some((block, _)) =
        decode_pem(request).filter(|(block, _)| block.label == "CERTIFICATE REQUEST")
    else {
        return Err("PEM block type must be CERTIFICATE REQUEST".to_string());
    };
    let parsed = X509CertificationRequest::from_der(&block.der);
    let request = match parsed {
        Ok(([], request)) => request,
        Ok(_) => return Err("x509: trailing data after the certificate request".to_string()),
        Err(error) => return Err(format!("x509: malformed certificate request: {error}")),
    };
    request.verify_signature().map_err(|error| {
        format!("x509: the certificate request's signature does not verify: {error}")
    })
}

/// Upstream's `validateCertificate`: empty, or only CERTIFICATE blocks without headers.
fn validate_certificate_pem(mut data: &[u8]) -> Result<(), String> {
    if data.is_empty() {
        return Ok(());
    }
    let mut blocks = 0;
    while let Some((block, rest)) = decode_pem(data) {
        if block.label != "CERTIFICATE" {
            return Err(format!(
                "only CERTIFICATE PEM blocks are allowed, found \"{}\"",
                block.label
            ));
        }
        if block.has_headers {
            return Err("no PEM block headers are permitted".to_string());
        }
        let mut der = block.der.as_slice();
        if der.is_empty() {
            return Err("found CERTIFICATE PEM block containing 0 certificates".to_string());
        }
        // Like Go's `x509.ParseCertificates`, a block may hold several DER certificates.
        while !der.is_empty() {
            der = match X509Certificate::from_der(der) {
                Ok((rest, _)) => rest,
                Err(error) => return Err(format!("x509: malformed certificate: {error}")),
            };
        }
        blocks += 1;
        data = rest;
    }
    if blocks == 0 {
        return Err("must contain at least one CERTIFICATE PEM block".to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::groups::validation::testing::{defaulted, messages};
    use crate::registry::strategy::Strategy;
    use serde_json::json;

    /// Builds a PEM block of the given type around a short DER sequence that is neither
    /// a valid request nor a valid certificate.
    fn pem(label: &str) -> String {
        format!("-----BEGIN {label}-----\nMAMCAQA=\n-----END {label}-----\n")
    }

    /// Returns a PKCS#10 request for `name`, signed with a new ECDSA P-256 key.
    fn signed_request(name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    /// Returns a self-signed certificate for `name`.
    fn certificate_pem(name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_string()]).unwrap();
        params.self_signed(&key).unwrap().pem()
    }

    fn base64(text: &str) -> String {
        base64_bytes(text.as_bytes())
    }

    fn base64_bytes(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn request(spec: serde_json::Value) -> CertificateSigningRequest {
        serde_json::from_value(json!({"metadata": {"name": "csr-1"}, "spec": spec})).unwrap()
    }

    fn valid_spec() -> serde_json::Value {
        json!({"request": base64(&signed_request("client.example.com")), "signerName": "example.com/signer",
               "usages": ["digital signature", "client auth"]})
    }

    #[test]
    fn create_validation() {
        assert!(
            CertificateSigningRequestStrategy
                .validate(&request(valid_spec()))
                .is_empty()
        );

        let bad = request(
            json!({"request": base64("-"), "signerName": "", "usages": ["client auth", "flying", "client auth"],
                                 "expirationSeconds": 60}),
        );
        assert_eq!(
            messages(&CertificateSigningRequestStrategy.validate(&bad)),
            [
                "spec.request: Invalid value: []byte{0x2d}: PEM block type must be CERTIFICATE REQUEST",
                "spec.usages[1]: Unsupported value: \"flying\": supported values: \"any\", \"cert sign\", \"client auth\", \"code signing\", \"content commitment\", \"crl sign\", \"data encipherment\", \"decipher only\", \"digital signature\", \"email protection\", \"encipher only\", \"ipsec end system\", \"ipsec tunnel\", \"ipsec user\", \"key agreement\", \"key encipherment\", \"microsoft sgc\", \"netscape sgc\", \"ocsp signing\", \"s/mime\", \"server auth\", \"signing\", \"timestamping\"",
                "spec.usages[2]: Duplicate value: \"client auth\"",
                "spec.signerName: Required value",
                "spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 600 seconds (10 minutes)",
            ]
        );
    }

    #[test]
    fn signer_name_rules() {
        let path = FieldPath::new("s");
        let cases = [
            ("kubernetes.io/kube-apiserver-client", vec![]),
            (
                "example.com",
                vec![
                    "s: Invalid value: \"example.com\": must be a fully qualified domain and path of the form 'example.com/signer-name'",
                ],
            ),
            (
                "example/signer",
                vec![
                    "s: Invalid value: \"example\": should be a domain with at least two segments separated by dots",
                ],
            ),
        ];
        for (name, expected) in cases {
            assert_eq!(
                messages(&validate_signer_name(&path, name)),
                expected,
                "{name}"
            );
        }
        let mut spec = valid_spec();
        spec["signerName"] = json!(LEGACY_UNKNOWN_SIGNER_NAME);
        assert_eq!(
            messages(&CertificateSigningRequestStrategy.validate(&request(spec))),
            [
                "spec.signerName: Invalid value: \"kubernetes.io/legacy-unknown\": the legacy signerName is not allowed via this API version"
            ]
        );
    }

    #[test]
    fn condition_status_defaults_to_true() {
        let object = json!({"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": "csr-1"}, "spec": valid_spec(), "status": {"conditions": [{"type": "Approved"}]}});
        let result = defaulted(&CertificateSigningRequestStrategy, object);
        assert_eq!(result["status"]["conditions"][0]["status"], "True");
    }

    #[test]
    fn approval_flow() {
        let old = request(valid_spec());
        let mut approved = old.clone();
        approved.status = Some(CertificateSigningRequestStatus {
            conditions: Some(vec![CertificateSigningRequestCondition {
                type_: "Approved".into(),
                status: "True".into(),
                reason: Some("AutoApproved".into()),
                ..Default::default()
            }]),
            certificate: None,
        });

        // The status subresource may not add an approval, and keeps the old conditions.
        assert_eq!(
            messages(&CertificateSigningRequestStrategy.validate_status_update(&approved, &old)),
            ["status.conditions: Forbidden: updates may not add a condition of type \"Approved\""]
        );

        // The approval subresource may, and fills the timestamps.
        let mut via_approval = approved.clone();
        CertificateSigningRequestStrategy.prepare_for_approval_update(&mut via_approval, &old);
        assert!(
            CertificateSigningRequestStrategy
                .validate_approval_update(&via_approval, &old)
                .is_empty()
        );
        let condition = &conditions(&via_approval)[0];
        assert!(condition.last_update_time.is_some());
        assert!(condition.last_transition_time.is_some());

        // Approved and Denied exclude each other, and an approval cannot be removed.
        let mut both = via_approval.clone();
        if let Some(list) = both
            .status
            .as_mut()
            .and_then(|status| status.conditions.as_mut())
        {
            list.push(CertificateSigningRequestCondition {
                type_: "Denied".into(),
                status: "True".into(),
                ..Default::default()
            });
        }
        assert_eq!(
            messages(
                &CertificateSigningRequestStrategy.validate_approval_update(&both, &via_approval)
            ),
            [
                "status.conditions[1].type: Invalid value: \"Denied\": Approved and Denied conditions are mutually exclusive"
            ]
        );
        assert_eq!(
            messages(
                &CertificateSigningRequestStrategy.validate_approval_update(&old, &via_approval)
            ),
            [
                "status.conditions: Forbidden: updates may not remove a condition of type \"Approved\""
            ]
        );
    }

    #[test]
    fn certificate_only_through_status() {
        let old = request(valid_spec());
        let mut issued = old.clone();
        issued.status = Some(CertificateSigningRequestStatus {
            certificate: Some(k8s_openapi::ByteString(
                certificate_pem("client.example.com").into_bytes(),
            )),
            conditions: None,
        });
        assert!(
            CertificateSigningRequestStrategy
                .validate_status_update(&issued, &old)
                .is_empty()
        );
        assert_eq!(
            messages(&CertificateSigningRequestStrategy.validate_update(&issued, &old)),
            ["status.certificate: Forbidden: updates may not set certificate content"]
        );

        let mut wrong = old.clone();
        wrong.status = Some(CertificateSigningRequestStatus {
            certificate: Some(k8s_openapi::ByteString(pem("PRIVATE KEY").into_bytes())),
            conditions: None,
        });
        assert_eq!(
            messages(&CertificateSigningRequestStrategy.validate_status_update(&wrong, &old)),
            [
                "status.certificate: Invalid value: \"<certificate data>\": only CERTIFICATE PEM blocks are allowed, found \"PRIVATE KEY\""
            ]
        );
    }

    #[test]
    fn request_must_parse_as_pkcs10() {
        let result = validate_request_pem(pem("CERTIFICATE REQUEST").as_bytes());

        let message = result.expect_err("a bare sequence is not a request");
        assert!(
            message.starts_with("x509: malformed certificate request: "),
            "{message}"
        );
    }

    #[test]
    fn request_signature_must_verify() {
        let genuine = signed_request("client.example.com");
        let (block, _) = decode_pem(genuine.as_bytes()).unwrap();
        let mut der = block.der;
        // The signature BIT STRING ends the structure, so flipping the last byte
        // breaks the signature and nothing else.
        *der.last_mut().unwrap() ^= 0x01;
        let tampered = format!(
            "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
            base64_bytes(&der)
        );

        assert_eq!(validate_request_pem(genuine.as_bytes()), Ok(()));
        let message = validate_request_pem(tampered.as_bytes()).expect_err("tampered");
        assert!(
            message.starts_with("x509: the certificate request's signature does not verify"),
            "{message}"
        );
    }

    #[test]
    fn certificate_must_parse_as_x509() {
        let two = format!(
            "{}{}",
            certificate_pem("a.example.com"),
            certificate_pem("b.example.com")
        );

        assert_eq!(validate_certificate_pem(two.as_bytes()), Ok(()));
        let message =
            validate_certificate_pem(pem("CERTIFICATE").as_bytes()).expect_err("not X.509");
        assert!(
            message.starts_with("x509: malformed certificate: "),
            "{message}"
        );
    }

    #[test]
    fn signer_name_is_selectable() {
        let object = json!({"spec": {"signerName": "example.com/signer"}});
        let fields = CertificateSigningRequestStrategy.selectable_fields(&object);
        assert_eq!(
            fields.get("spec.signerName").map(String::as_str),
            Some("example.com/signer")
        );
        assert_eq!(
            CertificateSigningRequestStrategy.selectable_field_names(),
            ["spec.signerName"]
        );
    }

    #[test]
    fn updates_keep_spec_and_status() {
        let old = request(valid_spec());
        let mut new = request(json!({"request": "", "signerName": "other.io/x"}));
        new.status = Some(CertificateSigningRequestStatus::default());
        CertificateSigningRequestStrategy.prepare_for_update(&mut new, &old);
        assert_eq!(new.spec, old.spec);
        assert_eq!(new.status, old.status);
    }
}
