//! Console sessions: in memory, keyed by the keyed hash of the cookie's value (the map
//! never holds a value a browser could present). A session is pending between the
//! password and the passkey, then active: 15 minutes idle, 8 hours at most.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sspr_proto::ConsoleRole;
use webauthn_rs::prelude::PasskeyAuthentication;

use crate::directory::DirUser;
use crate::secret::ServerKey;

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
pub(super) struct Candidate {
    pub user: DirUser,
    pub roles: Vec<ConsoleRole>,
    pub auth: PasskeyAuthentication,
}

pub(super) struct Pending {
    pub login: String,
    pub throttle: (String, String),
    pub candidate: Option<Candidate>,
    pub expires_at: i64,
}

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

pub(super) enum Session {
    Pending(Pending),
    Active(Active),
}

impl Session {
    fn alive(&self, now: i64) -> bool {
        match self {
            Session::Pending(p) => p.expires_at > now,
            Session::Active(a) => a.idle_expires_at() > now,
        }
    }
}

#[derive(Default, Clone)]
pub struct Sessions(Arc<Mutex<HashMap<String, Session>>>);

fn key_of(key: &ServerKey, cookie: &str) -> String {
    key.mac_hex("console-session", &[cookie.as_bytes()])
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn insert(&self, key: &ServerKey, cookie: &str, session: Session) {
        self.lock().insert(key_of(key, cookie), session);
    }

    pub(super) fn remove(&self, key: &ServerKey, cookie: &str) -> Option<Session> {
        self.lock().remove(&key_of(key, cookie))
    }

    /// Runs `f` on the live session of `cookie` (None when there is none). Sessions past
    /// their time go first.
    pub(super) fn with<T>(
        &self,
        key: &ServerKey,
        cookie: &str,
        now: i64,
        f: impl FnOnce(&mut Session) -> T,
    ) -> Option<T> {
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.alive(now));
        sessions.get_mut(&key_of(key, cookie)).map(f)
    }
}
