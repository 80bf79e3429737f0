//! Microsoft Entra ID through Microsoft Graph, as an app with client credentials.
//!
//! The app needs `User.Read.All` and `GroupMember.Read.All` to find people and their
//! (transitive) groups, `UserAuthMethod-Phone.Read.All` (or
//! `UserAuthenticationMethod.Read.All`) to read their authentication phones when the
//! policy takes numbers from the directory, and `User-PasswordProfile.ReadWrite.All` (or
//! `User.ReadWrite.All` with a directory role that may reset the person) to set a
//! password with `PATCH /v1.0/users/{id}` and a `passwordProfile`. Graph's refusals become
//! reasons (password policy) or "the helpdesk can" (privileges). Entra ID has no unlock:
//! its smart lockout ends by itself, and a reset lets the person sign in at once.
//!
//! Tested against a local server that replays Graph's documented requests and answers;
//! not run against a live tenant.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use sspr_proto::{PasswordReason, PasswordReasonCode};
use tokio::sync::Mutex;

use super::{DirError, DirRules, DirUser, Directory};
use crate::config::DirectoryConfig;

const USER_SELECT: &str =
    "id,userPrincipalName,mail,displayName,givenName,surname,accountEnabled,mobilePhone";
/// Entra ID's own password rules for cloud accounts: 8 to 256 characters, three of four
/// kinds of characters.
const ENTRA_RULES: DirRules = DirRules {
    min_length: 8,
    categories: 3,
    history: 0,
    no_account_name: false,
};

pub struct Entra {
    name: String,
    http: reqwest::Client,
    token_url: String,
    graph: String,
    client_id: String,
    credential: Credential,
    token: Mutex<Option<(SecretString, Instant)>>,
    /// Graph refused to list authentication phones (said once in the log).
    phones_denied: std::sync::atomic::AtomicBool,
}

/// How the app proves itself to the token endpoint.
enum Credential {
    Secret(SecretString),
    /// A client assertion signed with the certificate's key for each token request
    /// (Microsoft identity platform "certificate credentials").
    Certificate(AppCertificate),
}

struct AppCertificate {
    key: jsonwebtoken::EncodingKey,
    /// base64url SHA-1 and SHA-256 thumbprints of the certificate (`x5t`, `x5t#S256`).
    x5t: String,
    x5t_s256: String,
}

impl AppCertificate {
    /// Reads the certificate and its key; refuses a key that isn't the certificate's.
    fn load(cert_file: &std::path::Path, key_file: &std::path::Path) -> anyhow::Result<Self> {
        use anyhow::Context as _;
        use base64::Engine as _;
        use openssl::hash::MessageDigest;
        let cert_pem =
            std::fs::read(cert_file).with_context(|| format!("reading {}", cert_file.display()))?;
        let cert = openssl::x509::X509::from_pem(&cert_pem)
            .with_context(|| format!("{}: not a PEM certificate", cert_file.display()))?;
        let key_pem = zeroize::Zeroizing::new(
            std::fs::read(key_file).with_context(|| format!("reading {}", key_file.display()))?,
        );
        let private = openssl::pkey::PKey::private_key_from_pem(&key_pem)
            .with_context(|| format!("{}: not a PEM private key", key_file.display()))?;
        anyhow::ensure!(
            private.rsa().is_ok(),
            "{}: Entra ID wants an RSA key for certificate credentials",
            key_file.display()
        );
        anyhow::ensure!(
            cert.public_key()?.public_eq(&private),
            "{} is not the key of {}",
            key_file.display(),
            cert_file.display()
        );
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(&key_pem)
            .with_context(|| format!("{}: the RSA key can't be used", key_file.display()))?;
        let thumbprint = |digest| -> anyhow::Result<String> {
            Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cert.digest(digest)?))
        };
        let certificate = AppCertificate {
            key,
            x5t: thumbprint(MessageDigest::sha1())?,
            x5t_s256: thumbprint(MessageDigest::sha256())?,
        };
        // A key that can't sign (ring wants 2048 bits or more) fails here, not at the
        // first reset.
        certificate
            .assertion("start-up", "start-up")
            .map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
        Ok(certificate)
    }

    /// A client assertion for the token endpoint `audience`, valid ten minutes.
    fn assertion(&self, client_id: &str, audience: &str) -> Result<String, String> {
        #[derive(serde::Serialize)]
        struct Claims<'a> {
            aud: &'a str,
            iss: &'a str,
            sub: &'a str,
            jti: String,
            iat: u64,
            nbf: u64,
            exp: u64,
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
        header.x5t = Some(self.x5t.clone());
        header.x5t_s256 = Some(self.x5t_s256.clone());
        let claims = Claims {
            aud: audience,
            iss: client_id,
            sub: client_id,
            jti: crate::secret::random_id(),
            iat: now,
            nbf: now,
            exp: now + 600,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map_err(|e| format!("signing the client assertion: {e}"))
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphUser {
    id: String,
    user_principal_name: Option<String>,
    mail: Option<String>,
    display_name: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    account_enabled: Option<bool>,
}

/// One of a person's authentication phones (`GET /users/{id}/authentication/phoneMethods`):
/// `phoneType` mobile, alternateMobile or office; `phoneNumber` as "+{country code}
/// {number}x{extension}", the extension optional.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphPhone {
    phone_number: Option<String>,
    phone_type: Option<String>,
}

#[derive(Deserialize)]
struct Page<T> {
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphGroup {
    id: String,
    display_name: Option<String>,
}

#[derive(Deserialize, Default)]
struct GraphError {
    error: GraphErrorBody,
}

#[derive(Deserialize, Default)]
struct GraphErrorBody {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl Entra {
    pub fn new(config: &DirectoryConfig) -> anyhow::Result<Entra> {
        let name = &config.name;
        let tenant = config.tenant_id.clone().unwrap_or_default();
        let credential = match (&config.client_certificate_file, &config.client_key_file) {
            (Some(cert), Some(key)) => Credential::Certificate(
                AppCertificate::load(cert, key)
                    .map_err(|e| anyhow::anyhow!("directory {name:?}: {e:#}"))?,
            ),
            _ => Credential::Secret(config.client_secret()?.ok_or_else(|| {
                anyhow::anyhow!(
                    "directory {name:?}: client_secret is missing (set \
                     SSPR_DIRECTORY__CLIENT_SECRET or client_secret_file), or use a certificate \
                     (client_certificate_file and client_key_file)"
                )
            })?),
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.timeout_secs))
            .connect_timeout(Duration::from_secs(config.timeout_secs))
            .build()?;
        Ok(Entra {
            name: name.clone(),
            http,
            token_url: format!(
                "{}/{tenant}/oauth2/v2.0/token",
                config.authority_url.trim_end_matches('/')
            ),
            graph: format!("{}/v1.0", config.graph_url.trim_end_matches('/')),
            client_id: config.client_id.clone().unwrap_or_default(),
            credential,
            token: Mutex::new(None),
            phones_denied: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn unreachable(&self, doing: &str, e: impl std::fmt::Display) -> DirError {
        DirError::Unavailable(format!("{}: {doing}: {e}", self.name))
    }

    /// An app token, fetched again a minute before it runs out.
    async fn token(&self) -> Result<SecretString, DirError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref() {
            if Instant::now() < *until {
                return Ok(token.clone());
            }
        }
        let assertion;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", self.client_id.as_str()),
            ("scope", "https://graph.microsoft.com/.default"),
            ("grant_type", "client_credentials"),
        ];
        match &self.credential {
            Credential::Secret(secret) => form.push(("client_secret", secret.expose_secret())),
            Credential::Certificate(cert) => {
                assertion = cert
                    .assertion(&self.client_id, &self.token_url)
                    .map_err(|e| DirError::Unavailable(format!("{}: {e}", self.name)))?;
                form.push((
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ));
                form.push(("client_assertion", assertion.as_str()));
            }
        }
        let response = self
            .http
            .post(&self.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|e| self.unreachable("getting a token", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            // Don't keep the body: it may echo request values.
            return Err(DirError::Unavailable(format!(
                "{}: the token endpoint refused the app's credentials ({status})",
                self.name
            )));
        }
        let answer: TokenAnswer = response
            .json()
            .await
            .map_err(|e| self.unreachable("reading the token", e.without_url()))?;
        let token = SecretString::from(answer.access_token);
        let life = Duration::from_secs(answer.expires_in.saturating_sub(60).max(1));
        *cached = Some((token.clone(), Instant::now() + life));
        Ok(token)
    }

    async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<Option<T>, DirError> {
        let token = self.token().await?;
        let response = self
            .http
            .get(url)
            .query(query)
            .bearer_auth(token.expose_secret())
            .header("ConsistencyLevel", "eventual")
            .send()
            .await
            .map_err(|e| self.unreachable("reading", e.without_url()))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let err: GraphError = response.json().await.unwrap_or_default();
            return Err(self.failed(status, err));
        }
        response
            .json()
            .await
            .map(Some)
            .map_err(|e| self.unreachable("reading the answer", e.without_url()))
    }

    /// Every page of a collection.
    async fn all<T: for<'de> Deserialize<'de>>(
        &self,
        url: &str,
        query: &[(&str, &str)],
    ) -> Result<Vec<T>, DirError> {
        let mut out = Vec::new();
        let mut page: Option<Page<T>> = self.get(url, query).await?;
        let mut pages = 0;
        while let Some(p) = page {
            out.extend(p.value);
            pages += 1;
            page = match p.next {
                // nextLink carries its own query.
                Some(next) if pages < 100 => self.get(&next, &[]).await?,
                _ => None,
            };
        }
        Ok(out)
    }

    fn failed(&self, status: reqwest::StatusCode, err: GraphError) -> DirError {
        let code = err.error.code;
        match status.as_u16() {
            401 => DirError::Unavailable(format!(
                "{}: Graph refused the app's token ({code})",
                self.name
            )),
            403 => DirError::Denied(format!("Graph: {code}")),
            429 | 500..=599 => {
                DirError::Unavailable(format!("{}: Graph answered {status} ({code})", self.name))
            }
            _ => DirError::Other(format!(
                "Graph answered {status} ({code}): {}",
                err.error.message
            )),
        }
    }

    /// The one user whose UPN or mail is `login` (two is ambiguous: nobody).
    async fn user_by_login(&self, login: &str) -> Result<Option<GraphUser>, DirError> {
        let value = odata_quote(login);
        let filter = format!("userPrincipalName eq '{value}' or mail eq '{value}'");
        let users: Vec<GraphUser> = self
            .get::<Page<GraphUser>>(
                &format!("{}/users", self.graph),
                &[("$filter", &filter), ("$select", USER_SELECT)],
            )
            .await?
            .map(|p| p.value)
            .unwrap_or_default();
        let mut users = users.into_iter();
        Ok(match (users.next(), users.next()) {
            (Some(user), None) => Some(user),
            _ => None,
        })
    }

    fn user_from(u: GraphUser, groups: Vec<String>) -> DirUser {
        let upn = u.user_principal_name.unwrap_or_default();
        let given = u.given_name.unwrap_or_default();
        let surname = u.surname.unwrap_or_default();
        DirUser {
            dn: u.id.clone(),
            id: u.id,
            display_name: u
                .display_name
                .unwrap_or_else(|| format!("{given} {surname}").trim().to_string()),
            username: upn,
            email: u.mail,
            given_name: given,
            surname,
            groups,
            disabled: u.account_enabled == Some(false),
            locked: false,
            password_changed_at: None,
            mobile: None,
            office_phone: None,
        }
    }

    /// The person `login` names with their groups (and their authentication phones, when
    /// `phones`). The groups and phones are asked for an unknown login too (of an id that
    /// can't exist), so both cost the same round trips; they are asked at once.
    async fn find_person(&self, login: &str, phones: bool) -> Result<Option<DirUser>, DirError> {
        let found = self.user_by_login(login).await?;
        let id = found
            .as_ref()
            .map(|u| u.id.clone())
            .unwrap_or_else(|| "00000000-0000-0000-0000-000000000000".into());
        let groups_url = format!(
            "{}/users/{id}/transitiveMemberOf/microsoft.graph.group",
            self.graph
        );
        let groups = self.all::<GraphGroup>(&groups_url, &[("$select", "id,displayName")]);
        let (groups, phones) = if phones {
            let (groups, phones) = futures::join!(groups, self.phones_of(&id));
            (groups?, phones?)
        } else {
            (groups.await?, Vec::new())
        };
        let Some(user) = found else {
            return Ok(None);
        };
        let mut names: Vec<String> = groups.into_iter().filter_map(|g| g.display_name).collect();
        names.sort();
        let mut user = Entra::user_from(user, names);
        let number = |kind: &str| {
            phones
                .iter()
                .find(|p| p.phone_type.as_deref() == Some(kind))
                .and_then(|p| p.phone_number.clone())
        };
        // Entra ID texts the mobile phone and calls the office phone; its alternate mobile
        // is for calls only, and calls here go to an office number.
        user.mobile = number("mobile");
        user.office_phone = number("office");
        Ok(Some(user))
    }

    /// A person's authentication phones. An app without the permission to read them is
    /// told once in the log and gets none: self-service goes on with the other methods.
    async fn phones_of(&self, id: &str) -> Result<Vec<GraphPhone>, DirError> {
        match self
            .get::<Page<GraphPhone>>(
                &format!("{}/users/{id}/authentication/phoneMethods", self.graph),
                &[],
            )
            .await
        {
            Ok(page) => Ok(page.map(|p| p.value).unwrap_or_default()),
            Err(DirError::Denied(why)) => {
                if !self
                    .phones_denied
                    .swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    tracing::warn!(
                        directory = %self.name,
                        graph = %why,
                        "Graph refused to list authentication phones: give the app \
                         UserAuthMethod-Phone.Read.All to take numbers from Entra ID"
                    );
                }
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        }
    }
}

/// A value inside an OData string literal.
fn odata_quote(value: &str) -> String {
    value.replace('\'', "''")
}

#[async_trait]
impl Directory for Entra {
    fn name(&self) -> &str {
        &self.name
    }

    async fn find(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        self.find_person(login, false).await
    }

    async fn find_with_phones(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        self.find_person(login, true).await
    }

    async fn lookup(&self, login: &str) -> Result<Option<DirUser>, DirError> {
        Ok(self
            .user_by_login(login)
            .await?
            .map(|user| Entra::user_from(user, Vec::new())))
    }

    async fn members(&self, group: &str) -> Result<Vec<DirUser>, DirError> {
        let filter = format!("displayName eq '{}'", odata_quote(group));
        let groups: Vec<GraphGroup> = self
            .all(
                &format!("{}/groups", self.graph),
                &[("$filter", &filter), ("$select", "id,displayName")],
            )
            .await?;
        let mut people = Vec::new();
        for g in groups {
            let users: Vec<GraphUser> = self
                .all(
                    &format!(
                        "{}/groups/{}/transitiveMembers/microsoft.graph.user",
                        self.graph, g.id
                    ),
                    &[("$select", USER_SELECT)],
                )
                .await?;
            people.extend(users.into_iter().map(|u| Entra::user_from(u, Vec::new())));
        }
        Ok(people)
    }

    async fn set_password(&self, user: &DirUser, password: &SecretString) -> Result<(), DirError> {
        let token = self.token().await?;
        let body = json!({
            "passwordProfile": {
                "forceChangePasswordNextSignIn": false,
                "password": password.expose_secret(),
            }
        });
        let response = self
            .http
            .patch(format!("{}/users/{}", self.graph, user.dn))
            .bearer_auth(token.expose_secret())
            .json(&body)
            .send()
            .await
            .map_err(|e| self.unreachable("resetting the password", e.without_url()))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let err: GraphError = response.json().await.unwrap_or_default();
        let message = err.error.message.to_ascii_lowercase();
        if status == reqwest::StatusCode::BAD_REQUEST && message.contains("password") {
            let reason = if message.contains("complexity") || message.contains("policy") {
                PasswordReason {
                    code: PasswordReasonCode::NeedsVariety,
                    message: format!(
                        "{} needs at least {} characters from three of: upper-case letters, lower-case letters, digits, symbols.",
                        self.name, ENTRA_RULES.min_length
                    ),
                }
            } else if message.contains("history") || message.contains("recently") {
                PasswordReason {
                    code: PasswordReasonCode::UsedBefore,
                    message: "You used this password before. Choose a new one.".into(),
                }
            } else {
                PasswordReason {
                    code: PasswordReasonCode::Directory,
                    message: format!(
                        "{} doesn't accept this password (it may be a commonly used one). Choose a different one.",
                        self.name
                    ),
                }
            };
            return Err(DirError::Rejected(vec![reason]));
        }
        Err(self.failed(status, err))
    }

    async fn unlock(&self, _user: &DirUser) -> Result<(), DirError> {
        Err(DirError::Unsupported(
            "Entra ID ends a sign-in lockout by itself after a short wait; reset your password to sign in now.".into(),
        ))
    }

    async fn ping(&self) -> Result<(), DirError> {
        self.get::<serde_json::Value>(
            &format!("{}/users", self.graph),
            &[("$top", "1"), ("$select", "id")],
        )
        .await
        .map(|_| ())
    }

    async fn rules(&self) -> Result<DirRules, DirError> {
        Ok(ENTRA_RULES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odata_strings_double_their_quotes() {
        assert_eq!(odata_quote("o'brien@example.org"), "o''brien@example.org");
    }
}
