//! Notices: once a flow ends with a change, the person is told by email (their directory
//! address and every alternate address they registered), and the administrators too when
//! an administrator's password was reset.

use sspr_proto::{MethodKind, Outcome};

use super::rows::FlowRow;
use super::{Caller, FlowService};
use crate::audit::Event;
use crate::directory::DirUser;
use crate::notify::{self, Mail};

impl FlowService {
    /// Emails the person, and every administrator when an administrator reset. Sent after
    /// the response is decided; failures are audited.
    pub(super) async fn notify_done(
        &self,
        caller: &Caller,
        flow: &FlowRow,
        user: &DirUser,
        outcome: Outcome,
        now: i64,
    ) {
        let config = self.core.config();
        let policy = &config.policy;
        let helpdesk = &config.helpdesk;
        let helpdesk = helpdesk
            .url
            .as_deref()
            .or(helpdesk.phone.as_deref())
            .or(helpdesk.email.as_deref());
        let notice = notify::NoticeMail {
            locale: &flow.locale,
            organization: &self.core.config().organization.name,
            display_name: &user.display_name,
            username: &user.username,
            unlocked_only: outcome == Outcome::Unlocked,
            kiosk: &caller.kiosk_name,
            at: now,
            reference: &flow.reference,
            helpdesk,
        };
        let mut mails: Vec<(&'static str, Mail)> = Vec::new();
        if policy.notify_user {
            let mut to: Vec<String> = user.email.iter().cloned().collect();
            for m in flow.methods.iter().filter(|m| m.kind == MethodKind::Email) {
                if !to.iter().any(|t| t.eq_ignore_ascii_case(&m.target)) {
                    to.push(m.target.clone());
                }
            }
            mails.extend(
                to.iter()
                    .map(|t| ("user_notice", notify::user_notice(t, &notice))),
            );
        }
        if policy.notify_admins_on_admin_reset && flow.is_admin && outcome == Outcome::PasswordReset
        {
            let mut admins: Vec<String> = Vec::new();
            for group in &policy.admin_groups {
                match self.core.directories.members(group).await {
                    Ok(members) => admins.extend(members.into_iter().filter_map(|m| m.email)),
                    Err(e) => tracing::warn!(error = %e, "listing administrators failed"),
                }
            }
            admins.sort();
            admins.dedup();
            // Administrators read it in the organisation's language, not the person's.
            let notice = notify::NoticeMail {
                locale: &config.organization.default_locale,
                ..notice
            };
            mails.extend(
                admins
                    .iter()
                    .map(|a| ("admin_notice", notify::admin_notice(a, &notice))),
            );
        }
        let mailer = self.core.mailer.clone();
        let audit = self.core.audit.clone();
        let ctx = self.ctx(caller, Some(flow));
        tokio::spawn(async move {
            let mut sent: std::collections::BTreeMap<&'static str, usize> = Default::default();
            for (kind, mail) in &mails {
                match mailer.send(mail).await {
                    Ok(()) => *sent.entry(kind).or_default() += 1,
                    Err(reason) => {
                        audit
                            .record(&ctx, Event::NotificationFailed { kind, reason }, now)
                            .await;
                    }
                }
            }
            for (kind, recipients) in sent {
                audit
                    .record(&ctx, Event::NotificationSent { kind, recipients }, now)
                    .await;
            }
        });
    }
}
