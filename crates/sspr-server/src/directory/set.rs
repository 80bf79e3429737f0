//! The directories of a deployment: one, or several linked (an on-premises Active
//! Directory plus Entra ID, say). A person is found in the first directory that holds
//! their login; their accounts in the others are found by a configured attribute, and one
//! verified session writes to all of them. The password rules shown before typing combine
//! every directory's rules.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::join_all;

use super::{DirError, DirRules, DirUser, Directory};
use crate::config::LinkBy;

pub struct Directories {
    members: Vec<Member>,
    rules: RwLock<DirRules>,
}

struct Member {
    dir: Arc<dyn Directory>,
    link: LinkBy,
}

/// What a search reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Read {
    Find,
    FindWithPhones,
    Lookup,
}

/// A person's account in one directory.
pub struct Account {
    pub index: usize,
    pub directory: String,
    /// None when this directory doesn't hold the person.
    pub user: Result<Option<DirUser>, DirError>,
}

impl Directories {
    pub fn new(members: Vec<(Arc<dyn Directory>, LinkBy)>) -> Directories {
        Directories {
            members: members
                .into_iter()
                .map(|(dir, link)| Member { dir, link })
                .collect(),
            rules: RwLock::new(DirRules::default()),
        }
    }

    pub fn single(dir: Arc<dyn Directory>) -> Directories {
        Directories::new(vec![(dir, LinkBy::Email)])
    }

    /// "Active Directory", or "Active Directory + Entra ID".
    pub fn names(&self) -> String {
        self.members
            .iter()
            .map(|m| m.dir.name())
            .collect::<Vec<_>>()
            .join(" + ")
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<&Arc<dyn Directory>> {
        self.members.get(index).map(|m| &m.dir)
    }

    /// Finds a login. Every directory is asked (at once), whether or not an earlier one
    /// holds the login, so a known and an unknown login cost the same. The first directory
    /// that holds it is the person's home; groups from the others that hold the same login
    /// count too (an administrator anywhere is an administrator). Any directory that
    /// doesn't answer makes this an error: its groups might have asked for more methods.
    pub async fn find(&self, login: &str) -> Result<Option<(usize, DirUser)>, DirError> {
        self.search(login, Read::Find).await
    }

    /// `find`, with the person's phone numbers where a directory reads them with a request
    /// of its own (identify, when the policy takes numbers from the directory). A number
    /// the home directory lacks is taken from a linked one that holds the same login.
    pub async fn find_with_phones(
        &self,
        login: &str,
    ) -> Result<Option<(usize, DirUser)>, DirError> {
        self.search(login, Read::FindWithPhones).await
    }

    /// Finds a person already verified, to write to (their state now, without groups:
    /// the policy was settled when the flow started). The home directory must answer; a
    /// linked one that is down is reported per directory when writing.
    pub async fn find_home(&self, login: &str) -> Result<Option<(usize, DirUser)>, DirError> {
        self.search(login, Read::Lookup).await
    }

    async fn search(&self, login: &str, read: Read) -> Result<Option<(usize, DirUser)>, DirError> {
        let strict = read != Read::Lookup;
        let answers = join_all(self.members.iter().map(|m| async move {
            let started = std::time::Instant::now();
            let (operation, answer) = match read {
                Read::Find => ("find", m.dir.find(login).await),
                Read::FindWithPhones => ("find", m.dir.find_with_phones(login).await),
                Read::Lookup => ("lookup", m.dir.lookup(login).await),
            };
            crate::telemetry::directory(m.dir.name(), operation, started, answer.is_ok());
            answer
        }))
        .await;
        let mut home: Option<(usize, DirUser)> = None;
        let mut extra_groups = Vec::new();
        for (i, answer) in answers.into_iter().enumerate() {
            match answer {
                Ok(Some(user)) if home.is_none() => home = Some((i, user)),
                Ok(Some(user)) => {
                    if let Some((_, home)) = home.as_mut() {
                        home.mobile = home.mobile.take().or(user.mobile);
                        home.office_phone = home.office_phone.take().or(user.office_phone);
                    }
                    extra_groups.extend(user.groups);
                }
                Ok(None) => {}
                // Before the home is known, any directory may be it; once it is, a linked
                // one that is down matters only when it must decide the policy.
                Err(e) if strict || home.is_none() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(home.map(|(i, mut user)| {
            user.groups.extend(extra_groups);
            user.groups.sort();
            user.groups.dedup();
            (i, user)
        }))
    }

    /// The person's accounts in every directory: home first, then each linked directory
    /// that holds them, looked up by its link attribute.
    pub async fn accounts(&self, home: usize, user: &DirUser) -> Vec<Account> {
        let mut out = Vec::new();
        for (i, m) in self.members.iter().enumerate() {
            let user = if i == home {
                Ok(Some(user.clone()))
            } else {
                let key = match m.link {
                    LinkBy::Username => Some(user.username.as_str()),
                    LinkBy::Email => user.email.as_deref(),
                };
                match key {
                    Some(key) if !key.is_empty() => m.dir.lookup(key).await,
                    _ => Ok(None),
                }
            };
            out.push(Account {
                index: i,
                directory: m.dir.name().to_string(),
                user,
            });
        }
        out.sort_by_key(|a| a.index != home);
        out
    }

    /// Members of a group in every directory (administrators to notify).
    pub async fn members(&self, group: &str) -> Result<Vec<DirUser>, DirError> {
        let mut people = Vec::new();
        for m in &self.members {
            people.extend(m.dir.members(group).await?);
        }
        Ok(people)
    }

    /// Everyone in every directory (the same person in linked directories once: by the
    /// home directory's id, as `find` gives it).
    pub async fn everyone(&self) -> Result<Vec<DirUser>, DirError> {
        match self.members.first() {
            Some(home) => home.dir.everyone().await,
            None => Ok(Vec::new()),
        }
    }

    /// Groups of every directory whose name contains `text`, each once, sorted.
    pub async fn groups_matching(&self, text: &str, limit: usize) -> Result<Vec<String>, DirError> {
        let mut out: Vec<String> = Vec::new();
        let mut any_ok = None;
        for m in &self.members {
            match m.dir.groups_matching(text, limit).await {
                Ok(found) => {
                    any_ok = Some(());
                    out.extend(found);
                }
                Err(DirError::Unsupported(_)) => {}
                Err(e) => return Err(e),
            }
        }
        if any_ok.is_none() {
            return Err(DirError::Unsupported(
                "these directories can't search their groups here".into(),
            ));
        }
        out.sort_by_key(|g| g.to_lowercase());
        out.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        out.truncate(limit);
        Ok(out)
    }

    /// Every directory that doesn't answer, with why.
    pub async fn ping(&self) -> Vec<(String, DirError)> {
        let answers = join_all(self.members.iter().map(|m| m.dir.ping())).await;
        answers
            .into_iter()
            .zip(&self.members)
            .filter_map(|(r, m)| r.err().map(|e| (m.dir.name().to_string(), e)))
            .collect()
    }

    /// The combined rules of every directory, as last read.
    pub fn rules(&self) -> DirRules {
        self.rules.read().map(|r| *r).unwrap_or_default()
    }

    /// Reads every directory's rules again; a directory that doesn't answer keeps its
    /// part of the last reading.
    pub async fn refresh_rules(&self) -> Result<(), DirError> {
        let mut combined = DirRules::default();
        let mut failure = None;
        for m in &self.members {
            match m.dir.rules().await {
                Ok(r) => combined = combined.combine(r),
                Err(e) => failure = Some(e),
            }
        }
        if let Ok(mut rules) = self.rules.write() {
            *rules = if failure.is_some() {
                rules.combine(combined)
            } else {
                combined
            };
        }
        failure.map_or(Ok(()), Err)
    }

    /// Keeps the rules fresh: every `every`, sooner while a directory fails.
    pub async fn keep_rules_fresh(self: Arc<Self>, every: Duration) {
        // Nothing read yet (a directory was down at start): try again soon.
        let mut wait = if self.rules() == DirRules::default() {
            Duration::from_secs(15).min(every)
        } else {
            every
        };
        loop {
            tokio::time::sleep(wait).await;
            wait = match self.refresh_rules().await {
                Ok(()) => every,
                Err(e) => {
                    tracing::warn!(error = %e, "reading the directories' password rules");
                    Duration::from_secs(15).min(every)
                }
            };
        }
    }
}
