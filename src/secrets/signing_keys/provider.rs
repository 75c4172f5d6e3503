//! Signing keys parsed once, not per token.
//!
//! jsonwebtoken's aws-lc provider parses the private key for every token it
//! signs; measured on the code flow, parsing the ES256 key cost 5.6% of the
//! core against 7.3% for the signature itself. Tollgate's keys are few and
//! long-lived, so this provider keeps each parsed pair and signs with it
//! (still aws-lc's ECDSA and RSA); verification, other algorithms and the
//! JWK helpers stay jsonwebtoken's own.

use std::sync::{Arc, LazyLock, Mutex, PoisonError};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PKCS1_SHA256, RsaKeyPair,
};
use jsonwebtoken::crypto::{CryptoProvider, JwtSigner, aws_lc};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Signer};
use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};

/// Parsed pairs kept; beyond this (keys rotated many times over in one
/// process) the oldest is parsed again when next used.
const KEPT: usize = 16;

static PROVIDER: LazyLock<CryptoProvider> = LazyLock::new(|| CryptoProvider {
    signer_factory: signer,
    ..aws_lc::DEFAULT_PROVIDER.clone()
});

/// A parsed pair and the key bytes it came from.
type Kept = (Box<[u8]>, Arc<Pair>);

static PARSED: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// Makes this provider jsonwebtoken's for the process. Harmless when called
/// again, or after jsonwebtoken already chose its default: tokens are then
/// signed as before, only slower.
pub fn install() {
    let _ = PROVIDER.install_default();
}

enum Pair {
    Es256(EcdsaKeyPair),
    Rs256(RsaKeyPair),
}

struct CachedSigner {
    algorithm: Algorithm,
    pair: Arc<Pair>,
}

fn signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    let kind = match (algorithm, key.family()) {
        (Algorithm::ES256, AlgorithmFamily::Ec) => Algorithm::ES256,
        (Algorithm::RS256, AlgorithmFamily::Rsa) => Algorithm::RS256,
        // Not a kind Tollgate makes: jsonwebtoken's own signer.
        _ => return (aws_lc::DEFAULT_PROVIDER.signer_factory)(algorithm, key),
    };
    let pair = parsed(kind, key.as_bytes())?;
    Ok(Box::new(CachedSigner {
        algorithm: kind,
        pair,
    }))
}

fn parsed(algorithm: Algorithm, der: &[u8]) -> Result<Arc<Pair>, Error> {
    let found = PARSED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(bytes, _)| **bytes == *der)
        .map(|(_, pair)| pair.clone());
    if let Some(pair) = found {
        return Ok(pair);
    }
    // As jsonwebtoken parses them: PKCS#8 for EC, PKCS#1 for RSA.
    let pair = Arc::new(match algorithm {
        Algorithm::ES256 => Pair::Es256(
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der)
                .map_err(|_| Error::from(ErrorKind::InvalidEcdsaKey))?,
        ),
        _ => Pair::Rs256(
            RsaKeyPair::from_der(der)
                .map_err(|e| Error::from(ErrorKind::InvalidRsaKey(e.to_string())))?,
        ),
    });
    let mut kept = PARSED.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() >= KEPT {
        kept.remove(0);
    }
    kept.push((der.into(), pair.clone()));
    Ok(pair)
}

impl Signer<Vec<u8>> for CachedSigner {
    fn try_sign(&self, msg: &[u8]) -> Result<Vec<u8>, signature::Error> {
        let rng = SystemRandom::new();
        match &*self.pair {
            Pair::Es256(pair) => pair
                .sign(&rng, msg)
                .map(|sig| sig.as_ref().to_vec())
                .map_err(signature::Error::from_source),
            Pair::Rs256(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, msg, &mut sig)
                    .map_err(signature::Error::from_source)?;
                Ok(sig)
            }
        }
    }
}

impl JwtSigner for CachedSigner {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{DecodingKey, Validation, decode, encode};

    /// What a cached signer signs, jsonwebtoken verifies; and the second
    /// token reuses the pair parsed for the first.
    #[test]
    fn tokens_signed_with_a_kept_pair_verify() {
        install();
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
        let public = aws_lc_rs::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec();
        let encoding = EncodingKey::from_ec_der(pkcs8.as_ref());
        let decoding = DecodingKey::from_ec_der(&public);
        let header = jsonwebtoken::Header::new(Algorithm::ES256);
        let mut validation = Validation::new(Algorithm::ES256);
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        for n in 0..2 {
            let claims = serde_json::json!({ "n": n });
            let token = encode(&header, &claims, &encoding).expect("signed");
            let read = decode::<serde_json::Value>(&token, &decoding, &validation)
                .expect("the signature verifies");
            assert_eq!(read.claims["n"], n);
        }
        let first = signer(&Algorithm::ES256, &encoding).unwrap();
        let second = parsed(Algorithm::ES256, pkcs8.as_ref()).unwrap();
        let kept = PARSED.lock().unwrap();
        let matching = kept
            .iter()
            .filter(|(bytes, _)| **bytes == *pkcs8.as_ref())
            .count();
        assert_eq!(matching, 1, "the key was parsed once");
        assert!(kept.iter().any(|(_, p)| Arc::ptr_eq(p, &second)));
        assert_eq!(first.algorithm(), Algorithm::ES256);
    }

    #[test]
    fn a_key_that_does_not_parse_is_an_error_not_a_panic() {
        let bad = EncodingKey::from_ec_der(b"not a key");
        assert!(signer(&Algorithm::ES256, &bad).is_err());
        let bad = EncodingKey::from_rsa_der(b"not a key");
        assert!(signer(&Algorithm::RS256, &bad).is_err());
    }
}
