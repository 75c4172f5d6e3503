//! `/openapi.json` as the server behaves: poem-openapi's document, plus
//! what the layers around the handlers answer and the rules the domain
//! types enforce, and the `Allow` header that the document implies.

use std::sync::Arc;

use poem::http::header::ALLOW;
use poem::http::{HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use serde_json::{Value, json};

use super::{MAX_BODY_BYTES, models, service};
use crate::config::Settings;

/// The document served at `/openapi.json`. Beyond poem-openapi's own:
/// - 413 from `limit_body` on every operation under `/api`, and 415 from
///   poem-openapi's content-type check on those that take a body (a
///   handler's own answers are in its signature, `Result<_, ApiError>`);
/// - the patterns of `PostInput`'s title and body, which `PostTitle` and
///   `PostBody` enforce with a 422 that names the field. As validators
///   they would turn that into poem-openapi's 400 `verification failed`.
pub fn spec_json(settings: &Settings) -> String {
    let spec = service(settings).spec();
    let Ok(mut doc) = serde_json::from_str::<Value>(&spec) else {
        // poem-openapi wrote it with serde_json; cannot happen.
        return spec;
    };
    add_layer_answers(&mut doc);
    let input = &mut doc["components"]["schemas"]["PostInput"]["properties"];
    if input.is_object() {
        input["title"]["pattern"] = json!(models::TITLE_PATTERN);
        input["body"]["pattern"] = json!(models::BODY_PATTERN);
    }
    doc.to_string()
}

fn add_layer_answers(doc: &mut Value) {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": {"application/problem+json": {
                "schema": {"$ref": "#/components/schemas/Problem"}
            }}
        })
    };
    let too_large = problem(&format!(
        "The request body is larger than {} KiB.",
        MAX_BODY_BYTES / 1024
    ));
    let wrong_type = problem("The request body is not `application/json`.");
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (_, item) in paths
        .iter_mut()
        .filter(|(path, _)| path.starts_with("/api/"))
    {
        for operation in item
            .as_object_mut()
            .into_iter()
            .flat_map(|m| m.values_mut())
        {
            let takes_body = operation.get("requestBody").is_some();
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            responses.insert("413".to_owned(), too_large.clone());
            if takes_body {
                responses.insert("415".to_owned(), wrong_type.clone());
            }
        }
    }
}

/// The methods of each path template of the document, for the `Allow`
/// header of a 405 (RFC 9110 §15.5.6), which poem's router leaves out.
pub struct AllowedMethods(Vec<(Vec<String>, HeaderValue)>);

impl AllowedMethods {
    pub fn from_spec(doc: &str) -> Self {
        let doc: Value = serde_json::from_str(doc).unwrap_or_default();
        let paths = doc["paths"].as_object().into_iter().flatten();
        Self(
            paths
                .filter_map(|(template, item)| {
                    let methods: Vec<String> = item
                        .as_object()?
                        .keys()
                        .map(|m| m.to_ascii_uppercase())
                        .collect();
                    let value = HeaderValue::from_str(&methods.join(", ")).ok()?;
                    Some((segments(template), value))
                })
                .collect(),
        )
    }

    fn for_path(&self, path: &str) -> Option<&HeaderValue> {
        let path = segments(path);
        self.0
            .iter()
            .find(|(template, _)| {
                template.len() == path.len()
                    && template
                        .iter()
                        .zip(&path)
                        .all(|(t, p)| t.starts_with('{') || t == p)
            })
            .map(|(_, methods)| methods)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_matches('/')
        .split('/')
        .map(str::to_owned)
        .collect()
}

/// Adds `Allow` to a 405.
pub async fn add_allow<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let mut resp = next.call(req).await?.into_response();
    if resp.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allowed.for_path(&path)
    {
        resp.headers_mut().insert(ALLOW, methods.clone());
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::pagination;

    fn doc() -> Value {
        let text = spec_json(&Settings::for_tests("sqlite://unused.db"));
        serde_json::from_str(&text).expect("json")
    }

    #[test]
    fn the_documented_cursor_pattern_is_the_one_the_cursors_follow() {
        let doc = doc();
        let params = &doc["paths"]["/api/v1/posts"]["get"]["parameters"];
        let cursor = params
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "cursor"))
            .expect("a cursor parameter");
        assert_eq!(cursor["schema"]["pattern"], pagination::PATTERN);
    }

    #[test]
    fn a_path_finds_the_methods_of_its_template() {
        let allowed = AllowedMethods::from_spec(&doc().to_string());
        let methods = |path| {
            allowed
                .for_path(path)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        assert_eq!(methods("/api/v1/posts").as_deref(), Some("GET, POST"));
        assert_eq!(
            methods("/api/v1/posts/3f2b8c1e-9a4d-4c6b-8e2f-1a2b3c4d5e6f").as_deref(),
            Some("DELETE, GET, PUT")
        );
        assert_eq!(methods("/api/v1/nothing"), None);
    }
}
