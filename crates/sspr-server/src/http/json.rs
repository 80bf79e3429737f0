//! A JSON extractor whose rejections use the API's own `{code, message}` shape. Messages
//! name the field and what was expected, never the value sent (it may be a password).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;
use sspr_proto::ErrorCode;

use crate::error::ApiError;

pub struct Json<T>(pub T);

impl<S, T> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rejection) => Err(rejection_error(&rejection)),
        }
    }
}

fn rejection_error(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(_) => ApiError::bad_request("The body is not valid JSON."),
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::bad_request("Send the body as JSON (Content-Type: application/json).")
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::bad_request(describe_data_error(&e.body_text()))
        }
        JsonRejection::BytesRejection(e) if e.status().as_u16() == 413 => ApiError::new(
            ErrorCode::PayloadTooLarge,
            "The request body is too large (64 KiB at most).",
        ),
        _ => ApiError::bad_request("The request body could not be read."),
    }
}

/// "Failed to deserialize ...: new_password: invalid type: integer `1`, expected a string at
/// line 1 column 19" → "Field `new_password`: expected a string." The value is dropped.
fn describe_data_error(text: &str) -> String {
    let detail = text.split_once(": ").map(|(_, d)| d).unwrap_or(text);
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    if let Some(field) = detail.strip_prefix("missing field ") {
        return format!("The field {field} is missing.");
    }
    let (path, rest) = match detail.split_once(": ") {
        Some((p, r)) if !p.contains(' ') => (Some(p), r),
        _ => (None, detail),
    };
    let expected = rest
        .split_once("expected ")
        .map(|(_, e)| format!("expected {e}"))
        .unwrap_or_else(|| "wrong value".to_string());
    match path {
        Some(p) if p != "." => format!("Field `{p}`: {expected}."),
        _ => format!("The body does not have the expected shape: {expected}."),
    }
}

#[cfg(test)]
mod tests {
    use super::describe_data_error;

    #[test]
    fn values_never_reach_the_message() {
        let m = describe_data_error(
            "Failed to deserialize the JSON body into the target type: new_password: invalid type: integer `12345678`, expected a string at line 1 column 25",
        );
        assert_eq!(m, "Field `new_password`: expected a string.");
        let m = describe_data_error(
            "Failed to deserialize the JSON body into the target type: missing field `login` at line 1 column 2",
        );
        assert_eq!(m, "The field `login` is missing.");
        let m = describe_data_error(
            "Failed to deserialize the JSON body into the target type: intent: unknown variant `secret`, expected `reset` or `unlock` at line 1 column 30",
        );
        assert!(!m.contains("secret"), "{m}");
    }
}
