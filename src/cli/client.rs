use std::io::Write;

use clap::Subcommand;
use sea_orm::DatabaseConnection;
use serde::Serialize;

use super::output::{self, ClientJson};
use crate::clock::Clock;
use crate::manage::{self, ClientRequest};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is shown once
    Create {
        #[arg(long)]
        name: String,
        /// Exact redirect URI (repeat or list several)
        #[arg(long = "redirect-uri", value_name = "URI", num_args = 1..)]
        redirect_uris: Vec<String>,
        /// A public client (no secret; must use PKCE)
        #[arg(long)]
        public: bool,
        /// Scopes it may ask for: blog:read, blog:write, blog:admin, openid,
        /// profile, email, offline_access [default: blog:read blog:write
        /// openid profile email]
        #[arg(long = "scope", value_name = "S", num_args = 1..)]
        scopes: Vec<String>,
        /// Grants it may use [default: authorization_code refresh_token]
        #[arg(long = "grant", value_name = "G", num_args = 1..)]
        grants: Vec<String>,
        /// A first-party client: users are not asked for consent
        #[arg(long)]
        first_party: bool,
        /// A resource server: may introspect tokens issued to other clients
        #[arg(long)]
        introspect: bool,
        /// How its OpenID Connect ID tokens are signed
        #[arg(long, value_name = "RS256|ES256", default_value = "RS256")]
        id_token_alg: String,
        /// Where signing out may send the person back to (exact match)
        #[arg(long = "post-logout-redirect-uri", value_name = "URI", num_args = 1..)]
        post_logout_redirect_uris: Vec<String>,
        /// Where back-channel logout tokens are POSTed when a session ends
        #[arg(long, value_name = "URI")]
        backchannel_logout_uri: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List clients
    List {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(
    db: &DatabaseConnection,
    cmd: ClientCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match cmd {
        ClientCommand::Create {
            name,
            redirect_uris,
            public,
            scopes,
            grants,
            first_party,
            introspect,
            id_token_alg,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            json,
        } => {
            let req = ClientRequest {
                name,
                redirect_uris,
                public,
                scopes,
                grants,
                first_party,
                client_id: None,
                introspect,
                id_token_alg: Some(id_token_alg),
                post_logout_redirect_uris,
                backchannel_logout_uri,
            };
            let created = manage::create_client(db, req, Clock::default().now()).await?;
            let secret = created.secret.as_ref().map(|s| s.secret());
            let redirect_uris: Vec<String> = created
                .client
                .redirect_uris
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect();
            if json {
                return output::print_json(
                    out,
                    &ClientJson {
                        client_id: &created.client.id,
                        client_secret: secret,
                        redirect_uris: &redirect_uris,
                        scopes: created.client.scopes.to_vec(),
                        grants: created.client.grants.to_vec(),
                    },
                );
            }
            writeln!(out, "client_id:     {}", created.client.id)?;
            match secret {
                Some(s) => writeln!(
                    out,
                    "client_secret: {s}\n(shown once; only its hash is stored)"
                )?,
                None => writeln!(out, "public client: no secret; PKCE (S256) is required")?,
            }
            writeln!(out, "redirect_uris: {}", redirect_uris.join(" "))?;
            writeln!(out, "scopes:        {}", created.client.scopes)?;
            writeln!(out, "grants:        {}", created.client.grants)?;
            writeln!(out, "id_token_alg:  {}", created.client.id_token_alg)?;
            let post_logout: Vec<&str> = created
                .client
                .post_logout_redirect_uris
                .iter()
                .map(|u| u.as_str())
                .collect();
            if !post_logout.is_empty() {
                writeln!(out, "post_logout_redirect_uris: {}", post_logout.join(" "))?;
            }
            if let Some(uri) = &created.client.backchannel_logout_uri {
                writeln!(out, "backchannel_logout_uri: {}", uri.as_str())?;
            }
            Ok(())
        }
        ClientCommand::List { json } => {
            let clients = crate::store::clients::list(db).await?;
            if json {
                #[derive(Serialize)]
                struct Row<'a> {
                    client_id: &'a str,
                    name: &'a str,
                    public: bool,
                    first_party: bool,
                    introspect: bool,
                    redirect_uris: Vec<String>,
                    scopes: Vec<String>,
                    grants: Vec<String>,
                    id_token_alg: &'a str,
                    post_logout_redirect_uris: Vec<&'a str>,
                    backchannel_logout_uri: Option<&'a str>,
                    created_at: String,
                }
                let rows: Vec<Row> = clients
                    .iter()
                    .map(|c| Row {
                        client_id: &c.id,
                        name: &c.name,
                        public: c.is_public(),
                        first_party: c.first_party,
                        introspect: c.can_introspect,
                        redirect_uris: c
                            .redirect_uris
                            .iter()
                            .map(|u| u.as_str().to_owned())
                            .collect(),
                        scopes: c.scopes.to_vec(),
                        grants: c.grants.to_vec(),
                        id_token_alg: c.id_token_alg.as_str(),
                        post_logout_redirect_uris: c
                            .post_logout_redirect_uris
                            .iter()
                            .map(|u| u.as_str())
                            .collect(),
                        backchannel_logout_uri: c
                            .backchannel_logout_uri
                            .as_ref()
                            .map(|u| u.as_str()),
                        created_at: output::time(c.created_at),
                    })
                    .collect();
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<36}  {:<12}  {:<24}  GRANTS",
                "CLIENT_ID", "TYPE", "NAME"
            )?;
            for c in clients {
                let kind = if c.is_public() {
                    "public"
                } else {
                    "confidential"
                };
                writeln!(
                    out,
                    "{:<36}  {:<12}  {:<24}  {}",
                    c.id, kind, c.name, c.grants
                )?;
            }
            Ok(())
        }
    }
}
