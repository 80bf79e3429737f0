//! Usage & insights: resets and unlocks over time, each method's activity, the funnel from
//! start to written with the median time, the top failure reasons (overall, by kiosk, by
//! directory), and registration coverage. Read from the audit (its events are what
//! happened), real people's flows only: decoys are counted apart.

use std::collections::{HashMap, HashSet};

use sspr_proto::{
    Count, CoverageView, FunnelStage, InsightsView, MethodActivity, MethodKind, UncoveredPerson,
    UsageBucket,
};

use super::{Caller, Capability, Console, ConsoleError, ConsoleResult};
use crate::audit;
use crate::config::Enablement;
use crate::store::FlowEvent;

/// A flow lives this long at most: its events end within it.
const FLOW_SECS: i64 = 15 * 60;
/// The longest range a report covers.
const MAX_RANGE_SECS: i64 = 3 * 366 * 86_400;

const EVENTS: &[&str] = &[
    "flow_started",
    "flow_refused",
    "challenge_sent",
    "challenge_refused",
    "verify_succeeded",
    "verify_failed",
    "blocked",
    "password_rejected",
    "password_reset",
    "unlocked",
    "writeback_confirmed",
    "writeback_failed",
    "writeback_in_doubt",
    "partially_written",
    "directory_unavailable",
    "step_refused",
    "flow_cancelled",
];

const WRITTEN: &[&str] = &["password_reset", "unlocked", "writeback_confirmed"];

/// Chart buckets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    Day,
    Week,
    Month,
}

impl Bucket {
    pub fn parse(s: &str) -> Option<Bucket> {
        match s {
            "day" => Some(Bucket::Day),
            "week" => Some(Bucket::Week),
            "month" => Some(Bucket::Month),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Bucket::Day => "day",
            Bucket::Week => "week",
            Bucket::Month => "month",
        }
    }

    /// The start of the bucket `t` falls in (UTC).
    pub fn start_of(self, t: i64) -> i64 {
        let day = t - t.rem_euclid(86_400);
        match self {
            Bucket::Day => day,
            // 1970-01-01 was a Thursday: three days after a Monday.
            Bucket::Week => day - ((day / 86_400 + 3).rem_euclid(7)) * 86_400,
            Bucket::Month => time::OffsetDateTime::from_unix_timestamp(day)
                .ok()
                .and_then(|d| d.replace_day(1).ok())
                .map(|d| d.unix_timestamp())
                .unwrap_or(day),
        }
    }

    /// The start of the bucket after the one starting at `start`.
    fn next(self, start: i64) -> i64 {
        match self {
            Bucket::Day => start + 86_400,
            Bucket::Week => start + 7 * 86_400,
            Bucket::Month => self.start_of(start + 32 * 86_400),
        }
    }
}

/// What the reports cover.
#[derive(Debug, Clone)]
pub struct Range {
    pub from: i64,
    pub to: i64,
    pub bucket: Bucket,
    pub kiosk: Option<String>,
    pub directory: Option<String>,
    /// Only the flows of this group's members (as the directory lists them now).
    pub group: Option<String>,
}

impl Range {
    pub fn check(&self) -> ConsoleResult<()> {
        if self.from >= self.to {
            return Err(ConsoleError::BadInput("from must be before to.".into()));
        }
        if self.to - self.from > MAX_RANGE_SECS {
            return Err(ConsoleError::BadInput(
                "A report covers three years at most.".into(),
            ));
        }
        Ok(())
    }
}

/// One real flow, as its events tell it.
#[derive(Default)]
struct Flow {
    started: i64,
    intent: String,
    required: i64,
    done: i64,
    written_at: Option<i64>,
    directories: Vec<String>,
    /// Cancelled, or its person blocked: over before its time.
    ended: bool,
}

fn count_list(map: HashMap<String, u32>, limit: usize) -> Vec<Count> {
    let mut v: Vec<Count> = map
        .into_iter()
        .map(|(key, count)| Count { key, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v.truncate(limit);
    v
}

fn median(mut v: Vec<i64>) -> Option<u32> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    };
    Some(m.max(0) as u32)
}

/// The reason a failure event gives, as a report's key.
fn failure_key(e: &FlowEvent) -> String {
    match (e.event.as_str(), &e.reason) {
        ("writeback_failed" | "writeback_in_doubt" | "directory_unavailable", _) => e.event.clone(),
        (_, Some(reason)) => format!("{}: {reason}", e.event),
        _ => e.event.clone(),
    }
}

impl Console {
    pub async fn insights(
        &self,
        caller: &Caller,
        range: &Range,
        now: i64,
    ) -> ConsoleResult<InsightsView> {
        caller.require(Capability::ReadInsights)?;
        range.check()?;
        let core = &self.core;
        let events = core
            .store
            .flow_events(
                EVENTS,
                range.from,
                range.to + FLOW_SECS,
                range.kiosk.clone(),
            )
            .await?;
        let kiosk_names: HashMap<String, String> = core
            .store
            .kiosks()
            .await?
            .into_iter()
            .map(|k| (k.id, k.name))
            .collect();
        let members: Option<HashSet<String>> = match &range.group {
            Some(g) => Some(
                core.directories
                    .members(g)
                    .await
                    .map_err(directory_error)?
                    .into_iter()
                    .map(|m| m.id)
                    .collect(),
            ),
            None => None,
        };
        let in_group = |e: &FlowEvent| {
            members
                .as_ref()
                .is_none_or(|m| e.user_id.as_ref().is_some_and(|u| m.contains(u)))
        };
        // The flows started in the range; decoys apart.
        let mut flows: HashMap<String, Flow> = HashMap::new();
        let mut decoys: HashSet<String> = HashSet::new();
        for e in events.iter().filter(|e| e.event == "flow_started") {
            let Some(reference) = &e.reference else {
                continue;
            };
            if e.at >= range.to {
                continue;
            }
            if e.decoy {
                decoys.insert(reference.clone());
                continue;
            }
            if !in_group(e) {
                continue;
            }
            flows.insert(
                reference.clone(),
                Flow {
                    started: e.at,
                    intent: e.intent.clone().unwrap_or_default(),
                    required: e.required.unwrap_or(1),
                    ..Flow::default()
                },
            );
        }
        let mut methods: HashMap<String, (u32, u32, u32)> = HashMap::new();
        let mut failures: HashMap<String, u32> = HashMap::new();
        let mut by_kiosk: HashMap<String, u32> = HashMap::new();
        let mut by_directory: HashMap<String, u32> = HashMap::new();
        for e in &events {
            let Some(reference) = &e.reference else {
                continue;
            };
            if decoys.contains(reference) {
                continue;
            }
            let flow = flows.get_mut(reference);
            // Events of flows started before the range don't count; refusals before a
            // flow started (flow_refused) have no flow and count when in the range.
            if flow.is_none() && (e.event != "flow_refused" || e.at >= range.to || !in_group(e)) {
                continue;
            }
            let method = e.method.clone().unwrap_or_default();
            match e.event.as_str() {
                "challenge_sent" => methods.entry(method).or_default().0 += 1,
                "verify_succeeded" => {
                    methods.entry(method).or_default().1 += 1;
                    if let Some(f) = flow {
                        f.done = f.done.max(e.done.unwrap_or(0));
                    }
                    continue;
                }
                "verify_failed" => methods.entry(method).or_default().2 += 1,
                _ => {}
            }
            if WRITTEN.contains(&e.event.as_str()) {
                if let Some(f) = flow {
                    f.written_at = Some(f.written_at.map_or(e.at, |w| w.min(e.at)));
                    if let Some(d) = &e.directory {
                        f.directories.push(d.clone());
                    }
                }
                continue;
            }
            if e.event == "challenge_sent" {
                continue;
            }
            if e.event == "flow_cancelled" {
                if let Some(f) = flow {
                    f.ended = true;
                }
                continue;
            }
            if e.event == "blocked" {
                if let Some(f) = flows.get_mut(reference) {
                    f.ended = true;
                }
            }
            if e.event == "flow_started" {
                continue;
            }
            // A failure.
            if range
                .directory
                .as_ref()
                .is_some_and(|d| e.directory.as_ref() != Some(d))
            {
                continue;
            }
            *failures.entry(failure_key(e)).or_default() += 1;
            if let Some(k) = &e.kiosk_id {
                let name = kiosk_names.get(k).cloned().unwrap_or_else(|| k.clone());
                *by_kiosk.entry(name).or_default() += 1;
            }
            if let Some(d) = &e.directory {
                *by_directory.entry(d.clone()).or_default() += 1;
            }
        }
        if let Some(d) = &range.directory {
            flows.retain(|_, f| f.written_at.is_none() || f.directories.contains(d));
        }
        // The chart: every bucket of the range, empty ones too.
        let mut series = Vec::new();
        let mut index = HashMap::new();
        let mut start = range.bucket.start_of(range.from);
        while start < range.to && series.len() < 2000 {
            index.insert(start, series.len());
            series.push(UsageBucket {
                start: audit::rfc3339(start),
                started: 0,
                resets: 0,
                unlocks: 0,
                failed: 0,
                in_progress: 0,
            });
            start = range.bucket.next(start);
        }
        let (mut first, mut second, mut needing_two, mut verified, mut written) = (0, 0, 0, 0, 0);
        let mut to_done = Vec::new();
        for f in flows.values() {
            if let Some(&i) = index.get(&range.bucket.start_of(f.started)) {
                let b = &mut series[i];
                b.started += 1;
                match (f.written_at, f.intent.as_str()) {
                    (Some(_), "unlock") => b.unlocks += 1,
                    (Some(_), _) => b.resets += 1,
                    (None, _) if f.ended || now - f.started >= FLOW_SECS => b.failed += 1,
                    (None, _) => b.in_progress += 1,
                }
            }
            if f.done >= 1 {
                first += 1;
            }
            if f.required >= 2 {
                needing_two += 1;
                if f.done >= 2 {
                    second += 1;
                }
            }
            if f.done >= f.required {
                verified += 1;
            }
            if let Some(w) = f.written_at {
                written += 1;
                to_done.push(w - f.started);
            }
        }
        let registered = self.registered_by_method().await?;
        let mut kinds: Vec<MethodKind> = core.config().policy.methods.clone();
        for m in methods.keys() {
            if let Some(k) = MethodKind::parse(m) {
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
        }
        let methods = kinds
            .into_iter()
            .map(|k| {
                let (sent, ver, failed) = methods.get(k.as_str()).copied().unwrap_or_default();
                MethodActivity {
                    method: k,
                    sent,
                    verified: ver,
                    failed,
                    registered: registered.get(&k).copied().unwrap_or(0),
                }
            })
            .collect();
        let stage = |stage: &str, flows: u32| FunnelStage {
            stage: stage.into(),
            flows,
        };
        Ok(InsightsView {
            from: audit::rfc3339(range.from),
            to: audit::rfc3339(range.to),
            bucket: range.bucket.name().into(),
            series,
            methods,
            funnel: vec![
                stage("started", flows.len() as u32),
                stage("first_method", first),
                stage("second_method", second),
                stage("verified", verified),
                stage("written", written),
            ],
            needing_two,
            median_secs_to_done: median(to_done),
            decoys: decoys.len() as u32,
            failures: count_list(failures, 20),
            failures_by_kiosk: count_list(by_kiosk, 20),
            failures_by_directory: count_list(by_directory, 20),
        })
    }

    /// People with each method registered.
    async fn registered_by_method(&self) -> ConsoleResult<HashMap<MethodKind, u32>> {
        let mut out = HashMap::new();
        for (_, kinds) in self.core.store.registered_kinds().await? {
            for k in kinds.iter().filter_map(|k| MethodKind::parse(k)) {
                *out.entry(k).or_default() += 1;
            }
        }
        Ok(out)
    }

    /// Of the people SSPR is enabled for, who has enough methods to pass the policy.
    pub async fn coverage(&self, caller: &Caller) -> ConsoleResult<CoverageView> {
        caller.require(Capability::ReadInsights)?;
        let core = &self.core;
        let config = core.config();
        let policy = &config.policy;
        let (people, note) = match policy.enabled {
            Enablement::None => (
                Vec::new(),
                Some("Self-service is off for everyone.".to_string()),
            ),
            Enablement::Group => match core.directories.members(&policy.group).await {
                Ok(p) => (p, None),
                Err(e) => return Err(directory_error(e)),
            },
            Enablement::All => match core.directories.everyone().await {
                Ok(p) => (p, None),
                Err(crate::directory::DirError::Unsupported(why)) => (Vec::new(), Some(why)),
                Err(e) => return Err(directory_error(e)),
            },
        };
        let mut admins = HashSet::new();
        for g in &policy.admin_groups {
            if let Ok(members) = core.directories.members(g).await {
                admins.extend(members.into_iter().map(|m| m.id));
            }
        }
        let mut registered: HashMap<String, Vec<MethodKind>> = HashMap::new();
        for (user, kinds) in core.store.registered_kinds().await? {
            registered.insert(
                user,
                kinds.iter().filter_map(|k| MethodKind::parse(k)).collect(),
            );
        }
        let mut seen = HashSet::new();
        let (mut enabled, mut ready) = (0u32, 0u32);
        let mut by_method: HashMap<String, u32> = HashMap::new();
        let mut not_ready = Vec::new();
        for p in people {
            if p.disabled || !seen.insert(p.id.clone()) {
                continue;
            }
            let admin = admins.contains(&p.id);
            if admin && !policy.admins_allowed {
                continue;
            }
            enabled += 1;
            let mut kinds: Vec<MethodKind> = registered
                .get(&p.id)
                .map(|k| {
                    k.iter()
                        .copied()
                        .filter(|k| policy.methods.contains(k))
                        .collect()
                })
                .unwrap_or_default();
            kinds.sort_by_key(|k| k.as_str());
            kinds.dedup();
            for k in &kinds {
                *by_method.entry(k.as_str().to_string()).or_default() += 1;
            }
            let required = if admin { 2 } else { policy.methods_required };
            let counting = kinds
                .iter()
                .filter(|k| !(admin && **k == MethodKind::Questions))
                .count();
            if counting >= usize::from(required) {
                ready += 1;
            } else {
                not_ready.push(UncoveredPerson {
                    username: p.username,
                    display_name: p.display_name,
                    administrator: admin,
                    methods: kinds,
                    required,
                });
            }
        }
        not_ready.sort_by_key(|p| p.username.to_lowercase());
        Ok(CoverageView {
            enabled_people: enabled,
            ready,
            by_method: count_list(by_method, 10),
            not_ready,
            note,
        })
    }
}

fn directory_error(e: crate::directory::DirError) -> ConsoleError {
    tracing::warn!(error = %e, "coverage: the directory didn't list its people");
    ConsoleError::DirectoryDown
}

/// The coverage's list of people who can't pass, as CSV.
pub fn coverage_csv(c: &CoverageView) -> String {
    let mut out = String::from("username,display_name,administrator,methods,required\n");
    for p in &c.not_ready {
        let methods: Vec<&str> = p.methods.iter().map(|m| m.as_str()).collect();
        for (i, f) in [
            p.username.as_str(),
            &p.display_name,
            if p.administrator { "yes" } else { "no" },
            &methods.join(" "),
            &p.required.to_string(),
        ]
        .iter()
        .enumerate()
        {
            if i > 0 {
                out.push(',');
            }
            super::audit_log::csv_field(&mut out, f);
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_start_on_days_mondays_and_firsts_of_months() {
        // 2026-12-09 13:00 UTC, a Wednesday.
        let t = 1_796_774_400 + 13 * 3600;
        let day = Bucket::Day.start_of(t);
        assert_eq!(audit::rfc3339(day), "2026-12-09T00:00:00Z");
        assert_eq!(
            audit::rfc3339(Bucket::Week.start_of(t)),
            "2026-12-07T00:00:00Z"
        );
        assert_eq!(
            audit::rfc3339(Bucket::Month.start_of(t)),
            "2026-12-01T00:00:00Z"
        );
        assert_eq!(
            audit::rfc3339(Bucket::Month.next(Bucket::Month.start_of(t))),
            "2027-01-01T00:00:00Z"
        );
        assert_eq!(median(vec![5, 1, 3]), Some(3));
        assert_eq!(median(vec![4, 2]), Some(3));
        assert_eq!(median(vec![]), None);
    }
}
