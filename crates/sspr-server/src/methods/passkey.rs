//! Passkeys (WebAuthn, user verification required) with webauthn-rs: registering one on
//! "My security info", and the assertion that approves a kiosk flow from the phone.
//! A registration's value is the `Passkey` as JSON; its counter is kept up to date.

use sspr_proto::PasskeyRequest;
use webauthn_rs::prelude::{
    CredentialID, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential, Url, Uuid, Webauthn, WebauthnBuilder,
};

use crate::secret::ServerKey;

pub struct Passkeys {
    webauthn: Webauthn,
    rp_id: String,
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    #[error("the passkey's answer is not valid JSON of the expected shape")]
    Malformed,
    #[error("the passkey's answer did not verify: {0}")]
    Invalid(String),
}

impl Passkeys {
    /// The relying party is the host phones reach the server at (`approval.public_url`).
    pub fn new(origin: &str, organization: &str) -> anyhow::Result<Passkeys> {
        let url = Url::parse(origin).map_err(|e| anyhow::anyhow!("approval.public_url: {e}"))?;
        let rp_id = url.domain().ok_or_else(|| {
            anyhow::anyhow!(
                "approval.public_url must name a host (a domain, or localhost), not an IP address: passkeys are bound to a domain"
            )
        })?;
        let webauthn = WebauthnBuilder::new(rp_id, &url)
            .and_then(|b| b.rp_name(organization).build())
            .map_err(|e| anyhow::anyhow!("passkeys for {origin}: {e}"))?;
        Ok(Passkeys {
            webauthn,
            rp_id: rp_id.to_string(),
        })
    }

    /// A stable WebAuthn user handle for a directory id, that reveals nothing about it.
    pub fn user_handle(key: &ServerKey, user_id: &str) -> Uuid {
        let mac = key.mac("passkey-user", &[user_id.as_bytes()]);
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&mac[..16]);
        Uuid::from_bytes(bytes)
    }

    pub fn start_registration(
        &self,
        handle: Uuid,
        username: &str,
        display_name: &str,
        existing: &[Passkey],
    ) -> anyhow::Result<(PasskeyRequest, PasskeyRegistration)> {
        let exclude: Vec<CredentialID> = existing.iter().map(|p| p.cred_id().clone()).collect();
        let (ccr, state) = self
            .webauthn
            .start_passkey_registration(
                handle,
                username,
                display_name,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(|e| anyhow::anyhow!("starting a passkey registration: {e}"))?;
        Ok((
            PasskeyRequest {
                options: serde_json::to_value(ccr)?,
            },
            state,
        ))
    }

    pub fn finish_registration(
        &self,
        credential: &serde_json::Value,
        state: &PasskeyRegistration,
    ) -> Result<Passkey, PasskeyError> {
        let reg: RegisterPublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|_| PasskeyError::Malformed)?;
        self.webauthn
            .finish_passkey_registration(&reg, state)
            .map_err(|e| PasskeyError::Invalid(e.to_string()))
    }

    pub fn start_authentication(
        &self,
        passkeys: &[Passkey],
    ) -> anyhow::Result<(PasskeyRequest, PasskeyAuthentication)> {
        let (rcr, state) = self
            .webauthn
            .start_passkey_authentication(passkeys)
            .map_err(|e| anyhow::anyhow!("starting a passkey authentication: {e}"))?;
        Ok((
            PasskeyRequest {
                options: serde_json::to_value(rcr)?,
            },
            state,
        ))
    }

    /// Verifies an assertion; on success, the passkeys whose counter moved (to store).
    pub fn finish_authentication(
        &self,
        credential: &serde_json::Value,
        state: &PasskeyAuthentication,
        passkeys: &mut [(i64, Passkey)],
    ) -> Result<Vec<(i64, Passkey)>, PasskeyError> {
        let cred: PublicKeyCredential =
            serde_json::from_value(credential.clone()).map_err(|_| PasskeyError::Malformed)?;
        let result = self
            .webauthn
            .finish_passkey_authentication(&cred, state)
            .map_err(|e| PasskeyError::Invalid(e.to_string()))?;
        if !result.user_verified() {
            return Err(PasskeyError::Invalid("no user verification".into()));
        }
        let mut changed = Vec::new();
        for (id, passkey) in passkeys.iter_mut() {
            if passkey.update_credential(&result) == Some(true) {
                changed.push((*id, passkey.clone()));
            }
        }
        Ok(changed)
    }

    /// The request a decoy flow gets: the same shape, for a credential nobody holds.
    pub fn decoy_request(&self, key: &ServerKey, login: &str) -> PasskeyRequest {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let id = b64(&key.mac("decoy-passkey", &[login.as_bytes()])[..16]);
        let challenge = b64(&rand::random::<[u8; 32]>());
        PasskeyRequest {
            options: serde_json::json!({
                "publicKey": {
                    "challenge": challenge,
                    "timeout": 300000,
                    "rpId": self.rp_id,
                    "allowCredentials": [{ "type": "public-key", "id": id }],
                    "userVerification": "required",
                }
            }),
        }
    }
}

pub fn parse(value: &str) -> Option<Passkey> {
    serde_json::from_str(value).ok()
}

/// A person's passkeys among their registrations: (registration id, passkey).
pub fn of(registrations: &[crate::store::Registration]) -> Vec<(i64, Passkey)> {
    registrations
        .iter()
        .filter(|r| r.kind() == Some(sspr_proto::MethodKind::Approval))
        .filter_map(|r| parse(&r.value).map(|p| (r.id, p)))
        .collect()
}
