//! The docs explorer at `/docs`: poem-openapi's bundled Swagger UI, with
//! its OAuth set up for this server. The bundled page does not turn PKCE
//! on, and this server requires PKCE of public clients such as the
//! explorer, so the page is served with `initOAuth` added.

use poem::endpoint::make_sync;
use poem::web::Html;
use poem::{Endpoint, Route};
use poem_openapi::{OpenApi, OpenApiService, Webhook};

use crate::demo::DEMO_CLIENT_ID;

/// Where the bundled page ends its `SwaggerUIBundle({...})` call.
const BUNDLE_CALL_END: &str = "        deepLinking: true,\n    })";

pub fn routes<T: OpenApi + 'static, W: Webhook + 'static>(
    api: &OpenApiService<T, W>,
) -> impl Endpoint + 'static {
    let html = with_oauth(&api.swagger_ui_html());
    // The bundled endpoint still serves `/oauth-receiver.html`, where the
    // authorization server sends the browser back with the code.
    let bundled = api.swagger_ui();
    Route::new()
        .at("/", make_sync(move |_| Html(html.clone())))
        .at("/oauth-receiver.html", bundled)
}

/// Adds `.initOAuth(...)` to the bundled page: the demo's first-party
/// client id and PKCE (S256) for the authorization code flow.
pub fn with_oauth(html: &str) -> String {
    let init = format!(
        "        deepLinking: true,\n        persistAuthorization: true,\n    }}).initOAuth({{\n        clientId: \"{DEMO_CLIENT_ID}\",\n        usePkceWithAuthorizationCodeGrant: true,\n        scopes: \"blog:read blog:write\",\n    }})"
    );
    html.replacen(BUNDLE_CALL_END, &init, 1)
}
