//! Loads people into the built-in directory from a TOML file (`sspr-server directory
//! import FILE`), with the methods they registered. For small deployments without a
//! directory of their own, and for test fixtures.

use serde::Deserialize;
use sspr_proto::MethodKind;

use super::builtin::{BuiltinDirectory, NewUser};
use crate::secret::random_id;
use crate::store::Store;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportFile {
    #[serde(default)]
    pub user: Vec<ImportUser>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportUser {
    pub username: String,
    pub given_name: String,
    pub surname: String,
    pub email: Option<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub locked: bool,
    #[serde(default)]
    pub disabled: bool,
    /// Initial password; random when absent.
    pub password: Option<String>,
    #[serde(default)]
    pub methods: ImportMethods,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ImportMethods {
    /// Alternate email address for codes.
    pub email: Option<String>,
    /// Authenticator secret, base32.
    pub totp: Option<String>,
    /// Mobile number for text-message codes (with its country code, or in
    /// `sms.default_region`).
    pub mobile: Option<String>,
    /// Office number for codes read out by a call, with an optional extension
    /// ("030 1234567 ext. 89").
    pub office_phone: Option<String>,
}

/// Adds every user in `text`; returns how many.
pub async fn import(
    store: &Store,
    key: &crate::secret::ServerKey,
    directory_name: &str,
    text: &str,
    now: i64,
) -> anyhow::Result<usize> {
    let file: ImportFile = toml::from_str(text).map_err(|e| anyhow::anyhow!("import file: {e}"))?;
    let dir = BuiltinDirectory::new(directory_name, store.clone());
    for u in &file.user {
        if let Some(secret) = &u.methods.totp {
            anyhow::ensure!(
                crate::methods::totp::current_code(secret, 0).is_some(),
                "user {}: methods.totp is not a usable base32 secret (at least 128 bits)",
                u.username
            );
        }
        let id = random_id();
        let groups: Vec<&str> = u.groups.iter().map(String::as_str).collect();
        let password = u.password.clone().unwrap_or_else(random_id);
        dir.add_user(&NewUser {
            id: &id,
            username: &u.username,
            email: u.email.as_deref(),
            given_name: &u.given_name,
            surname: &u.surname,
            groups: &groups,
            disabled: u.disabled,
            locked: u.locked,
            password: &password,
        })
        .await
        .map_err(|e| anyhow::anyhow!("user {}: {e}", u.username))?;
        if let Some(email) = &u.methods.email {
            store
                .add_registration(&id, MethodKind::Email, email, "Email", now)
                .await?;
        }
        if let Some(secret) = &u.methods.totp {
            let sealed = crate::store::seal_totp(key, &id, secret);
            store
                .add_registration(&id, MethodKind::Totp, &sealed, "Authenticator app", now)
                .await?;
        }
    }
    Ok(file.user.len())
}

/// `directory register FILE`: methods for people of any configured directory, as an
/// administrator pre-registers them (Entra ID's "authentication contact info").
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFile {
    #[serde(default)]
    pub person: Vec<RegisterPerson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterPerson {
    /// Username or email, as the person would type it at the kiosk.
    pub login: String,
    /// Alternate email address for codes.
    pub email: Option<String>,
    /// Authenticator secret, base32.
    pub totp: Option<String>,
    /// Mobile number for text-message codes (with its country code, or in
    /// `sms.default_region`).
    pub mobile: Option<String>,
    /// Office number for codes read out by a call, with an optional extension
    /// ("030 1234567 ext. 89").
    pub office_phone: Option<String>,
}

/// Registers every person's methods against their id in the directory that holds them;
/// returns how many people. Nothing is stored unless every login is found.
pub async fn register(
    store: &Store,
    key: &crate::secret::ServerKey,
    directories: &super::set::Directories,
    sms: &crate::config::SmsConfig,
    text: &str,
    now: i64,
) -> anyhow::Result<usize> {
    let file: RegisterFile =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("register file: {e}"))?;
    let mut found = Vec::new();
    let mut mobiles = std::collections::HashMap::new();
    let mut offices = std::collections::HashMap::new();
    for p in &file.person {
        if let Some(typed) = &p.mobile {
            let e164 = crate::methods::phone::mobile(typed, &sms.default_region, &sms.allowed())
                .map_err(|why| anyhow::anyhow!("person {}: mobile {typed:?}: {why}", p.login))?;
            mobiles.insert(p.login.clone(), e164);
        }
        if let Some(typed) = &p.office_phone {
            let number = crate::methods::phone::office(typed, &sms.default_region, &sms.allowed())
                .map_err(|why| {
                    anyhow::anyhow!("person {}: office_phone {typed:?}: {why}", p.login)
                })?;
            offices.insert(p.login.clone(), number);
        }
        if let Some(secret) = &p.totp {
            anyhow::ensure!(
                crate::methods::totp::current_code(secret, 0).is_some(),
                "person {}: totp is not a usable base32 secret (at least 128 bits)",
                p.login
            );
        }
        if let Some(email) = &p.email {
            anyhow::ensure!(
                email.parse::<lettre::Address>().is_ok(),
                "person {}: email {email:?} is not an email address",
                p.login
            );
        }
        let user = directories
            .find(&p.login)
            .await
            .map_err(|e| anyhow::anyhow!("person {}: {e}", p.login))?
            .ok_or_else(|| {
                anyhow::anyhow!("person {}: not found in {}", p.login, directories.names())
            })?;
        found.push((p, user.1.id));
    }
    // Registering a person's email or authenticator again replaces theirs: a second one
    // would be listed beside it, and the kiosk offers one of each kind.
    for (p, id) in found {
        if let Some(email) = &p.email {
            let replaced = store
                .replace_registration(&id, MethodKind::Email, email, "Email", now)
                .await?;
            if replaced > 0 {
                tracing::info!(login = %p.login, replaced, "an email address was replaced");
            }
        }
        if let Some(e164) = mobiles.get(&p.login) {
            store
                .replace_registration(&id, MethodKind::Sms, e164, "Mobile phone", now)
                .await?;
        }
        if let Some(number) = offices.get(&p.login) {
            store
                .replace_registration(&id, MethodKind::Voice, number, "Office phone", now)
                .await?;
        }
        if let Some(secret) = &p.totp {
            let sealed = crate::store::seal_totp(key, &id, secret);
            let replaced = store
                .replace_registration(&id, MethodKind::Totp, &sealed, "Authenticator app", now)
                .await?;
            if replaced > 0 {
                tracing::info!(login = %p.login, replaced, "an authenticator was replaced");
            }
        }
    }
    Ok(file.person.len())
}
