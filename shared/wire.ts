// Generated from crates/sspr-proto by `cargo xtask gen`. Do not edit.

export type ErrorCode = "bad_request" | "payload_too_large" | "unauthorized" | "kiosk_revoked" | "enrollment_invalid" | "not_found" | "flow_expired" | "step_not_allowed" | "method_unavailable" | "code_invalid" | "code_expired" | "throttled" | "blocked" | "password_rejected" | "directory_unavailable" | "delivery_failed" | "partially_written" | "not_allowed" | "internal" | "unavailable" | "csrf_invalid" | "reauth_required" | "policy_invalid" | "policy_changed" | "unreachable" | "not_enrolled";

export type ErrorBody = { code: ErrorCode, 
/**
 * For people; never parsed.
 */
message: string, 
/**
 * The flow's reference code, for the helpdesk.
 */
reference?: string, 
/**
 * When to try again (throttled, blocked).
 */
retry_after_secs?: number, 
/**
 * Why a password was rejected.
 */
reasons?: Array<PasswordReason>, 
/**
 * Per directory, when a change reached some linked directories and not others.
 */
directories?: Array<DirectoryResult>, 
/**
 * Why a policy can't be saved (the console).
 */
problems?: Array<string>, };

export type Intent = "reset" | "unlock";

export type MethodKind = "email" | "totp" | "sms" | "voice" | "questions" | "approval";

export type FlowState = "verifying" | "verified" | "completed" | "cancelled";

export type StartFlowRequest = { 
/**
 * Username or email address, as the person typed it.
 */
login: string, intent: Intent, 
/**
 * BCP 47 language tag for messages and emails, e.g. "en" or "de".
 */
locale?: string, };

export type MethodView = { 
/**
 * Stable within the flow; pass it to `POST /v1/flows/{id}/challenges`.
 */
id: string, kind: MethodKind, 
/**
 * Where the code goes, masked ("j•••@e•••.org"), or the app's label.
 */
masked: string, 
/**
 * Verified already in this flow.
 */
done: boolean, 
/**
 * A mobile number (`sms`) that may be called instead of texted
 * (`ChallengeRequest::call`).
 */
can_call?: boolean, };

export type PasswordRules = { min_length: number, max_length: number, 
/**
 * The password may not contain the person's own names.
 */
no_names: boolean, 
/**
 * Common and banned passwords are refused.
 */
banned_list: boolean, 
/**
 * Characters must come from at least this many of four kinds (upper case, lower
 * case, digits, symbols); 0 when the directories don't ask for it.
 */
categories: number, 
/**
 * The directory refuses this many of the person's previous passwords; 0 for none.
 */
history: number, };

export type FlowView = { flow_id: string, 
/**
 * Short code that finds this attempt in the audit (`sspr-server audit --ref`).
 */
reference: string, intent: Intent, state: FlowState, methods: Array<MethodView>, 
/**
 * How many methods must be verified.
 */
required: number, 
/**
 * How many are verified.
 */
done: number, 
/**
 * Seconds until the flow expires.
 */
expires_in_secs: number, password_rules: PasswordRules, 
/**
 * Unlock without a reset is allowed (intent unlock only).
 */
unlock_allowed: boolean, };

export type ChallengeRequest = { 
/**
 * A `MethodView::id` of this flow.
 */
method_id: string, 
/**
 * Approval only: after approving, the person types the new password on the phone,
 * not on the kiosk (when policy offers it).
 */
finish_on_phone?: boolean, 
/**
 * A mobile number only (`MethodView::can_call`): call it and read the code out
 * instead of texting it. Still the one method.
 */
call?: boolean, };

export type ChallengeView = { challenge_id: string, method_id: string, kind: MethodKind, 
/**
 * Where the code was sent, masked; absent for authenticator codes.
 */
sent_to?: string, 
/**
 * Digits the code has.
 */
code_length: number, 
/**
 * Seconds until the code expires.
 */
expires_in_secs: number, 
/**
 * Seconds before another code may be requested for this method.
 */
resend_after_secs: number, 
/**
 * Approval only: the URL the kiosk shows as a QR code (`<public URL>/a/<token>`).
 * Follow `GET /v1/flows/{id}/events` for what the phone does.
 */
approval_url?: string, 
/**
 * Approval only: the password will be typed on the phone.
 */
finish_on_phone: boolean, 
/**
 * Codes by text message or call: they are sent after this answer; follow
 * `GET /v1/flows/{id}/challenges/{cid}` until `sent` or `failed`. `sent` for an
 * emailed code (sent before this answer); absent when nothing is sent.
 */
delivery?: Delivery, 
/**
 * Security questions only: the questions to answer, in the flow's language, in the
 * order `VerifyRequest::answers` follows.
 */
questions?: Array<string>, };

export type Delivery = "sending" | "sent" | "failed";

export type ChallengeStatus = { challenge_id: string, delivery?: Delivery, };

export type VerifyRequest = { code?: string, answers?: Array<string>, };

export type PasswordCheckRequest = { candidate: string, };

export type PasswordReasonCode = "too_short" | "too_long" | "banned" | "contains_name" | "invalid_characters" | "needs_variety" | "used_before" | "directory";

export type PasswordReason = { code: PasswordReasonCode, message: string, };

export type PasswordCheck = { acceptable: boolean, reasons: Array<PasswordReason>, };

export type SetPasswordRequest = { new_password: string, };

export type Outcome = "password_reset" | "unlocked";

export type DirectoryResult = { directory: string, 
/**
 * Whether this directory now holds the change.
 */
ok: boolean, message: string, };

export type DoneView = { outcome: Outcome, reference: string, directories: Array<DirectoryResult>, };

export type Helpdesk = { url?: string, phone?: string, email?: string, };

export type KioskSettings = { organization: string, 
/**
 * CSS colour, e.g. "#0b5cad".
 */
accent_color: string, helpdesk: Helpdesk, idle_timeout_secs: number, kiosk_id: string, kiosk_name: string, kiosk_location: string, default_locale: string, locales: Array<string>, unlock_enabled: boolean, 
/**
 * After approving on the phone, whether the new password may (or must) be typed there.
 */
password_on_phone: PasswordOnPhone, 
/**
 * The organisation's logo: a data URL of a PNG or a plain SVG (checked by the server).
 */
logo?: string, };

export type PasswordOnPhone = "off" | "offer" | "always";

export type EnrollRequest = { 
/**
 * An enrollment code from `sspr-server kiosk enroll-code` or the console: a one-time
 * code for a named kiosk, or a staging code that enrolls several PCs.
 */
code: string, 
/**
 * The kiosk's Ed25519 public key, 32 bytes, base64url without padding.
 */
public_key: string, 
/**
 * The PC's host name: with a staging code, the new kiosk's name (1–64 printable
 * characters); else `<prefix>-<n>`. A one-time code keeps the name IT gave it.
 */
name?: string, 
/**
 * Where the PC stands, from the kiosk's own configuration (1–64 printable
 * characters): with a staging code, the new kiosk's location, else the code's. A
 * one-time code keeps the location IT gave it, and takes this one only when IT left
 * it empty.
 */
location?: string, };

export type EnrollResponse = { kiosk_id: string, name: string, location: string, };

export type Health = { ok: boolean, store: boolean, 
/**
 * Every directory answers.
 */
directory: boolean, 
/**
 * Names of the directories that don't answer (why is in the server's log).
 */
unavailable?: Array<string>, };

export type ApprovalFailure = "denied" | "wrong_number" | "expired" | "passkey_failed" | "blocked";

export type FlowEvent = { "type": "scanned", challenge_id: string, number: string, } | { "type": "approved", challenge_id: string, flow: FlowView, } | { "type": "finish_on_phone", challenge_id: string, flow: FlowView, } | { "type": "completed", done: DoneView, } | { "type": "failed", challenge_id: string, reason: ApprovalFailure, message: string, };

export type ApprovalTokenRequest = { token: string, };

export type ApprovalInfo = { organization: string, accent_color: string, kiosk_name: string, kiosk_location: string, 
/**
 * The account, masked ("a•••a").
 */
account: string, intent: Intent, expires_in_secs: number, helpdesk: Helpdesk, };

export type ApprovalNumberRequest = { token: string, number: string, };

export type PasskeyRequest = { options: any, };

export type ApprovalFinishRequest = { token: string, credential: any, };

export type ApprovalGranted = { finish_on_phone: boolean, password_rules?: PasswordRules, 
/**
 * With `finish_on_phone`: the key for the password calls. Only the phone that
 * approved holds it (the token was on the kiosk's screen for anyone to see).
 */
password_key?: string, };

export type ApprovalPasswordCheckRequest = { token: string, 
/**
 * `ApprovalGranted::password_key`.
 */
key: string, candidate: string, };

export type ApprovalPasswordRequest = { token: string, 
/**
 * `ApprovalGranted::password_key`.
 */
key: string, new_password: string, };

export type SignInRequest = { login: string, password: string, };

export type MyMethod = { id: string, kind: MethodKind, 
/**
 * The name the person gave it ("Pixel 8"), or what it is ("Authenticator app").
 */
label: string, 
/**
 * The address for an email, else empty.
 */
detail: string, 
/**
 * When it was added (RFC 3339, UTC).
 */
added_at: string, };

export type MySession = { display_name: string, username: string, organization: string, signed_in: boolean, second_factor: Array<MethodView>, methods: Array<MyMethod>, 
/**
 * When the person last looked over their methods and kept them (confirmed them,
 * added or removed one), RFC 3339 UTC; none before their first method.
 */
reviewed_at?: string, 
/**
 * The organisation asks the person to confirm their methods are still current
 * (`POST /v1/my/review`): it has been `review_days` days since `reviewed_at`.
 */
review_due: boolean, 
/**
 * Days between reviews; 0 when the organisation never asks.
 */
review_days: number, 
/**
 * Kinds of method the person may add here besides passkeys, authenticator apps and
 * email (a mobile number when the server texts codes).
 */
can_add: Array<MethodKind>, };

export type SecondFactorStart = { method_id: string, };

export type SecondFactorChallenge = { kind: MethodKind, sent_to?: string, passkey?: PasskeyRequest, };

export type SecondFactorFinish = { code?: string, credential?: any, };

export type PasskeyFinish = { 
/**
 * A name for this passkey ("My phone").
 */
name: string, credential: any, };

export type AuthenticatorSetup = { 
/**
 * Base32, grouped in fours for typing.
 */
secret: string, 
/**
 * `otpauth://totp/...`, what the QR code holds.
 */
uri: string, 
/**
 * The QR code as an SVG document.
 */
qr_svg: string, };

export type ConfirmCode = { code: string, };

export type EmailStart = { email: string, };

export type MobileStart = { number: string, };

export type MyQuestions = { 
/**
 * Questions to answer when registering.
 */
register: number, 
/**
 * Questions asked at a kiosk.
 */
ask: number, 
/**
 * Questions of one's own may be written.
 */
own_allowed: boolean, 
/**
 * The organisation's questions, in the page's language.
 */
list: Array<QuestionChoice>, 
/**
 * The questions the person registered, in the page's language (empty: none yet).
 */
registered: Array<string>, };

export type QuestionChoice = { id: string, text: string, };

export type QuestionsSave = { answers: Array<QuestionAnswer>, };

export type QuestionAnswer = { id?: string, own?: string, answer: string, };

export type ConsoleRole = "admin" | "helpdesk" | "reader";

export type ConsoleSignInRequest = { login: string, password: string, };

export type ConsolePasskeyAnswer = { credential: any, };

export type ConsoleSession = { username: string, display_name: string, organization: string, roles: Array<ConsoleRole>, 
/**
 * Sent back in `X-CSRF-Token` with every POST, PUT and DELETE.
 */
csrf_token: string, 
/**
 * When the session ends if nothing is done (15 minutes idle), RFC 3339 UTC.
 */
idle_expires_at: string, 
/**
 * When it ends regardless (8 hours after signing in).
 */
ends_at: string, 
/**
 * When the passkey was last checked; a policy change wants it within 5 minutes.
 */
passkey_checked_at: string, 
/**
 * `console.policy_read_only`: the policy is shown, never edited here.
 */
policy_read_only: boolean, };

export type PolicyView = { version: number, saved_by: string, saved_at: string, read_only: boolean, 
/**
 * The document: `policy`, `organization`, `helpdesk`, `approval` (as `policy show`).
 */
document: any, 
/**
 * The administrators who are told when an administrator resets (resolved from
 * `policy.admin_groups`): "Name <address>".
 */
notified_admins: Array<string>, 
/**
 * Every method the server knows, enabled or not, for the methods page.
 */
known_methods: Array<MethodKind>, 
/**
 * The methods this server can offer now (the others come with their issue).
 */
available_methods: Array<MethodKind>, };

export type PolicyChange = { base_version: number, 
/**
 * Sections and keys, as the document has them; what it doesn't name stays.
 */
changes: any, };

export type KioskState = "pending" | "enrolled" | "revoked";

export type KioskView = { id: string, name: string, location: string, state: KioskState, created_at: string, enrolled_at?: string, last_seen_at?: string, revoked_at?: string, 
/**
 * The version it last said it runs.
 */
version?: string, 
/**
 * The staging code it enrolled with (none for a one-time code).
 */
enrollment_code_id?: string, 
/**
 * Enrolled, not revoked, and not seen for a day.
 */
stale: boolean, 
/**
 * Flows started on it since midnight UTC.
 */
flows_today: number, };

export type EnrollmentCodeRequest = { name: string, location: string, 
/**
 * How many PCs the code enrolls, 1 to 10,000.
 */
uses?: number, 
/**
 * Days a staging code stays valid, 1 to 90 (7 if not given). Only with `uses`.
 */
valid_days?: number, };

export type EnrollmentCodeView = { 
/**
 * The pending kiosk a one-time code enrolls.
 */
kiosk_id?: string, 
/**
 * A staging code's id (the audit names it on every kiosk it enrolls).
 */
code_id?: string, 
/**
 * How many PCs a staging code enrolls.
 */
uses?: number, code: string, expires_at: string, qr_text: string, qr_svg: string, };

export type EnrollmentCodeState = "active" | "used_up" | "expired" | "revoked";

export type EnrollmentCodeStatus = { id: string, 
/**
 * Names PCs that send no host name: `<prefix>-<n>`.
 */
name_prefix: string, location: string, uses: number, used: number, 
/**
 * Uses left while it is active; 0 once it expired or was revoked.
 */
remaining: number, state: EnrollmentCodeState, created_at: string, expires_at: string, revoked_at?: string, };

export type AuditEntry = { id: number, at: string, event: string, outcome: string, correlation_id: string, kiosk_id?: string, kiosk_name?: string, reference?: string, login?: string, 
/**
 * The event's own fields (never a secret).
 */
detail: any, };

export type AuditPage = { entries: Array<AuditEntry>, next_before?: number, 
/**
 * `store.audit_retention_days` (0: kept for ever).
 */
retention_days: number, };

export type AttemptView = { reference: string, login?: string, kiosk?: string, intent?: string, started_at: string, last_at: string, 
/**
 * "done", "failed", "blocked", "abandoned", "in_progress".
 */
outcome: string, 
/**
 * The step that failed and why, in words for the helpdesk.
 */
failed_at?: string, reason?: string, 
/**
 * When a block on the person ends, if one is in force now.
 */
blocked_until?: string, 
/**
 * The login got a decoy (nobody by that name, disabled, out of scope or nothing
 * registered): the helpdesk may say so, the kiosk never does.
 */
decoy: boolean, events: Array<AuditEntry>, };

export type ClearMethodsRequest = { 
/**
 * Why (required; in the audit).
 */
reason: string, };

export type ClearMethodsResult = { removed: number, };

export type CertificateStatus = { subject?: string, expires_at?: string, days_left?: number, trusted: boolean, 
/**
 * Why it couldn't be read.
 */
error?: string, };

export type DirectoryStatus = { name: string, reachable: boolean, error?: string, 
/**
 * Its TLS certificate: subject, expiry, and whether the configured CA (or the
 * system's) trusts it for the host (None: no TLS to show).
 */
certificate?: CertificateStatus, 
/**
 * Its own password rules as read from it ("min 7, 3 of 4 kinds, history 24").
 */
rules?: string, last_write_at?: string, last_failure_at?: string, last_failure_reason?: string, };

export type DayCounts = { started: number, resets: number, unlocks: number, 
/**
 * Failed verifications and refused steps.
 */
failures: number, blocked: number, };

export type Attention = { 
/**
 * "error" or "warning".
 */
severity: string, message: string, };

export type Overview = { policy_version: number, 
/**
 * "none", "group" or "all".
 */
enabled: string, group: string, methods: Array<MethodKind>, methods_required: number, directories: Array<DirectoryStatus>, kiosks_enrolled: number, 
/**
 * Seen in the last 15 minutes.
 */
kiosks_online: number, 
/**
 * Not seen for a day.
 */
kiosks_stale: number, 
/**
 * Since midnight UTC.
 */
today: DayCounts, 
/**
 * Anything that needs an admin.
 */
attention: Array<Attention>, };

export type UsageBucket = { 
/**
 * The bucket's first instant, RFC 3339 UTC (a day, a Monday, a month's first day).
 */
start: string, 
/**
 * Flows started by real people (decoys aside).
 */
started: number, resets: number, unlocks: number, 
/**
 * Flows started in the bucket that wrote nothing.
 */
failed: number, 
/**
 * Flows started in the bucket still under way (their 15 minutes not over).
 */
in_progress: number, };

export type MethodActivity = { method: MethodKind, 
/**
 * Challenges sent (codes mailed, authenticator codes asked for, approvals shown).
 */
sent: number, verified: number, failed: number, 
/**
 * Texts and calls: codes a gateway took, and codes every gateway failed (the
 * person chose another method; nothing counted against them).
 */
delivered: number, undelivered: number, 
/**
 * People who have it registered now.
 */
registered: number, };

export type FunnelStage = { 
/**
 * "started", "first_method", "second_method", "verified", "written".
 */
stage: string, flows: number, };

export type Count = { key: string, count: number, };

export type InsightsView = { from: string, to: string, 
/**
 * "day", "week" or "month".
 */
bucket: string, series: Array<UsageBucket>, methods: Array<MethodActivity>, 
/**
 * Started → first method → second method (of the flows that need two) → verified →
 * written.
 */
funnel: Array<FunnelStage>, 
/**
 * Flows that needed two methods (the second stage's whole).
 */
needing_two: number, 
/**
 * Median seconds from start to written, over the flows written.
 */
median_secs_to_done?: number, 
/**
 * Flows started for logins that got a decoy (nobody, disabled, out of scope, nothing
 * registered): not in the numbers above.
 */
decoys: number, 
/**
 * Failure reasons ("verify_failed: wrong_code"), most frequent first.
 */
failures: Array<Count>, failures_by_kiosk: Array<Count>, failures_by_directory: Array<Count>, };

export type UncoveredPerson = { username: string, display_name: string, administrator: boolean, methods: Array<MethodKind>, required: number, };

export type CoverageView = { enabled_people: number, 
/**
 * Have enough methods (of those enabled) to pass.
 */
ready: number, 
/**
 * People with each method registered (of those enabled for SSPR).
 */
by_method: Array<Count>, not_ready: Array<UncoveredPerson>, 
/**
 * Why the count may be short (a directory that can't list its people).
 */
note?: string, };
