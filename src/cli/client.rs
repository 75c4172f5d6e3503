use std::io::Write;

use clap::Subcommand;

use super::Ctx;
use super::output::{self, ClientDetailJson, ClientJson};
use crate::domain::Client;
use crate::manage::{self, ClientRequest, ClientUpdate};

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; a confidential client's secret is shown once
    Create {
        /// A name people see on the consent page
        #[arg(long)]
        name: String,
        /// Exact redirect URI (repeat or list several)
        #[arg(long = "redirect-uri", value_name = "URI", num_args = 1..)]
        redirect_uris: Vec<String>,
        /// A public client (no secret; must use PKCE)
        #[arg(long)]
        public: bool,
        /// Scopes it may ask for: blog:read, blog:write, blog:admin, openid,
        /// profile, email, offline_access, admin (first-party only)
        /// [default: blog:read blog:write openid profile email]
        #[arg(long = "scope", value_name = "S", num_args = 1..)]
        scopes: Vec<String>,
        /// Grants it may use: authorization_code, refresh_token,
        /// client_credentials, password (first-party only) [default:
        /// authorization_code refresh_token]
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
        /// Print one JSON object: client_id, client_secret, redirect_uris, scopes, grants
        #[arg(long)]
        json: bool,
    },
    /// List clients
    List {
        /// Print a JSON array of clients
        #[arg(long)]
        json: bool,
    },
    /// Show one client's settings (never its secret)
    Get {
        /// The client's id
        client_id: String,
        /// Print one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Change a client's settings; what is not given stays as it is
    Update {
        /// The client's id
        client_id: String,
        /// A name people see on the consent page
        #[arg(long)]
        name: Option<String>,
        /// Replace the redirect URIs (repeat or list several)
        #[arg(long = "redirect-uri", value_name = "URI", num_args = 1..)]
        redirect_uris: Option<Vec<String>>,
        /// Replace the scopes it may ask for: blog:read, blog:write,
        /// blog:admin, openid, profile, email, offline_access, admin
        /// (first-party only)
        #[arg(long = "scope", value_name = "S", num_args = 1..)]
        scopes: Option<Vec<String>>,
        /// Replace the grants it may use: authorization_code, refresh_token,
        /// client_credentials, password (first-party only)
        #[arg(long = "grant", value_name = "G", num_args = 1..)]
        grants: Option<Vec<String>>,
        /// Whether it is a first-party client (no consent page)
        #[arg(long, value_name = "true|false")]
        first_party: Option<bool>,
        /// Whether it may introspect tokens issued to other clients
        #[arg(long, value_name = "true|false")]
        introspect: Option<bool>,
        /// How its OpenID Connect ID tokens are signed
        #[arg(long, value_name = "RS256|ES256")]
        id_token_alg: Option<String>,
        /// Replace where signing out may send the person back to
        #[arg(long = "post-logout-redirect-uri", value_name = "URI", num_args = 1..)]
        post_logout_redirect_uris: Option<Vec<String>>,
        /// Where back-channel logout tokens are POSTed; "" removes it
        #[arg(long, value_name = "URI")]
        backchannel_logout_uri: Option<String>,
        /// Print the updated client as one JSON object
        #[arg(long)]
        json: bool,
    },
    /// Delete a client; every token it holds stops working
    Delete {
        /// The client's id
        client_id: String,
        /// Print one JSON object: {"client_id", "deleted": true}
        #[arg(long)]
        json: bool,
    },
    /// Give a confidential client a new secret (shown once); the old one stops working
    RotateSecret {
        /// The client's id
        client_id: String,
        /// Print one JSON object: {"client_id", "client_secret"}
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Ctx<'_>, cmd: ClientCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let fx = ctx.effects();
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
            let created = manage::create_client(fx.db, req, fx.now).await?;
            let client = &created.client;
            fx.audit(
                crate::metrics::SecurityEvent::AdminAction,
                "client.create",
                &format!("client {} ({})", client.id, client.name),
            );
            let secret = created.secret.as_ref().map(|s| s.secret());
            if json {
                let redirect_uris = output::uris(&client.redirect_uris);
                return output::print_json(
                    out,
                    &ClientJson {
                        client_id: &client.id,
                        client_secret: secret,
                        redirect_uris: &redirect_uris,
                        scopes: client.scopes.to_vec(),
                        grants: client.grants.to_vec(),
                    },
                );
            }
            writeln!(out, "client_id:     {}", client.id)?;
            match secret {
                Some(s) => writeln!(
                    out,
                    "client_secret: {s}\n(shown once; only its hash is stored)"
                )?,
                None => writeln!(out, "public client: no secret; PKCE (S256) is required")?,
            }
            print_settings(out, client)
        }
        ClientCommand::List { json } => {
            let clients = crate::store::clients::list(fx.db).await?;
            if json {
                let rows: Vec<ClientDetailJson> =
                    clients.iter().map(ClientDetailJson::from).collect();
                return output::print_json(out, &rows);
            }
            writeln!(
                out,
                "{:<36}  {:<12}  {:<24}  GRANTS",
                "CLIENT_ID", "TYPE", "NAME"
            )?;
            for c in clients {
                writeln!(
                    out,
                    "{:<36}  {:<12}  {:<24}  {}",
                    c.id,
                    kind(&c),
                    c.name,
                    c.grants
                )?;
            }
            Ok(())
        }
        ClientCommand::Get { client_id, json } => {
            let client = manage::clients::find(&fx, &client_id).await?;
            if json {
                return output::print_json(out, &ClientDetailJson::from(&client));
            }
            writeln!(out, "client_id:     {}", client.id)?;
            writeln!(out, "name:          {}", client.name)?;
            writeln!(out, "type:          {}", kind(&client))?;
            writeln!(out, "first_party:   {}", client.first_party)?;
            writeln!(out, "introspect:    {}", client.can_introspect)?;
            writeln!(out, "created_at:    {}", output::time(client.created_at))?;
            print_settings(out, &client)
        }
        ClientCommand::Update {
            client_id,
            name,
            redirect_uris,
            scopes,
            grants,
            first_party,
            introspect,
            id_token_alg,
            post_logout_redirect_uris,
            backchannel_logout_uri,
            json,
        } => {
            let update = ClientUpdate {
                name,
                scopes,
                redirect_uris,
                grants,
                first_party,
                introspect,
                id_token_alg,
                post_logout_redirect_uris,
                backchannel_logout_uri: backchannel_logout_uri
                    .map(|u| Some(u).filter(|u| !u.trim().is_empty())),
            };
            let client = manage::clients::update(&fx, &client_id, update).await?;
            if json {
                return output::print_json(out, &ClientDetailJson::from(&client));
            }
            writeln!(out, "updated client {} ({})", client.id, client.name)?;
            print_settings(out, &client)?;
            writeln!(
                out,
                "running servers use the new settings within {} seconds",
                crate::state::CLIENT_CACHE_TTL.as_secs()
            )?;
            Ok(())
        }
        ClientCommand::Delete { client_id, json } => {
            manage::clients::delete(&fx, &client_id).await?;
            if json {
                return output::print_json(
                    out,
                    &serde_json::json!({ "client_id": client_id, "deleted": true }),
                );
            }
            writeln!(
                out,
                "deleted client {client_id}; its tokens are refused from now on"
            )?;
            Ok(())
        }
        ClientCommand::RotateSecret { client_id, json } => {
            let secret = manage::clients::rotate_secret(&fx, &client_id).await?;
            if json {
                return output::print_json(
                    out,
                    &serde_json::json!({ "client_id": client_id, "client_secret": secret.secret() }),
                );
            }
            writeln!(out, "client_id:     {client_id}")?;
            writeln!(
                out,
                "client_secret: {}\n(shown once; only its hash is stored; the old secret no longer works)",
                secret.secret()
            )?;
            Ok(())
        }
    }
}

fn kind(client: &Client) -> &'static str {
    if client.is_public() {
        "public"
    } else {
        "confidential"
    }
}

fn print_settings(out: &mut dyn Write, client: &Client) -> anyhow::Result<()> {
    writeln!(
        out,
        "redirect_uris: {}",
        output::uris(&client.redirect_uris).join(" ")
    )?;
    writeln!(out, "scopes:        {}", client.scopes)?;
    writeln!(out, "grants:        {}", client.grants)?;
    writeln!(out, "id_token_alg:  {}", client.id_token_alg)?;
    if !client.post_logout_redirect_uris.is_empty() {
        writeln!(
            out,
            "post_logout_redirect_uris: {}",
            output::uris(&client.post_logout_redirect_uris).join(" ")
        )?;
    }
    if let Some(uri) = &client.backchannel_logout_uri {
        writeln!(out, "backchannel_logout_uri: {}", uri.as_str())?;
    }
    Ok(())
}
