//! What the services share: the configuration, the store, the server key, the audit,
//! the throttles, the mailer, the directories, passkeys, the password rules and the
//! randomness. The flow (`flow`) and "My security info" (`security_info`) each hold an
//! `Arc<Core>` and reach nothing of each other's.

use std::sync::Arc;

use crate::audit::Audit;
use crate::config::{Config, PolicyConfig};
use crate::directory::set::Directories;
use crate::methods::passkey::Passkeys;
use crate::notify::Mailer;
use crate::policy::password::PasswordPolicy;
use crate::random::Random;
use crate::secret::ServerKey;
use crate::store::Store;
use crate::throttle::Throttle;

pub struct Core {
    config: Arc<Config>,
    pub store: Store,
    pub key: Arc<ServerKey>,
    pub audit: Audit,
    pub throttle: Throttle,
    pub mailer: Mailer,
    pub directories: Arc<Directories>,
    /// Passkeys (None when phones reach the server by IP address: passkeys need a host).
    pub passkeys: Option<Passkeys>,
    pub passwords: PasswordPolicy,
    pub random: Random,
    /// Someone's methods changed: who decoys stand in for is read again soon.
    pub registrations_changed: tokio::sync::Notify,
}

/// The parts a `Core` is made of (`Core::new`), so a test can build one from its own.
pub struct Parts {
    pub config: Config,
    pub store: Store,
    pub key: ServerKey,
    pub mailer: Mailer,
    pub directories: Arc<Directories>,
    pub passkeys: Option<Passkeys>,
    pub random: Random,
}

impl Core {
    pub fn new(p: Parts) -> anyhow::Result<Core> {
        Ok(Core {
            passwords: PasswordPolicy::new(&p.config.password)?,
            audit: Audit::new(p.store.clone()),
            throttle: Throttle::new(p.store.clone(), p.config.throttle.clone()),
            config: Arc::new(p.config),
            store: p.store,
            key: Arc::new(p.key),
            mailer: p.mailer,
            directories: p.directories,
            passkeys: p.passkeys,
            random: p.random,
            registrations_changed: tokio::sync::Notify::new(),
        })
    }

    /// The configuration. Every read goes through here, so a later change can swap what
    /// it returns while the server runs.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The policy: who may use self-service, with which methods, how many.
    pub fn policy(&self) -> &PolicyConfig {
        &self.config.policy
    }
}
