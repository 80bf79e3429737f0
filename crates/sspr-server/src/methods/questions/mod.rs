//! Security questions: answers as a person would type them again (NFKC, case-folded,
//! trimmed, inner whitespace collapsed), the rules an answer must meet, and each answer
//! kept as an argon2id hash with its own salt, keyed with the server's key (argon2's
//! secret input): a copy of the store alone can't be guessed against, and nobody, admins
//! included, can read an answer back.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub mod policy;

use crate::secret::ServerKey;
use policy::{QuestionsPolicy, ANSWER_MAX, QUESTION_MAX};

/// The fewest characters an answer has once normalised.
pub const ANSWER_MIN: usize = 3;

/// An answer as it is compared: NFKC, case-folded (so "STRASSE" is "straße"), trimmed,
/// inner whitespace collapsed to one space.
pub fn normalize(answer: &str) -> String {
    let folded = caseless::default_case_fold_str(&answer.nfkc().collect::<String>());
    // Folding may leave text NFKC doesn't hold (it says so itself): once more.
    let folded: String = folded.nfkc().collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Why a question or an answer can't be registered (each worded for the person).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("answer all {0} questions")]
    Count(u8),
    #[error("each question may be chosen once")]
    QuestionTwice,
    #[error("\"{0}\" is not one of the organisation's questions")]
    UnknownQuestion(String),
    #[error("the organisation doesn't allow questions of your own")]
    OwnNotAllowed,
    #[error(
        "a question of your own has 10 to {QUESTION_MAX} characters, without control characters"
    )]
    OwnQuestion,
    #[error("an answer has at least {ANSWER_MIN} characters")]
    TooShort,
    #[error("an answer has at most {ANSWER_MAX} characters")]
    TooLong,
    #[error("an answer can't hold control characters")]
    ControlCharacters,
    #[error("each answer must differ from the others")]
    SameAnswer,
    #[error("an answer can't contain its question, or be a word of it")]
    ContainsQuestion,
}

/// Checks one answer as typed (length, control characters), before any hashing: a
/// 10,000-character answer is refused here, never hashed.
pub fn check_typed(answer: &str) -> Result<String, Problem> {
    if answer.chars().count() > ANSWER_MAX {
        return Err(Problem::TooLong);
    }
    if answer.chars().any(char::is_control) {
        return Err(Problem::ControlCharacters);
    }
    Ok(normalize(answer))
}

/// Which question a registered answer belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Asked {
    /// One of the organisation's, by id.
    Listed(String),
    /// The person's own, as they wrote it.
    Own(String),
}

impl Asked {
    /// The question's text in `locale`; a listed question the policy no longer has is
    /// None (it can't be asked any more).
    pub fn text(&self, policy: &QuestionsPolicy, locale: &str) -> Option<String> {
        match self {
            Asked::Listed(id) => policy.question(id).map(|q| q.text_in(locale).to_string()),
            Asked::Own(text) => Some(text.clone()),
        }
    }
}

/// A person's registration, as the store keeps it (JSON in the registration's value):
/// the questions and one PHC string per answer.
#[derive(Clone, Serialize, Deserialize)]
pub struct Stored {
    pub questions: Vec<Asked>,
    pub hashes: Vec<String>,
}

impl Stored {
    pub fn parse(value: &str) -> Option<Stored> {
        serde_json::from_str::<Stored>(value)
            .ok()
            .filter(|s| s.questions.len() == s.hashes.len() && !s.questions.is_empty())
    }
}

/// What a person chose and typed, checked against the policy and against each other.
/// Returns the questions and their normalised answers.
pub fn check_registration(
    policy: &QuestionsPolicy,
    chosen: &[(Asked, String)],
) -> Result<Vec<(Asked, String)>, Problem> {
    if chosen.len() != usize::from(policy.register) {
        return Err(Problem::Count(policy.register));
    }
    let mut out: Vec<(Asked, String)> = Vec::new();
    for (asked, typed) in chosen {
        let question = match asked {
            Asked::Listed(id) => policy
                .question(id)
                .ok_or_else(|| Problem::UnknownQuestion(id.chars().take(40).collect()))?
                .text_in("en")
                .to_string(),
            Asked::Own(text) => {
                if !policy.own_allowed {
                    return Err(Problem::OwnNotAllowed);
                }
                let t = text.trim();
                let n = t.chars().count();
                if !(10..=QUESTION_MAX).contains(&n) || t.chars().any(char::is_control) {
                    return Err(Problem::OwnQuestion);
                }
                t.to_string()
            }
        };
        let asked = match asked {
            Asked::Own(t) => Asked::Own(t.trim().to_string()),
            listed => listed.clone(),
        };
        if out.iter().any(|(a, _)| match (a, &asked) {
            (Asked::Listed(x), Asked::Listed(y)) => x == y,
            (Asked::Own(x), Asked::Own(y)) => normalize(x) == normalize(y),
            _ => false,
        }) {
            return Err(Problem::QuestionTwice);
        }
        let answer = check_typed(typed)?;
        if answer.chars().count() < ANSWER_MIN {
            return Err(Problem::TooShort);
        }
        if contains_question(asked.clone(), &question, policy, &answer) {
            return Err(Problem::ContainsQuestion);
        }
        if out.iter().any(|(_, a)| *a == answer) {
            return Err(Problem::SameAnswer);
        }
        out.push((asked, answer));
    }
    Ok(out)
}

/// The answer holds its question (in any of the question's languages), or is one of its
/// words ("name" to "What was the name of your first pet?").
fn contains_question(asked: Asked, english: &str, policy: &QuestionsPolicy, answer: &str) -> bool {
    let texts: Vec<String> = match &asked {
        Asked::Listed(id) => policy
            .question(id)
            .map(|q| q.text.values().cloned().collect())
            .unwrap_or_else(|| vec![english.to_string()]),
        Asked::Own(t) => vec![t.clone()],
    };
    texts.iter().any(|t| {
        let q = normalize(t);
        let bare = q.trim_end_matches(['?', '.', '!', ' ']);
        answer.contains(bare)
            || q.split(|c: char| !c.is_alphanumeric())
                .any(|word| !word.is_empty() && word == answer)
    })
}

/// argon2id as the answers are hashed: OWASP's 19 MiB, 2 passes, keyed with the server.
fn hasher(secret: &[u8]) -> Result<Argon2<'_>, argon2::Error> {
    let params = Params::new(19 * 1024, 2, 1, None)?;
    Argon2::new_with_secret(secret, Algorithm::Argon2id, Version::V0x13, params)
}

/// The key argon2 is given: the server key's, for this purpose only.
fn secret_of(key: &ServerKey) -> [u8; 32] {
    key.mac("security-answer", &[])
}

/// A normalised answer's hash (its own salt, as a PHC string).
pub fn hash(key: &ServerKey, answer: &str) -> Result<String, String> {
    let secret = secret_of(key);
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher(&secret)
        .map_err(|e| e.to_string())?
        .hash_password(answer.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether every answer fits its hash. Every pair is checked whatever the ones before
/// gave, so the time doesn't tell which was wrong; a pair whose hash doesn't parse is
/// checked against `decoy` instead, and fails.
pub fn check_all(key: &ServerKey, pairs: &[(String, String)], decoy: &str) -> bool {
    let secret = secret_of(key);
    let Ok(argon) = hasher(&secret) else {
        return false;
    };
    let mut all = true;
    for (answer, stored) in pairs {
        let (parsed, real) = match PasswordHash::new(stored) {
            Ok(p) => (p, true),
            Err(_) => match PasswordHash::new(decoy) {
                Ok(p) => (p, false),
                Err(_) => return false,
            },
        };
        let fits = argon.verify_password(answer.as_bytes(), &parsed).is_ok();
        all &= fits && real;
    }
    all
}

/// A hash of the same parameters of an answer nobody knows: what a decoy's answers, and
/// a registration that doesn't parse, are checked against (made once).
pub fn decoy_hash(key: &ServerKey) -> String {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY
        .get_or_init(|| {
            let mut nobody = [0u8; 32];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nobody);
            hash(key, &hex::encode(nobody)).unwrap_or_default()
        })
        .clone()
}

/// Which of `registered` questions a flow asks: `ask` of them, the same for every
/// challenge of one flow (asking again doesn't offer easier ones), drawn from a keyed hash
/// of the flow, in the order registered.
pub fn pick(key: &ServerKey, flow_id: &str, registered: usize, ask: usize) -> Vec<usize> {
    let ask = ask.min(registered);
    let mut order: Vec<(u64, usize)> = (0..registered)
        .map(|i| {
            let mac = key.mac("questions-pick", &[flow_id.as_bytes(), &i.to_be_bytes()]);
            (
                u64::from_be_bytes(mac[..8].try_into().unwrap_or_default()),
                i,
            )
        })
        .collect();
    order.sort();
    let mut picked: Vec<usize> = order.into_iter().take(ask).map(|(_, i)| i).collect();
    picked.sort();
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> QuestionsPolicy {
        QuestionsPolicy {
            own_allowed: true,
            ..QuestionsPolicy::default()
        }
    }

    fn listed(id: &str, answer: &str) -> (Asked, String) {
        (Asked::Listed(id.into()), answer.into())
    }

    #[test]
    fn answers_are_compared_as_typed_again() {
        assert_eq!(normalize("  Straße  "), normalize("STRASSE"));
        assert_eq!(normalize("Ｍｉｔｚｉ"), "mitzi");
        assert_eq!(normalize(" Rex \t the\n  dog "), "rex the dog");
        assert_eq!(normalize("Ångström"), normalize("A\u{30a}ngstro\u{308}m"));
        assert_ne!(normalize("rex"), normalize("rexx"));
    }

    #[test]
    fn a_registration_meets_every_rule() {
        let p = policy();
        let good = vec![
            listed("first-pet", "Mitzi"),
            listed("childhood-street", "Lindenallee"),
            (
                Asked::Own("Where did we go on holiday in 1999?".into()),
                "Rügen".into(),
            ),
        ];
        let out = check_registration(&p, &good).expect("good");
        assert_eq!(out[0].1, "mitzi");
        assert_eq!(out[2].1, "rügen");

        let mut two = good.clone();
        two.pop();
        assert_eq!(check_registration(&p, &two).unwrap_err(), Problem::Count(3));
        let mut twice = good.clone();
        twice[1] = listed("first-pet", "Rex");
        assert_eq!(
            check_registration(&p, &twice).unwrap_err(),
            Problem::QuestionTwice
        );
        let mut same = good.clone();
        same[1].1 = " MITZI ".into();
        assert_eq!(
            check_registration(&p, &same).unwrap_err(),
            Problem::SameAnswer
        );
        let mut short = good.clone();
        short[0].1 = " ab ".into();
        assert_eq!(
            check_registration(&p, &short).unwrap_err(),
            Problem::TooShort
        );
        let mut long = good.clone();
        long[0].1 = "x".repeat(10_000);
        assert_eq!(check_registration(&p, &long).unwrap_err(), Problem::TooLong);
        let mut control = good.clone();
        control[0].1 = "Mit\u{7}zi".into();
        assert_eq!(
            check_registration(&p, &control).unwrap_err(),
            Problem::ControlCharacters
        );
        let mut word = good.clone();
        word[0].1 = "Pet".into();
        assert_eq!(
            check_registration(&p, &word).unwrap_err(),
            Problem::ContainsQuestion
        );
        let mut whole = good.clone();
        whole[0].1 = "what was the name of your first pet? Mitzi".into();
        assert_eq!(
            check_registration(&p, &whole).unwrap_err(),
            Problem::ContainsQuestion
        );
        let mut german = good.clone();
        german[0].1 = "Haustier".into();
        assert_eq!(
            check_registration(&p, &german).unwrap_err(),
            Problem::ContainsQuestion,
            "the German text is the same question"
        );
        let mut unknown = good.clone();
        unknown[0] = listed("favourite-colour", "blue");
        assert!(matches!(
            check_registration(&p, &unknown).unwrap_err(),
            Problem::UnknownQuestion(_)
        ));
        let closed = QuestionsPolicy::default();
        assert_eq!(
            check_registration(&closed, &good).unwrap_err(),
            Problem::OwnNotAllowed
        );
    }

    #[test]
    fn answers_are_checked_all_and_keyed() {
        let key = ServerKey::from_bytes([7; 32]);
        let h1 = hash(&key, "mitzi").expect("hash");
        let h2 = hash(&key, "lindenallee").expect("hash");
        assert!(h1.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_ne!(
            hash(&key, "mitzi").expect("hash"),
            h1,
            "a salt of its own each time"
        );
        let decoy = decoy_hash(&key);
        let pairs =
            |a: &str, b: &str| vec![(a.to_string(), h1.clone()), (b.to_string(), h2.clone())];
        assert!(check_all(&key, &pairs("mitzi", "lindenallee"), &decoy));
        assert!(!check_all(&key, &pairs("mitzi", "linden"), &decoy));
        assert!(!check_all(&key, &pairs("rex", "lindenallee"), &decoy));
        let other = ServerKey::from_bytes([8; 32]);
        assert!(
            !check_all(&other, &pairs("mitzi", "lindenallee"), &decoy),
            "another server key doesn't open them"
        );
        assert!(!check_all(
            &key,
            &[("mitzi".into(), "not a hash".into())],
            &decoy
        ));
    }

    #[test]
    fn a_flow_is_asked_the_same_questions_each_time() {
        let key = ServerKey::from_bytes([7; 32]);
        let a = pick(&key, "flow-1", 5, 3);
        assert_eq!(a.len(), 3);
        assert_eq!(a, pick(&key, "flow-1", 5, 3));
        assert!(a.windows(2).all(|w| w[0] < w[1]));
        let differ = (0..20).any(|i| pick(&key, &format!("flow-{i}"), 5, 3) != a);
        assert!(differ, "other flows are asked others");
        assert_eq!(pick(&key, "flow-1", 3, 3), vec![0, 1, 2]);
    }
}
