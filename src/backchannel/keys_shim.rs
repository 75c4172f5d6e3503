//! TEMPORARY, until branch oidc-keys (which adds `KeySet::current_for`)
//! is merged: the same call, answered by the one ES256 key there is now.
//! Remove this file and its `use` once the inherent method exists.

use std::sync::Arc;

use jsonwebtoken::Algorithm;

use crate::secrets::signing_keys::{KeySet, LoadedKey};

pub trait CurrentFor {
    fn current_for(&self, alg: Algorithm) -> Option<&Arc<LoadedKey>>;
}

impl CurrentFor for KeySet {
    fn current_for(&self, alg: Algorithm) -> Option<&Arc<LoadedKey>> {
        (self.current().algorithm == alg).then(|| self.current())
    }
}
