//! "My security info", security questions: what the organisation asks, and a person's
//! answers registered or changed (all at once; one registration each). Answers are
//! hashed (`methods::questions`) and never shown again, to anyone.

use sspr_proto::{MethodKind, MyQuestions, MySession, QuestionChoice, QuestionsSave};

use super::session::Need;
use super::{MyError, MyResult, SecurityInfo};
use crate::fault::Internal;
use crate::lang::Lang;
use crate::methods::questions::policy::{ANSWER_MAX, QUESTION_MAX};
use crate::methods::questions::{self, Asked, Problem, Stored, ANSWER_MIN};

/// Why the questions weren't saved, in the page's language (the English is `Problem`'s
/// own words, which a test holds them to).
fn said(lang: Lang, p: &Problem) -> String {
    let t = lang.texts();
    match p {
        Problem::Count(n) => lang.format(t.q_count, &[("n", n)]),
        Problem::QuestionTwice => lang.format(t.q_twice, &[]),
        Problem::UnknownQuestion(q) => lang.format(t.q_unknown, &[("question", q)]),
        Problem::OwnNotAllowed => lang.format(t.q_own_not_allowed, &[]),
        Problem::OwnQuestion => lang.format(t.q_own_question, &[("max", &QUESTION_MAX)]),
        Problem::TooShort => lang.format(t.q_too_short, &[("min", &ANSWER_MIN)]),
        Problem::TooLong => lang.format(t.q_too_long, &[("max", &ANSWER_MAX)]),
        Problem::ControlCharacters => lang.format(t.q_control, &[]),
        Problem::SameAnswer => lang.format(t.q_same, &[]),
        Problem::ContainsQuestion => lang.format(t.q_contains, &[]),
    }
}

impl SecurityInfo {
    fn questions_on(&self) -> MyResult<()> {
        if self
            .core
            .config()
            .policy
            .methods
            .contains(&MethodKind::Questions)
        {
            Ok(())
        } else {
            Err(MyError::QuestionsOff)
        }
    }

    /// The organisation's questions in `locale`, and the ones the person registered.
    pub async fn questions(
        &self,
        cookie: &str,
        locale: Option<&str>,
        now: i64,
    ) -> MyResult<MyQuestions> {
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        self.questions_on()?;
        let config = self.core.config();
        let policy = &config.policy.questions;
        let locale = locale.unwrap_or(&config.organization.default_locale);
        let registered = self
            .core
            .store
            .registrations(&user.id)
            .await?
            .iter()
            .filter(|r| r.kind() == Some(MethodKind::Questions))
            .find_map(|r| Stored::parse(&r.value))
            .map(|s| {
                s.questions
                    .iter()
                    .map(|q| {
                        q.text(policy, locale)
                            .unwrap_or_else(|| "(a question no longer offered)".into())
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(MyQuestions {
            register: policy.register,
            ask: policy.ask,
            own_allowed: policy.own_allowed,
            list: policy
                .list
                .iter()
                .map(|q| QuestionChoice {
                    id: q.id.clone(),
                    text: q.text_in(locale).to_string(),
                })
                .collect(),
            registered,
        })
    }

    /// Registers the person's questions and answers, replacing any before (nothing is
    /// kept of a save that fails a rule).
    pub async fn save_questions(
        &self,
        correlation: &str,
        cookie: &str,
        save: &QuestionsSave,
        now: i64,
    ) -> MyResult<MySession> {
        let (user, _) = self.session_user(cookie, Need::Full, now).await?;
        self.questions_on()?;
        let lang = self.lang(cookie, now).await;
        let config = self.core.config();
        let policy = &config.policy.questions;
        // Counted before anything is read: a body of a thousand answers does no work.
        if save.answers.len() != usize::from(policy.register) {
            return Err(MyError::Questions(said(
                lang,
                &Problem::Count(policy.register),
            )));
        }
        let chosen = save
            .answers
            .iter()
            .map(|a| match (&a.id, &a.own) {
                (Some(id), None) => Ok((Asked::Listed(id.clone()), a.answer.clone())),
                (None, Some(own)) => Ok((Asked::Own(own.clone()), a.answer.clone())),
                _ => Err(MyError::Questions(
                    lang.format(lang.texts().q_one_question, &[]),
                )),
            })
            .collect::<MyResult<Vec<_>>>()?;
        let checked = questions::check_registration(policy, &chosen)
            .map_err(|p| MyError::Questions(said(lang, &p)))?;
        let key = self.core.key.clone();
        let answers: Vec<String> = checked.iter().map(|(_, a)| a.clone()).collect();
        let hashes = self
            .core
            .hasher
            .run(move || {
                answers
                    .iter()
                    .map(|a| questions::hash(&key, a))
                    .collect::<Result<Vec<_>, _>>()
            })
            .await
            .map_err(|e| MyError::Internal(Internal::new("hashing security answers", e)))?
            .map_err(|e| MyError::Internal(Internal::new("hashing security answers", e)))?;
        let stored = Stored {
            questions: checked.into_iter().map(|(q, _)| q).collect(),
            hashes,
        };
        let value = serde_json::to_string(&stored)
            .map_err(|e| MyError::Internal(Internal::new("saving security answers", e)))?;
        self.core
            .store
            .replace_registration(
                &user.id,
                MethodKind::Questions,
                &value,
                "Security questions",
                now,
            )
            .await?;
        self.registered(
            correlation,
            &user,
            MethodKind::Questions,
            self.told(cookie, now, |t| t.info_questions_set, "").await,
            now,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_english_of_a_refusal_is_the_problems_own_and_other_languages_fill_it_in() {
        let all = [
            Problem::Count(3),
            Problem::QuestionTwice,
            Problem::UnknownQuestion("first-car".into()),
            Problem::OwnNotAllowed,
            Problem::OwnQuestion,
            Problem::TooShort,
            Problem::TooLong,
            Problem::ControlCharacters,
            Problem::SameAnswer,
            Problem::ContainsQuestion,
        ];
        for p in &all {
            assert_eq!(said(Lang::En, p), p.to_string());
            for lang in Lang::ALL {
                let text = said(lang, p);
                assert!(!text.contains('{'), "{}: {text}", lang.code());
            }
        }
        assert_eq!(
            said(Lang::Pl, &Problem::Count(5)),
            "odpowiedz na wszystkie 5 pytań"
        );
        assert_eq!(
            said(Lang::Pl, &Problem::TooShort),
            "odpowiedź ma co najmniej 3 znaki"
        );
    }
}
