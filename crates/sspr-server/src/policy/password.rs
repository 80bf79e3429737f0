//! New-password rules: length after NFKC (15–256 by default), a banned list shipped with the
//! server plus the organisation's own terms, and the person's own names. No composition
//! rules of our own (NIST SP 800-63B); the directory may add its own and its refusal is
//! shown as a reason.

use sspr_proto::{PasswordReason, PasswordReasonCode, PasswordRules};
use unicode_normalization::UnicodeNormalization;

use crate::config::PasswordConfig;
use crate::directory::{DirRules, DirUser};

const SHIPPED: &str = include_str!("banned.txt");

/// A password with a banned term in it is refused when fewer letters than this are left
/// once every banned term is taken out (so a long passphrase may contain one).
const MIN_LETTERS_BEYOND_BANNED: usize = 8;
/// Name parts shorter than this are too common to refuse ("Al", "Li").
const MIN_NAME_PART: usize = 3;

pub struct PasswordPolicy {
    min_length: u32,
    max_length: u32,
    banned: Vec<String>,
}

impl PasswordPolicy {
    pub fn new(config: &PasswordConfig) -> anyhow::Result<PasswordPolicy> {
        let mut extra = config.banned.clone();
        if let Some(path) = &config.banned_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("password.banned_file {}: {e}", path.display()))?;
            extra.extend(text.lines().map(str::to_string));
        }
        let mut banned: Vec<String> = SHIPPED
            .lines()
            .chain(extra.iter().map(String::as_str))
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(fold)
            .filter(|t| t.len() >= 4)
            .collect();
        // Longest first, so "administrator" is taken out before "admin".
        banned.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        banned.dedup();
        Ok(PasswordPolicy {
            min_length: config.min_length,
            max_length: config.max_length,
            banned,
        })
    }

    pub fn rules(&self) -> PasswordRules {
        PasswordRules {
            min_length: self.min_length,
            max_length: self.max_length,
            no_names: true,
            banned_list: true,
            categories: 0,
            history: 0,
        }
    }

    /// Every reason the candidate is refused; empty when it is acceptable.
    pub fn check(&self, candidate: &str, user: Option<&DirUser>) -> Vec<PasswordReason> {
        let mut reasons = Vec::new();
        // Bound the work before normalising: 4 bytes a character at most.
        if candidate.len() > self.max_length as usize * 4 + 4 {
            reasons.push(self.too_long());
            return reasons;
        }
        let normalized: String = candidate.nfkc().collect();
        if normalized.chars().any(char::is_control) {
            reasons.push(PasswordReason {
                code: PasswordReasonCode::InvalidCharacters,
                message: "Use letters, digits, spaces and symbols only.".into(),
            });
        }
        let length = normalized.chars().count() as u32;
        if length < self.min_length {
            reasons.push(PasswordReason {
                code: PasswordReasonCode::TooShort,
                message: format!("Use at least {} characters.", self.min_length),
            });
        }
        if length > self.max_length {
            reasons.push(self.too_long());
            return reasons;
        }
        let folded = fold(&normalized);
        if let Some(user) = user {
            if name_parts(user)
                .iter()
                .any(|part| folded.contains(part.as_str()))
            {
                reasons.push(PasswordReason {
                    code: PasswordReasonCode::ContainsName,
                    message: "Don't use your name, username or email address.".into(),
                });
            }
        }
        if self.is_banned(&folded) {
            reasons.push(PasswordReason {
                code: PasswordReasonCode::Banned,
                message: "That password is too common or easy to guess. Try a few unrelated words."
                    .into(),
            });
        }
        reasons
    }

    /// The rules as shown before typing: ours combined with the directories'.
    pub fn rules_with(&self, dir: DirRules) -> PasswordRules {
        PasswordRules {
            min_length: self.min_length.max(dir.min_length),
            categories: dir.categories,
            history: dir.history,
            ..self.rules()
        }
    }

    /// Every reason, ours and the directories' known rules (history can only be checked by
    /// the directory itself, when it writes).
    pub fn check_with(
        &self,
        candidate: &str,
        user: Option<&DirUser>,
        dir: DirRules,
    ) -> Vec<PasswordReason> {
        let mut reasons = self.check(candidate, user);
        if reasons
            .iter()
            .any(|r| r.code == PasswordReasonCode::TooLong)
        {
            return reasons;
        }
        let normalized: String = candidate.nfkc().collect();
        let has = |reasons: &[PasswordReason], code| reasons.iter().any(|r| r.code == code);
        if dir.min_length > self.min_length && (normalized.chars().count() as u32) < dir.min_length
        {
            reasons.retain(|r| r.code != PasswordReasonCode::TooShort);
            reasons.push(PasswordReason {
                code: PasswordReasonCode::TooShort,
                message: format!("Use at least {} characters.", dir.min_length),
            });
        }
        if dir.categories > 0 && categories(&normalized) < dir.categories {
            reasons.push(PasswordReason {
                code: PasswordReasonCode::NeedsVariety,
                message: format!(
                    "Mix at least {} of: upper-case letters, lower-case letters, digits, symbols.",
                    dir.categories
                ),
            });
        }
        if dir.no_account_name && !has(&reasons, PasswordReasonCode::ContainsName) {
            if let Some(user) = user {
                if contains_account_name(&normalized, user) {
                    reasons.push(PasswordReason {
                        code: PasswordReasonCode::ContainsName,
                        message: "Don't use your name, username or email address.".into(),
                    });
                }
            }
        }
        reasons
    }

    fn too_long(&self) -> PasswordReason {
        PasswordReason {
            code: PasswordReasonCode::TooLong,
            message: format!("Use at most {} characters.", self.max_length),
        }
    }

    fn is_banned(&self, folded: &str) -> bool {
        let mut rest = folded.to_string();
        let mut found = false;
        for term in &self.banned {
            if rest.contains(term.as_str()) {
                rest = rest.replace(term.as_str(), "");
                found = true;
            }
        }
        found && rest.chars().count() < MIN_LETTERS_BEYOND_BANNED
    }
}

/// Kinds of characters used, out of upper case, lower case, digits and anything else.
fn categories(s: &str) -> u8 {
    let kinds = [
        s.chars().any(char::is_uppercase),
        s.chars().any(char::is_lowercase),
        s.chars().any(|c| c.is_ascii_digit()),
        s.chars()
            .any(|c| !c.is_uppercase() && !c.is_lowercase() && !c.is_ascii_digit()),
    ];
    kinds.iter().filter(|k| **k).count() as u8
}

/// Active Directory's complexity rule: the account name (three characters or more), or
/// any part of the display name of three characters or more, anywhere, in any case.
fn contains_account_name(candidate: &str, user: &DirUser) -> bool {
    let lower = candidate.to_lowercase();
    let account = user.username.to_lowercase();
    if account.chars().count() >= 3 && lower.contains(&account) {
        return true;
    }
    user.display_name
        .split([',', '.', '-', '_', '#', ' ', '\t'])
        .map(str::to_lowercase)
        .filter(|t| t.chars().count() >= 3)
        .any(|t| lower.contains(&t))
}

/// Lower case, common substitutions undone, letters only: "P@ssw0rd!2024" → "password".
fn fold(s: &str) -> String {
    s.nfkc()
        .flat_map(char::to_lowercase)
        .filter_map(|c| match c {
            '0' => Some('o'),
            '1' | '!' | '|' => Some('i'),
            '3' => Some('e'),
            '4' | '@' => Some('a'),
            '5' | '$' => Some('s'),
            '7' => Some('t'),
            'ä' => Some('a'),
            'ö' => Some('o'),
            'ü' => Some('u'),
            'ß' => Some('s'),
            c if c.is_alphabetic() => Some(c),
            _ => None,
        })
        .collect()
}

fn name_parts(user: &DirUser) -> Vec<String> {
    let local = user
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .unwrap_or_default();
    [
        user.username.as_str(),
        user.given_name.as_str(),
        user.surname.as_str(),
        user.display_name.as_str(),
        local,
    ]
    .iter()
    .flat_map(|s| s.split(|c: char| !c.is_alphanumeric()))
    .map(fold)
    .filter(|p| p.chars().count() >= MIN_NAME_PART)
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> PasswordPolicy {
        let c = PasswordConfig {
            banned: vec!["Contoso".into()],
            ..PasswordConfig::default()
        };
        match PasswordPolicy::new(&c) {
            Ok(p) => p,
            Err(e) => unreachable!("{e}"),
        }
    }

    fn codes(p: &PasswordPolicy, pw: &str, user: Option<&DirUser>) -> Vec<PasswordReasonCode> {
        p.check(pw, user).into_iter().map(|r| r.code).collect()
    }

    fn ada() -> DirUser {
        DirUser {
            id: "1".into(),
            dn: "1".into(),
            username: "alovelace".into(),
            email: Some("ada.lovelace@example.org".into()),
            display_name: "Ada Lovelace".into(),
            given_name: "Ada".into(),
            surname: "Lovelace".into(),
            groups: vec![],
            disabled: false,
            locked: false,
            password_changed_at: None,
            mobile: None,
            office_phone: None,
        }
    }

    #[test]
    fn length_is_counted_after_nfkc() {
        let p = policy();
        assert_eq!(codes(&p, "short", None), vec![PasswordReasonCode::TooShort]);
        // Fullwidth letters normalise to ASCII; 15 characters either way.
        assert!(codes(&p, "ｃｏｒｒｅｃｔｈｏｒｓｅｂａｔｔｅｒｙ", None).is_empty());
        let long = "x".repeat(10_000);
        assert_eq!(codes(&p, &long, None), vec![PasswordReasonCode::TooLong]);
    }

    #[test]
    fn banned_terms_are_found_through_substitutions() {
        let p = policy();
        assert!(codes(&p, "P@ssw0rd2024Summer!", None).contains(&PasswordReasonCode::Banned));
        assert!(codes(&p, "Contoso-Contoso-1234", None).contains(&PasswordReasonCode::Banned));
        assert!(codes(&p, "correct horse battery staple", None).is_empty());
        // A banned word inside a long passphrase leaves enough else.
        assert!(codes(&p, "my password is long and unique", None).is_empty());
    }

    #[test]
    fn the_persons_own_names_are_refused() {
        let p = policy();
        let u = ada();
        assert!(codes(&p, "Lovelace analytical engine", Some(&u))
            .contains(&PasswordReasonCode::ContainsName));
        assert!(codes(&p, "analytical engine notes", Some(&u)).is_empty());
    }

    #[test]
    fn control_characters_are_refused() {
        let p = policy();
        assert!(codes(&p, "correct horse\u{7}battery staple", None)
            .contains(&PasswordReasonCode::InvalidCharacters));
    }
}
