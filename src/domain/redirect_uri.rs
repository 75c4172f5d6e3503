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

    /// As [`RedirectUri::parse`], for a new registration: also refuses
    /// `localhost`, which a hostile resolver or hosts file can point
    /// anywhere (RFC 8252 §8.3: loopback redirect URIs SHOULD use the IP
    /// literal). Stored registrations are read with the lenient `parse`.
    pub fn parse_new(s: &str) -> Result<Self, ValidationError> {
        let uri = Self::parse(s)?;
        let is_localhost = Url::parse(s)
            .ok()
            .is_some_and(|u| u.scheme() == "http" && u.host_str() == Some("localhost"));
        if is_localhost {
            return Err(ValidationError::new(format!(
                "invalid redirect URI '{s}': use http://127.0.0.1 or http://[::1] instead of \
                 localhost (RFC 8252 §8.3); any port is accepted at sign-in"
            )));
        }
        Ok(uri)
    }

    /// Whether a redirect URI sent with a request matches this registered
    /// one: exactly, or, for an http loopback IP literal, with any port
    /// (RFC 8252 §7.3: "The authorization server MUST allow any port to be
    /// specified at the time of the request for loopback IP redirect URIs").
    pub fn matches(&self, sent: &str) -> bool {
        if self.0 == sent {
            return true;
        }
        let (Ok(registered), Ok(sent)) = (Url::parse(&self.0), Url::parse(sent)) else {
            return false;
        };
        let loopback_ip = match registered.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        loopback_ip
            && registered.scheme() == "http"
            && sent.scheme() == "http"
            && registered.host() == sent.host()
            && registered.path() == sent.path()
            && registered.query() == sent.query()
            && sent.fragment().is_none()
            && sent.username().is_empty()
            && sent.password().is_none()
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
    fn a_new_registration_refuses_localhost() {
        let err = RedirectUri::parse_new("http://localhost:9000/cb").expect_err("localhost");
        assert!(err.0.contains("127.0.0.1"), "{err}");
        assert!(RedirectUri::parse_new("http://127.0.0.1:9000/cb").is_ok());
        assert!(RedirectUri::parse_new("https://localhost.example.com/cb").is_ok());
    }

    #[test]
    fn a_loopback_ip_matches_on_any_port_and_nothing_else_does() {
        let v4 = RedirectUri::parse("http://127.0.0.1/cb?x=1").expect("v4");
        assert!(v4.matches("http://127.0.0.1/cb?x=1"));
        assert!(v4.matches("http://127.0.0.1:53127/cb?x=1"));
        assert!(!v4.matches("http://127.0.0.1:53127/other?x=1"));
        assert!(!v4.matches("http://127.0.0.1:53127/cb"));
        assert!(!v4.matches("http://127.0.0.2:53127/cb?x=1"));
        assert!(!v4.matches("https://127.0.0.1:53127/cb?x=1"));
        let v6 = RedirectUri::parse("http://[::1]:8080/cb").expect("v6");
        assert!(v6.matches("http://[::1]:1234/cb"));
        let https = RedirectUri::parse("https://app.example.com/cb").expect("https");
        assert!(!https.matches("https://app.example.com:8443/cb"));
        let named = RedirectUri::parse("http://localhost:8080/cb").expect("legacy localhost");
        assert!(!named.matches("http://localhost:9090/cb"));
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
