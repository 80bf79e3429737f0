//! An internal fault: what the server was doing and why it failed, with the cause's
//! sources. Services carry it in their errors; `error::ApiError` carries it beside the
//! answer's body (never in it), and the request middleware logs it once.

use std::sync::Arc;

use crate::store::StoreError;

/// An internal fault: what was being done, and why it failed (with its sources).
#[derive(Clone)]
pub struct Internal {
    what: &'static str,
    cause: Arc<dyn std::error::Error + Send + Sync>,
    /// The store's disk is full (the person is told so: it is not a bug).
    pub(crate) full: bool,
    /// The store's database can't be reached just now (the person is told to try again
    /// in a moment: it is not a bug either).
    pub(crate) unavailable: bool,
}

impl Internal {
    pub fn new(
        what: &'static str,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Internal {
        Internal {
            what,
            cause: Arc::from(cause.into()),
            full: false,
            unavailable: false,
        }
    }

    pub fn store(e: StoreError) -> Internal {
        Internal {
            what: "store",
            full: e.is_full(),
            unavailable: e.is_unavailable(),
            cause: Arc::new(e),
        }
    }

    /// "what: cause: its source: …"
    pub fn chain(&self) -> String {
        let mut out = format!("{}: {}", self.what, self.cause);
        let mut source = self.cause.source();
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }
}

impl std::fmt::Debug for Internal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.chain())
    }
}
