//! What the services share: the configuration, the store, the server key, the audit,
//! the throttles, the mailer, the directories, passkeys, the password rules and the
//! randomness. The flow (`flow`) and "My security info" (`security_info`) each hold an
//! `Arc<Core>` and reach nothing of each other's.

use std::sync::Arc;

use crate::audit::Audit;
use crate::config::Config;
use crate::directory::set::Directories;
use crate::methods::passkey::Passkeys;
use crate::notify::Mailer;
use crate::policy::document::PolicyDocument;
use crate::policy::password::PasswordPolicy;
use crate::random::Random;
use crate::secret::ServerKey;
use crate::store::Store;
use crate::store::StoreError;
use crate::throttle::Throttle;

pub struct Core {
    /// The configuration as it stands: the TOML file's, with the policy's latest stored
    /// version over it (`policy_store`); swapped whole when a new version is saved.
    config: std::sync::RwLock<Arc<Config>>,
    /// The configuration file's, under every policy version.
    base: Arc<Config>,
    /// The policy version in force (0: the file's, none stored yet).
    policy_version: std::sync::atomic::AtomicI64,
    pub store: Store,
    pub key: Arc<ServerKey>,
    pub audit: Audit,
    pub throttle: Throttle,
    pub mailer: Mailer,
    pub directories: Arc<Directories>,
    /// Passkeys (None when phones reach the server by IP address: passkeys need a host).
    pub passkeys: Option<Passkeys>,
    /// Text message gateways (None: no `[[sms.provider]]`).
    pub sms: Option<crate::sms::Sms>,
    /// Voice call gateways (None: no `[[voice.provider]]`).
    pub voice: Option<crate::sms::Sms>,
    /// The new-password rules of the configuration in force (`passwords()`).
    passwords: std::sync::RwLock<Arc<PasswordPolicy>>,
    pub random: Random,
    /// argon2id off the request threads (security answers).
    pub hasher: crate::directory::hashing::Hasher,
    /// Someone's methods changed: who decoys stand in for is read again soon.
    pub registrations_changed: tokio::sync::Notify,
}

/// What became of a policy change (`Core::change_policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySave {
    Saved {
        version: i64,
        changes: Vec<String>,
    },
    /// The change changes nothing: this version stays.
    Unchanged(i64),
    /// Another version was saved first: nothing changed.
    Stale,
    /// Nobody could pass it, or a value is out of range: nothing changed.
    Refused(Vec<String>),
}

/// The parts a `Core` is made of (`Core::new`), so a test can build one from its own.
pub struct Parts {
    pub config: Config,
    pub store: Store,
    pub key: ServerKey,
    pub mailer: Mailer,
    pub directories: Arc<Directories>,
    pub passkeys: Option<Passkeys>,
    pub sms: Option<crate::sms::Sms>,
    pub voice: Option<crate::sms::Sms>,
    pub random: Random,
}

impl Core {
    pub fn new(p: Parts) -> anyhow::Result<Core> {
        Ok(Core {
            passwords: std::sync::RwLock::new(Arc::new(PasswordPolicy::new(&p.config.password)?)),
            audit: Audit::new(p.store.clone()),
            throttle: Throttle::new(p.store.clone(), p.config.throttle.clone()),
            base: Arc::new(p.config.clone()),
            config: std::sync::RwLock::new(Arc::new(p.config)),
            policy_version: std::sync::atomic::AtomicI64::new(0),
            store: p.store,
            key: Arc::new(p.key),
            mailer: p.mailer,
            directories: p.directories,
            passkeys: p.passkeys,
            sms: p.sms,
            voice: p.voice,
            random: p.random,
            hasher: crate::directory::hashing::Hasher::start(
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1),
            ),
            registrations_changed: tokio::sync::Notify::new(),
        })
    }

    /// The configuration as it stands now. A step reads it once and keeps what it got,
    /// so a policy saved meanwhile applies from the next step on, never half-way through.
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The new-password rules in force (the policy's length bounds and banned terms).
    pub fn passwords(&self) -> Arc<PasswordPolicy> {
        self.passwords
            .read()
            .map(|p| p.clone())
            .unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The configuration file's, under every policy version.
    pub fn base(&self) -> &Config {
        &self.base
    }

    /// The policy version in force (0: the file's, none stored yet).
    pub fn policy_version(&self) -> i64 {
        self.policy_version
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Puts the newest stored policy in force if it isn't yet; stores the file's policy as
    /// the first version when there is none. A stored version that can't be used (it
    /// fails today's rules) is logged and the one in force stays. Returns the version in
    /// force.
    pub async fn apply_latest_policy(&self, now: i64) -> Result<i64, StoreError> {
        let Some(latest) = self.store.latest_policy().await? else {
            let first = PolicyDocument::of(&self.base);
            let json = serde_json::to_string(&first)
                .map_err(|e| StoreError::Other(format!("the policy document: {e}")))?;
            // Another process may store the first version at the same time: either does.
            if let Some(v) = self
                .store
                .save_policy(None, &json, "configuration file", now)
                .await?
            {
                tracing::info!(version = v, "the configuration file's policy is version 1");
            }
            return Box::pin(self.apply_latest_policy(now)).await;
        };
        if latest.version == self.policy_version() {
            return Ok(latest.version);
        }
        let doc: Result<PolicyDocument, _> = serde_json::from_str(&latest.document);
        match doc.map_err(|e| vec![e.to_string()]).and_then(|d| {
            let problems = d.problems(&self.base);
            if problems.is_empty() {
                Ok(d)
            } else {
                Err(problems)
            }
        }) {
            Ok(doc) => {
                self.set_config(doc.over(&self.base));
                self.policy_version
                    .store(latest.version, std::sync::atomic::Ordering::Relaxed);
                tracing::info!(version = latest.version, author = %latest.author, "policy version in force");
                Ok(latest.version)
            }
            Err(problems) => {
                tracing::error!(version = latest.version, problems = ?problems,
                    "the newest policy version can't be used; the one in force stays");
                Ok(self.policy_version())
            }
        }
    }

    /// Saves a new policy version made by `change` from the one in force (and, with
    /// `base`, only if that is still version `base`): refused with reasons when nobody
    /// could pass it or a value is out of range, and nothing changes. Each save and
    /// refusal is audited. The new version is in force here at once (elsewhere within
    /// the poll's 2 s).
    pub async fn change_policy(
        &self,
        ctx: &crate::audit::Context,
        author: &str,
        base: Option<i64>,
        change: impl FnOnce(&PolicyDocument) -> Result<PolicyDocument, Vec<String>>,
        now: i64,
    ) -> Result<PolicySave, StoreError> {
        use crate::audit::Event;
        let Some(latest) = self.store.latest_policy().await? else {
            return Ok(PolicySave::Stale);
        };
        if base.is_some_and(|b| b != latest.version) {
            return Ok(PolicySave::Stale);
        }
        let current = serde_json::from_str::<PolicyDocument>(&latest.document)
            .map_err(|e| StoreError::Other(format!("the stored policy: {e}")))?
            .filled(&self.base);
        let problems = match change(&current) {
            Ok(new) => match new.problems(&self.base) {
                p if p.is_empty() => {
                    let changes = new.changes_from(&current);
                    if changes.is_empty() {
                        return Ok(PolicySave::Unchanged(latest.version));
                    }
                    let json = serde_json::to_string(&new)
                        .map_err(|e| StoreError::Other(format!("the policy document: {e}")))?;
                    let Some(version) = self
                        .store
                        .save_policy(Some(latest.version), &json, author, now)
                        .await?
                    else {
                        return Ok(PolicySave::Stale);
                    };
                    self.audit
                        .record(
                            ctx,
                            Event::PolicySaved {
                                version,
                                author: author.to_string(),
                                changes: changes.clone(),
                            },
                            now,
                        )
                        .await;
                    self.apply_latest_policy(now).await?;
                    return Ok(PolicySave::Saved { version, changes });
                }
                p => p,
            },
            Err(p) => p,
        };
        self.audit
            .record(
                ctx,
                Event::PolicyRefused {
                    author: author.to_string(),
                    problems: problems.clone(),
                },
                now,
            )
            .await;
        Ok(PolicySave::Refused(problems))
    }

    /// Puts a new configuration in force (a new policy version).
    fn set_config(&self, config: Config) {
        match PasswordPolicy::new(&config.password) {
            Ok(p) => match self.passwords.write() {
                Ok(mut slot) => *slot = Arc::new(p),
                Err(poisoned) => *poisoned.into_inner() = Arc::new(p),
            },
            Err(e) => {
                tracing::error!(error = %e, "the password rules of the new policy version; the old ones stay")
            }
        }
        let config = Arc::new(config);
        match self.config.write() {
            Ok(mut c) => *c = config,
            Err(p) => *p.into_inner() = config,
        }
    }
}
