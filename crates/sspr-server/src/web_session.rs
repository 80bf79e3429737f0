//! Sessions of the web pages ("My security info", the console) kept in the store, so any
//! process on a shared database serves them and a restart signs nobody out (issue 17).
//!
//! A session is a value of the page's own type, serialised to JSON and sealed with the
//! server key (AES-256-GCM, `ServerKey::seal`) under the keyed hash of the cookie, which
//! is also the row's id: the store never holds a value a browser could present, nor
//! anything of what the session holds (a code's hash, an authenticator secret waiting for
//! its first code, a passkey check under way, which webauthn-rs serialises only when told
//! it is kept on the server, as here). A sealed session moved to another row doesn't open.

use std::marker::PhantomData;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::secret::ServerKey;
use crate::store::{SessionChanged, Store, StoreError, StoreResult};

/// A page's session as it is kept.
pub trait Kept: Serialize + DeserializeOwned {
    /// Which page's: "my" or "console" (the store's `kind`).
    const KIND: &'static str;
    /// When it ends (not alive from then on).
    fn ends_at(&self) -> i64;
}

/// The sessions of one page.
pub struct WebSessions<S> {
    store: Store,
    key: Arc<ServerKey>,
    kept: PhantomData<fn() -> S>,
}

impl<S> Clone for WebSessions<S> {
    fn clone(&self) -> Self {
        WebSessions {
            store: self.store.clone(),
            key: self.key.clone(),
            kept: PhantomData,
        }
    }
}

const PURPOSE: &str = "web-session";

fn encode<S: Kept>(session: &S) -> StoreResult<Zeroizing<String>> {
    serde_json::to_string(session)
        .map(Zeroizing::new)
        .map_err(|e| StoreError::Other(format!("keeping a {} session: {e}", S::KIND)))
}

impl<S: Kept> WebSessions<S> {
    pub fn new(store: Store, key: Arc<ServerKey>) -> Self {
        WebSessions {
            store,
            key,
            kept: PhantomData,
        }
    }

    /// The row of a cookie: its keyed hash, under the page's own label.
    fn id(&self, cookie: &str) -> String {
        self.key
            .mac_hex(&format!("{}-session", S::KIND), &[cookie.as_bytes()])
    }

    /// The session sealed under `id`, opened; None for data this key didn't seal for
    /// this row (another server key, a row moved) or that no longer reads as a session.
    fn open(&self, id: &str, sealed: &str) -> Option<(S, Zeroizing<String>)> {
        let plain: SecretString = self.key.open(PURPOSE, id, sealed)?;
        let json = Zeroizing::new(plain.expose_secret().to_string());
        match serde_json::from_str(&json) {
            Ok(session) => Some((session, json)),
            Err(e) => {
                tracing::warn!(kind = S::KIND, error = %e, "a kept session doesn't read; it is ended");
                None
            }
        }
    }

    pub async fn insert(&self, cookie: &str, session: &S) -> StoreResult<()> {
        let id = self.id(cookie);
        let json = encode(session)?;
        let sealed = self.key.seal(PURPOSE, &id, &json);
        self.store
            .put_session(&id, S::KIND, &sealed, session.ends_at())
            .await
    }

    /// Ends the session of `cookie`, returning it if it was alive at `now`.
    pub async fn remove(&self, cookie: &str, now: i64) -> StoreResult<Option<S>> {
        let id = self.id(cookie);
        let sealed = self.store.take_session(&id, S::KIND, now).await?;
        Ok(sealed.and_then(|sealed| self.open(&id, &sealed).map(|(s, _)| s)))
    }

    /// Runs `f` on the session of `cookie` alive at `now` (None when there is none) and
    /// keeps what it changed, in one transaction: two requests of one session, on one
    /// process or two, take turns.
    pub async fn with<T>(
        &self,
        cookie: &str,
        now: i64,
        f: impl FnOnce(&mut S) -> T,
    ) -> StoreResult<Option<T>> {
        let id = self.id(cookie);
        let outcome = self
            .store
            .change_session(&id, S::KIND, now, |sealed| {
                let Some((mut session, before)) = self.open(&id, sealed) else {
                    return (Ok(None), None);
                };
                let value = f(&mut session);
                let after = match encode(&session) {
                    Ok(after) => after,
                    Err(e) => return (Err(e), None),
                };
                let changed: SessionChanged = (*after != *before)
                    .then(|| (self.key.seal(PURPOSE, &id, &after), session.ends_at()));
                (Ok(Some(value)), changed)
            })
            .await?;
        outcome.unwrap_or(Ok(None))
    }
}

/// Serialises an `Option<SecretString>` (a session's authenticator secret, sealed with
/// the rest): secrecy deserialises one but won't serialise it unasked.
pub fn serialize_secret<S: serde::Serializer>(
    value: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value
        .as_ref()
        .map(|v| v.expose_secret())
        .serialize(serializer)
}
