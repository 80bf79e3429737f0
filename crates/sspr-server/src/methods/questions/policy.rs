//! `[policy.questions]` (in `PolicyConfig`): security questions, off until `policy.methods` names
//! "questions". How many a person registers and how many a kiosk asks, the organisation's
//! list (each question in its languages), and whether people may write their own.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::lang::{Lang, DEFAULT_QUESTION_IDS};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QuestionsPolicy {
    /// Questions each person answers when registering (3 to 5).
    pub register: u8,
    /// Questions asked at the kiosk (1 to `register`); all must be answered right.
    pub ask: u8,
    /// People may write questions of their own beside the list's.
    pub own_allowed: bool,
    /// The organisation's questions.
    pub list: Vec<Question>,
}

/// One of the organisation's questions: a stable id (registrations keep it, so a text
/// may be reworded) and its text by language ("en", "de", …; English is required).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Question {
    pub id: String,
    pub text: BTreeMap<String, String>,
}

impl Question {
    /// The text in `locale` ("de-CH" finds "de"), else English.
    pub fn text_in(&self, locale: &str) -> &str {
        let lang = locale.split('-').next().unwrap_or(locale);
        self.text
            .get(locale)
            .or_else(|| self.text.get(lang))
            .or_else(|| self.text.get("en"))
            .map(String::as_str)
            .unwrap_or(&self.id)
    }
}

/// The longest question and the longest answer, in characters.
pub const QUESTION_MAX: usize = 200;
pub const ANSWER_MAX: usize = 200;

// The list a new installation starts with: questions whose answers a person keeps for
// life and others can't look up easily (none about a birthday or a mother's maiden name,
// which are on record). Their texts, in every language, are in `lang`.

impl Default for QuestionsPolicy {
    fn default() -> Self {
        QuestionsPolicy {
            register: 3,
            ask: 3,
            own_allowed: false,
            list: DEFAULT_QUESTION_IDS
                .iter()
                .enumerate()
                .map(|(i, id)| Question {
                    id: (*id).into(),
                    text: Lang::ALL
                        .iter()
                        .map(|l| (l.code().to_string(), l.texts().questions[i].to_string()))
                        .collect(),
                })
                .collect(),
        }
    }
}

impl QuestionsPolicy {
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.list.iter().find(|q| q.id == id)
    }

    /// Why these settings can't be used (nothing when they can). `enabled`: the policy
    /// names "questions"; `required`: methods a person must verify.
    pub fn problems(&self, enabled: bool, required: u8) -> Vec<String> {
        let mut out = Vec::new();
        if !(3..=5).contains(&self.register) {
            out.push("policy.questions.register must be 3, 4 or 5".into());
        }
        if self.ask == 0 || self.ask > self.register {
            out.push(format!(
                "policy.questions.ask must be between 1 and policy.questions.register ({})",
                self.register
            ));
        }
        let mut ids: Vec<&str> = Vec::new();
        for q in &self.list {
            let id_ok = !q.id.is_empty()
                && q.id.len() <= 40
                && q.id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !id_ok {
                out.push(format!(
                    "policy.questions.list: the id {:?} must be 1 to 40 of a-z, 0-9 and -",
                    q.id.chars().take(40).collect::<String>()
                ));
            }
            if ids.contains(&q.id.as_str()) {
                out.push(format!("policy.questions.list names {:?} twice", q.id));
            }
            ids.push(&q.id);
            if !q.text.contains_key("en") {
                out.push(format!(
                    "policy.questions.list: {:?} has no English text (text.en)",
                    q.id
                ));
            }
            for (lang, text) in &q.text {
                let t = text.trim();
                if t.chars().count() < 10
                    || t.chars().count() > QUESTION_MAX
                    || t.chars().any(char::is_control)
                {
                    out.push(format!(
                        "policy.questions.list: {:?} in {lang:?} must be 10 to {QUESTION_MAX} characters without control characters",
                        q.id
                    ));
                }
            }
        }
        if enabled {
            if required < 2 {
                out.push(
                    "security questions are never enough on their own: with \"questions\" in policy.methods, policy.methods_required must be 2"
                        .into(),
                );
            }
            if !self.own_allowed && self.list.len() < usize::from(self.register) {
                out.push(format!(
                    "policy.questions.list has {} question(s) but people register {}: add questions or set own_allowed",
                    self.list.len(),
                    self.register
                ));
            }
        }
        out
    }
}
