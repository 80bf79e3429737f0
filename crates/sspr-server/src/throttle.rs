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

/// The key a phone number's texts and calls count on (a keyed hash: the number isn't
/// kept in the throttle's rows). A decoy's stands on its login.
pub fn destination_key(key: &crate::secret::ServerKey, number_or_login: &str) -> String {
    format!(
        "dest:{}",
        &key.mac_hex("destination", &[number_or_login.as_bytes()])[..32]
    )
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
        self.store.blocked_until_either(user, kiosk, now).await
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
        let [a, b] = self.over_both(kind, (user, ul), (kiosk, kl), now).await?;
        Ok(a.max(b))
    }

    /// `over` for a person and a kiosk, in one trip to the store.
    async fn over_both(
        &self,
        kind: &str,
        (a, al): (&str, Limit),
        (b, bl): (&str, Limit),
        now: i64,
    ) -> StoreResult<[Option<i64>; 2]> {
        let since = |l: Limit| now - l.window_secs as i64;
        let windows = self
            .store
            .windows(kind, (a, since(al)), (b, since(bl)))
            .await?;
        let wait = |(count, oldest): (i64, Option<i64>), limit: Limit| {
            (count >= i64::from(limit.max))
                .then(|| (oldest.unwrap_or(now) + limit.window_secs as i64 - now).max(1))
        };
        Ok([wait(windows[0], al), wait(windows[1], bl)])
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

    /// Seconds until one more text or call may go to this number, or None now.
    pub async fn destination_limited(
        &self,
        destination: &str,
        now: i64,
    ) -> StoreResult<Option<i64>> {
        self.over(destination, PHONE, self.config.destination_messages, now)
            .await
    }

    /// A text or call a gateway took: counted for the person, the kiosk and the number.
    pub async fn record_delivery(
        &self,
        user: &str,
        kiosk: &str,
        destination: &str,
        now: i64,
    ) -> StoreResult<()> {
        self.store
            .add_events(&[
                (user, PHONE, now),
                (kiosk, PHONE, now),
                (destination, PHONE, now),
            ])
            .await
    }

    pub async fn record(&self, user: &str, kiosk: &str, kind: &str, now: i64) -> StoreResult<()> {
        self.store
            .add_events(&[(user, kind, now), (kiosk, kind, now)])
            .await
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
        let [user_over, kiosk_over] = self
            .over_both(
                FAILED_VERIFICATION,
                (user, c.failed_verifications),
                (kiosk, c.kiosk_failed_verifications),
                now,
            )
            .await?;
        if user_over.is_some() {
            let until = now + c.block_secs as i64;
            self.store.block(user, BLOCK_VERIFY, until).await?;
            return Ok(Some(("user", until)));
        }
        if kiosk_over.is_some() {
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
}

/// After a successful reset: the person's failure counters clear and the reset is
/// counted (written with the flow's end, `Store::complete_flow`).
pub struct Succeeded<'a> {
    pub user: &'a str,
    pub at: i64,
}

impl Succeeded<'_> {
    /// Event kinds that clear.
    pub const CLEARS: &'static [&'static str] = &[FAILED_VERIFICATION];
    /// The event kind counted.
    pub const COUNTS: &'static str = RESET;
}
