//! Sessions of "My security info": 15 minutes, kept in the store (sealed, keyed by the
//! keyed hash of the cookie's value: `crate::web_session`), so any process serves them.

use std::sync::Arc;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use sspr_proto::MethodKind;
use webauthn_rs::prelude::{PasskeyAuthentication, PasskeyRegistration};

use super::error::{MyError, MyResult};
use crate::directory::DirUser;
use crate::lang::Lang;
use crate::secret::ServerKey;
use crate::store::Store;
use crate::web_session::{serialize_secret, Kept, WebSessions};

pub const SESSION_SECS: i64 = 15 * 60;

/// A code sent by email, waiting for the person to type it.
#[derive(Serialize, Deserialize)]
pub(super) struct SentCode {
    pub hash: String,
    pub expires_at: i64,
    pub tries: u8,
}

/// The second step of a sign-in, under way.
#[derive(Serialize, Deserialize)]
pub(super) enum Second {
    Code {
        method_id: String,
        kind: MethodKind,
        sent: Option<SentCode>,
    },
    Passkey(PasskeyAuthentication),
}

#[derive(Serialize, Deserialize)]
pub(super) struct Session {
    pub user: DirUser,
    /// The page's language (the browser's, at sign-in): codes and notices are in it.
    pub lang: Lang,
    pub signed_in: bool,
    pub expires_at: i64,
    pub second: Option<Second>,
    pub passkey: Option<PasskeyRegistration>,
    /// An authenticator app's secret, shown and waiting for its first code.
    #[serde(serialize_with = "serialize_secret")]
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

/// The sessions of "My security info" (kept in the store: `crate::web_session`).
#[derive(Clone)]
pub struct Sessions(WebSessions<Session>);

impl Kept for Session {
    const KIND: &'static str = "my";
    fn ends_at(&self) -> i64 {
        self.expires_at
    }
}

impl Sessions {
    pub fn new(store: Store, key: Arc<ServerKey>) -> Sessions {
        Sessions(WebSessions::new(store, key))
    }

    pub(super) async fn insert(&self, cookie: &str, session: &Session) -> MyResult<()> {
        Ok(self.0.insert(cookie, session).await?)
    }

    pub(super) async fn remove(&self, cookie: &str, now: i64) -> MyResult<()> {
        self.0.remove(cookie, now).await?;
        Ok(())
    }

    /// Runs `f` on the session of `cookie`, if it is alive (and signed in fully when
    /// `need` says so), and keeps what it changed.
    pub(super) async fn with<T>(
        &self,
        cookie: &str,
        need: Need,
        now: i64,
        f: impl FnOnce(&mut Session) -> MyResult<T>,
    ) -> MyResult<T> {
        self.0
            .with(cookie, now, |session| {
                if need == Need::Full && !session.signed_in {
                    return Err(MyError::SecondFactorNeeded);
                }
                f(session)
            })
            .await?
            .unwrap_or(Err(MyError::NoSession))
    }
}
