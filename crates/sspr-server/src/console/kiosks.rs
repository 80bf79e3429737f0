//! The kiosks page: every kiosk with its state, last seen and flows today; revoke; a new
//! kiosk's one-time enrollment code, or a staging code for many PCs and what it may still
//! enroll.

use sspr_proto::{
    EnrollmentCodeRequest, EnrollmentCodeStatus, EnrollmentCodeView, KioskState, KioskView,
};

use super::{Caller, Capability, Console, ConsoleError, ConsoleResult};
use crate::audit::{self, Event};
use crate::fault::Internal;
use crate::kiosks;
use crate::store::{EnrollmentCodeRow, KioskRow};

/// Staging codes the kiosks page lists (newest first).
pub const CODES_LISTED: i64 = 200;

/// A kiosk not seen for this long needs an admin's look.
pub const STALE_SECS: i64 = 24 * 3600;
/// Seen within this long: online (idle kiosks ask every `status_refresh_secs`, 5 min).
pub const ONLINE_SECS: i64 = 15 * 60;

pub fn midnight(now: i64) -> i64 {
    now - now.rem_euclid(86_400)
}

fn state_of(k: &KioskRow) -> KioskState {
    if k.revoked_at.is_some() {
        KioskState::Revoked
    } else if k.enrolled_at.is_some() {
        KioskState::Enrolled
    } else {
        KioskState::Pending
    }
}

pub fn is_stale(k: &KioskRow, now: i64) -> bool {
    state_of(k) == KioskState::Enrolled
        && k.last_seen_at.or(k.enrolled_at).unwrap_or(0) < now - STALE_SECS
}

fn view(k: &KioskRow, flows_today: u32, now: i64) -> KioskView {
    KioskView {
        id: k.id.clone(),
        name: k.name.clone(),
        location: k.location.clone(),
        state: state_of(k),
        created_at: audit::rfc3339(k.created_at),
        enrolled_at: k.enrolled_at.map(audit::rfc3339),
        last_seen_at: k.last_seen_at.map(audit::rfc3339),
        revoked_at: k.revoked_at.map(audit::rfc3339),
        version: k.version.clone(),
        enrollment_code_id: k.enrollment_code_id.clone(),
        stale: is_stale(k, now),
        flows_today,
    }
}

/// A name or location as IT types it: trimmed, 1–80 characters, no control characters.
fn label(what: &str, s: &str, required: bool) -> ConsoleResult<String> {
    let s = s.trim();
    if (required && s.is_empty()) || s.chars().count() > 80 || s.chars().any(char::is_control) {
        return Err(ConsoleError::BadInput(format!(
            "The kiosk's {what} must be {}at most 80 characters, without control characters.",
            if required { "1 to " } else { "" }
        )));
    }
    Ok(s.to_string())
}

impl Console {
    pub async fn kiosks(&self, caller: &Caller, now: i64) -> ConsoleResult<Vec<KioskView>> {
        caller.require(Capability::ReadAudit)?;
        let store = &self.core.store;
        let flows: std::collections::HashMap<String, i64> = store
            .flows_by_kiosk(midnight(now))
            .await?
            .into_iter()
            .collect();
        let mut rows = store.kiosks().await?;
        rows.sort_by(|a, b| {
            (a.revoked_at.is_some(), a.name.to_lowercase())
                .cmp(&(b.revoked_at.is_some(), b.name.to_lowercase()))
        });
        Ok(rows
            .iter()
            .map(|k| view(k, flows.get(&k.id).copied().unwrap_or(0) as u32, now))
            .collect())
    }

    /// Takes a kiosk out of service at once (its next request is refused).
    pub async fn revoke_kiosk(
        &self,
        caller: &Caller,
        id: &str,
        now: i64,
    ) -> ConsoleResult<KioskView> {
        caller.require(Capability::Administer)?;
        let store = &self.core.store;
        let Some(row) = store.kiosk(id).await? else {
            return Err(ConsoleError::NotFound("kiosk"));
        };
        if row.revoked_at.is_none() {
            store.revoke_kiosk(id, now).await?;
            self.core
                .audit
                .record(
                    &audit::Context {
                        kiosk_id: Some(id.to_string()),
                        ..caller.audit_ctx()
                    },
                    Event::KioskRevoked,
                    now,
                )
                .await;
        }
        let row = store
            .kiosk(id)
            .await?
            .ok_or(ConsoleError::NotFound("kiosk"))?;
        let flows = store
            .flows_by_kiosk(midnight(now))
            .await?
            .into_iter()
            .find(|(k, _)| k == id)
            .map(|(_, n)| n as u32)
            .unwrap_or(0);
        Ok(view(&row, flows, now))
    }

    /// A one-time code for a new kiosk, or (with `uses`) a staging code for many PCs, as
    /// text and as a QR code.
    pub async fn enrollment_code(
        &self,
        caller: &Caller,
        req: &EnrollmentCodeRequest,
        now: i64,
    ) -> ConsoleResult<EnrollmentCodeView> {
        caller.require(Capability::Administer)?;
        let core = &self.core;
        let config = core.config();
        let (kiosk_id, code_id, uses, code, expires_at) = match req.uses {
            None => {
                if req.valid_days.is_some() {
                    return Err(ConsoleError::BadInput(
                        "valid_days is for a code for several PCs (with uses); a one-time code \
                         lasts as the server's kiosk.enrollment_code_hours says."
                            .into(),
                    ));
                }
                let name = label("name", &req.name, true)?;
                let location = label("location", &req.location, false)?;
                let hours = config.kiosk.enrollment_code_hours;
                let (id, code) =
                    kiosks::issue_code(&core.store, &core.key, &name, &location, hours, now)
                        .await?;
                core.audit
                    .record(
                        &audit::Context {
                            kiosk_id: Some(id.clone()),
                            ..caller.audit_ctx()
                        },
                        Event::KioskEnrollmentCodeIssued {
                            name,
                            location,
                            code_id: None,
                            uses: None,
                            expires_at: None,
                        },
                        now,
                    )
                    .await;
                (Some(id), None, None, code, now + i64::from(hours) * 3600)
            }
            Some(uses) => {
                let days = req.valid_days.unwrap_or(7);
                if !(1..=90).contains(&days) {
                    return Err(ConsoleError::BadInput(format!(
                        "A code for several PCs is valid for 1 to 90 days, not {days}."
                    )));
                }
                let staging = kiosks::StagingRequest::check(
                    uses,
                    i64::from(days) * 86_400,
                    &req.name,
                    &req.location,
                )
                .map_err(ConsoleError::BadInput)?;
                let issued =
                    kiosks::issue_staging_code(&core.store, &core.key, &staging, now).await?;
                core.audit
                    .record(
                        &caller.audit_ctx(),
                        Event::KioskEnrollmentCodeIssued {
                            name: staging.name_prefix,
                            location: staging.location,
                            code_id: Some(issued.id.clone()),
                            uses: Some(uses),
                            expires_at: Some(audit::rfc3339(issued.expires_at)),
                        },
                        now,
                    )
                    .await;
                (
                    None,
                    Some(issued.id),
                    Some(uses),
                    issued.code,
                    issued.expires_at,
                )
            }
        };
        let qr_text = kiosks::qr_text(&config.public_origin(), &code);
        let qr =
            qrcode::QrCode::with_error_correction_level(qr_text.as_bytes(), qrcode::EcLevel::M)
                .map_err(|e| ConsoleError::Internal(Internal::new("drawing the QR code", e)))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build();
        Ok(EnrollmentCodeView {
            kiosk_id,
            code_id,
            uses,
            code,
            expires_at: audit::rfc3339(expires_at),
            qr_text,
            qr_svg,
        })
    }

    /// Staging codes, newest first, with the PCs each may still enroll.
    pub async fn enrollment_codes(
        &self,
        caller: &Caller,
        now: i64,
    ) -> ConsoleResult<Vec<EnrollmentCodeStatus>> {
        caller.require(Capability::ReadAudit)?;
        let rows = self.core.store.enrollment_codes(CODES_LISTED).await?;
        Ok(rows.iter().map(|c| code_status(c, now)).collect())
    }
}

fn code_status(c: &EnrollmentCodeRow, now: i64) -> EnrollmentCodeStatus {
    EnrollmentCodeStatus {
        id: c.id.clone(),
        name_prefix: c.name_prefix.clone(),
        location: c.location.clone(),
        uses: c.uses,
        used: c.used,
        remaining: c.remaining(now),
        state: c.state(now),
        created_at: audit::rfc3339(c.created_at),
        expires_at: audit::rfc3339(c.expires_at),
        revoked_at: c.revoked_at.map(audit::rfc3339),
    }
}
