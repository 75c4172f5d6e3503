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
use poem::http::header::CONTENT_TYPE;
use poem::{Endpoint, EndpointExt, Request, Response, Route};

use crate::config::Settings;
use crate::demo::DEMO_CLIENT_ID;

/// Where the bundled page ends its `SwaggerUIBundle({...})` call.
const BUNDLE_CALL_END: &str = "        deepLinking: true,\n    })";

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
            Bytes::from(with_oauth(
                &super::service(&self.settings).swagger_ui_html(),
            ))
        });
        Ok(Response::builder()
            .header(CONTENT_TYPE, "text/html; charset=utf-8")
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
        bundled.call(req).await
    }
}

/// Adds `.initOAuth(...)` to the bundled page: the demo's first-party
/// client id and PKCE (S256) for the authorization code flow.
pub fn with_oauth(html: &str) -> String {
    let init = format!(
        "        deepLinking: true,\n        persistAuthorization: true,\n    }}).initOAuth({{\n        clientId: \"{DEMO_CLIENT_ID}\",\n        usePkceWithAuthorizationCodeGrant: true,\n        scopes: \"blog:read blog:write\",\n    }})"
    );
    html.replacen(BUNDLE_CALL_END, &init, 1)
}
