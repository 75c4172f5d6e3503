use std::collections::BTreeSet;
use std::fmt;

use super::ValidationError;

/// A scope Tollgate knows (RFC 6749 §3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    BlogRead,
    BlogWrite,
    BlogAdmin,
    /// OIDC Core §3.1.2.1: makes the request an OpenID Connect one.
    OpenId,
    /// OIDC Core §5.4: `preferred_username`, `name`, `updated_at`.
    Profile,
    /// OIDC Core §5.4: `email`, `email_verified`.
    Email,
    /// OIDC Core §11: a refresh token that outlives the browser session.
    OfflineAccess,
    /// The admin API. Held by API keys an operator makes and by
    /// first-party clients acting for themselves (client credentials),
    /// never granted in a person's sign-in.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::BlogRead,
        Scope::BlogWrite,
        Scope::BlogAdmin,
        Scope::OpenId,
        Scope::Profile,
        Scope::Email,
        Scope::OfflineAccess,
        Scope::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::BlogRead => "blog:read",
            Self::BlogWrite => "blog:write",
            Self::BlogAdmin => "blog:admin",
            Self::OpenId => "openid",
            Self::Profile => "profile",
            Self::Email => "email",
            Self::OfflineAccess => "offline_access",
            Self::Admin => "admin",
        }
    }

    /// Scopes about the person rather than the blog API: an API key, which
    /// reads no identity, may not hold them.
    pub fn is_identity(self) -> bool {
        matches!(
            self,
            Self::OpenId | Self::Profile | Self::Email | Self::OfflineAccess
        )
    }

    /// The sentence a person reads on the consent page.
    pub fn description(self) -> &'static str {
        match self {
            Self::BlogRead => "Read blog posts, including your drafts",
            Self::BlogWrite => "Create, edit and delete your blog posts",
            Self::BlogAdmin => "Edit and delete anyone's blog posts",
            Self::OpenId => "Know who you are: sign you in with your Tollgate account",
            Self::Profile => "See your username and name",
            Self::Email => "See your email address",
            Self::OfflineAccess => "Keep this access after you sign out, until you revoke it",
            Self::Admin => "Administer this server: users, apps, keys and sessions",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| {
                ValidationError::new(format!("unknown scope '{s}' (known: {})", ScopeSet::all()))
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes; written space-delimited as RFC 6749 §3.3 says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(BTreeSet<Scope>);

impl ScopeSet {
    pub fn all() -> Self {
        Self(Scope::ALL.into_iter().collect())
    }

    /// What `client create` allows without `--scope`: everything but
    /// `blog:admin` and `offline_access`, which must be named.
    pub fn client_default() -> Self {
        Self(
            [
                Scope::BlogRead,
                Scope::BlogWrite,
                Scope::OpenId,
                Scope::Profile,
                Scope::Email,
            ]
            .into_iter()
            .collect(),
        )
    }

    /// What a person's sign-in may be granted of these: all but `admin`.
    pub fn for_people(&self) -> Self {
        Self(
            self.0
                .iter()
                .copied()
                .filter(|s| *s != Scope::Admin)
                .collect(),
        )
    }

    /// Parses a space-delimited list; an unknown scope is an error.
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        s.split(' ')
            .filter(|part| !part.is_empty())
            .map(Scope::parse)
            .collect::<Result<BTreeSet<_>, _>>()
            .map(Self)
    }

    /// Parses one scope per item (as the command line gives them); each
    /// item may itself be space-delimited.
    pub fn parse_list<S: AsRef<str>>(items: &[S]) -> Result<Self, ValidationError> {
        let mut set = BTreeSet::new();
        for item in items {
            set.extend(Self::parse(item.as_ref())?.0);
        }
        Ok(Self(set))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// These scopes minus `other`'s.
    pub fn without(&self, other: &ScopeSet) -> ScopeSet {
        Self(self.0.difference(&other.0).copied().collect())
    }

    pub fn is_subset(&self, other: &ScopeSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

impl fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in &self.0 {
            if !first {
                f.write_str(" ")?;
            }
            first = false;
            f.write_str(scope.as_str())?;
        }
        Ok(())
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        Self(iter.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_space_delimited_list_round_trips_in_a_stable_order() {
        let set = ScopeSet::parse("blog:write  blog:read").expect("valid");
        assert_eq!(set.to_string(), "blog:read blog:write");
        assert!(set.contains(Scope::BlogRead));
        assert!(!set.contains(Scope::BlogAdmin));
    }

    #[test]
    fn an_unknown_scope_is_named_in_the_error() {
        let err = ScopeSet::parse("blog:read blog:delete").expect_err("unknown");
        assert!(err.0.contains("blog:delete"));
    }

    #[test]
    fn the_client_default_leaves_out_admin_and_offline_access() {
        let set = ScopeSet::client_default();
        assert_eq!(set.to_string(), "blog:read blog:write openid profile email");
        assert!(!set.contains(Scope::OfflineAccess));
        assert!(Scope::parse("offline_access").expect("known").is_identity());
    }

    #[test]
    fn list_items_may_hold_several_scopes() {
        let set = ScopeSet::parse_list(&["blog:read blog:write", "blog:admin"]).expect("valid");
        assert_eq!(set.to_string(), "blog:read blog:write blog:admin");
    }
}
