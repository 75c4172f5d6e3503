//! Key material of each kind: generating a key pair, and turning a stored
//! row into the keys jsonwebtoken signs and verifies with, plus its JWK.

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde_json::{Value, json};

use super::{KeyError, LoadedKey};

/// A key pair just generated: PKCS#8 DER private half, and the public half
/// as stored (the uncompressed EC point, or the PKCS#1 `RSAPublicKey` DER).
pub(super) struct Generated {
    pub algorithm: Algorithm,
    pub pkcs8: Vec<u8>,
    pub public: Vec<u8>,
}

/// Generates a pair of one managed kind. Blocking: an RSA 2048 key takes
/// tens of milliseconds (see the module doc), so callers run it off the
/// executor.
pub(super) fn generate(algorithm: Algorithm) -> Result<Generated, KeyError> {
    match algorithm {
        Algorithm::ES256 => {
            let rng = SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| KeyError::Generate)?;
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                .map_err(|_| KeyError::Generate)?;
            Ok(Generated {
                algorithm,
                pkcs8: pkcs8.as_ref().to_vec(),
                public: pair.public_key().as_ref().to_vec(),
            })
        }
        Algorithm::RS256 => {
            let pair = rsa::KeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generate)?;
            let pkcs8 = pair.as_der().map_err(|_| KeyError::Generate)?;
            Ok(Generated {
                algorithm,
                pkcs8: pkcs8.as_ref().to_vec(),
                public: pair.public_key().as_ref().to_vec(),
            })
        }
        other => Err(KeyError::Unmanaged(other)),
    }
}

/// The JOSE name stored in the `algorithm` column.
pub(super) fn name(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::ES256 => "ES256",
        Algorithm::RS256 => "RS256",
        Algorithm::EdDSA => "EdDSA",
        // Never stored: `generate` makes only the kinds above.
        _ => "unsupported",
    }
}

/// Checks a stored pair (the private half already opened) and builds the
/// keys and JWK; `None` when anything does not fit.
pub(super) fn parse(
    kid: &str,
    algorithm: &str,
    private: &[u8],
    public: &[u8],
) -> Option<LoadedKey> {
    let (algorithm, encoding, decoding, jwk) = match algorithm {
        "ES256" => {
            // Uncompressed point: 0x04 || X || Y.
            if public.len() != 65 || public[0] != 4 {
                return None;
            }
            let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, private).ok()?;
            if pair.public_key().as_ref() != public {
                return None;
            }
            let jwk = json!({
                "kty": "EC",
                "crv": "P-256",
                "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
                "y": URL_SAFE_NO_PAD.encode(&public[33..65]),
                "kid": kid,
                "alg": "ES256",
                "use": "sig",
            });
            (
                Algorithm::ES256,
                EncodingKey::from_ec_der(private),
                DecodingKey::from_ec_der(public),
                jwk,
            )
        }
        "RS256" => {
            let pair = rsa::KeyPair::from_pkcs8(private).ok()?;
            if pair.public_key().as_ref() != public {
                return None;
            }
            let (encoding, jwk) = rsa_keys(kid, private, public)?;
            (
                Algorithm::RS256,
                encoding,
                DecodingKey::from_rsa_der(public),
                jwk,
            )
        }
        "EdDSA" => {
            Ed25519KeyPair::from_pkcs8(private).ok()?;
            let jwk = json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(public),
                "kid": kid,
                "alg": "EdDSA",
                "use": "sig",
            });
            (
                Algorithm::EdDSA,
                EncodingKey::from_ed_der(private),
                DecodingKey::from_ed_der(public),
                jwk,
            )
        }
        _ => return None,
    };
    Some(LoadedKey {
        kid: kid.to_owned(),
        algorithm,
        encoding,
        decoding,
        jwk,
    })
}

/// jsonwebtoken signs RS256 with a PKCS#1 `RSAPrivateKey`, which is the
/// `privateKey` octets inside our stored PKCS#8 `PrivateKeyInfo`
/// (RFC 5208 §5). The JWK carries `n` and `e` unsigned big-endian, without
/// leading zeros (RFC 7518 §6.3.1).
fn rsa_keys(kid: &str, private: &[u8], public: &[u8]) -> Option<(EncodingKey, Value)> {
    let info = pkcs8::PrivateKeyInfoRef::try_from(private).ok()?;
    let components = rsa::PublicKey::from_der(public).ok()?;
    let jwk = json!({
        "kty": "RSA",
        "n": URL_SAFE_NO_PAD.encode(components.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(components.exponent().big_endian_without_leading_zero()),
        "kid": kid,
        "alg": "RS256",
        "use": "sig",
    });
    Some((EncodingKey::from_rsa_der(info.private_key.as_bytes()), jwk))
}
