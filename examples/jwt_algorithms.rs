//! Measures ES256 and EdDSA signing and verification with jsonwebtoken's
//! aws-lc-rs backend, to choose the access token algorithm.
//! Run: `cargo run --release --example jwt_algorithms`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    aud: String,
    exp: u64,
    iat: u64,
    jti: String,
    client_id: String,
    scope: String,
}

fn bench(name: &str, alg: Algorithm, enc: EncodingKey, dec: DecodingKey) {
    let claims = Claims {
        iss: "http://127.0.0.1:8080".into(),
        sub: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        aud: "http://127.0.0.1:8080/api".into(),
        exp: 4_000_000_000,
        iat: 1_700_000_000,
        jti: "7c9e6679-7425-40de-944b-e07fc1f90ae7".into(),
        client_id: "c".into(),
        scope: "blog:read blog:write".into(),
    };
    let mut header = Header::new(alg);
    header.kid = Some("k1".into());
    let n = 20_000;
    let start = Instant::now();
    let mut token = String::new();
    for _ in 0..n {
        token = encode(&header, &claims, &enc).unwrap();
    }
    let sign = start.elapsed().as_secs_f64() / f64::from(n);
    let mut v = Validation::new(alg);
    v.set_audience(&["http://127.0.0.1:8080/api"]);
    let start = Instant::now();
    for _ in 0..n {
        decode::<Claims>(&token, &dec, &v).unwrap();
    }
    let verify = start.elapsed().as_secs_f64() / f64::from(n);
    println!(
        "{name}: sign {:.1} µs ({:.0}/s), verify {:.1} µs ({:.0}/s), token {} bytes",
        sign * 1e6,
        1.0 / sign,
        verify * 1e6,
        1.0 / verify,
        token.len()
    );
}

fn main() {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref()).unwrap();
    bench(
        "ES256",
        Algorithm::ES256,
        EncodingKey::from_ec_der(pkcs8.as_ref()),
        DecodingKey::from_ec_der(pair.public_key().as_ref()),
    );
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    bench(
        "EdDSA",
        Algorithm::EdDSA,
        EncodingKey::from_ed_der(pkcs8.as_ref()),
        DecodingKey::from_ed_der(pair.public_key().as_ref()),
    );
}
