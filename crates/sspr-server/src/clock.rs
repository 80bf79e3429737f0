//! The clock: the one place the server reads the time. Services and stores take `now`
//! (unix seconds) as an argument, so a unit test steps it (`now`, `now + code_ttl + 1`,
//! `now + flow_ttl`) instead of sleeping.

/// Unix seconds, now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
