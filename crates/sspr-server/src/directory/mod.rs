//! Where the people are. The server reads users from a directory and writes new passwords
//! and unlocks back to it, synchronously. The built-in directory lives in the server's own
//! store; LDAP, Active Directory and Entra ID sit behind the same trait.

pub mod active_directory;
pub mod builtin;
pub mod entra;
pub(crate) mod hashing;
pub mod import;
mod ldap;
pub mod openldap;
pub mod set;
pub mod tls_probe;

use async_trait::async_trait;
use secrecy::SecretString;
use sspr_proto::PasswordReason;

/// Opens the configured directory and the ones linked to it.
pub fn open_all(
    config: &crate::config::DirectoryConfig,
    store: &crate::store::Store,
) -> anyhow::Result<set::Directories> {
    let mut members = vec![(open(config, store)?, config.link)];
    for linked in &config.linked {
        members.push((open(linked, store)?, linked.link));
    }
    let mut names: Vec<&str> = members.iter().map(|(d, _)| d.name()).collect();
    names.sort();
    let count = names.len();
    names.dedup();
    anyhow::ensure!(
        names.len() == count,
        "every directory needs a name of its own (directory.name)"
    );
    Ok(set::Directories::new(members))
}

fn open(
    config: &crate::config::DirectoryConfig,
    store: &crate::store::Store,
) -> anyhow::Result<std::sync::Arc<dyn Directory>> {
    use crate::config::DirectoryKind;
    use std::sync::Arc;
    Ok(match config.kind {
        DirectoryKind::Builtin => Arc::new(builtin::BuiltinDirectory::new(
            config.name.clone(),
            store.clone(),
        )),
        DirectoryKind::Ldap => Arc::new(openldap::OpenLdap::new(config)?),
        DirectoryKind::ActiveDirectory => Arc::new(active_directory::ActiveDirectory::new(config)?),
        DirectoryKind::Entra => Arc::new(entra::Entra::new(config)?),
    })
}

/// A person as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirUser {
    /// Stable id in the directory (registrations hang on it): entryUUID, objectGUID,
    /// Entra object id.
    pub id: String,
    /// Where the directory writes: the entry's DN for LDAP and AD, the object id for Entra.
    pub dn: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub groups: Vec<String>,
    pub disabled: bool,
    pub locked: bool,
    /// When the password last changed, as the directory keeps it (pwdChangedTime,
    /// pwdLastSet; unix seconds), where it does: a write whose answer was lost is found
    /// done, or not, by this moving.
    pub password_changed_at: Option<i64>,
    /// The mobile number as the directory holds it (LDAP and AD `mobile`, Entra ID's
    /// mobile authentication phone), unchecked: identify parses it (`methods::phone`)
    /// when the policy takes numbers from the directory. Never logged.
    pub mobile: Option<String>,
    /// The office number likewise (`telephoneNumber`, Entra ID's office authentication
    /// phone), perhaps with an extension.
    pub office_phone: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// Can't be reached, timed out, or refused our credentials: nothing was changed.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
    /// The directory refused the new password; each reason is for the person.
    #[error("directory refused the password")]
    Rejected(Vec<PasswordReason>),
    /// The directory won't let the service account change this person (a protected
    /// administrator, say): self-service can't help, the helpdesk can.
    #[error("directory denied the change: {0}")]
    Denied(String),
    /// The directory can't do this at all (Entra ID has no unlock).
    #[error("not supported by this directory: {0}")]
    Unsupported(String),
    /// The connection was lost after the change was sent: the directory may have taken
    /// it or not (a retry checks `DirUser::password_changed_at` before writing again).
    #[error("directory answer lost: {0}")]
    InDoubt(String),
    #[error("directory error: {0}")]
    Other(String),
}

/// The directory's own password rules, shown before the person types.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DirRules {
    pub min_length: u32,
    /// Kinds of characters required out of four (upper, lower, digits, symbols).
    pub categories: u8,
    /// Previous passwords the directory refuses.
    pub history: u32,
    /// Active Directory's complexity rule also refuses the account name and any part of
    /// the display name (three characters or more).
    pub no_account_name: bool,
}

impl DirRules {
    /// The strictest of both.
    pub fn combine(self, other: DirRules) -> DirRules {
        DirRules {
            min_length: self.min_length.max(other.min_length),
            categories: self.categories.max(other.categories),
            history: self.history.max(other.history),
            no_account_name: self.no_account_name || other.no_account_name,
        }
    }
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// Shown to people and in the audit ("Built-in directory", "Active Directory").
    fn name(&self) -> &str;

    /// Finds a person by username or email (case-insensitive).
    async fn find(&self, login: &str) -> Result<Option<DirUser>, DirError>;

    /// Like `find`, with the person's phone numbers too where reading them is a request of
    /// its own (Entra ID's authentication phone methods; LDAP and Active Directory read
    /// them in `find`'s own search): identify asks for this when the policy takes numbers
    /// from the directory. A login nobody has costs the same requests as a person.
    async fn find_with_phones(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        self.find(login).await
    }

    /// Like `find`, without the groups: for writing to someone already verified, whose
    /// policy (administrator or not) was settled when the flow started.
    async fn lookup(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        self.find(login).await
    }

    /// Everyone the directory holds (registration coverage when self-service is on for
    /// all). A directory that can't list its people says so (Unsupported).
    async fn everyone(&self) -> Result<Vec<DirUser>, DirError> {
        Err(DirError::Unsupported(format!(
            "{} can't list its people here",
            self.name()
        )))
    }

    /// The certificate the directory's TLS shows, read on a connection of its own (None
    /// where there is no TLS to show: the built-in directory, plain LDAP, Entra ID).
    async fn certificate(&self) -> Option<Result<tls_probe::CertInfo, String>> {
        None
    }

    /// Groups whose name contains `text` (any case), at most `limit`: the console's
    /// picker for the group self-service is on for.
    async fn groups_matching(&self, _text: &str, _limit: usize) -> Result<Vec<String>, DirError> {
        Err(DirError::Unsupported(format!(
            "{} can't search its groups here",
            self.name()
        )))
    }

    /// Members of a group (for notifying administrators).
    async fn members(&self, group: &str) -> Result<Vec<DirUser>, DirError>;

    /// Sets a new password and clears any lockout.
    async fn set_password(&self, user: &DirUser, password: &SecretString) -> Result<(), DirError>;

    /// Clears a lockout without changing the password.
    async fn unlock(&self, user: &DirUser) -> Result<(), DirError>;

    /// Whether the directory answers now.
    async fn ping(&self) -> Result<(), DirError>;

    /// Whether `password` is the person's current password (a sign-in, as the person):
    /// for "My security info". A wrong password may count against the directory's own
    /// lockout, as any sign-in does.
    async fn check_password(
        &self,
        _user: &DirUser,
        _password: &SecretString,
    ) -> Result<bool, DirError> {
        Err(DirError::Unsupported(
            "signing in with this directory's password is not supported here".into(),
        ))
    }

    /// What `check_password` costs, for a login that isn't there or can't sign in: the
    /// same work, never a success, so a sign-in page's timing doesn't tell whether a login
    /// exists.
    async fn check_decoy_password(&self, _password: &SecretString) -> Result<(), DirError> {
        // As `check_password` answers where signing in isn't supported.
        Err(DirError::Unsupported(
            "signing in with this directory's password is not supported here".into(),
        ))
    }

    /// The directory's own password rules (read from the directory where it has them).
    async fn rules(&self) -> Result<DirRules, DirError> {
        Ok(DirRules::default())
    }
}
