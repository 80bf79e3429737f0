//! Sessions of "My security info": in memory, 15 minutes, keyed by the keyed hash of the
//! cookie's value (so the map never holds a value a browser could present).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::SecretString;
use sspr_proto::MethodKind;
use webauthn_rs::prelude::{PasskeyAuthentication, PasskeyRegistration};

use super::error::{MyError, MyResult};
use crate::directory::DirUser;
use crate::lang::Lang;
use crate::secret::ServerKey;

pub const SESSION_SECS: i64 = 15 * 60;

/// A code sent by email, waiting for the person to type it.
pub(super) struct SentCode {
    pub hash: String,
    pub expires_at: i64,
    pub tries: u8,
}

/// The second step of a sign-in, under way.
pub(super) enum Second {
    Code {
        method_id: String,
        kind: MethodKind,
        sent: Option<SentCode>,
    },
    Passkey(PasskeyAuthentication),
}

pub(super) struct Session {
    pub user: DirUser,
    /// The page's language (the browser's, at sign-in): codes and notices are in it.
    pub lang: Lang,
    pub signed_in: bool,
    pub expires_at: i64,
    pub second: Option<Second>,
    pub passkey: Option<PasskeyRegistration>,
    /// An authenticator app's secret, shown and waiting for its first code.
    pub totp: Option<SecretString>,
    pub email: Option<(String, SentCode)>,
    /// A mobile number (E.164) being confirmed by a texted code.
    pub mobile: Option<(String, SentCode)>,
    /// An office number (E.164, maybe ";ext=") being confirmed by a call.
    pub office: Option<(String, SentCode)>,
}

/// Signed in fully (the second step too), or only with the password so far.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Need {
    Any,
    Full,
}

#[derive(Default, Clone)]
pub struct Sessions(Arc<Mutex<HashMap<String, Session>>>);

fn key_of(key: &ServerKey, cookie: &str) -> String {
    key.mac_hex("my-session", &[cookie.as_bytes()])
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn insert(&self, key: &ServerKey, cookie: &str, session: Session) {
        self.lock().insert(key_of(key, cookie), session);
    }

    pub(super) fn remove(&self, key: &ServerKey, cookie: &str) {
        self.lock().remove(&key_of(key, cookie));
    }

    /// Runs `f` on the session of `cookie`, if it is alive (and signed in fully when
    /// `need` says so). Sessions past their time go first.
    pub(super) fn with<T>(
        &self,
        key: &ServerKey,
        cookie: &str,
        need: Need,
        now: i64,
        f: impl FnOnce(&mut Session) -> MyResult<T>,
    ) -> MyResult<T> {
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.expires_at > now);
        let session = sessions
            .get_mut(&key_of(key, cookie))
            .ok_or(MyError::NoSession)?;
        if need == Need::Full && !session.signed_in {
            return Err(MyError::SecondFactorNeeded);
        }
        f(session)
    }
}
