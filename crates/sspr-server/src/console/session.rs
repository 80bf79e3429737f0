//! Console sessions, kept in the store (sealed, keyed by the keyed hash of the cookie's
//! value: `crate::web_session`), so any process serves them. A session is pending between
//! the password and the passkey, then active: 15 minutes idle, 8 hours at most.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sspr_proto::ConsoleRole;
use webauthn_rs::prelude::PasskeyAuthentication;

use crate::directory::DirUser;
use crate::secret::ServerKey;
use crate::store::{Store, StoreResult};
use crate::web_session::{Kept, WebSessions};

/// Idle seconds before a session ends.
pub const IDLE_SECS: i64 = 15 * 60;
/// A session ends this long after signing in, however busy.
pub const MAX_SECS: i64 = 8 * 3600;
/// A policy change wants the passkey checked within this many seconds.
pub const REAUTH_SECS: i64 = 5 * 60;
/// The passkey step must follow the password within this time.
pub const PENDING_SECS: i64 = 5 * 60;

/// Who passed the password step, if anyone: None for a wrong password, a login nobody
/// has, someone in no console group or without a passkey. Their passkey step is answered
/// exactly as anyone else's failure.
#[derive(Serialize, Deserialize)]
pub(super) struct Candidate {
    pub user: DirUser,
    pub roles: Vec<ConsoleRole>,
    pub auth: PasskeyAuthentication,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Pending {
    pub login: String,
    pub throttle: (String, String),
    pub candidate: Option<Candidate>,
    pub expires_at: i64,
}

#[derive(Serialize, Deserialize)]
pub(super) struct Active {
    pub user: DirUser,
    pub roles: Vec<ConsoleRole>,
    pub csrf: String,
    pub signed_in_at: i64,
    pub last_used_at: i64,
    pub passkey_at: i64,
    /// A passkey check asked for again (before a policy change), under way.
    pub reauth: Option<PasskeyAuthentication>,
}

impl Active {
    pub fn idle_expires_at(&self) -> i64 {
        (self.last_used_at + IDLE_SECS).min(self.ends_at())
    }

    pub fn ends_at(&self) -> i64 {
        self.signed_in_at + MAX_SECS
    }
}

#[derive(Serialize, Deserialize)]
pub(super) enum Session {
    Pending(Pending),
    Active(Active),
}

impl Kept for Session {
    const KIND: &'static str = "console";
    fn ends_at(&self) -> i64 {
        match self {
            Session::Pending(p) => p.expires_at,
            Session::Active(a) => a.idle_expires_at(),
        }
    }
}

#[derive(Clone)]
pub struct Sessions(WebSessions<Session>);

impl Sessions {
    pub fn new(store: Store, key: Arc<ServerKey>) -> Sessions {
        Sessions(WebSessions::new(store, key))
    }

    pub(super) async fn insert(&self, cookie: &str, session: &Session) -> StoreResult<()> {
        self.0.insert(cookie, session).await
    }

    /// Ends the session of `cookie`, returning it if it was alive.
    pub(super) async fn remove(&self, cookie: &str, now: i64) -> StoreResult<Option<Session>> {
        self.0.remove(cookie, now).await
    }

    /// Runs `f` on the live session of `cookie` (None when there is none), and keeps
    /// what it changed.
    pub(super) async fn with<T>(
        &self,
        cookie: &str,
        now: i64,
        f: impl FnOnce(&mut Session) -> T,
    ) -> StoreResult<Option<T>> {
        self.0.with(cookie, now, f).await
    }
}
