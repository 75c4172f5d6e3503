//! Measures ES256, EdDSA and RS256 signing and verification with
//! jsonwebtoken's aws-lc-rs backend (to choose the access token algorithm,
//! and to price RS256 ID tokens), and how long generating each key takes.
//! Run: `cargo run --release --example jwt_algorithms`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{self, KeySize};
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

fn bench(name: &str, alg: Algorithm, enc: EncodingKey, dec: DecodingKey, n: u32) {
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

/// Mean time of `n` runs of `f`, in milliseconds.
fn time_ms(n: u32, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / f64::from(n)
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
        20_000,
    );
    let pair = Ed25519KeyPair::generate().unwrap();
    let pkcs8 = pair.to_pkcs8().unwrap();
    bench(
        "EdDSA",
        Algorithm::EdDSA,
        EncodingKey::from_ed_der(pkcs8.as_ref()),
        DecodingKey::from_ed_der(pair.public_key().as_ref()),
        20_000,
    );
    // As `secrets::signing_keys` stores and loads it: PKCS#8, of which
    // jsonwebtoken signs with the PKCS#1 part.
    let pair = rsa::KeyPair::generate(KeySize::Rsa2048).unwrap();
    let pkcs8 = pair.as_der().unwrap();
    let info = pkcs8::PrivateKeyInfoRef::try_from(pkcs8.as_ref()).unwrap();
    bench(
        "RS256",
        Algorithm::RS256,
        EncodingKey::from_rsa_der(info.private_key.as_bytes()),
        DecodingKey::from_rsa_der(pair.public_key().as_ref()),
        2_000,
    );

    // jsonwebtoken parses (and checks) the RSA key again on every
    // signature; this is that share of the RS256 signing time.
    let parse = time_ms(2_000, || {
        rsa::KeyPair::from_der(info.private_key.as_bytes()).unwrap();
    });
    println!("RS256: of which parsing the key {:.1} µs", parse * 1e3);

    let es256 = time_ms(1_000, || {
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    });
    let mut runs: Vec<f64> = (0..40)
        .map(|_| {
            time_ms(1, || {
                drop(rsa::KeyPair::generate(KeySize::Rsa2048).unwrap())
            })
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    let mean = runs.iter().sum::<f64>() / runs.len() as f64;
    println!(
        "key generation: ES256 {es256:.3} ms; RSA 2048 mean {mean:.1} ms, \
         median {:.1} ms, max {:.1} ms (40 runs)",
        runs[runs.len() / 2],
        runs[runs.len() - 1],
    );
}
