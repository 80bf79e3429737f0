//! HTTP Message Signatures (RFC 9421) as a verifier reads them: the signature base is
//! rebuilt from the `Signature-Input` member exactly as the signer sent it (§2.3, §3.2):
//! its components in their order, its parameters in theirs, whatever they are. The
//! structured fields are parsed and serialized by `sfv` (RFC 8941); only the base's lines
//! and the components' values are ours.
//!
//! httpsig, which the kiosk signs with, re-serializes the parameters in an order of its own
//! when it verifies, so a correct signature from another library was refused; this module
//! doesn't interpret more than it must.

use http::HeaderMap;
use sfv::{BareItem, Dictionary, ListEntry, ListSerializer, Parser, Version};
use sha2::Digest as _;

/// Longest `Signature` or `Signature-Input` value read; a kiosk's are ~250 bytes.
const MAX_FIELD: usize = 4096;

/// What a signature's `Signature-Input` member says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    /// Covered component names, in order (`@method`, `content-digest`, ...).
    pub covered: Vec<String>,
    pub created: Option<i64>,
    pub expires: Option<i64>,
    pub nonce: Option<String>,
    pub alg: Option<String>,
    pub keyid: Option<String>,
    pub tag: Option<String>,
}

/// One signature, ready to check: its parameters, the signature base rebuilt from the
/// request, and the signature's bytes.
#[derive(Debug, Clone)]
pub struct Signed {
    pub label: String,
    pub params: Params,
    pub base: String,
    pub signature: Vec<u8>,
}

/// Why a request's signature can't even be checked. The `&'static str` is the audit's
/// reason; the message is for the kiosk's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    pub reason: &'static str,
    pub message: &'static str,
}

fn unreadable(reason: &'static str, message: &'static str) -> Unreadable {
    Unreadable { reason, message }
}

const MALFORMED: &str = "The request signature can't be read.";

/// The request as the signer saw it: `target_uri` is the absolute URI it used (the
/// server's public URL and the path).
pub struct Message<'a> {
    pub method: &'a str,
    pub target_uri: &'a str,
    pub headers: &'a HeaderMap,
}

/// All values of a field, trimmed and joined as RFC 9421 §2.1 says; None when absent.
fn field(headers: &HeaderMap, name: &str) -> Result<Option<String>, Unreadable> {
    let mut values = Vec::new();
    for v in headers.get_all(name) {
        let v = v
            .to_str()
            .map_err(|_| unreadable("malformed_signature", "A signed header is not plain text."))?;
        values.push(v.trim_matches(|c| c == ' ' || c == '\t'));
    }
    Ok((!values.is_empty()).then(|| values.join(", ")))
}

/// Reads the first signature of the request (its `Signature-Input` member and the
/// `Signature` of the same label) and rebuilds its base. A verifier may choose which
/// signature it checks (§3.2); a kiosk sends one.
pub fn read(message: &Message<'_>) -> Result<Signed, Unreadable> {
    let input = field(message.headers, "signature-input")?.unwrap_or_default();
    let signature = field(message.headers, "signature")?.unwrap_or_default();
    if input.len() > MAX_FIELD || signature.len() > MAX_FIELD {
        return Err(unreadable(
            "malformed_signature",
            "The request signature is too long.",
        ));
    }
    let parse = |s: &str| {
        Parser::new(s)
            .with_version(Version::Rfc8941)
            .parse::<Dictionary>()
            .map_err(|_| unreadable("malformed_signature", MALFORMED))
    };
    let inputs = parse(&input)?;
    let signatures = parse(&signature)?;
    let (label, member) = inputs
        .iter()
        .next()
        .ok_or_else(|| unreadable("malformed_signature", MALFORMED))?;
    let ListEntry::InnerList(list) = member else {
        return Err(unreadable("malformed_signature", MALFORMED));
    };
    let signature = match signatures.get(label.as_str()) {
        Some(ListEntry::Item(item)) => match &item.bare_item {
            BareItem::ByteSequence(bytes) => bytes.clone(),
            _ => return Err(unreadable("malformed_signature", MALFORMED)),
        },
        _ => {
            return Err(unreadable(
                "malformed_signature",
                "The Signature header has no signature for the Signature-Input's label.",
            ))
        }
    };

    let mut params = Params::default();
    for item in &list.items {
        let BareItem::String(name) = &item.bare_item else {
            return Err(unreadable("malformed_signature", MALFORMED));
        };
        // Component parameters (`;sf`, `;bs`, `;req`, `;key`, `;name`, `;tr`) change what a
        // value is; none is needed for a request this API takes.
        if !item.params.is_empty() {
            return Err(unreadable(
                "unsupported_component",
                "The request signature covers a component with parameters; cover it plainly.",
            ));
        }
        let name = name.as_str();
        if params.covered.iter().any(|c| c == name) {
            return Err(unreadable(
                "malformed_signature",
                "The request signature covers a component twice.",
            ));
        }
        params.covered.push(name.to_string());
    }
    for (key, value) in &list.params {
        let int = || match value {
            BareItem::Integer(i) => Ok(i64::from(*i)),
            _ => Err(unreadable("malformed_signature", MALFORMED)),
        };
        let string = || match value {
            BareItem::String(s) => Ok(s.as_str().to_string()),
            _ => Err(unreadable("malformed_signature", MALFORMED)),
        };
        match key.as_str() {
            "created" => params.created = Some(int()?),
            "expires" => params.expires = Some(int()?),
            "nonce" => params.nonce = Some(string()?),
            "alg" => params.alg = Some(string()?),
            "keyid" => params.keyid = Some(string()?),
            "tag" => params.tag = Some(string()?),
            // Parameters this verifier doesn't know are covered all the same (they are in
            // the base as sent) and otherwise ignored.
            _ => {}
        }
    }

    let mut base = String::with_capacity(256);
    for name in &params.covered {
        let value = component(message, name)?;
        // The identifier as serialized in the input: a plain sf-string.
        base.push('"');
        base.push_str(name);
        base.push_str("\": ");
        base.push_str(&value);
        base.push('\n');
    }
    let mut serializer = ListSerializer::new();
    serializer.members(std::iter::once(member));
    let serialized = serializer
        .finish()
        .ok_or_else(|| unreadable("malformed_signature", MALFORMED))?;
    base.push_str("\"@signature-params\": ");
    base.push_str(&serialized);

    Ok(Signed {
        label: label.as_str().to_string(),
        params,
        base,
        signature,
    })
}

/// A covered component's value (RFC 9421 §2.1, §2.2).
fn component(message: &Message<'_>, name: &str) -> Result<String, Unreadable> {
    let uri = || {
        message
            .target_uri
            .parse::<http::Uri>()
            .map_err(|_| unreadable("malformed", "The request could not be read."))
    };
    let value = match name {
        "@method" => message.method.to_string(),
        "@target-uri" => message.target_uri.to_string(),
        "@authority" => {
            // Lowercase, without the scheme's default port (§2.2.3).
            let uri = uri()?;
            let default = match uri.scheme_str() {
                Some(s) if s.eq_ignore_ascii_case("https") => Some(443),
                Some(s) if s.eq_ignore_ascii_case("http") => Some(80),
                _ => None,
            };
            match uri.authority() {
                Some(a) if a.port_u16().is_some() && a.port_u16() == default => {
                    a.host().to_ascii_lowercase()
                }
                Some(a) => a.as_str().to_ascii_lowercase(),
                None => String::new(),
            }
        }
        "@scheme" => uri()?
            .scheme_str()
            .map(str::to_ascii_lowercase)
            .unwrap_or_default(),
        "@request-target" => uri()?
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        "@path" => {
            let uri = uri()?;
            let p = uri.path();
            if p.is_empty() {
                "/".into()
            } else {
                p.to_string()
            }
        }
        "@query" => format!("?{}", uri()?.query().unwrap_or_default()),
        n if n.starts_with('@') => {
            // @status is a response's; @query-param needs a parameter; @signature-params
            // can't be covered (§2.3).
            return Err(unreadable(
                "unsupported_component",
                "The request signature covers a derived component this server doesn't take.",
            ));
        }
        n => {
            // Field names are lowercase in the input (§2.1).
            if n.is_empty() || n.bytes().any(|b| b.is_ascii_uppercase()) {
                return Err(unreadable("malformed_signature", MALFORMED));
            }
            field(message.headers, n)?.ok_or(unreadable(
                "components_missing",
                "The request signature covers a header the request doesn't have.",
            ))?
        }
    };
    if value.contains(['\n', '\r']) {
        return Err(unreadable("malformed_signature", MALFORMED));
    }
    Ok(value)
}

/// Whether `body` matches the request's `Content-Digest` (RFC 9530): every digest in it
/// of an algorithm we know (sha-256, sha-512) must match, and there must be one.
pub fn digest_matches(headers: &HeaderMap, body: &[u8]) -> bool {
    let Ok(Some(value)) = field(headers, "content-digest") else {
        return false;
    };
    let Ok(dict) = Parser::new(&value)
        .with_version(Version::Rfc8941)
        .parse::<Dictionary>()
    else {
        return false;
    };
    let mut checked = 0;
    for (algorithm, entry) in &dict {
        let ListEntry::Item(item) = entry else {
            return false;
        };
        let BareItem::ByteSequence(expected) = &item.bare_item else {
            return false;
        };
        let ok = match algorithm.as_str() {
            "sha-256" => sha2::Sha256::digest(body).as_slice() == expected.as_slice(),
            "sha-512" => sha2::Sha512::digest(body).as_slice() == expected.as_slice(),
            _ => continue,
        };
        if !ok {
            return false;
        }
        checked += 1;
    }
    checked > 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    /// RFC 9421 Appendix B.2.6: the signature base of the Ed25519 example, rebuilt from the
    /// request and its Signature-Input, verifies with the RFC's key.
    #[test]
    fn the_rfc_ed25519_example_verifies() {
        let h = headers(&[
            ("host", "example.com"),
            ("date", "Tue, 20 Apr 2021 02:07:55 GMT"),
            ("content-type", "application/json"),
            ("content-digest", "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:"),
            ("content-length", "18"),
            ("signature-input", r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#),
            ("signature", "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"),
        ]);
        let message = Message {
            method: "POST",
            target_uri: "https://example.com/foo?param=Value&Pet=dog",
            headers: &h,
        };
        let signed = read(&message).unwrap();
        assert_eq!(
            signed.base,
            "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""
        );
        assert_eq!(signed.params.keyid.as_deref(), Some("test-key-ed25519"));
        assert_eq!(signed.params.created, Some(1618884473));
        // The public key of RFC 9421 B.1.4 (the SPKI's last 32 bytes).
        let spki = base64::engine::general_purpose::STANDARD
            .decode("MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=")
            .unwrap();
        let key = crate::kiosks::KioskKey::from_bytes(&spki[spki.len() - 32..]).unwrap();
        assert!(key.verify(signed.base.as_bytes(), &signed.signature));
        assert!(!key.verify(b"another base", &signed.signature));
        assert!(digest_matches(&h, br#"{"hello": "world"}"#));
        assert!(!digest_matches(&h, br#"{"hello": "World"}"#));
    }

    /// Parameters and components are taken in the order sent: the base's last line is
    /// the member as received, so reordering them changes the base (and a signer's
    /// signature over its own order verifies).
    #[test]
    fn parameters_stay_in_the_order_sent() {
        for input in [
            r#"s=("@method" "@target-uri");created=5;nonce="n";alg="ed25519";keyid="k""#,
            r#"s=("@target-uri" "@method");keyid="k";alg="ed25519";nonce="n";created=5;expires=9;tag="t""#,
            r#"s=("@method" "@target-uri");nonce="n";created=5;keyid="k";ext=1"#,
        ] {
            let h = headers(&[("signature-input", input), ("signature", "s=:AAAA:")]);
            let signed = read(&Message {
                method: "GET",
                target_uri: "https://sspr.example.org/v1/kiosk/settings",
                headers: &h,
            })
            .unwrap();
            let last = signed.base.lines().last().unwrap();
            assert_eq!(last, format!("\"@signature-params\": {}", &input[2..]));
            assert_eq!(signed.params.keyid.as_deref(), Some("k"));
            assert_eq!(signed.params.nonce.as_deref(), Some("n"));
            assert_eq!(signed.params.created, Some(5));
        }
    }

    #[test]
    fn unreadable_inputs_are_refused_with_a_reason() {
        let cases = [
            (r#"s=("@method");created="5""#, "malformed_signature"),
            (
                r#"s=("@method" "@method");created=5"#,
                "malformed_signature",
            ),
            (
                r#"s=("content-type";sf);created=5"#,
                "unsupported_component",
            ),
            (r#"s=("@status");created=5"#, "unsupported_component"),
            (
                r#"s=("@signature-params");created=5"#,
                "unsupported_component",
            ),
            (r#"s=("x-missing");created=5"#, "components_missing"),
            (r#"s=("Content-Type");created=5"#, "malformed_signature"),
            (r#"s="not a list""#, "malformed_signature"),
            (r#"t=("@method");created=5"#, "malformed_signature"),
            ("s=(", "malformed_signature"),
        ];
        for (input, reason) in cases {
            let h = headers(&[
                ("signature-input", input),
                ("signature", "s=:AAAA:"),
                ("content-type", "application/json"),
            ]);
            let got = read(&Message {
                method: "GET",
                target_uri: "https://sspr.example.org/x",
                headers: &h,
            })
            .unwrap_err();
            assert_eq!(got.reason, reason, "{input}");
        }
    }

    #[test]
    fn derived_components_of_a_request() {
        let h = headers(&[
            (
                "signature-input",
                r#"s=("@method" "@authority" "@scheme" "@path" "@query" "@request-target" "@target-uri" "x-a");created=1"#,
            ),
            ("signature", "s=:AAAA:"),
            ("x-a", " one "),
            ("x-a", "two"),
        ]);
        let signed = read(&Message {
            method: "POST",
            target_uri: "https://SSPR.example.org:8443/v1/flows?a=1",
            headers: &h,
        })
        .unwrap();
        let lines: Vec<&str> = signed.base.lines().collect();
        assert_eq!(
            &lines[..8],
            &[
                "\"@method\": POST",
                "\"@authority\": sspr.example.org:8443",
                "\"@scheme\": https",
                "\"@path\": /v1/flows",
                "\"@query\": ?a=1",
                "\"@request-target\": /v1/flows?a=1",
                "\"@target-uri\": https://SSPR.example.org:8443/v1/flows?a=1",
                "\"x-a\": one, two",
            ]
        );
    }
}
