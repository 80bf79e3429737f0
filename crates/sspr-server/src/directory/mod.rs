//! Where the people are. The server reads users from a directory and writes new passwords
//! and unlocks back to it, synchronously. The built-in directory lives in the server's own
//! store; LDAP, Active Directory and Entra ID sit behind the same trait.

pub mod builtin;
pub mod import;

use async_trait::async_trait;
use secrecy::SecretString;

/// A person as the directory knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirUser {
    /// Stable id in the directory (registrations hang on it).
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub given_name: String,
    pub surname: String,
    pub groups: Vec<String>,
    pub disabled: bool,
    pub locked: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DirError {
    /// Can't be reached, timed out, or refused our credentials: nothing was changed.
    #[error("directory unavailable: {0}")]
    Unavailable(String),
    /// The directory refused the new password; each message is for the person.
    #[error("directory refused the password")]
    Rejected(Vec<String>),
    #[error("directory error: {0}")]
    Other(String),
}

#[async_trait]
pub trait Directory: Send + Sync {
    /// Shown to people and in the audit ("Built-in directory", "Active Directory").
    fn name(&self) -> &str;

    /// Finds a person by username or email (case-insensitive).
    async fn find(&self, login: &str) -> Result<Option<DirUser>, DirError>;

    /// Members of a group (for notifying administrators).
    async fn members(&self, group: &str) -> Result<Vec<DirUser>, DirError>;

    /// Sets a new password and clears any lockout.
    async fn set_password(&self, user: &DirUser, password: &SecretString) -> Result<(), DirError>;

    /// Clears a lockout without changing the password.
    async fn unlock(&self, user: &DirUser) -> Result<(), DirError>;

    /// Whether the directory answers now.
    async fn ping(&self) -> Result<(), DirError>;
}
