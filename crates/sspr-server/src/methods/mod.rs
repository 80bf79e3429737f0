//! Verification methods. Each knows how to make a challenge and check an answer; the flow
//! decides when.

pub mod code;
pub mod passkey;
pub mod phone;
pub mod questions;
pub mod totp;
