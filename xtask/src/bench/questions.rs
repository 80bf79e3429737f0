//! Security questions: a few people register their answers on "My security info" as a
//! person would (their password, then a code emailed to them and read from the mailbox,
//! then the answers), and a kiosk checks answers one at a time, each in a fresh flow
//! (identify, the questions' challenge, the answers): all right, the first wrong, the
//! last wrong. Every answer asked is hashed to be checked, right or wrong, so a check
//! costs about `ask` argon2id hashes; between the checks the bench times one hash of its
//! own, so the two are compared under the same conditions.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reqwest::header;
use serde_json::{json, Value};
use sspr_client::Client;
use sspr_proto::{
    ErrorCode, FlowView, Intent, MethodKind, MyQuestions, MySession, SecondFactorChallenge,
    StartFlowRequest,
};

use super::floors;
use super::load::Samples;
use super::mail::Codes;
use super::target::{Person, QUESTIONS_REGISTER};

/// People who register questions.
pub const PEOPLE: usize = 16;
/// The kinds of check, in turns: check `n` is `ROUND[n % 7]` for person `n % PEOPLE`, so
/// (7 and 16 having no common factor) each person gets every slot once: three right, the
/// first answer wrong twice, the last answer wrong twice. Four wrong checks a person: a
/// person's wrong answers count toward their block (five a day by default; the bench
/// raises its limits, but stays under the default anyway).
const ROUND: [Check; 7] = [
    Check::Right,
    Check::FirstWrong,
    Check::LastWrong,
    Check::Right,
    Check::FirstWrong,
    Check::LastWrong,
    Check::Right,
];
/// Wrong checks each person gets.
pub const WRONG_EACH: usize = 4;
/// Long enough for a sign-in code mail on loopback.
const CODE_TIMEOUT: Duration = Duration::from_secs(10);
const WRONG: &str = "not the answer at all";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    Right,
    FirstWrong,
    LastWrong,
}

/// What the questions section measured.
pub struct Measured {
    pub people: usize,
    /// Answers each registered.
    pub registered: usize,
    /// Signing in, the emailed code and saving the answers, everyone one after another.
    pub registration: Duration,
    /// Questions a challenge asked (each answer checked).
    pub asked: usize,
    /// The verify call, one at a time: all answers right, the first wrong, the last wrong.
    pub right: Samples,
    pub first_wrong: Samples,
    pub last_wrong: Samples,
    /// One argon2id hash in the bench process, timed after each check.
    pub between: Samples,
    pub failures: usize,
    pub first_failure: Option<String>,
}

/// A browser on "My security info": its session cookie, and JSON both ways.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Browser {
    fn new(base: &str) -> anyhow::Result<Browser> {
        Ok(Browser {
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            base: base.to_string(),
            cookie: None,
        })
    }

    /// `method path` with `body`; the answer's JSON, or an error with what the server
    /// said.
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        if let Some(set) = response
            .headers()
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
        {
            let pair = set.split(';').next().unwrap_or_default().to_string();
            self.cookie = (!pair.ends_with('=')).then_some(pair);
        }
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).with_context(|| format!("{path}: unexpected answer {text}"))
    }
}

/// Signs `person` in on "My security info" (the password, then a code emailed to them)
/// and registers their answers; returns them by question, as the kiosk asks them.
async fn register(
    base: &str,
    codes: &Codes,
    person: &Person,
) -> anyhow::Result<HashMap<String, String>> {
    let password = person
        .password
        .as_deref()
        .context("a person without a known password can't sign in")?;
    let mut browser = Browser::new(base)?;
    let session: MySession = serde_json::from_value(
        browser
            .send(
                reqwest::Method::POST,
                "/v1/my/sign-in",
                Some(json!({ "login": person.username, "password": password })),
            )
            .await?,
    )?;
    if !session.signed_in {
        let email = session
            .second_factor
            .iter()
            .find(|m| m.kind == MethodKind::Email)
            .context("signing in: no email to send a code to")?
            .id
            .clone();
        let _: SecondFactorChallenge = serde_json::from_value(
            browser
                .send(
                    reqwest::Method::POST,
                    "/v1/my/second-factor/start",
                    Some(json!({ "method_id": email })),
                )
                .await?,
        )?;
        let code = codes.wait(&person.address, CODE_TIMEOUT).await?;
        let session: MySession = serde_json::from_value(
            browser
                .send(
                    reqwest::Method::POST,
                    "/v1/my/second-factor/finish",
                    Some(json!({ "code": code })),
                )
                .await?,
        )?;
        anyhow::ensure!(session.signed_in, "not signed in after the emailed code");
    }
    let offered: MyQuestions = serde_json::from_value(
        browser
            .send(reqwest::Method::GET, "/v1/my/questions", None)
            .await?,
    )?;
    let register = usize::from(offered.register);
    anyhow::ensure!(
        register == QUESTIONS_REGISTER && offered.list.len() >= register,
        "the server asks for {register} answers of {} questions, not {QUESTIONS_REGISTER}",
        offered.list.len()
    );
    // Answers of this person's own (no two alike, none holding its question).
    let words = [
        "copper lantern",
        "quiet orchard",
        "north ferry",
        "velvet quarry",
    ];
    let chosen: Vec<(&str, &str, String)> = offered
        .list
        .iter()
        .zip(words.iter().cycle())
        .take(register)
        .map(|(q, w)| {
            (
                q.id.as_str(),
                q.text.as_str(),
                format!("{w} {}", person.username),
            )
        })
        .collect();
    let answers: Vec<Value> = chosen
        .iter()
        .map(|(id, _, answer)| json!({ "id": id, "answer": answer }))
        .collect();
    let _: MySession = serde_json::from_value(
        browser
            .send(
                reqwest::Method::PUT,
                "/v1/my/questions",
                Some(json!({ "answers": answers })),
            )
            .await?,
    )?;
    Ok(chosen
        .into_iter()
        .map(|(_, text, answer)| (text.to_string(), answer))
        .collect())
}

/// One check for `person`: a fresh flow, the questions' challenge, then the answers
/// (all right, or one wrong); the verify call's time and the questions asked.
async fn check(
    kiosk: &Client,
    person: &Person,
    answers: &HashMap<String, String>,
    kind: Check,
) -> anyhow::Result<(Duration, usize)> {
    let flow = kiosk
        .start_flow(&StartFlowRequest {
            login: person.username.clone(),
            intent: Intent::Reset,
            locale: None,
        })
        .await?;
    let method = flow
        .methods
        .iter()
        .find(|m| m.kind == MethodKind::Questions)
        .context("the flow offers no security questions")?
        .id
        .clone();
    let challenge = kiosk.challenge(&flow.flow_id, &method).await?;
    let mut typed = challenge
        .questions
        .iter()
        .map(|q| {
            answers
                .get(q)
                .cloned()
                .with_context(|| format!("asked {q:?}, which they didn't register"))
        })
        .collect::<anyhow::Result<Vec<String>>>()?;
    let asked = typed.len();
    anyhow::ensure!(asked > 0, "the challenge asked no questions");
    match kind {
        Check::Right => {}
        Check::FirstWrong => typed[0] = WRONG.to_string(),
        Check::LastWrong => typed[asked - 1] = WRONG.to_string(),
    }
    let started = Instant::now();
    let answered = kiosk
        .answer(&flow.flow_id, &challenge.challenge_id, &typed)
        .await;
    let took = started.elapsed();
    match (kind, answered) {
        (Check::Right, Ok(FlowView { done: 1, .. })) => {}
        (Check::Right, Ok(view)) => anyhow::bail!("right answers counted {} methods", view.done),
        (Check::Right, Err(e)) => anyhow::bail!("right answers refused: {e}"),
        (_, Err(e)) if e.code() == Some(ErrorCode::CodeInvalid) => {}
        (_, Err(e)) => anyhow::bail!("a wrong answer refused otherwise: {e}"),
        (_, Ok(_)) => anyhow::bail!("a wrong answer was accepted"),
    }
    Ok((took, asked))
}

/// The checks in order, each as (the person's index, its kind).
fn schedule(people: usize) -> Vec<(usize, Check)> {
    (0..ROUND.len() * people)
        .map(|n| (n % people.max(1), ROUND[n % ROUND.len()]))
        .collect()
}

/// Registers `people`'s questions, then checks them one at a time, the kinds and the
/// people in turns (so drift in the box's load weighs on every kind alike).
pub async fn measure(
    base: &str,
    kiosk: &Client,
    codes: &Codes,
    people: &[Person],
) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let mut registered = Vec::new();
    for person in people {
        let answers = register(base, codes, person)
            .await
            .with_context(|| format!("registering {}'s questions", person.username))?;
        registered.push((person, answers));
    }
    let registration = started.elapsed();

    let (mut right, mut first_wrong, mut last_wrong, mut between) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut asked, mut failures, mut first_failure) = (0, 0, None);
    for (who, kind) in schedule(registered.len()) {
        if let Some((person, answers)) = registered.get(who) {
            match check(kiosk, person, answers, kind).await {
                Ok((took, n)) => {
                    asked = n;
                    match kind {
                        Check::Right => right.push(took),
                        Check::FirstWrong => first_wrong.push(took),
                        Check::LastWrong => last_wrong.push(took),
                    }
                }
                Err(e) => {
                    failures += 1;
                    first_failure.get_or_insert(format!("{}: {e:#}", person.username));
                }
            }
            between.push(tokio::task::spawn_blocking(floors::one_hash).await??);
        }
    }
    Ok(Measured {
        people: registered.len(),
        registered: QUESTIONS_REGISTER,
        registration,
        asked,
        right: Samples::of(right),
        first_wrong: Samples::of(first_wrong),
        last_wrong: Samples::of(last_wrong),
        between: Samples::of(between),
        failures,
        first_failure,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everyone_gets_every_kind_and_few_wrong_checks() {
        let checks = schedule(PEOPLE);
        for person in 0..PEOPLE {
            let mine: Vec<Check> = checks
                .iter()
                .filter(|(who, _)| *who == person)
                .map(|(_, kind)| *kind)
                .collect();
            let count = |kind| mine.iter().filter(|k| **k == kind).count();
            assert_eq!(count(Check::Right), 3, "person {person}: {mine:?}");
            assert_eq!(count(Check::FirstWrong), WRONG_EACH / 2);
            assert_eq!(count(Check::LastWrong), WRONG_EACH / 2);
        }
        // Kinds alternate: no two checks in a row of the same wrong kind.
        assert!(checks
            .windows(2)
            .all(|w| w[0].1 == Check::Right || w[0].1 != w[1].1));
    }
}
