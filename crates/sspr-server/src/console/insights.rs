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
    "code_delivered",
    "code_undelivered",
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

/// A day's flows at one kiosk (by the day and kiosk they started at), counted: what the
/// reports sum over any range of days. A day is closed once its last flow's 15 minutes
/// are over; closed days never change, so their tallies are kept.
#[derive(Debug, Default, Clone)]
pub(super) struct Tally {
    started: u32,
    resets: u32,
    unlocks: u32,
    failed: u32,
    in_progress: u32,
    first: u32,
    second: u32,
    needing_two: u32,
    verified: u32,
    written: u32,
    decoys: u32,
    methods: HashMap<String, MethodTally>,
    failures: HashMap<String, u32>,
    /// Failures of this tally's kiosk, all reasons.
    kiosk_failures: u32,
    by_directory: HashMap<String, u32>,
    to_done: Vec<i64>,
}

/// One method's activity in a tally.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct MethodTally {
    sent: u32,
    verified: u32,
    failed: u32,
    delivered: u32,
    undelivered: u32,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.started += o.started;
        self.resets += o.resets;
        self.unlocks += o.unlocks;
        self.failed += o.failed;
        self.in_progress += o.in_progress;
        self.first += o.first;
        self.second += o.second;
        self.needing_two += o.needing_two;
        self.verified += o.verified;
        self.written += o.written;
        self.decoys += o.decoys;
        for (k, o) in &o.methods {
            let m = self.methods.entry(k.clone()).or_default();
            m.sent += o.sent;
            m.verified += o.verified;
            m.failed += o.failed;
            m.delivered += o.delivered;
            m.undelivered += o.undelivered;
        }
        for (k, n) in &o.failures {
            *self.failures.entry(k.clone()).or_default() += n;
        }
        self.kiosk_failures += o.kiosk_failures;
        for (k, n) in &o.by_directory {
            *self.by_directory.entry(k.clone()).or_default() += n;
        }
        self.to_done.extend_from_slice(&o.to_done);
    }
}

/// Tallies by (day, kiosk id): what a stretch of days came to.
type Tallies = HashMap<(i64, String), Tally>;

/// Closed days' tallies, by day and kiosk id.
pub(super) type Days = HashMap<i64, HashMap<String, Tally>>;

/// Tallies the flows that started in [from, to) from `events` (which run on to
/// `to + FLOW_SECS`, so each flow's later steps are in), keeping those `keep` says.
fn tally(
    events: &[FlowEvent],
    (from, to): (i64, i64),
    now: i64,
    keep: &dyn Fn(&FlowEvent) -> bool,
    directory: Option<&str>,
) -> Tallies {
    let day = |t: i64| t - t.rem_euclid(86_400);
    let mut flows: HashMap<&str, Flow> = HashMap::new();
    let mut out: Tallies = HashMap::new();
    let key = |at: i64, kiosk: &Option<String>| (day(at), kiosk.clone().unwrap_or_default());
    let mut decoys: HashSet<&str> = HashSet::new();
    let mut places: HashMap<&str, (i64, String)> = HashMap::new();
    for e in events.iter().filter(|e| e.event == "flow_started") {
        let Some(reference) = e.reference.as_deref() else {
            continue;
        };
        if e.at < from || e.at >= to {
            continue;
        }
        if e.decoy {
            decoys.insert(reference);
            out.entry(key(e.at, &e.kiosk_id)).or_default().decoys += 1;
            continue;
        }
        if !keep(e) {
            continue;
        }
        places.insert(reference, key(e.at, &e.kiosk_id));
        flows.insert(
            reference,
            Flow {
                started: e.at,
                intent: e.intent.clone().unwrap_or_default(),
                required: e.required.unwrap_or(1),
                ..Flow::default()
            },
        );
    }
    for e in events {
        let Some(reference) = e.reference.as_deref() else {
            continue;
        };
        if decoys.contains(reference) || e.event == "flow_started" {
            continue;
        }
        // Events of flows started outside the range don't count; refusals before a flow
        // started (flow_refused) have no flow and count where and when they happened.
        let place = match places.get(reference) {
            Some(p) => p.clone(),
            None if e.event == "flow_refused" && e.at >= from && e.at < to && keep(e) => {
                key(e.at, &e.kiosk_id)
            }
            None => continue,
        };
        let flow = flows.get_mut(reference);
        let t = out.entry(place).or_default();
        let method = e.method.clone().unwrap_or_default();
        match e.event.as_str() {
            "challenge_sent" => {
                t.methods.entry(method).or_default().sent += 1;
                continue;
            }
            "code_delivered" => {
                t.methods.entry(method).or_default().delivered += 1;
                continue;
            }
            "code_undelivered" => {
                t.methods.entry(method).or_default().undelivered += 1;
                continue;
            }
            "verify_succeeded" => {
                t.methods.entry(method).or_default().verified += 1;
                if let Some(f) = flow {
                    f.done = f.done.max(e.done.unwrap_or(0));
                }
                continue;
            }
            "verify_failed" => t.methods.entry(method).or_default().failed += 1,
            "flow_cancelled" => {
                if let Some(f) = flow {
                    f.ended = true;
                }
                continue;
            }
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
        if e.event == "blocked" {
            if let Some(f) = flow {
                f.ended = true;
            }
        }
        // A failure.
        if directory.is_some_and(|d| e.directory.as_deref() != Some(d)) {
            continue;
        }
        *t.failures.entry(failure_key(e)).or_default() += 1;
        t.kiosk_failures += 1;
        if let Some(d) = &e.directory {
            *t.by_directory.entry(d.clone()).or_default() += 1;
        }
    }
    for (reference, f) in &flows {
        if directory
            .is_some_and(|d| f.written_at.is_some() && !f.directories.iter().any(|x| x == d))
        {
            continue;
        }
        let Some(place) = places.get(reference) else {
            continue;
        };
        let t = out.entry(place.clone()).or_default();
        t.started += 1;
        match (f.written_at, f.intent.as_str()) {
            (Some(_), "unlock") => t.unlocks += 1,
            (Some(_), _) => t.resets += 1,
            (None, _) if f.ended || now - f.started >= FLOW_SECS => t.failed += 1,
            (None, _) => t.in_progress += 1,
        }
        if f.done >= 1 {
            t.first += 1;
        }
        if f.required >= 2 {
            t.needing_two += 1;
            if f.done >= 2 {
                t.second += 1;
            }
        }
        if f.done >= f.required {
            t.verified += 1;
        }
        if let Some(w) = f.written_at {
            t.written += 1;
            t.to_done.push(w - f.started);
        }
    }
    out
}

impl Console {
    /// The tallies of closed days (every kiosk; no group or directory filter) in
    /// [from, to), read once and kept: those missing are read in one pass.
    async fn closed_days(&self, from: i64, to: i64, now: i64) -> ConsoleResult<Tallies> {
        let days: Vec<i64> = (0..)
            .map(|i| from + i * 86_400)
            .take_while(|d| *d < to)
            .collect();
        let missing: Vec<i64> = {
            let kept = self.days.lock().unwrap_or_else(|p| p.into_inner());
            days.iter()
                .copied()
                .filter(|d| !kept.contains_key(d))
                .collect()
        };
        // A month of days a read, so a year's first read holds a month's events at a time.
        for chunk in missing.chunks(31) {
            let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            let end = last + 86_400;
            let events = self
                .core
                .store
                .flow_events(EVENTS, *first, end + FLOW_SECS, None)
                .await?;
            let fresh = tally(&events, (*first, end), now, &|_| true, None);
            drop(events);
            let mut kept = self.days.lock().unwrap_or_else(|p| p.into_inner());
            for d in chunk {
                kept.insert(*d, HashMap::new());
            }
            for ((d, kiosk), t) in fresh {
                if chunk.contains(&d) {
                    kept.entry(d).or_default().insert(kiosk, t);
                }
            }
        }
        let kept = self.days.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = Tallies::new();
        for d in days {
            if let Some(kiosks) = kept.get(&d) {
                for (k, t) in kiosks {
                    out.insert((d, k.clone()), t.clone());
                }
            }
        }
        Ok(out)
    }

    /// Reads the last 400 closed days' tallies ahead of the first report (at start).
    pub async fn warm(&self, now: i64) {
        let closed_until = super::kiosks::midnight(now - FLOW_SECS - 60);
        let started = std::time::Instant::now();
        match self
            .closed_days(closed_until - 400 * 86_400, closed_until, now)
            .await
        {
            Ok(t) => tracing::info!(
                tallies = t.len(),
                took_ms = started.elapsed().as_millis() as u64,
                "usage & insights: the past days are read"
            ),
            Err(e) => tracing::warn!(error = ?e, "usage & insights: reading the past days failed"),
        }
    }

    pub async fn insights(
        &self,
        caller: &Caller,
        range: &Range,
        now: i64,
    ) -> ConsoleResult<InsightsView> {
        caller.require(Capability::ReadInsights)?;
        range.check()?;
        let core = &self.core;
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
        let keep = |e: &FlowEvent| {
            members
                .as_ref()
                .is_none_or(|m| e.user_id.as_ref().is_some_and(|u| m.contains(u)))
        };
        let raw = |from: i64, to: i64| {
            let keep = &keep;
            let kiosk = range.kiosk.clone();
            let directory = range.directory.clone();
            async move {
                if from >= to {
                    return Ok::<Tallies, ConsoleError>(Tallies::new());
                }
                let events = core
                    .store
                    .flow_events(EVENTS, from, to + FLOW_SECS, kiosk)
                    .await?;
                Ok(tally(&events, (from, to), now, keep, directory.as_deref()))
            }
        };
        // Whole closed days come from the kept tallies (no group or directory filter);
        // the range's ragged ends and today from the audit.
        let closed_until = super::kiosks::midnight(now - FLOW_SECS - 60);
        let first_day = {
            let d = super::kiosks::midnight(range.from);
            if d < range.from {
                d + 86_400
            } else {
                d
            }
        };
        let last_day_end = super::kiosks::midnight(range.to).min(closed_until);
        let mut tallies = Tallies::new();
        if range.group.is_none() && range.directory.is_none() && first_day < last_day_end {
            for ((d, k), t) in self.closed_days(first_day, last_day_end, now).await? {
                if range.kiosk.as_ref().is_none_or(|want| *want == k) {
                    tallies.insert((d, k), t);
                }
            }
            for part in [
                raw(range.from, first_day).await?,
                raw(last_day_end, range.to).await?,
            ] {
                for (key, t) in part {
                    tallies.entry(key).or_default().add(&t);
                }
            }
        } else {
            tallies = raw(range.from, range.to).await?;
        }
        let kiosk_names: HashMap<String, String> = core
            .store
            .kiosks()
            .await?
            .into_iter()
            .map(|k| (k.id, k.name))
            .collect();
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
        let mut all = Tally::default();
        let mut by_kiosk: HashMap<String, u32> = HashMap::new();
        for ((d, kiosk), t) in &tallies {
            if let Some(&i) = index.get(&range.bucket.start_of(*d)) {
                let b = &mut series[i];
                b.started += t.started;
                b.resets += t.resets;
                b.unlocks += t.unlocks;
                b.failed += t.failed;
                b.in_progress += t.in_progress;
            }
            if t.kiosk_failures > 0 && !kiosk.is_empty() {
                let name = kiosk_names
                    .get(kiosk)
                    .cloned()
                    .unwrap_or_else(|| kiosk.clone());
                *by_kiosk.entry(name).or_default() += t.kiosk_failures;
            }
            all.add(t);
        }
        let registered = self.registered_by_method().await?;
        let mut kinds: Vec<MethodKind> = core.config().policy.methods.clone();
        for m in all.methods.keys() {
            if let Some(k) = MethodKind::parse(m) {
                if !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
        }
        let methods = kinds
            .into_iter()
            .map(|k| {
                let m = all.methods.get(k.as_str()).copied().unwrap_or_default();
                MethodActivity {
                    method: k,
                    sent: m.sent,
                    verified: m.verified,
                    failed: m.failed,
                    delivered: m.delivered,
                    undelivered: m.undelivered,
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
                stage("started", all.started),
                stage("first_method", all.first),
                stage("second_method", all.second),
                stage("verified", all.verified),
                stage("written", all.written),
            ],
            needing_two: all.needing_two,
            median_secs_to_done: median(all.to_done),
            decoys: all.decoys,
            failures: count_list(all.failures, 20),
            failures_by_kiosk: count_list(by_kiosk, 20),
            failures_by_directory: count_list(all.by_directory, 20),
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

#[cfg(test)]
mod rollup_tests {
    use super::*;
    use crate::audit::{Context, Event};
    use crate::testkit::{Kit, T0};
    use sspr_proto::ConsoleRole;

    async fn flow(kit: &Kit, reference: &str, kiosk: &str, at: i64, written: bool) {
        let ctx = Context {
            correlation_id: "c".into(),
            kiosk_id: Some(kiosk.into()),
            reference: Some(reference.into()),
            login: Some("ada".into()),
            user_id: Some("id-ada".into()),
        };
        let a = &kit.core.audit;
        a.record(
            &ctx,
            Event::FlowStarted {
                intent: "reset",
                required: 1,
                decoy: false,
                reason: None,
            },
            at,
        )
        .await;
        a.record(
            &ctx,
            Event::ChallengeSent {
                method: MethodKind::Email,
            },
            at + 5,
        )
        .await;
        if written {
            a.record(
                &ctx,
                Event::VerifySucceeded {
                    method: MethodKind::Email,
                    done: 1,
                    required: 1,
                },
                at + 30,
            )
            .await;
            a.record(
                &ctx,
                Event::PasswordReset {
                    directory: "Built-in directory".into(),
                },
                at + 60,
            )
            .await;
        } else {
            a.record(
                &ctx,
                Event::VerifyFailed {
                    method: MethodKind::Email,
                    reason: "wrong_code",
                },
                at + 30,
            )
            .await;
        }
    }

    /// Closed days read from the kept tallies and the open ends from the audit give the
    /// numbers a read of the whole range gives; a flow that started just before midnight
    /// and finished after counts on its own day.
    #[tokio::test]
    async fn kept_days_and_a_fresh_read_agree() {
        let kit = Kit::new().await;
        let day = 86_400;
        let now = T0 + 10 * day + 12 * 3600;
        flow(&kit, "R1", "k1", T0 + 2 * day + 3600, true).await;
        flow(&kit, "R2", "k2", T0 + 2 * day + 7200, false).await;
        // Starts 30 s before midnight, written after it.
        flow(&kit, "R3", "k1", T0 + 4 * day - 30, true).await;
        flow(&kit, "R4", "k1", T0 + 9 * day + 100, false).await;
        // Today, still under way.
        flow(&kit, "R5", "k2", now - 60, false).await;
        kit.core.audit.flush().await;
        let (cookie, _) =
            super::super::tests::signed_in(&kit, "linus", &[ConsoleRole::Reader], now).await;
        let caller = kit
            .console
            .caller(&cookie, None, "t", "127.0.0.1", now)
            .await
            .expect("caller");
        let range = |from: i64, bucket: Bucket, directory: Option<&str>| Range {
            from,
            to: now,
            bucket,
            kiosk: None,
            directory: directory.map(String::from),
            group: None,
        };
        let funnel = |v: &InsightsView| v.funnel.iter().map(|s| s.flows).collect::<Vec<_>>();
        // From mid-day (a ragged start), twice: the second from the kept tallies.
        let first = kit
            .console
            .insights(&caller, &range(T0 + 3600 / 2, Bucket::Day, None), now)
            .await
            .expect("insights");
        let again = kit
            .console
            .insights(&caller, &range(T0 + 3600 / 2, Bucket::Day, None), now)
            .await
            .expect("insights");
        // The directory filter reads the audit only: the same numbers.
        let fresh = kit
            .console
            .insights(
                &caller,
                &range(T0 + 3600 / 2, Bucket::Day, Some("Built-in directory")),
                now,
            )
            .await
            .expect("insights");
        assert_eq!(funnel(&first), vec![5, 2, 0, 2, 2]);
        assert_eq!(funnel(&first), funnel(&again));
        assert_eq!(funnel(&first), funnel(&fresh));
        let days: Vec<(String, u32, u32, u32, u32)> = first
            .series
            .iter()
            .filter(|b| b.started > 0)
            .map(|b| {
                (
                    b.start.clone(),
                    b.started,
                    b.resets,
                    b.failed,
                    b.in_progress,
                )
            })
            .collect();
        assert_eq!(
            days,
            vec![
                ("2026-12-03T00:00:00Z".to_string(), 2, 1, 1, 0),
                ("2026-12-04T00:00:00Z".to_string(), 1, 1, 0, 0),
                ("2026-12-10T00:00:00Z".to_string(), 1, 0, 1, 0),
                ("2026-12-11T00:00:00Z".to_string(), 1, 0, 0, 1),
            ]
        );
        assert_eq!(first.failures_by_kiosk.len(), 2);
        assert_eq!(first.median_secs_to_done, Some(60));
        // Weeks and months sum the same days.
        let weeks = kit
            .console
            .insights(&caller, &range(T0, Bucket::Week, None), now)
            .await
            .expect("insights");
        assert_eq!(weeks.series.iter().map(|b| b.started).sum::<u32>(), 5);
        let kiosk = kit
            .console
            .insights(
                &caller,
                &Range {
                    kiosk: Some("k2".into()),
                    ..range(T0, Bucket::Month, None)
                },
                now,
            )
            .await
            .expect("insights");
        assert_eq!(funnel(&kiosk), vec![2, 0, 0, 0, 0]);
    }
}
