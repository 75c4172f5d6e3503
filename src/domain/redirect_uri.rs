use url::Url;

use super::ValidationError;

/// A registered redirect URI, kept as the exact string registered: the
/// authorization endpoint compares it byte for byte (RFC 6749 §3.1.2,
/// OAuth 2.1 §2.3.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Absolute, no fragment, no whitespace; `https`, `http` only on a
    /// loopback host, or a private-use scheme for native apps (RFC 8252 §7).
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let bad = |why: &str| ValidationError::new(format!("invalid redirect URI '{s}': {why}"));
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains whitespace"));
        }
        let url = Url::parse(s).map_err(|e| bad(&e.to_string()))?;
        // RFC 6749 §3.1.2: "The endpoint URI MUST NOT include a fragment component."
        if url.fragment().is_some() {
            return Err(bad("it must not have a fragment"));
        }
        match url.scheme() {
            "https" => {}
            "http" => {
                let loopback = match url.host() {
                    Some(url::Host::Domain(d)) => d == "localhost",
                    Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                    Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                    None => false,
                };
                if !loopback {
                    return Err(bad("http is allowed only for loopback hosts; use https"));
                }
            }
            // Private-use schemes must contain a dot (reverse domain name).
            scheme if scheme.contains('.') => {}
            _ => return Err(bad("use https, loopback http, or a reverse-domain scheme")),
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_loopback_http_and_native_schemes_are_accepted() {
        for ok in [
            "https://app.example.com/cb",
            "http://127.0.0.1:9000/callback",
            "http://localhost/cb",
            "http://[::1]:8080/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert_eq!(RedirectUri::parse(ok).expect(ok).as_str(), ok);
        }
    }

    #[test]
    fn relative_fragment_plain_http_and_odd_schemes_are_refused() {
        for bad in [
            "/callback",
            "https://app.example.com/cb#frag",
            "http://app.example.com/cb",
            "javascript:alert(1)",
            "https://app.example.com/a b",
            "not a uri",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }
}
