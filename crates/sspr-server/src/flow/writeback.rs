//! Writeback: the new password, or the unlock, written to every directory that holds the
//! person, synchronously; what each took, partial results, writes whose answer was lost
//! (in doubt, settled by the retry), and the flow's end with its notices.

use std::sync::Arc;

use secrecy::SecretString;
use sspr_proto::{DirectoryResult, DoneView, Intent, Outcome, PasswordCheck};

use super::error::{FlowError, FlowResult, StepResult};
use super::rows::FlowRow;
use super::{Caller, FlowService, FlowState};
use crate::audit::{self, Event};
use crate::directory::{DirError, DirUser};
use crate::throttle;

impl FlowService {
    /// The flow's person as the directories know them now, with their home directory.
    async fn current_user(&self, flow: &FlowRow) -> Result<Option<(usize, DirUser)>, DirError> {
        let found = self.core.directories.find_home(&flow.login).await?;
        Ok(found.filter(|(_, u)| Some(&u.id) == flow.user_id.as_ref()))
    }

    /// Live feedback on a candidate password, once verified.
    pub async fn password_check(
        &self,
        caller: &Caller,
        flow_id: &str,
        candidate: &str,
        now: i64,
    ) -> StepResult<PasswordCheck> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        if flow.state != FlowState::Verified {
            let refused = self.refuse_step(caller, &flow, "password_check", now).await;
            return Err(refused.at(&flow.reference));
        }
        let user = match self.current_user(&flow).await {
            Ok(u) => u,
            Err(e) => {
                let down = self.directory_down(caller, &flow.reference, e, now).await;
                return Err(down.at(&flow.reference));
            }
        };
        let reasons = self.core.passwords().check_with(
            candidate,
            user.as_ref().map(|(_, u)| u),
            self.core.directories.rules(),
        );
        Ok(PasswordCheck {
            acceptable: reasons.is_empty(),
            reasons,
        })
    }

    /// Sets the new password in the directory, synchronously.
    pub async fn set_password(
        &self,
        caller: &Caller,
        flow_id: &str,
        new_password: &SecretString,
        now: i64,
    ) -> StepResult<DoneView> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        self.set_password_in(caller, &flow, new_password, now)
            .await
            .map_err(|e| e.at(&flow.reference))
    }

    async fn set_password_in(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        new_password: &SecretString,
        now: i64,
    ) -> FlowResult<DoneView> {
        use secrecy::ExposeSecret;
        if flow.state != FlowState::Verified {
            return Err(self.refuse_step(caller, flow, "password", now).await);
        }
        let ctx = self.ctx(caller, Some(flow));
        let (home, user) = self.writable_user(caller, flow, now).await?;
        let reasons = self.core.passwords().check_with(
            new_password.expose_secret(),
            Some(&user),
            self.core.directories.rules(),
        );
        if !reasons.is_empty() {
            self.core
                .audit
                .record(
                    &ctx,
                    Event::PasswordRejected {
                        reasons: reasons.iter().map(|r| r.code).collect(),
                    },
                    now,
                )
                .await;
            return Err(FlowError::PasswordRejected(reasons));
        }
        if let Err(until) = self
            .core
            .throttle
            .reset_allowed(&flow.throttle_key, now)
            .await?
        {
            self.core
                .audit
                .record(
                    &ctx,
                    Event::Blocked {
                        scope: "user",
                        until: audit::rfc3339(until),
                    },
                    now,
                )
                .await;
            return Err(FlowError::Blocked {
                retry_after: until - now,
            });
        }
        self.begin_write(caller, flow, "password", now).await?;
        let mac = self.core.key.mac_hex(
            "flow-password",
            &[flow.id.as_bytes(), new_password.expose_secret().as_bytes()],
        );
        // After a partial writeback, the directories that hold this very password already
        // are skipped, and one whose answer was lost is written only if it didn't take it;
        // a different password is written everywhere again.
        let linked = self.core.directories.len() > 1;
        let mut written: Vec<String> = Vec::new();
        let mut doubted: Vec<crate::store::WrittenTo> = Vec::new();
        for w in self.core.store.written_directories(&flow.id).await? {
            if crate::secret::constant_time_eq(w.password_mac.as_bytes(), mac.as_bytes()) {
                if w.in_doubt {
                    doubted.push(w);
                } else {
                    written.push(w.directory);
                }
            }
        }
        let accounts = self.core.directories.accounts(home, &user).await;
        let mut results: Vec<(String, Result<bool, DirError>)> = Vec::new();
        for account in accounts {
            let outcome = match account.user {
                Ok(None) => continue,
                _ if written.contains(&account.directory) => Ok(false),
                Err(e) => Err(e),
                Ok(Some(u)) => match self.core.directories.get(account.index) {
                    Some(dir) => {
                        let doubt = doubted.iter().find(|w| w.directory == account.directory);
                        if doubt.is_some_and(|w| moved(w.changed_before, u.password_changed_at)) {
                            self.core
                                .audit
                                .record(
                                    &ctx,
                                    Event::WritebackConfirmed {
                                        directory: account.directory.clone(),
                                    },
                                    now,
                                )
                                .await;
                            Ok(true)
                        } else {
                            self.write_password(
                                caller,
                                flow,
                                dir,
                                &u,
                                &account.directory,
                                new_password,
                                &mac,
                                now,
                            )
                            .await
                        }
                    }
                    None => continue,
                },
            };
            if let (Ok(true), true) = (&outcome, linked) {
                // The directory took it: a store that can't note it (a full disk) must not
                // turn that into "nothing was changed". A retry then writes it again.
                if let Err(e) = self
                    .core
                    .store
                    .record_written(&flow.id, &account.directory, &mac, now)
                    .await
                {
                    tracing::error!(error = %e, directory = %account.directory,
                        "noting a directory's write failed");
                }
            }
            results.push((account.directory, outcome));
        }
        self.conclude(caller, flow, &user, Outcome::PasswordReset, results, now)
            .await
    }

    /// Writes the new password to one directory. A write whose answer was lost is asked
    /// about at once (a lost connection, not a lost directory, answers now); if the
    /// directory can't say, it is kept as in doubt for the retry to settle.
    #[allow(clippy::too_many_arguments)]
    async fn write_password(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        dir: &Arc<dyn crate::directory::Directory>,
        user: &DirUser,
        directory: &str,
        new_password: &SecretString,
        mac: &str,
        now: i64,
    ) -> Result<bool, DirError> {
        let started = std::time::Instant::now();
        let written = dir.set_password(user, new_password).await;
        crate::telemetry::directory(dir.name(), "set_password", started, written.is_ok());
        let why = match written {
            Ok(()) => return Ok(true),
            Err(DirError::InDoubt(why)) => why,
            Err(e) => return Err(e),
        };
        let asked = tokio::time::timeout(
            std::time::Duration::from_secs(3),
            dir.lookup(&user.username),
        )
        .await;
        match asked {
            Ok(Ok(Some(now_user)))
                if moved(user.password_changed_at, now_user.password_changed_at) =>
            {
                return Ok(true)
            }
            // Not moved, and both known: the write didn't happen. (A directory that keeps
            // no such time can't say: in doubt.)
            Ok(Ok(Some(now_user)))
                if user.password_changed_at.is_some() && now_user.password_changed_at.is_some() =>
            {
                return Err(DirError::Unavailable(format!(
                    "{why} (the directory answered again: the password didn't change)"
                )))
            }
            _ => {}
        }
        self.core
            .audit
            .record(
                &self.ctx(caller, Some(flow)),
                Event::WritebackInDoubt {
                    directory: directory.to_string(),
                    reason: why.clone(),
                },
                now,
            )
            .await;
        if let Err(e) = self
            .core
            .store
            .record_in_doubt(&flow.id, directory, mac, user.password_changed_at, now)
            .await
        {
            tracing::error!(error = %e, "keeping a write in doubt failed");
        }
        Err(DirError::InDoubt(why))
    }

    /// Turns per-directory outcomes into the answer: done when every directory holding
    /// the person took the change; a partial result names which did; when none did, the
    /// first directory's refusal is the answer (nothing was changed).
    async fn conclude(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        user: &DirUser,
        outcome: Outcome,
        results: Vec<(String, Result<bool, DirError>)>,
        now: i64,
    ) -> FlowResult<DoneView> {
        let ctx = self.ctx(caller, Some(flow));
        let any_ok = results.iter().any(|(_, r)| r.is_ok());
        let all_ok = results.iter().all(|(_, r)| r.is_ok());
        let done_message = |changed: bool| match (outcome, changed) {
            (Outcome::PasswordReset, _) => "The new password is set.".to_string(),
            (Outcome::Unlocked, true) => "The account is unlocked.".to_string(),
            (Outcome::Unlocked, false) => {
                "The account was not locked; nothing needed changing.".to_string()
            }
        };
        if all_ok {
            if self.core.directories.len() > 1 {
                if let Err(e) = self.core.store.forget_written(&flow.id).await {
                    tracing::warn!(error = %e, "forgetting a flow's writes failed");
                }
            }
            self.finish(caller, flow, user, outcome, now).await?;
            let mut directories = Vec::new();
            for (directory, r) in results {
                let changed = r.unwrap_or(false);
                let event = match outcome {
                    Outcome::PasswordReset => Event::PasswordReset {
                        directory: directory.clone(),
                    },
                    Outcome::Unlocked => Event::Unlocked {
                        directory: directory.clone(),
                    },
                };
                self.core.audit.record(&ctx, event, now).await;
                directories.push(DirectoryResult {
                    directory,
                    ok: true,
                    message: done_message(changed || outcome == Outcome::PasswordReset),
                });
            }
            return Ok(DoneView {
                outcome,
                reference: flow.reference.clone(),
                directories,
            });
        }
        // Back to verified: the person may try again.
        if let Err(err) = self
            .core
            .store
            .update_flow_state(
                &flow.id,
                FlowState::Writing,
                FlowState::Verified,
                &flow.done,
                None,
            )
            .await
        {
            tracing::error!(error = %err, "restoring the flow after a failed writeback");
        }
        if !any_ok {
            let first = results
                .into_iter()
                .find_map(|(directory, r)| r.err().map(|e| (directory, e)));
            let (directory, e) = match first {
                Some(f) => f,
                None => (
                    self.core.directories.names(),
                    DirError::Other("no directory holds the person".into()),
                ),
            };
            return Err(self.write_failed(caller, flow, &directory, e, now).await);
        }
        let mut directories = Vec::new();
        let mut written_to = Vec::new();
        let mut failed = Vec::new();
        for (directory, r) in results {
            let (ok, message) = match r {
                Ok(changed) => {
                    written_to.push(directory.clone());
                    (
                        true,
                        done_message(changed || outcome == Outcome::PasswordReset),
                    )
                }
                Err(e) => {
                    tracing::warn!(directory = %directory, error = %e, "writeback failed");
                    failed.push(directory.clone());
                    (false, failure_message(&e, outcome))
                }
            };
            directories.push(DirectoryResult {
                directory,
                ok,
                message,
            });
        }
        self.core
            .audit
            .record(
                &ctx,
                Event::PartiallyWritten {
                    intent: outcome_str(outcome),
                    written: written_to,
                    failed,
                },
                now,
            )
            .await;
        Err(FlowError::PartiallyWritten {
            outcome,
            directories,
        })
    }

    /// Unlocks the account without changing the password.
    pub async fn unlock(&self, caller: &Caller, flow_id: &str, now: i64) -> StepResult<DoneView> {
        let flow = self.live_flow(caller, flow_id, now).await?;
        self.unlock_in(caller, &flow, now)
            .await
            .map_err(|e| e.at(&flow.reference))
    }

    async fn unlock_in(&self, caller: &Caller, flow: &FlowRow, now: i64) -> FlowResult<DoneView> {
        if flow.state != FlowState::Verified {
            return Err(self.refuse_step(caller, flow, "unlock", now).await);
        }
        if flow.intent != Intent::Unlock || !self.core.config().policy.allow_unlock {
            self.core
                .audit
                .record(
                    &self.ctx(caller, Some(flow)),
                    Event::StepRefused {
                        step: "unlock",
                        reason: "not_allowed",
                    },
                    now,
                )
                .await;
            return Err(FlowError::UnlockNotOffered);
        }
        let (home, user) = self.writable_user(caller, flow, now).await?;
        self.begin_write(caller, flow, "unlock", now).await?;
        let accounts = self.core.directories.accounts(home, &user).await;
        let mut results: Vec<(String, Result<bool, DirError>)> = Vec::new();
        for account in accounts {
            let outcome = match account.user {
                Ok(None) => continue,
                Err(e) => Err(e),
                Ok(Some(u)) => match self.core.directories.get(account.index) {
                    Some(dir) => match timed_unlock(dir.as_ref(), &u).await {
                        Ok(()) => Ok(u.locked),
                        // Nothing to unlock there (Entra ID), but another directory had.
                        Err(DirError::Unsupported(_)) if self.core.directories.len() > 1 => {
                            Ok(false)
                        }
                        Err(e) => Err(e),
                    },
                    None => continue,
                },
            };
            results.push((account.directory, outcome));
        }
        self.conclude(caller, flow, &user, Outcome::Unlocked, results, now)
            .await
    }

    async fn writable_user(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        now: i64,
    ) -> FlowResult<(usize, DirUser)> {
        match self.current_user(flow).await {
            Ok(Some((home, u))) if !u.disabled => Ok((home, u)),
            Ok(_) => Err(FlowError::AccountNotChangeable),
            Err(e) => Err(self.directory_down(caller, &flow.reference, e, now).await),
        }
    }

    async fn begin_write(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        step: &'static str,
        now: i64,
    ) -> FlowResult<()> {
        if self
            .core
            .store
            .update_flow_state(
                &flow.id,
                FlowState::Verified,
                FlowState::Writing,
                &flow.done,
                None,
            )
            .await?
        {
            Ok(())
        } else {
            Err(self.refuse_step(caller, flow, step, now).await)
        }
    }

    /// Nothing was written: says why, for the person and the audit. The flow is back to
    /// verified already, so the person may try again (another password, or later).
    async fn write_failed(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        directory: &str,
        e: DirError,
        now: i64,
    ) -> FlowError {
        let ctx = self.ctx(caller, Some(flow));
        let directory = directory.to_string();
        let reason = match &e {
            DirError::Rejected(_) => "rejected by the directory".to_string(),
            DirError::Denied(why) => format!("denied: {why}"),
            DirError::Unsupported(why) => format!("not supported: {why}"),
            DirError::Unavailable(why) | DirError::Other(why) => why.clone(),
            DirError::InDoubt(why) => format!("in doubt: {why}"),
        };
        tracing::warn!(directory = %directory, reason = %reason, "writeback failed");
        self.core
            .audit
            .record(&ctx, Event::WritebackFailed { directory, reason }, now)
            .await;
        match e {
            DirError::Rejected(reasons) => {
                // The directory's rules may have changed since they were read: read them
                // again, so the next person (and this one's next try) sees them first.
                let directories = self.core.directories.clone();
                tokio::spawn(async move {
                    if let Err(e) = directories.refresh_rules().await {
                        tracing::warn!(error = %e, "reading the directories' password rules");
                    }
                });
                FlowError::PasswordRejected(reasons)
            }
            DirError::Denied(_) => FlowError::AccountDenied,
            DirError::Unsupported(why) => FlowError::Unsupported(why),
            DirError::Unavailable(_) | DirError::Other(_) => FlowError::DirectoryDown,
            DirError::InDoubt(_) => FlowError::WriteInDoubt,
        }
    }

    async fn finish(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        user: &DirUser,
        outcome: Outcome,
        now: i64,
    ) -> FlowResult<()> {
        // One commit: the flow's end and, after a reset, the throttle's bookkeeping.
        let reset = (outcome == Outcome::PasswordReset).then(|| throttle::Succeeded {
            user: &flow.throttle_key,
            at: now,
        });
        // The directory holds the change already: that is what the person is told, even if
        // the store can't record the flow's end now (a full disk). The flow then stays
        // "writing" until it expires: no second write can start from it.
        if let Err(e) = self
            .core
            .store
            .complete_flow(
                &flow.id,
                FlowState::Writing,
                FlowState::Completed,
                &flow.done,
                now,
                reset,
            )
            .await
        {
            tracing::error!(error = %e, reference = %flow.reference,
                "the directory took the change, but the store couldn't record the flow's end");
        }
        self.notify_done(caller, flow, user, outcome, now).await;
        Ok(())
    }
}

/// For the person, per directory, after a partial writeback.
fn failure_message(e: &DirError, outcome: Outcome) -> String {
    let what = match outcome {
        Outcome::PasswordReset => "The new password is not set here",
        Outcome::Unlocked => "Not unlocked here",
    };
    match e {
        DirError::Rejected(reasons) => {
            let why: Vec<&str> = reasons.iter().map(|r| r.message.as_str()).collect();
            format!("{what}: {}", why.join(" "))
        }
        DirError::Denied(_) => {
            format!("{what}: self-service may not change this account; the helpdesk can.")
        }
        DirError::Unsupported(why) => format!("{what}: {why}"),
        DirError::Unavailable(_) | DirError::Other(_) => {
            format!("{what}: we couldn't reach it. Try again.")
        }
        DirError::InDoubt(_) => format!(
            "{what} for sure: we lost it while it was changing. Try again with the same password to finish."
        ),
    }
}

/// Whether the password's "last changed" time moved: the write in doubt was made.
fn moved(before: Option<i64>, after: Option<i64>) -> bool {
    match (before, after) {
        (Some(b), Some(a)) => a > b,
        (None, Some(_)) => true,
        _ => false,
    }
}

fn outcome_str(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::PasswordReset => "reset",
        Outcome::Unlocked => "unlock",
    }
}

/// Unlocks one account, timed for the metrics.
async fn timed_unlock(
    dir: &dyn crate::directory::Directory,
    user: &DirUser,
) -> Result<(), DirError> {
    let started = std::time::Instant::now();
    let unlocked = dir.unlock(user).await;
    crate::telemetry::directory(dir.name(), "unlock", started, unlocked.is_ok());
    unlocked
}
