//! The kiosks page: every kiosk with its state, last seen and flows today; revoke; a new
//! kiosk's one-time enrollment code.

use sspr_proto::{EnrollmentCodeRequest, EnrollmentCodeView, KioskState, KioskView};

use super::{Caller, Capability, Console, ConsoleError, ConsoleResult};
use crate::audit::{self, Event};
use crate::fault::Internal;
use crate::kiosks;
use crate::store::KioskRow;

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

    /// A one-time code for a new kiosk, as text and as a QR code.
    pub async fn enrollment_code(
        &self,
        caller: &Caller,
        req: &EnrollmentCodeRequest,
        now: i64,
    ) -> ConsoleResult<EnrollmentCodeView> {
        caller.require(Capability::Administer)?;
        let name = label("name", &req.name, true)?;
        let location = label("location", &req.location, false)?;
        let core = &self.core;
        let config = core.config();
        let hours = config.kiosk.enrollment_code_hours;
        let (id, code) =
            kiosks::issue_code(&core.store, &core.key, &name, &location, hours, now).await?;
        core.audit
            .record(
                &audit::Context {
                    kiosk_id: Some(id.clone()),
                    ..caller.audit_ctx()
                },
                Event::KioskEnrollmentCodeIssued {
                    name: name.clone(),
                    location: location.clone(),
                },
                now,
            )
            .await;
        let qr_text = format!("sspr-enroll:{}#{code}", config.public_origin());
        let qr =
            qrcode::QrCode::with_error_correction_level(qr_text.as_bytes(), qrcode::EcLevel::M)
                .map_err(|e| ConsoleError::Internal(Internal::new("drawing the QR code", e)))?;
        let qr_svg = qr
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(220, 220)
            .quiet_zone(true)
            .build();
        Ok(EnrollmentCodeView {
            kiosk_id: id,
            code,
            expires_at: audit::rfc3339(now + i64::from(hours) * 3600),
            qr_text,
            qr_svg,
        })
    }
}
