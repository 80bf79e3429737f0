//! Security questions at a kiosk. The challenge names `ask` of the person's registered
//! questions (the same ones for the whole flow, so asking again offers no easier ones);
//! verify checks every answer, right or wrong, and says only whether all were right. A
//! decoy is asked questions drawn from its login and its answers are checked against a
//! hash nobody can match, at the same cost.

use sspr_proto::ChallengeView;

use super::error::{FlowError, FlowResult};
use super::rows::{ChallengeRow, FlowMethod, FlowRow};
use super::{decoy, FlowService};
use crate::fault::Internal;
use crate::methods::questions::{self, Asked, Stored};
use crate::secret::time_ordered_id;

/// The questions a challenge asked, as its row keeps them ("0,2,4": indices into the
/// registration's questions).
fn asked_indices(challenge: &ChallengeRow) -> Vec<usize> {
    challenge
        .code_hash
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|i| i.parse().ok())
        .collect()
}

impl FlowService {
    /// The person's registered questions and their answers' hashes; a decoy's questions
    /// (drawn from its login) and no hashes. One registration read either way.
    async fn registered_questions(
        &self,
        flow: &FlowRow,
        method: &FlowMethod,
    ) -> FlowResult<(Vec<Asked>, Option<Vec<String>>)> {
        let id = match &flow.user_id {
            Some(_) => method.target.parse::<i64>().unwrap_or(-1),
            None => -1,
        };
        let stored = self
            .core
            .store
            .registration(id)
            .await?
            .filter(|r| Some(&r.user_id) == flow.user_id.as_ref())
            .and_then(|r| Stored::parse(&r.value));
        Ok(match stored {
            Some(s) => (s.questions, Some(s.hashes)),
            None => (
                decoy::questions(
                    &self.core.key,
                    &flow.login,
                    &self.core.config().policy.questions,
                ),
                None,
            ),
        })
    }

    /// The questions to answer, in the flow's language.
    pub(super) async fn questions_challenge(
        &self,
        flow: &FlowRow,
        method: &FlowMethod,
        now: i64,
    ) -> FlowResult<(ChallengeRow, ChallengeView)> {
        let config = self.core.config();
        let policy = &config.policy.questions;
        let (asked, _) = self.registered_questions(flow, method).await?;
        let picked = questions::pick(
            &self.core.key,
            &flow.id,
            asked.len(),
            usize::from(policy.ask),
        );
        let texts = picked
            .iter()
            .map(|i| asked[*i].text(policy, &flow.locale))
            .collect::<Option<Vec<String>>>()
            // A question the policy no longer lists: this method can't be used now.
            .ok_or(FlowError::MethodUnavailable)?;
        let id = time_ordered_id();
        let row = ChallengeRow {
            id: id.clone(),
            flow_id: flow.id.clone(),
            method_id: method.id.clone(),
            kind: method.kind,
            code_hash: Some(
                picked
                    .iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            created_at: now,
            // Answered from memory: good for the flow's life.
            expires_at: flow.expires_at,
            used_at: None,
            failures: 0,
            delivery: None,
        };
        let view = ChallengeView {
            challenge_id: id,
            method_id: method.id.clone(),
            kind: method.kind,
            sent_to: None,
            code_length: 0,
            expires_in_secs: (flow.expires_at - now).max(0) as u32,
            resend_after_secs: 0,
            approval_url: None,
            finish_on_phone: false,
            questions: texts,
            delivery: None,
        };
        Ok((row, view))
    }

    /// None when every answer is right; else why not. Answers that can't be checked as
    /// typed (missing, too long, control characters) are refused before any hashing and
    /// count against nobody.
    pub(super) async fn check_answers(
        &self,
        flow: &FlowRow,
        challenge: &ChallengeRow,
        answers: Option<&[String]>,
    ) -> FlowResult<Option<&'static str>> {
        let picked = asked_indices(challenge);
        let answers = answers
            .filter(|a| a.len() == picked.len() && a.iter().all(|x| !x.trim().is_empty()))
            .ok_or(FlowError::AnswersMissing {
                count: picked.len(),
            })?;
        let typed = answers
            .iter()
            .map(|a| questions::check_typed(a))
            .collect::<Result<Vec<String>, _>>()
            .map_err(FlowError::AnswerRefused)?;
        let method = flow
            .method(&challenge.method_id)
            .ok_or(FlowError::MethodUnavailable)?;
        let (_, hashes) = self.registered_questions(flow, method).await?;
        let pairs: Vec<(String, Option<String>)> = typed
            .into_iter()
            .zip(picked)
            .map(|(answer, i)| (answer, hashes.as_ref().and_then(|h| h.get(i).cloned())))
            .collect();
        let key = self.core.key.clone();
        let all_right = self
            .core
            .hasher
            .run(move || {
                // A decoy's answers (and a registration that lost a hash) are checked
                // against a hash nobody can match: the same work, never a match.
                let decoy = questions::decoy_hash(&key);
                let pairs: Vec<(String, String)> = pairs
                    .into_iter()
                    .map(|(a, h)| (a, h.unwrap_or_else(|| decoy.clone())))
                    .collect();
                questions::check_all(&key, &pairs, &decoy)
            })
            .await
            .map_err(|e| FlowError::Internal(Internal::new("checking security answers", e)))?;
        Ok((!(all_right && flow.user_id.is_some())).then_some("wrong_answers"))
    }
}
