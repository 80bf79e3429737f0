//! The admin console's wire types (`/v1/admin/*`): sign-in with the directory password
//! and a passkey, the session, the policy, kiosks, the audit and the helpdesk's lookup.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

use crate::approval::redacted_debug;
use crate::MethodKind;

/// What a console user may do, from the directory groups in `console.*_groups`.
#[derive(
    Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConsoleRole {
    /// Change the policy and kiosks; everything the others may.
    Admin,
    /// Read the audit and insights, look up a reference code, clear a person's methods.
    Helpdesk,
    /// Insights only.
    Reader,
}

/// `POST /v1/admin/sign-in`: the first step. Always answered with a passkey request, so
/// the answer never tells whether the login, the password or the group was right.
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ConsoleSignInRequest {
    pub login: String,
    pub password: String,
}

/// `POST /v1/admin/sign-in/passkey` and `POST /v1/admin/reauth/finish`: the passkey's
/// answer (`PublicKeyCredential` with base64url fields).
#[derive(Serialize, Deserialize, Clone, TS, ToSchema)]
pub struct ConsolePasskeyAnswer {
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// A signed-in console session.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct ConsoleSession {
    pub username: String,
    pub display_name: String,
    pub organization: String,
    pub roles: Vec<ConsoleRole>,
    /// Sent back in `X-CSRF-Token` with every POST, PUT and DELETE.
    pub csrf_token: String,
    /// When the session ends if nothing is done (15 minutes idle), RFC 3339 UTC.
    pub idle_expires_at: String,
    /// When it ends regardless (8 hours after signing in).
    pub ends_at: String,
    /// When the passkey was last checked; a policy change wants it within 5 minutes.
    pub passkey_checked_at: String,
    /// `console.policy_read_only`: the policy is shown, never edited here.
    pub policy_read_only: bool,
}

/// The policy in force, as the console shows and edits it.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct PolicyView {
    #[ts(type = "number")]
    pub version: i64,
    pub saved_by: String,
    pub saved_at: String,
    pub read_only: bool,
    /// The document: `policy`, `organization`, `helpdesk`, `approval` (as `policy show`).
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub document: serde_json::Value,
    /// The administrators who are told when an administrator resets (resolved from
    /// `policy.admin_groups`): "Name <address>".
    pub notified_admins: Vec<String>,
    /// Every method the server knows, enabled or not, for the methods page.
    pub known_methods: Vec<MethodKind>,
    /// The methods this server can offer now (the others come with their issue).
    pub available_methods: Vec<MethodKind>,
}

/// `PUT /v1/admin/policy`: keys to change over version `base_version` (a version saved
/// meanwhile refuses the change: 409).
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct PolicyChange {
    #[ts(type = "number")]
    pub base_version: i64,
    /// Sections and keys, as the document has them; what it doesn't name stays.
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KioskState {
    /// An enrollment code was made; no kiosk has used it yet.
    Pending,
    Enrolled,
    Revoked,
}

#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct KioskView {
    pub id: String,
    pub name: String,
    pub location: String,
    pub state: KioskState,
    pub created_at: String,
    #[ts(optional)]
    pub enrolled_at: Option<String>,
    #[ts(optional)]
    pub last_seen_at: Option<String>,
    #[ts(optional)]
    pub revoked_at: Option<String>,
    /// The version it last said it runs.
    #[ts(optional)]
    pub version: Option<String>,
    /// The staging code it enrolled with (none for a one-time code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub enrollment_code_id: Option<String>,
    /// Enrolled, not revoked, and not seen for a day.
    pub stale: bool,
    /// Flows started on it since midnight UTC.
    pub flows_today: u32,
}

/// `POST /v1/admin/kiosks/enrollment-codes`: without `uses`, a one-time code for one
/// kiosk named `name`; with `uses`, a staging code that enrolls up to that many PCs, each
/// as a new kiosk under its own host name (`name`, if not empty, is the prefix of the
/// names of PCs that send none: `<name>-<n>`, else `pc-<n>`).
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct EnrollmentCodeRequest {
    pub name: String,
    pub location: String,
    /// How many PCs the code enrolls, 1 to 10,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub uses: Option<u32>,
    /// Days a staging code stays valid, 1 to 90 (7 if not given). Only with `uses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub valid_days: Option<u32>,
}

/// A new enrollment code, as text and as a QR code (the kiosk's `--enroll-code` takes the
/// text; the QR code holds `sspr-enroll:<server>#<code>`). A one-time code names its
/// pending kiosk; a staging code has an id of its own and a number of uses.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct EnrollmentCodeView {
    /// The pending kiosk a one-time code enrolls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub kiosk_id: Option<String>,
    /// A staging code's id (the audit names it on every kiosk it enrolls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code_id: Option<String>,
    /// How many PCs a staging code enrolls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub uses: Option<u32>,
    pub code: String,
    pub expires_at: String,
    pub qr_text: String,
    pub qr_svg: String,
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentCodeState {
    /// Enrolls PCs until it is used up or expires.
    Active,
    UsedUp,
    Expired,
    Revoked,
}

/// `GET /v1/admin/kiosks/enrollment-codes`: a staging code (never the code itself, which
/// the server keeps only as a keyed hash) and how many PCs it may still enroll.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct EnrollmentCodeStatus {
    pub id: String,
    /// Names PCs that send no host name: `<prefix>-<n>`.
    pub name_prefix: String,
    pub location: String,
    pub uses: u32,
    pub used: u32,
    /// Uses left while it is active; 0 once it expired or was revoked.
    pub remaining: u32,
    pub state: EnrollmentCodeState,
    pub created_at: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub revoked_at: Option<String>,
}

/// One audit row.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct AuditEntry {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    pub event: String,
    pub outcome: String,
    pub correlation_id: String,
    #[ts(optional)]
    pub kiosk_id: Option<String>,
    #[ts(optional)]
    pub kiosk_name: Option<String>,
    #[ts(optional)]
    pub reference: Option<String>,
    #[ts(optional)]
    pub login: Option<String>,
    /// The event's own fields (never a secret).
    #[ts(type = "any")]
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

/// `GET /v1/admin/audit`: newest first; `next_before` pages on.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    #[ts(optional, as = "Option<u32>")]
    pub next_before: Option<i64>,
    /// `store.audit_retention_days` (0: kept for ever).
    pub retention_days: u32,
}

/// `GET /v1/admin/attempts/{reference}`: one attempt at a kiosk, as the helpdesk sees it.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct AttemptView {
    pub reference: String,
    #[ts(optional)]
    pub login: Option<String>,
    #[ts(optional)]
    pub kiosk: Option<String>,
    #[ts(optional)]
    pub intent: Option<String>,
    pub started_at: String,
    pub last_at: String,
    /// "done", "failed", "blocked", "abandoned", "in_progress".
    pub outcome: String,
    /// The step that failed and why, in words for the helpdesk.
    #[ts(optional)]
    pub failed_at: Option<String>,
    #[ts(optional)]
    pub reason: Option<String>,
    /// When a block on the person ends, if one is in force now.
    #[ts(optional)]
    pub blocked_until: Option<String>,
    /// The login got a decoy (nobody by that name, disabled, out of scope or nothing
    /// registered): the helpdesk may say so, the kiosk never does.
    pub decoy: bool,
    pub events: Vec<AuditEntry>,
}

/// `POST /v1/admin/people/{login}/clear-methods`
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct ClearMethodsRequest {
    /// Why (required; in the audit).
    pub reason: String,
}

#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct ClearMethodsResult {
    pub removed: u32,
}

/// A directory as the console shows it.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct DirectoryStatus {
    pub name: String,
    pub reachable: bool,
    #[ts(optional)]
    pub error: Option<String>,
    /// Its TLS certificate: subject, expiry, and whether the configured CA (or the
    /// system's) trusts it for the host (None: no TLS to show).
    #[ts(optional)]
    pub certificate: Option<CertificateStatus>,
    /// Its own password rules as read from it ("min 7, 3 of 4 kinds, history 24").
    #[ts(optional)]
    pub rules: Option<String>,
    #[ts(optional)]
    pub last_write_at: Option<String>,
    #[ts(optional)]
    pub last_failure_at: Option<String>,
    #[ts(optional)]
    pub last_failure_reason: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct CertificateStatus {
    #[ts(optional)]
    pub subject: Option<String>,
    #[ts(optional)]
    pub expires_at: Option<String>,
    #[ts(optional, as = "Option<i32>")]
    pub days_left: Option<i64>,
    pub trusted: bool,
    /// Why it couldn't be read.
    #[ts(optional)]
    pub error: Option<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, TS, ToSchema)]
pub struct DayCounts {
    pub started: u32,
    pub resets: u32,
    pub unlocks: u32,
    /// Failed verifications and refused steps.
    pub failures: u32,
    pub blocked: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct Attention {
    /// "error" or "warning".
    pub severity: String,
    pub message: String,
}

/// `GET /v1/admin/overview`
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct Overview {
    #[ts(type = "number")]
    pub policy_version: i64,
    /// "none", "group" or "all".
    pub enabled: String,
    pub group: String,
    pub methods: Vec<MethodKind>,
    pub methods_required: u8,
    pub directories: Vec<DirectoryStatus>,
    pub kiosks_enrolled: u32,
    /// Seen in the last 15 minutes.
    pub kiosks_online: u32,
    /// Not seen for a day.
    pub kiosks_stale: u32,
    /// Since midnight UTC.
    pub today: DayCounts,
    /// Anything that needs an admin.
    pub attention: Vec<Attention>,
}

redacted_debug!(ConsoleSignInRequest, ConsolePasskeyAnswer);

/// One bucket of the usage chart (flows by the time they started).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct UsageBucket {
    /// The bucket's first instant, RFC 3339 UTC (a day, a Monday, a month's first day).
    pub start: String,
    /// Flows started by real people (decoys aside).
    pub started: u32,
    pub resets: u32,
    pub unlocks: u32,
    /// Flows started in the bucket that wrote nothing.
    pub failed: u32,
    /// Flows started in the bucket still under way (their 15 minutes not over).
    pub in_progress: u32,
}

/// A method's activity in the range, and how many people have it registered now.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct MethodActivity {
    pub method: MethodKind,
    /// Challenges sent (codes mailed, authenticator codes asked for, approvals shown).
    pub sent: u32,
    pub verified: u32,
    pub failed: u32,
    /// Texts and calls: codes a gateway took, and codes every gateway failed (the
    /// person chose another method; nothing counted against them).
    #[serde(default)]
    pub delivered: u32,
    #[serde(default)]
    pub undelivered: u32,
    /// People who have it registered now.
    pub registered: u32,
}

/// A stage of the funnel: how many flows got that far.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct FunnelStage {
    /// "started", "first_method", "second_method", "verified", "written".
    pub stage: String,
    pub flows: u32,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct Count {
    pub key: String,
    pub count: u32,
}

/// `GET /v1/admin/insights`: usage & insights for a time range.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct InsightsView {
    pub from: String,
    pub to: String,
    /// "day", "week" or "month".
    pub bucket: String,
    pub series: Vec<UsageBucket>,
    pub methods: Vec<MethodActivity>,
    /// Started → first method → second method (of the flows that need two) → verified →
    /// written.
    pub funnel: Vec<FunnelStage>,
    /// Flows that needed two methods (the second stage's whole).
    pub needing_two: u32,
    /// Median seconds from start to written, over the flows written.
    #[ts(optional)]
    pub median_secs_to_done: Option<u32>,
    /// Flows started for logins that got a decoy (nobody, disabled, out of scope, nothing
    /// registered): not in the numbers above.
    pub decoys: u32,
    /// Failure reasons ("verify_failed: wrong_code"), most frequent first.
    pub failures: Vec<Count>,
    pub failures_by_kiosk: Vec<Count>,
    pub failures_by_directory: Vec<Count>,
}

/// Someone SSPR is enabled for who hasn't enough methods to pass the policy.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, TS, ToSchema)]
pub struct UncoveredPerson {
    pub username: String,
    pub display_name: String,
    pub administrator: bool,
    pub methods: Vec<MethodKind>,
    pub required: u8,
}

/// `GET /v1/admin/coverage`: of the people SSPR is enabled for, who can pass the policy.
#[derive(Serialize, Deserialize, Clone, Debug, TS, ToSchema)]
pub struct CoverageView {
    pub enabled_people: u32,
    /// Have enough methods (of those enabled) to pass.
    pub ready: u32,
    /// People with each method registered (of those enabled for SSPR).
    pub by_method: Vec<Count>,
    pub not_ready: Vec<UncoveredPerson>,
    /// Why the count may be short (a directory that can't list its people).
    #[ts(optional)]
    pub note: Option<String>,
}
