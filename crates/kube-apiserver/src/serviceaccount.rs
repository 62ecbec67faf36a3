//! Service account tokens: the signer behind `serviceaccounts/<name>/token`
//! (TokenRequest).
//!
//! [`TokenSigner::load`] reads `--service-account-signing-key-file`, an RSA or ECDSA
//! P-256 private key in PEM. [`TokenSigner::issue`] returns a signed JWT with
//! upstream's claims: `iss`, `sub` (`system:serviceaccount:<namespace>:<name>`), `aud`,
//! `exp`, `iat`, `nbf`, `jti` and the private `kubernetes.io` claim naming the
//! namespace, the service account and the object the token is bound to. The `kid`
//! header is the unpadded base64url SHA-256 of the public key's DER
//! SubjectPublicKeyInfo, the key ID upstream publishes in its JWKS document.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use rustls::pki_types::PrivateKeyDer;
use serde_json::{Value, json};

/// A failure to load the signing key.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    /// The key file could not be read.
    #[error("failed to read {path}: {source}")]
    Read {
        /// The key file.
        path: String,
        /// The error from the file system.
        #[source]
        source: std::io::Error,
    },
    /// The file contains no key this signer supports.
    #[error("invalid service account signing key {path}: {message}")]
    Invalid {
        /// The key file.
        path: String,
        /// The reason.
        message: String,
    },
}

enum SigningKey {
    Rsa(RsaKeyPair),
    Ecdsa(EcdsaKeyPair),
}

/// Signs service account tokens.
pub struct TokenSigner {
    /// The `iss` claim, from `--service-account-issuer`.
    pub issuer: String,
    key: SigningKey,
    key_id: String,
    random: SystemRandom,
}

/// The subject, audiences, lifetime and binding of a token.
pub struct TokenClaims<'a> {
    /// The service account's namespace.
    pub namespace: &'a str,
    /// The service account's name.
    pub name: &'a str,
    /// The service account's uid.
    pub uid: &'a str,
    /// The audiences (`aud`); upstream defaults them to the issuer.
    pub audiences: &'a [String],
    /// Seconds from now until `exp`.
    pub expiration_seconds: i64,
    /// The object the token is bound to: kind, name and uid.
    pub bound_object: Option<(&'a str, &'a str, &'a str)>,
    /// The node of a bound pod, which upstream also records in the token.
    pub node: Option<(&'a str, &'a str)>,
}

impl TokenSigner {
    /// Loads the key at `path`, for tokens issued by `issuer`.
    pub fn load(path: &Path, issuer: &str) -> Result<TokenSigner, SignerError> {
        let invalid = |message: &str| SignerError::Invalid {
            path: path.display().to_string(),
            message: message.to_string(),
        };
        let pem = std::fs::read(path).map_err(|source| SignerError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let key = rustls_pemfile::private_key(&mut pem.as_slice())
            .map_err(|error| invalid(&error.to_string()))?
            .ok_or_else(|| invalid("no private key found"))?;
        let key = match key {
            PrivateKeyDer::Pkcs1(der) => SigningKey::Rsa(
                RsaKeyPair::from_der(der.secret_pkcs1_der())
                    .map_err(|error| invalid(&error.to_string()))?,
            ),
            PrivateKeyDer::Pkcs8(der) => {
                let random = SystemRandom::new();
                match EcdsaKeyPair::from_pkcs8(
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                    der.secret_pkcs8_der(),
                    &random,
                ) {
                    Ok(pair) => SigningKey::Ecdsa(pair),
                    Err(_) => SigningKey::Rsa(
                        RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
                            .map_err(|_| invalid("PKCS#8 key is neither ECDSA P-256 nor RSA"))?,
                    ),
                }
            }
            _ => {
                return Err(invalid(
                    "SEC1 EC keys are not supported; convert the key to PKCS#8",
                ));
            }
        };
        Ok(Self::with_key(key, issuer))
    }

    /// Returns a signer with a fresh ECDSA P-256 key, for servers started without
    /// `--service-account-signing-key-file`.
    ///
    /// NOTE: tokens from a generated key do not survive a restart of the server.
    pub fn generate(issuer: &str) -> TokenSigner {
        let random = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &random)
                .expect("ECDSA P-256 key generation does not fail with the system RNG");
        let pair = EcdsaKeyPair::from_pkcs8(
            &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
            pkcs8.as_ref(),
            &random,
        )
        .expect("a freshly generated key parses");
        Self::with_key(SigningKey::Ecdsa(pair), issuer)
    }

    fn with_key(key: SigningKey, issuer: &str) -> TokenSigner {
        let public_key_info = match &key {
            SigningKey::Rsa(pair) => rsa_public_key_info(pair.public_key().as_ref()),
            SigningKey::Ecdsa(pair) => ecdsa_p256_public_key_info(pair.public_key().as_ref()),
        };
        let digest = ring::digest::digest(&ring::digest::SHA256, &public_key_info);
        TokenSigner {
            issuer: issuer.to_string(),
            key,
            key_id: URL_SAFE_NO_PAD.encode(digest.as_ref()),
            random: SystemRandom::new(),
        }
    }

    /// Returns the signing algorithm's JWS name.
    pub fn algorithm(&self) -> &'static str {
        match self.key {
            SigningKey::Rsa(_) => "RS256",
            SigningKey::Ecdsa(_) => "ES256",
        }
    }

    /// Issues a token valid from `now` (seconds since the epoch) for the claims.
    pub fn issue(&self, claims: &TokenClaims<'_>, now: i64) -> String {
        let expires = now + claims.expiration_seconds;
        let mut private = json!({
            "namespace": claims.namespace,
            "serviceaccount": {"name": claims.name, "uid": claims.uid},
        });
        if let Some((kind, name, uid)) = claims.bound_object {
            private[kind.to_ascii_lowercase()] = json!({"name": name, "uid": uid});
        }
        if let Some((name, uid)) = claims.node {
            private["node"] = json!({"name": name, "uid": uid});
        }
        let payload = json!({
            "aud": claims.audiences,
            "exp": expires,
            "iat": now,
            "iss": self.issuer,
            "jti": uuid::Uuid::new_v4().to_string(),
            "kubernetes.io": private,
            "nbf": now,
            "sub": format!("system:serviceaccount:{}:{}", claims.namespace, claims.name),
        });
        let header = json!({"alg": self.algorithm(), "kid": self.key_id});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = self.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        match &self.key {
            SigningKey::Rsa(pair) => {
                let mut signature = vec![0; pair.public().modulus_len()];
                pair.sign(
                    &signature::RSA_PKCS1_SHA256,
                    &self.random,
                    message,
                    &mut signature,
                )
                .expect("RSA signing with a loaded key does not fail");
                signature
            }
            SigningKey::Ecdsa(pair) => pair
                .sign(&self.random, message)
                .expect("ECDSA signing with a loaded key does not fail")
                .as_ref()
                .to_vec(),
        }
    }

    /// Returns the key ID in the tokens' `kid` header.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Returns the public key as a JSON Web Key (RFC 7517) for the JWKS document.
    pub fn public_jwk(&self) -> Value {
        match &self.key {
            SigningKey::Rsa(pair) => {
                let (modulus, exponent) = rsa_public_numbers(pair.public_key().as_ref())
                    .expect("ring encodes RSA public keys as DER RSAPublicKey");
                json!({"use": "sig", "kty": "RSA", "kid": self.key_id, "alg": "RS256",
                       "n": URL_SAFE_NO_PAD.encode(modulus), "e": URL_SAFE_NO_PAD.encode(exponent)})
            }
            SigningKey::Ecdsa(pair) => {
                // An uncompressed point: 0x04, then 32 bytes of x and 32 of y.
                let point = pair.public_key().as_ref();
                json!({"use": "sig", "kty": "EC", "kid": self.key_id, "alg": "ES256", "crv": "P-256",
                       "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
                       "y": URL_SAFE_NO_PAD.encode(&point[33..65])})
            }
        }
    }

    /// Returns the OpenID provider configuration of service account token issuing,
    /// served at `/.well-known/openid-configuration`.
    pub fn openid_configuration(&self, jwks_uri: &str) -> Value {
        json!({
            "issuer": self.issuer,
            "jwks_uri": jwks_uri,
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [self.algorithm()],
        })
    }
}

/// The service account issuer discovery documents (OpenID Connect Discovery 1.0),
/// encoded once at start-up.
pub struct OpenIdMetadata {
    /// The body of `/.well-known/openid-configuration`.
    pub configuration: bytes::Bytes,
    /// The body of `/openid/v1/jwks`.
    pub jwks: bytes::Bytes,
}

impl OpenIdMetadata {
    /// Builds the documents of `signer`, or returns `None` when its issuer is not an
    /// `https` URL, for which upstream serves no discovery either. The JWKS URI is
    /// `jwks_uri`, else `/openid/v1/jwks` on `advertise`.
    pub fn new(
        signer: &TokenSigner,
        jwks_uri: Option<&str>,
        advertise: std::net::SocketAddr,
    ) -> Option<OpenIdMetadata> {
        if !signer.issuer.starts_with("https://") {
            tracing::warn!(issuer = %signer.issuer, "the service account issuer is not an https URL, so no OpenID discovery is served");
            return None;
        }
        let jwks_uri = jwks_uri
            .map(str::to_string)
            .unwrap_or_else(|| format!("https://{advertise}/openid/v1/jwks"));
        let configuration = signer.openid_configuration(&jwks_uri);
        let jwks = json!({"keys": [signer.public_jwk()]});
        Some(OpenIdMetadata {
            configuration: bytes::Bytes::from(configuration.to_string()),
            jwks: bytes::Bytes::from(jwks.to_string()),
        })
    }
}

/// Reads one DER element of `tag` from the start of `input`: its content and the
/// bytes after it.
fn der_element(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&first, rest) = input.split_first()?;
    if first != tag {
        return None;
    }
    let (&length_byte, rest) = rest.split_first()?;
    let (length, rest) = if length_byte < 0x80 {
        (usize::from(length_byte), rest)
    } else {
        let count = usize::from(length_byte & 0x7f);
        if count == 0 || count > std::mem::size_of::<usize>() || rest.len() < count {
            return None;
        }
        let length = rest[..count]
            .iter()
            .fold(0usize, |value, byte| (value << 8) | usize::from(*byte));
        (length, &rest[count..])
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

/// Splits a DER RSAPublicKey into its modulus and public exponent, big-endian
/// without the sign byte DER adds to values whose top bit is set.
fn rsa_public_numbers(pkcs1: &[u8]) -> Option<(&[u8], &[u8])> {
    let (sequence, _) = der_element(pkcs1, 0x30)?;
    let (modulus, rest) = der_element(sequence, 0x02)?;
    let (exponent, _) = der_element(rest, 0x02)?;
    let strip = |value: &[u8]| -> usize { usize::from(value.len() > 1 && value[0] == 0) };
    Some((&modulus[strip(modulus)..], &exponent[strip(exponent)..]))
}

/// Wraps an uncompressed P-256 point in a DER SubjectPublicKeyInfo.
fn ecdsa_p256_public_key_info(point: &[u8]) -> Vec<u8> {
    // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING point }
    let algorithm = [
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let mut bit_string = vec![0x00];
    bit_string.extend_from_slice(point);
    let mut body = algorithm.to_vec();
    body.extend(der(0x03, &bit_string));
    der(0x30, &body)
}

/// Wraps a PKCS#1 RSAPublicKey in a DER SubjectPublicKeyInfo.
fn rsa_public_key_info(pkcs1: &[u8]) -> Vec<u8> {
    // SEQUENCE { SEQUENCE { rsaEncryption, NULL }, BIT STRING RSAPublicKey }
    let algorithm = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    let mut bit_string = vec![0x00];
    bit_string.extend_from_slice(pkcs1);
    let mut body = algorithm.to_vec();
    body.extend(der(0x03, &bit_string));
    der(0x30, &body)
}

/// Encodes one DER element with a definite length.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut encoded = vec![tag];
    let length = content.len();
    if length < 0x80 {
        encoded.push(length as u8);
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|byte| *byte == 0)
            .collect();
        encoded.push(0x80 | bytes.len() as u8);
        encoded.extend(bytes);
    }
    encoded.extend_from_slice(content);
    encoded
}

/// Decodes the payload of a token without verifying it, for tests and logs.
pub fn unverified_payload(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims<'a>(audiences: &'a [String]) -> TokenClaims<'a> {
        TokenClaims {
            namespace: "default",
            name: "builder",
            uid: "sa-uid",
            audiences,
            expiration_seconds: 3600,
            bound_object: Some(("Pod", "web", "pod-uid")),
            node: Some(("node1", "node-uid")),
        }
    }

    #[test]
    fn token_carries_upstream_claims() {
        let signer = TokenSigner::generate("https://kubernetes.default.svc");
        let audiences = vec!["api".to_string()];
        let token = signer.issue(&claims(&audiences), 1_000);
        let payload = unverified_payload(&token).expect("payload decodes");
        assert_eq!(payload["sub"], "system:serviceaccount:default:builder");
        assert_eq!(payload["iss"], "https://kubernetes.default.svc");
        assert_eq!(payload["aud"], json!(["api"]));
        assert_eq!(payload["exp"], 4_600);
        assert_eq!(payload["nbf"], 1_000);
        assert_eq!(payload["kubernetes.io"]["pod"]["uid"], "pod-uid");
        assert_eq!(payload["kubernetes.io"]["node"]["name"], "node1");
        assert_eq!(
            payload["kubernetes.io"]["serviceaccount"]["name"],
            "builder"
        );
    }

    #[test]
    fn ecdsa_signature_verifies() {
        let signer = TokenSigner::generate("issuer");
        let audiences = vec!["issuer".to_string()];
        let token = signer.issue(&claims(&audiences), 1_000);
        let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
        let SigningKey::Ecdsa(pair) = &signer.key else {
            panic!("generated keys are ECDSA");
        };
        let public_key = signature::UnparsedPublicKey::new(
            &signature::ECDSA_P256_SHA256_FIXED,
            pair.public_key().as_ref(),
        );
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        assert!(
            public_key
                .verify(signing_input.as_bytes(), &signature)
                .is_ok()
        );
    }

    #[test]
    fn jwk_verifies_issued_token() {
        let signer = TokenSigner::generate("https://kubernetes.default.svc");
        let audiences = vec!["api".to_string()];
        let token = signer.issue(&claims(&audiences), 1_000);
        let jwk = signer.public_jwk();
        let mut point = vec![0x04];
        for coordinate in ["x", "y"] {
            let value = jwk[coordinate].as_str().expect("coordinate");
            point.extend(URL_SAFE_NO_PAD.decode(value).expect("base64url"));
        }
        let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
        let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");

        let public_key =
            signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, &point);

        assert!(
            public_key
                .verify(signing_input.as_bytes(), &signature)
                .is_ok()
        );
        assert_eq!(jwk["kid"], signer.key_id());
        assert_eq!(jwk["crv"], "P-256");
    }

    #[test]
    fn rsa_numbers_drop_sign_byte() {
        // SEQUENCE { INTEGER 0x00 0x80 0x01, INTEGER 0x01 0x00 0x01 }
        let pkcs1 = [
            0x30, 0x0a, 0x02, 0x03, 0x00, 0x80, 0x01, 0x02, 0x03, 0x01, 0x00, 0x01,
        ];

        let (modulus, exponent) = rsa_public_numbers(&pkcs1).expect("valid DER");

        assert_eq!(modulus, [0x80, 0x01]);
        assert_eq!(exponent, [0x01, 0x00, 0x01]);
        assert_eq!(rsa_public_numbers(&pkcs1[..6]), None);
    }

    #[test]
    fn discovery_needs_https_issuer() {
        let advertise: std::net::SocketAddr = "10.0.0.5:6443".parse().unwrap();
        let plain = TokenSigner::generate("kubernetes");
        let secure = TokenSigner::generate("https://kubernetes.default.svc");

        let metadata = OpenIdMetadata::new(&secure, None, advertise).expect("https issuer");
        let configuration: Value = serde_json::from_slice(&metadata.configuration).unwrap();

        assert!(OpenIdMetadata::new(&plain, None, advertise).is_none());
        assert_eq!(
            configuration["jwks_uri"],
            "https://10.0.0.5:6443/openid/v1/jwks"
        );
        assert_eq!(configuration["issuer"], "https://kubernetes.default.svc");
        assert_eq!(
            configuration["id_token_signing_alg_values_supported"],
            json!(["ES256"])
        );
    }

    #[test]
    fn header_names_algorithm_and_key() {
        let signer = TokenSigner::generate("issuer");
        let audiences = vec![];
        let token = signer.issue(&claims(&audiences), 0);
        let header = token.split('.').next().expect("header");
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], signer.key_id());
        assert_eq!(signer.key_id().len(), 43);
    }

    #[test]
    fn loads_rcgen_pkcs8_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sa.key");
        std::fs::write(&path, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
        let signer = TokenSigner::load(&path, "issuer").expect("load key");
        assert_eq!(signer.algorithm(), "ES256");
    }

    #[test]
    fn missing_key_file_reports_path() {
        let error = TokenSigner::load(Path::new("/nonexistent/sa.key"), "issuer")
            .err()
            .expect("missing file fails");
        assert!(error.to_string().contains("/nonexistent/sa.key"), "{error}");
    }

    #[test]
    fn der_long_length_encoding() {
        let encoded = der(0x04, &[0u8; 300]);
        assert_eq!(&encoded[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
