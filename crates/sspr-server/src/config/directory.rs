//! `[directory]`: the directory people are found in and their passwords written to, and
//! the directories linked to it.

use std::path::PathBuf;

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::read_secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DirectoryKind {
    /// Users kept in the server's own store (the demo directory).
    Builtin,
    /// OpenLDAP (with ppolicy) and compatible servers: Password Modify extended operation.
    Ldap,
    /// Active Directory (and Samba AD): `unicodePwd` over LDAPS or StartTLS.
    ActiveDirectory,
    /// Microsoft Entra ID through Microsoft Graph (client credentials).
    Entra,
}

/// How a linked directory finds the person the first directory found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkBy {
    Username,
    Email,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DirectoryConfig {
    pub kind: DirectoryKind,
    /// Shown to people and in the audit.
    pub name: String,

    // LDAP and Active Directory.
    /// `ldaps://host:636`, or `ldap://host:389` with `starttls = true`.
    pub url: Option<String>,
    pub starttls: bool,
    /// PEM file of the CA that signed the directory's certificate (else the system's).
    pub ca_file: Option<PathBuf>,
    /// Plain LDAP without TLS, for a directory on this machine's loopback only.
    pub allow_plain_loopback: bool,
    /// The delegated service account.
    pub bind_dn: Option<String>,
    /// Better set as SSPR_DIRECTORY__BIND_PASSWORD, or kept in `bind_password_file`.
    #[serde(skip_serializing)]
    pub bind_password: Option<SecretString>,
    pub bind_password_file: Option<PathBuf>,
    /// Where people (and groups) are searched.
    pub base_dn: Option<String>,
    /// Attributes a login is matched against (default: uid, mail for LDAP;
    /// sAMAccountName, userPrincipalName, mail for Active Directory).
    pub login_attributes: Vec<String>,
    /// Extra filter every person must match (default: inetOrgPerson; AD: user objects).
    pub user_filter: Option<String>,
    /// Where groups are searched (default `base_dn`).
    pub group_base_dn: Option<String>,
    /// LDAP only: the ppolicy entry whose rules apply (pwdMinLength, pwdInHistory, ...).
    pub policy_dn: Option<String>,
    /// Every directory operation gives up after this long.
    pub timeout_secs: u64,
    /// Bound service connections kept open.
    pub pool_size: usize,

    // Microsoft Entra ID.
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    /// Better set as SSPR_DIRECTORY__CLIENT_SECRET, or kept in `client_secret_file`.
    #[serde(skip_serializing)]
    pub client_secret: Option<SecretString>,
    pub client_secret_file: Option<PathBuf>,
    /// Instead of a secret: the app's certificate (PEM, as uploaded to the app
    /// registration) and its RSA private key (PEM); the server signs a client assertion
    /// with the key for every token.
    pub client_certificate_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
    /// Token authority (default https://login.microsoftonline.com).
    pub authority_url: String,
    /// Graph endpoint (default https://graph.microsoft.com).
    pub graph_url: String,

    /// For a linked directory: which of the person's attributes (from the directory that
    /// found them) finds them here.
    pub link: LinkBy,
    /// More directories that may hold the same people: one verified session writes the
    /// new password to every one of them that does.
    pub linked: Vec<DirectoryConfig>,
}

impl DirectoryConfig {
    pub fn bind_password(&self) -> anyhow::Result<Option<SecretString>> {
        read_secret(
            &self.bind_password,
            &self.bind_password_file,
            "directory.bind_password",
        )
    }

    pub fn client_secret(&self) -> anyhow::Result<Option<SecretString>> {
        read_secret(
            &self.client_secret,
            &self.client_secret_file,
            "directory.client_secret",
        )
    }

    pub(super) fn validate(&self, top: bool) -> anyhow::Result<()> {
        let name = &self.name;
        anyhow::ensure!(!name.trim().is_empty(), "directory.name must not be empty");
        anyhow::ensure!(
            top || self.linked.is_empty(),
            "directory {name:?}: a linked directory can't have linked directories of its own"
        );
        match self.kind {
            DirectoryKind::Builtin => {}
            DirectoryKind::Ldap | DirectoryKind::ActiveDirectory => {
                let url = self.url.as_deref().ok_or_else(|| {
                    anyhow::anyhow!("directory {name:?}: url is required (ldaps://host:636)")
                })?;
                anyhow::ensure!(
                    url.starts_with("ldaps://") || url.starts_with("ldap://"),
                    "directory {name:?}: url must start with ldaps:// or ldap://"
                );
                anyhow::ensure!(
                    self.base_dn.is_some(),
                    "directory {name:?}: base_dn is required"
                );
                anyhow::ensure!(
                    self.bind_dn.is_some(),
                    "directory {name:?}: bind_dn (the service account) is required"
                );
                anyhow::ensure!(
                    self.timeout_secs >= 1 && self.timeout_secs <= 120,
                    "directory {name:?}: timeout_secs must be between 1 and 120"
                );
                anyhow::ensure!(
                    (1..=64).contains(&self.pool_size),
                    "directory {name:?}: pool_size must be between 1 and 64"
                );
            }
            DirectoryKind::Entra => {
                anyhow::ensure!(
                    self.tenant_id.is_some() && self.client_id.is_some(),
                    "directory {name:?}: tenant_id and client_id are required for Entra ID"
                );
                anyhow::ensure!(
                    self.client_certificate_file.is_some() == self.client_key_file.is_some(),
                    "directory {name:?}: client_certificate_file and client_key_file go together"
                );
            }
        }
        for linked in &self.linked {
            linked.validate(false)?;
        }
        Ok(())
    }
}

impl Default for DirectoryConfig {
    fn default() -> Self {
        DirectoryConfig {
            kind: DirectoryKind::Builtin,
            name: "Built-in directory".into(),
            url: None,
            starttls: false,
            ca_file: None,
            allow_plain_loopback: false,
            bind_dn: None,
            bind_password: None,
            bind_password_file: None,
            base_dn: None,
            login_attributes: Vec::new(),
            user_filter: None,
            group_base_dn: None,
            policy_dn: None,
            timeout_secs: 5,
            pool_size: 4,
            tenant_id: None,
            client_id: None,
            client_secret: None,
            client_secret_file: None,
            client_certificate_file: None,
            client_key_file: None,
            authority_url: "https://login.microsoftonline.com".into(),
            graph_url: "https://graph.microsoft.com".into(),
            link: LinkBy::Email,
            linked: Vec::new(),
        }
    }
}
