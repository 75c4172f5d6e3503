//! The docs explorer at `/docs`: poem-openapi's bundled Swagger UI, with
//! its OAuth set up for this server. The bundled page does not turn PKCE
//! on, and this server requires PKCE of public clients such as the
//! explorer, so the page is served with `initOAuth` added.
//!
//! The page embeds 1.5 MB of Swagger UI; it is built on the first visit,
//! not at start-up, so a server nobody browses stays small.

use std::sync::OnceLock;

use bytes::Bytes;
use poem::endpoint::BoxEndpoint;
use poem::http::HeaderValue;
use poem::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_FRAME_OPTIONS};
use poem::{Endpoint, EndpointExt, Request, Response, Route};

use crate::config::Settings;

/// The explorer's OAuth client: public and first-party, registered by
/// `serve --demo` under this id.
pub const EXPLORER_CLIENT_ID: &str = "tollgate-docs-explorer";

/// The explorer's pages run Swagger UI's inline script and styles; they may
/// talk to this server only, load nothing from elsewhere, and never be
/// framed.
const EXPLORER_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'self'";

/// Where the bundled page ends its `SwaggerUIBundle({...})` call.
const BUNDLE_CALL_END: &str = "        deepLinking: true,\n    })";

/// The bundled page's redirect URI: the page's URL up to any `?`, plus
/// `/oauth-receiver.html`. With `deepLinking` the page's URL often ends in
/// a `#/Tag/operation` fragment, which would end up inside the redirect URI
/// (`/docs#/Posts/list_posts/oauth-receiver.html`), so the registered one
/// would not match and authorization would stop at our error page.
const BUNDLE_REDIRECT: &str = "        oauth2RedirectUrl: oauth2RedirectUrl,\n";

/// The page's own path without query or fragment, so the redirect URI is
/// always `{issuer}/docs/oauth-receiver.html`, the one `serve --demo`
/// registers.
const REDIRECT: &str = "        oauth2RedirectUrl: window.location.origin\n            + window.location.pathname.replace(/\\/*$/, \"/\") + \"oauth-receiver.html\",\n";

/// The bundled page has no doctype, so browsers lay it out in quirks mode.
const BUNDLE_HTML_START: &str = "<html charset=\"UTF-8\">";
const HTML_START: &str = "<!DOCTYPE html>\n<html lang=\"en\">";

/// Without a viewport a phone lays the page out 980 px wide and shrinks it.
/// The empty icon spares the browser a `/favicon.ico` that is not there
/// (a 404 in its console).
const BUNDLE_HEAD_END: &str = "    <title>Swagger UI</title>\n";
const HEAD_END: &str = concat!(
    "    <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n",
    "    <title>Tollgate API docs</title>\n",
    "    <link rel=\"icon\" href=\"data:,\">\n",
    "    <style>",
    include_str!("explorer.css"),
    "</style>\n",
);

pub fn routes(settings: &Settings) -> Route {
    Route::new()
        .at(
            "/",
            Page {
                settings: settings.clone(),
                html: OnceLock::new(),
            },
        )
        // The bundled endpoint serves `/oauth-receiver.html`, where the
        // authorization server sends the browser back with the code.
        .at(
            "/oauth-receiver.html",
            Receiver {
                settings: settings.clone(),
                bundled: OnceLock::new(),
            },
        )
}

struct Page {
    settings: Settings,
    html: OnceLock<Bytes>,
}

impl Endpoint for Page {
    type Output = Response;

    async fn call(&self, _req: Request) -> poem::Result<Response> {
        let html = self.html.get_or_init(|| {
            Bytes::from(customize(&super::service(&self.settings).swagger_ui_html()))
        });
        Ok(Response::builder()
            .header(CONTENT_TYPE, "text/html; charset=utf-8")
            .header(CONTENT_SECURITY_POLICY, EXPLORER_CSP)
            .header(X_FRAME_OPTIONS, "DENY")
            .body(html.clone()))
    }
}

struct Receiver {
    settings: Settings,
    bundled: OnceLock<BoxEndpoint<'static>>,
}

impl Endpoint for Receiver {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let bundled = self.bundled.get_or_init(|| {
            super::service(&self.settings)
                .swagger_ui()
                .map_to_response()
                .boxed()
        });
        let mut resp = bundled.call(req).await?;
        let headers = resp.headers_mut();
        headers.insert(
            CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(EXPLORER_CSP),
        );
        headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        Ok(resp)
    }
}

/// Turns the bundled page into ours: a doctype, a viewport, our title and
/// styles for narrow screens; `.initOAuth(...)` with the demo's
/// first-party client id and PKCE (S256) for the authorization code flow;
/// and a redirect URI that ignores the page's fragment.
pub fn customize(html: &str) -> String {
    let init = format!(
        "        deepLinking: true,\n        persistAuthorization: true,\n    }}).initOAuth({{\n        clientId: \"{EXPLORER_CLIENT_ID}\",\n        usePkceWithAuthorizationCodeGrant: true,\n        scopes: \"blog:read blog:write\",\n    }})"
    );
    html.replacen(BUNDLE_HTML_START, HTML_START, 1)
        .replacen(BUNDLE_HEAD_END, HEAD_END, 1)
        .replacen(BUNDLE_CALL_END, &init, 1)
        .replacen(BUNDLE_REDIRECT, REDIRECT, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// Run against poem-openapi's real page, so a change to its template
    /// that makes a replacement miss fails here.
    #[test]
    fn the_page_gets_pkce_and_a_redirect_without_the_fragment() {
        let settings = Settings::for_tests("sqlite://unused.db");
        let html = customize(&crate::api::service(&settings).swagger_ui_html());
        assert!(html.contains(".initOAuth({"), "initOAuth added");
        assert!(html.contains("usePkceWithAuthorizationCodeGrant: true"));
        assert!(html.contains(&format!("clientId: \"{EXPLORER_CLIENT_ID}\"")));
        assert!(
            !html.contains(BUNDLE_REDIRECT),
            "the bundled redirect is replaced"
        );
        assert!(html.contains(REDIRECT));
    }

    #[test]
    fn the_page_is_a_standards_mode_page_for_phones_named_after_tollgate() {
        let settings = Settings::for_tests("sqlite://unused.db");
        let html = customize(&crate::api::service(&settings).swagger_ui_html());
        assert!(html.trim_start().starts_with(HTML_START), "doctype first");
        assert!(html.contains(HEAD_END), "viewport, title and styles");
        assert!(!html.contains("<title>Swagger UI</title>"));
    }
}
