//! The ids in request paths, as extractors: a flow's and a challenge's are 32 hex digits,
//! and anything else is answered "no such flow" (404) before a handler runs.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use crate::error::ApiError;

/// `{flow_id}` of the path.
#[derive(Debug, Clone)]
pub struct FlowId(String);

/// `{challenge_id}` of the path.
#[derive(Debug, Clone)]
pub struct ChallengeId(String);

impl FlowId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl ChallengeId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn is_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The path parameter `name`, if it is an id; else "no such `what`".
async fn id_param<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    name: &str,
    what: &str,
) -> Result<String, ApiError> {
    let params = RawPathParams::from_request_parts(parts, state)
        .await
        .map_err(|_| ApiError::not_found(what))?;
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| is_id(v))
        .map(str::to_string)
        .ok_or_else(|| ApiError::not_found(what))
}

impl<S: Send + Sync> FromRequestParts<S> for FlowId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        id_param(parts, state, "flow_id", "flow").await.map(FlowId)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ChallengeId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        id_param(parts, state, "challenge_id", "challenge")
            .await
            .map(ChallengeId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits() {
        assert!(is_id("0123456789abcdef0123456789ABCDEF"));
        assert!(!is_id("0123456789abcdef0123456789abcde"));
        assert!(!is_id("0123456789abcdef0123456789abcdeg"));
        assert!(!is_id("../../etc/passwd"));
    }
}
