//! Throttles, kept per person and per kiosk: failed verifications block, challenges and
//! emails are rate limited, too many resets block the account. Failed attempts here never
//! touch the directory's own lockout.

use crate::config::{Limit, ThrottleConfig};
use crate::store::{Store, StoreResult};

pub const FAILED_VERIFICATION: &str = "verify_fail";
pub const EMAIL: &str = "email";
pub const PHONE: &str = "phone";
pub const RESET: &str = "reset";

const BLOCK_VERIFY: &str = "verify";
const BLOCK_RESET: &str = "reset";

#[derive(Clone)]
pub struct Throttle {
    store: Store,
    config: ThrottleConfig,
}

/// The key whose counters a person's attempts go to.
pub fn user_key(id: &str) -> String {
    format!("user:{id}")
}

pub fn kiosk_key(id: &str) -> String {
    format!("kiosk:{id}")
}

impl Throttle {
    pub fn new(store: Store, config: ThrottleConfig) -> Self {
        Throttle { store, config }
    }

    /// When the person's or the kiosk's block ends, if either is blocked.
    pub async fn blocked_until(
        &self,
        user: &str,
        kiosk: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let u = self.store.blocked_until(user, now).await?;
        let k = self.store.blocked_until(kiosk, now).await?;
        Ok(u.max(k))
    }

    /// Seconds until one more `kind` event is allowed for the person and the kiosk, or None
    /// when it is allowed now.
    pub async fn rate_limited(
        &self,
        user: &str,
        kiosk: &str,
        kind: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let (ul, kl) = match kind {
            EMAIL => (self.config.emails, self.config.kiosk_emails),
            _ => (
                self.config.phone_challenges,
                self.config.kiosk_phone_challenges,
            ),
        };
        let a = self.over(user, kind, ul, now).await?;
        let b = self.over(kiosk, kind, kl, now).await?;
        Ok(a.max(b))
    }

    async fn over(
        &self,
        key: &str,
        kind: &str,
        limit: Limit,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        let since = now - limit.window_secs as i64;
        let count = self.store.count_events(key, kind, since).await?;
        if count < i64::from(limit.max) {
            return Ok(None);
        }
        let oldest = self
            .store
            .oldest_event(key, kind, since)
            .await?
            .unwrap_or(now);
        Ok(Some((oldest + limit.window_secs as i64 - now).max(1)))
    }

    pub async fn record(&self, user: &str, kiosk: &str, kind: &str, now: i64) -> StoreResult<()> {
        self.store.add_event(user, kind, now).await?;
        self.store.add_event(kiosk, kind, now).await
    }

    /// Counts a failed verification; returns which scope it blocked, and until when.
    pub async fn failed_verification(
        &self,
        user: &str,
        kiosk: &str,
        now: i64,
    ) -> StoreResult<Option<(&'static str, i64)>> {
        self.record(user, kiosk, FAILED_VERIFICATION, now).await?;
        let c = &self.config;
        if self
            .over(user, FAILED_VERIFICATION, c.failed_verifications, now)
            .await?
            .is_some()
        {
            let until = now + c.block_secs as i64;
            self.store.block(user, BLOCK_VERIFY, until).await?;
            return Ok(Some(("user", until)));
        }
        if self
            .over(
                kiosk,
                FAILED_VERIFICATION,
                c.kiosk_failed_verifications,
                now,
            )
            .await?
            .is_some()
        {
            let until = now + c.kiosk_block_secs as i64;
            self.store.block(kiosk, BLOCK_VERIFY, until).await?;
            return Ok(Some(("kiosk", until)));
        }
        Ok(None)
    }

    /// Before a reset: more than the allowed resets in the window block the account.
    pub async fn reset_allowed(&self, user: &str, now: i64) -> StoreResult<Result<(), i64>> {
        if self
            .over(user, RESET, self.config.resets, now)
            .await?
            .is_some()
        {
            let until = now + self.config.block_secs as i64;
            self.store.block(user, BLOCK_RESET, until).await?;
            return Ok(Err(until));
        }
        Ok(Ok(()))
    }

    /// After a successful reset: the failure counters clear; the reset is counted.
    pub async fn succeeded(&self, user: &str, now: i64) -> StoreResult<()> {
        self.store
            .clear_events(user, &[FAILED_VERIFICATION])
            .await?;
        self.store.add_event(user, RESET, now).await
    }
}
