//! A browser for the in-process `TestClient`: it keeps cookies and reads
//! the CSRF field of each form, and drives login and consent like a person.

use std::collections::HashMap;

use poem::http::{HeaderMap, StatusCode};
use poem::test::TestResponse;

use super::{TestApp, TestUser};

/// What a page answered, read once.
pub struct Page {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Page {
    /// Reads a real-port answer (reqwest), as [`Browser`] reads in-process ones.
    pub async fn read(resp: reqwest::Response) -> Self {
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.text().await.expect("page body");
        Self {
            status,
            headers,
            body,
        }
    }

    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The value of a hidden input, e.g. `csrf_token`.
    pub fn field(&self, name: &str) -> Option<String> {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(html_unescape(&self.body[start..end]))
    }

    /// The action of the page's form.
    pub fn form_action(&self) -> Option<String> {
        let marker = "action=\"";
        let start = self.body.find(marker)? + marker.len();
        let end = self.body[start..].find('"')? + start;
        Some(html_unescape(&self.body[start..end]))
    }

    pub fn is_login_form(&self) -> bool {
        self.body.contains("name=\"password\"")
    }

    pub fn is_consent_form(&self) -> bool {
        self.body.contains("name=\"decision\" value=\"allow\"")
    }

    /// Query parameters of the redirect this page answered with.
    pub fn redirect_params(&self) -> HashMap<String, String> {
        let location = self.location().expect("a redirect");
        let url = url::Url::parse(&location).expect("absolute redirect");
        url.query_pairs().into_owned().collect()
    }
}

fn html_unescape(s: &str) -> String {
    s.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
}

#[derive(Default)]
pub struct Browser {
    cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        Self::default()
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, resp: TestResponse) -> Page {
        let status = resp.0.status();
        let headers = resp.0.headers().clone();
        for value in headers.get_all("set-cookie") {
            let value = value.to_str().expect("ascii cookie");
            let pair = value.split(';').next().expect("name=value");
            let (name, val) = pair.split_once('=').expect("name=value");
            let expired = value.contains("Max-Age=0");
            if expired || val.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), val.to_owned());
            }
        }
        let body = resp.0.into_body().into_string().await.expect("text body");
        Page {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&mut self, app: &TestApp, path: &str) -> Page {
        let resp = app
            .client
            .get(path)
            .header("cookie", self.cookie_header())
            .send()
            .await;
        self.read(resp).await
    }

    /// Posts a form (`application/x-www-form-urlencoded`).
    pub async fn post_form(&mut self, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> Page {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let resp = app
            .client
            .post(path)
            .header("cookie", self.cookie_header())
            .content_type("application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await;
        self.read(resp).await
    }

    /// Fills in and submits a login page.
    pub async fn log_in(&mut self, app: &TestApp, login_page: &Page, user: &TestUser) -> Page {
        assert!(
            login_page.is_login_form(),
            "expected the login form: {}",
            login_page.body
        );
        let action = login_page.form_action().expect("form action");
        let csrf = login_page.field("csrf_token").expect("csrf field");
        self.post_form(
            app,
            &action,
            &[
                ("csrf_token", &csrf),
                ("username", &user.username),
                ("password", &user.password),
            ],
        )
        .await
    }

    /// Presses allow or deny on a consent page.
    pub async fn decide(&mut self, app: &TestApp, consent_page: &Page, decision: &str) -> Page {
        assert!(
            consent_page.is_consent_form(),
            "expected the consent form: {}",
            consent_page.body
        );
        let action = consent_page.form_action().expect("form action");
        let csrf = consent_page.field("csrf_token").expect("csrf field");
        self.post_form(
            app,
            &action,
            &[("csrf_token", &csrf), ("decision", decision)],
        )
        .await
    }

    /// Drops a cookie, as a browser does when it expires.
    pub fn forget(&mut self, name: &str) {
        self.cookies.remove(name);
    }

    pub fn has_cookie(&self, name: &str) -> bool {
        self.cookies.contains_key(name)
    }

    /// The value of a cookie the browser holds.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }
}
