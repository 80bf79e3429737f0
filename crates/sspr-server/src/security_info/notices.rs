//! The language a "My security info" session speaks (the browser's, at sign-in), and the
//! emails that tell a person their security info changed, in it.

use sspr_proto::MethodKind;

use super::session::Need;
use super::SecurityInfo;
use crate::directory::DirUser;
use crate::lang::{Lang, Texts};
use crate::notify;

impl SecurityInfo {
    /// The organisation's language, for a person whose browser asks for none we speak.
    pub(super) fn default_lang(&self) -> Lang {
        Lang::of(&self.core.config().organization.default_locale)
    }

    /// What changed, said in the session's language (`{label}` filled in), for
    /// `tell_owner`.
    pub(super) async fn told(
        &self,
        cookie: &str,
        now: i64,
        text: impl FnOnce(&'static Texts) -> &'static str,
        label: &str,
    ) -> (Lang, String) {
        let lang = self.lang(cookie, now).await;
        (lang, lang.format(text(lang.texts()), &[("label", &label)]))
    }

    /// The language of the page this session was signed in from.
    pub(super) async fn lang(&self, cookie: &str, now: i64) -> Lang {
        self.with_session(cookie, Need::Any, now, |s| Ok(s.lang))
            .await
            .unwrap_or_else(|_| self.default_lang())
    }

    /// Tells the person (their directory address and alternate addresses) what changed,
    /// in `lang` (`what` is already in it).
    pub(super) async fn tell_owner(&self, user: &DirUser, lang: Lang, what: &str, now: i64) {
        let core = &self.core;
        let mut to: Vec<String> = user.email.iter().cloned().collect();
        if let Ok(regs) = core.store.registrations(&user.id).await {
            for r in regs {
                if r.kind() == Some(MethodKind::Email) && !to.contains(&r.value) {
                    to.push(r.value);
                }
            }
        }
        let config = core.config();
        let t = lang.texts();
        let when = lang.date_time(now);
        let subject = lang.format(
            t.info_subject,
            &[("organization", &config.organization.name)],
        );
        let body = match config.helpdesk.phone.as_deref() {
            Some(phone) => lang.format(
                t.info_body_helpdesk,
                &[
                    ("name", &user.display_name),
                    ("what", &what),
                    ("when", &when),
                    ("helpdesk", &phone),
                ],
            ),
            None => lang.format(
                t.info_body,
                &[
                    ("name", &user.display_name),
                    ("what", &what),
                    ("when", &when),
                ],
            ),
        };
        for address in to {
            let mail = notify::Mail {
                to: address,
                subject: subject.clone(),
                body: body.clone(),
            };
            if let Err(reason) = core.mailer.send(&mail).await {
                tracing::warn!(reason = %reason, "telling a person about a security info change failed");
            }
        }
    }
}
