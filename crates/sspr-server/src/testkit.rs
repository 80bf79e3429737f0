//! Unit tests' kit: the services over the in-memory store, the built-in directory and a
//! mailer that keeps its messages, with the time in the test's hands (`now` goes in to
//! every call). Randomness is seeded, so a run repeats.

use std::sync::Arc;

use secrecy::SecretString;
use sspr_proto::{FlowView, Intent, MethodKind, StartFlowRequest, VerifyRequest};

use crate::config::Config;
use crate::core::{Core, Parts};
use crate::directory::builtin::{BuiltinDirectory, NewUser};
use crate::flow::{Caller, FlowError, FlowService, StepError};
use crate::methods::totp;
use crate::notify::{Mailer, Outbox};
use crate::random::Random;
use crate::secret::ServerKey;
use crate::security_info::SecurityInfo;
use crate::store::Store;

/// A time well inside the range every store column takes (2026-12-01).
pub const T0: i64 = 1_796_083_200;
/// The password every test person has in the built-in directory.
pub const PASSWORD: &str = "the old password of a test person";
pub const NEW_PASSWORD: &str = "correct horse battery staple mountain";

/// The security questions everyone the kit registers them for answered, and how.
pub const QUESTIONS: [(&str, &str); 3] = [
    ("first-pet", "Mitzi"),
    ("childhood-street", "Lindenallee"),
    ("first-teacher", "Schröder"),
];

pub struct Kit {
    pub core: Arc<Core>,
    pub flows: FlowService,
    pub my: SecurityInfo,
    pub console: crate::console::Console,
    pub outbox: Outbox,
    /// The text messages sent.
    pub sms: crate::sms::SmsOutbox,
    /// The calls made (their TwiML).
    pub calls: crate::sms::SmsOutbox,
    directory: BuiltinDirectory,
}

/// A person of the built-in directory, with what they registered.
pub struct Person {
    /// Their registered alternate address, if they registered email.
    pub alternate: Option<String>,
    /// Their authenticator app's secret, if they registered one.
    pub totp: Option<String>,
}

impl Kit {
    pub async fn new() -> Kit {
        Kit::with(|_| {}).await
    }

    /// A kit on the default configuration as `change` leaves it.
    pub async fn with(change: impl FnOnce(&mut Config)) -> Kit {
        Kit::build(change, false).await
    }

    /// `with`, and passkeys on (phones reach the server at https://sspr.example.org).
    pub async fn with_passkeys(change: impl FnOnce(&mut Config)) -> Kit {
        Kit::build(change, true).await
    }

    async fn build(change: impl FnOnce(&mut Config), passkeys: bool) -> Kit {
        let mut config = Config::default();
        config.store.url = "sqlite::memory:".into();
        change(&mut config);
        let store = Store::open(&config.store.url).await.expect("store");
        store.migrate().await.expect("migrate");
        let directories =
            Arc::new(crate::directory::open_all(&config.directory, &store).expect("directory"));
        let directory = BuiltinDirectory::new(config.directory.name.clone(), store.clone());
        let outbox = Outbox::default();
        let sms = crate::sms::SmsOutbox::default();
        let calls = crate::sms::SmsOutbox::default();
        let passkeys = passkeys.then(|| {
            crate::methods::passkey::Passkeys::new(
                "https://sspr.example.org",
                &config.organization.name,
            )
            .expect("passkeys")
        });
        let core = Arc::new(
            Core::new(Parts {
                config,
                store,
                key: ServerKey::from_bytes([7; 32]),
                mailer: Mailer::in_memory(outbox.clone()),
                directories,
                passkeys,
                sms: Some(crate::sms::Sms::in_memory(sms.clone())),
                voice: Some(crate::sms::Sms::in_memory(calls.clone())),
                random: Random::seeded(42),
            })
            .expect("core"),
        );
        Kit {
            flows: FlowService::new(core.clone()),
            my: SecurityInfo::new(core.clone()),
            console: crate::console::Console::new(core.clone()),
            core,
            outbox,
            sms,
            calls,
            directory,
        }
    }

    /// Adds a person (in `groups`) who registered `methods` at `T0`.
    pub async fn person(&self, username: &str, groups: &[&str], methods: &[MethodKind]) -> Person {
        let id = format!("id-{username}");
        let email = format!("{username}@example.org");
        self.directory
            .add_user(&NewUser {
                id: &id,
                username,
                email: Some(&email),
                given_name: username,
                surname: "Test",
                groups,
                disabled: false,
                locked: false,
                password: PASSWORD,
            })
            .await
            .expect("add user");
        let store = &self.core.store;
        let mut person = Person {
            alternate: None,
            totp: None,
        };
        for kind in methods {
            match kind {
                MethodKind::Email => {
                    let to = format!("{username}@home.example.net");
                    store
                        .add_registration(&id, MethodKind::Email, &to, "Email", T0)
                        .await
                        .expect("email");
                    person.alternate = Some(to);
                }
                MethodKind::Totp => {
                    let secret = totp::new_secret();
                    let sealed = crate::store::seal_totp(&self.core.key, &id, &secret);
                    store
                        .add_registration(&id, MethodKind::Totp, &sealed, "Authenticator app", T0)
                        .await
                        .expect("totp");
                    person.totp = Some(secret);
                }
                MethodKind::Approval => {
                    // A passkey the server can't read back: approvals run as they do for
                    // someone whose passkeys went (the phone is asked the same), which is
                    // all a rule short of the passkey's own check needs.
                    store
                        .add_registration(&id, MethodKind::Approval, "{}", "Phone", T0)
                        .await
                        .expect("approval");
                }
                MethodKind::Sms => {
                    store
                        .add_registration(
                            &id,
                            MethodKind::Sms,
                            &mobile_of(username),
                            "Mobile phone",
                            T0,
                        )
                        .await
                        .expect("sms");
                }
                MethodKind::Questions => {
                    use crate::methods::questions::{hash, Asked, Stored};
                    let stored = Stored {
                        questions: QUESTIONS
                            .iter()
                            .map(|(id, _)| Asked::Listed((*id).into()))
                            .collect(),
                        hashes: QUESTIONS
                            .iter()
                            .map(|(_, a)| {
                                hash(&self.core.key, &crate::methods::questions::normalize(a))
                                    .expect("hash")
                            })
                            .collect(),
                    };
                    store
                        .add_registration(
                            &id,
                            MethodKind::Questions,
                            &serde_json::to_string(&stored).expect("json"),
                            "Security questions",
                            T0,
                        )
                        .await
                        .expect("questions");
                }
                other => panic!("the kit can't register {other:?}"),
            }
        }
        self.flows.refresh_stand_ins().await;
        person
    }

    pub fn caller() -> Caller {
        Caller {
            kiosk_id: "kiosk-1".into(),
            kiosk_name: "Test kiosk".into(),
            kiosk_location: "Lab".into(),
            correlation_id: "test".into(),
        }
    }

    pub async fn start(
        &self,
        login: &str,
        intent: Intent,
        now: i64,
    ) -> Result<FlowView, StepError> {
        let req = StartFlowRequest {
            login: login.into(),
            intent,
            locale: None,
        };
        self.flows.start(&Self::caller(), &req, now).await
    }

    /// The id of the flow's method of `kind`.
    pub fn method(flow: &FlowView, kind: MethodKind) -> String {
        flow.methods
            .iter()
            .find(|m| m.kind == kind)
            .map(|m| m.id.clone())
            .unwrap_or_else(|| panic!("no {kind:?} in {:?}", flow.methods))
    }

    /// Chooses the flow's method of `kind` (the kiosk's "challenge" step).
    pub async fn challenge(
        &self,
        flow: &FlowView,
        kind: MethodKind,
        now: i64,
    ) -> Result<sspr_proto::ChallengeView, StepError> {
        self.flows
            .challenge(
                &Self::caller(),
                &flow.flow_id,
                &sspr_proto::ChallengeRequest {
                    method_id: Self::method(flow, kind),
                    finish_on_phone: false,
                    call: false,
                },
                now,
            )
            .await
    }

    /// Waits until a text's or call's sending has ended (it goes after the challenge
    /// answers); returns where it stands.
    pub async fn delivered(&self, flow: &FlowView, challenge_id: &str) -> sspr_proto::Delivery {
        for _ in 0..500 {
            let status = self
                .flows
                .challenge_status(&Self::caller(), &flow.flow_id, challenge_id)
                .await
                .expect("status");
            match status.delivery {
                Some(sspr_proto::Delivery::Sending) => {
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await
                }
                Some(d) => return d,
                None => panic!("this challenge sends nothing"),
            }
        }
        panic!("still sending after 5 s")
    }

    /// Asks for an email code and returns the challenge's id and the code as mailed.
    pub async fn email_code(&self, flow: &FlowView, to: &str, now: i64) -> (String, String) {
        let ch = self
            .challenge(flow, MethodKind::Email, now)
            .await
            .expect("challenge");
        let code = self.outbox.last_code(to).expect("a code was mailed");
        (ch.challenge_id, code)
    }

    pub async fn verify(
        &self,
        flow: &FlowView,
        challenge_id: &str,
        code: &str,
        now: i64,
    ) -> Result<FlowView, StepError> {
        let req = VerifyRequest {
            code: Some(code.into()),
            answers: None,
        };
        self.flows
            .verify(&Self::caller(), &flow.flow_id, challenge_id, &req, now)
            .await
    }

    /// Answers a questions challenge.
    pub async fn answer(
        &self,
        flow: &FlowView,
        challenge_id: &str,
        answers: &[&str],
        now: i64,
    ) -> Result<FlowView, StepError> {
        let req = VerifyRequest {
            code: None,
            answers: Some(answers.iter().map(|a| a.to_string()).collect()),
        };
        self.flows
            .verify(&Self::caller(), &flow.flow_id, challenge_id, &req, now)
            .await
    }

    /// The right answer to a question as the kiosk shows it (in English).
    pub fn right_answer(&self, question: &str) -> &'static str {
        let policy = &self.core.config().policy.questions;
        QUESTIONS
            .iter()
            .find(|(id, _)| policy.question(id).map(|q| q.text_in("en")) == Some(question))
            .map(|(_, a)| *a)
            .expect("a question the kit registered")
    }

    pub async fn set_password(
        &self,
        flow: &FlowView,
        password: &str,
        now: i64,
    ) -> Result<sspr_proto::DoneView, StepError> {
        self.flows
            .set_password(
                &Self::caller(),
                &flow.flow_id,
                &SecretString::from(password),
                now,
            )
            .await
    }
}

/// The mobile number the kit registers for `username` (E.164, German mobile range).
pub fn mobile_of(username: &str) -> String {
    let n: u32 = username.bytes().map(u32::from).sum::<u32>() % 10_000;
    format!("+49151123{n:04}")
}

/// The flow error of a step's failure (the reference aside).
pub fn error_of<T: std::fmt::Debug>(r: Result<T, StepError>) -> FlowError {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.error,
    }
}
