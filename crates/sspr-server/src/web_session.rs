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
use crate::store::{SessionChanged, SessionRow, Store, StoreError, StoreResult};

/// A page's session as it is kept.
pub trait Kept: Serialize + DeserializeOwned {
    /// Which page's: "my" or "console" (the store's `kind`).
    const KIND: &'static str;
    /// When it ends (not alive from then on).
    fn ends_at(&self) -> i64;
    /// Whom it belongs to (an approval's flow).
    fn owner(&self) -> Option<&str> {
        None
    }
    /// When something is due to happen to it unasked (`WebSessions::due`).
    fn due_at(&self) -> Option<i64> {
        None
    }
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

/// The row that keeps `session`, its JSON sealed under `id`.
fn row_of<S: Kept>(key: &ServerKey, id: &str, session: &S, json: &str) -> SessionRow {
    SessionRow {
        owner: session.owner().map(str::to_string),
        data: key.seal(PURPOSE, id, json),
        expires_at: session.ends_at(),
        due_at: session.due_at(),
    }
}

impl<S: Kept> WebSessions<S> {
    pub fn new(store: Store, key: Arc<ServerKey>) -> Self {
        WebSessions {
            store,
            key,
            kept: PhantomData,
        }
    }

    /// The row of a cookie (or token): its keyed hash, under the page's own label.
    pub fn id(&self, cookie: &str) -> String {
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
                // Its category and place only: serde's message may quote a secret.
                tracing::warn!(
                    kind = S::KIND,
                    error = ?e.classify(),
                    line = e.line(),
                    column = e.column(),
                    "a kept session doesn't read; it is ended"
                );
                None
            }
        }
    }

    pub async fn insert(&self, cookie: &str, session: &S) -> StoreResult<()> {
        self.put(cookie, session, false).await
    }

    /// Keeps `session`, ending its owner's others of this kind in the same transaction.
    pub async fn insert_alone(&self, cookie: &str, session: &S) -> StoreResult<()> {
        self.put(cookie, session, true).await
    }

    async fn put(&self, cookie: &str, session: &S, alone: bool) -> StoreResult<()> {
        let id = self.id(cookie);
        let json = encode(session)?;
        let row = row_of(&self.key, &id, session, &json);
        self.store.put_session(&id, S::KIND, &row, alone).await
    }

    /// Ends the session of `cookie`, returning it if it was alive at `now`.
    pub async fn remove(&self, cookie: &str, now: i64) -> StoreResult<Option<S>> {
        self.remove_id(&self.id(cookie), now).await
    }

    /// `remove`, by the row's id.
    pub async fn remove_id(&self, id: &str, now: i64) -> StoreResult<Option<S>> {
        let sealed = self.store.take_session(id, S::KIND, now).await?;
        Ok(sealed.and_then(|sealed| self.open(id, &sealed).map(|(s, _)| s)))
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
        self.with_id(&self.id(cookie), now, f).await
    }

    /// `with`, by the row's id.
    pub async fn with_id<T>(
        &self,
        id: &str,
        now: i64,
        f: impl FnOnce(&mut S) -> T,
    ) -> StoreResult<Option<T>> {
        let outcome = self
            .store
            .change_session(id, S::KIND, now, |sealed| {
                let Some((mut session, before)) = self.open(id, sealed) else {
                    return (Ok(None), None);
                };
                let value = f(&mut session);
                let after = match encode(&session) {
                    Ok(after) => after,
                    Err(e) => return (Err(e), None),
                };
                let changed: SessionChanged =
                    (*after != *before).then(|| row_of(&self.key, id, &session, &after));
                (Ok(Some(value)), changed)
            })
            .await?;
        outcome.unwrap_or(Ok(None))
    }

    /// The ids of the sessions something is due to happen to at `now`.
    pub async fn due(&self, now: i64) -> StoreResult<Vec<String>> {
        self.store.due_sessions(S::KIND, now).await
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
