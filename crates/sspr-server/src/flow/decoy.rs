//! Decoys: what an unknown, disabled, out-of-scope or unregistered login is shown, derived
//! from an HMAC of the login so the same login always gets the same methods and nothing
//! tells it apart from a real account.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use sspr_proto::MethodKind;

use super::numbers::DirectoryNumbers;
use super::rows::FlowMethod;
use crate::config::{NumberSource, PolicyConfig};
use crate::directory::set::Directories;
use crate::secret::ServerKey;
use crate::store::{Store, StoreResult};

const LETTERS: &[u8] = b"abcdefghijklmnoprstw";
const TLDS: &[&str] = &["com", "org", "net", "de", "com", "org"];

/// Case and surrounding space don't make another person.
pub fn normalize_login(login: &str) -> String {
    login.trim().to_lowercase()
}

/// The throttle key of a login that has no usable account.
pub fn login_key(key: &ServerKey, login: &str) -> String {
    format!(
        "login:{}",
        &key.mac_hex("login-key", &[normalize_login(login).as_bytes()])[..32]
    )
}

/// A masked mobile number for a login that has none: the organisation's country code and
/// two digits drawn from the login, as a real one shows (`+49 ••• •••• 78`).
pub fn masked_phone(key: &ServerKey, login: &str, country_prefix: &str) -> String {
    let mac = key.mac("decoy-phone", &[normalize_login(login).as_bytes()]);
    format!("{country_prefix} ••• •••• {:02}", mac[0] % 100)
}

/// The security questions a login without any stands for: `register` of the
/// organisation's questions, drawn from the login (the same ones every time).
pub fn questions(
    key: &ServerKey,
    login: &str,
    policy: &crate::config::QuestionsPolicy,
) -> Vec<crate::methods::questions::Asked> {
    let mut order: Vec<([u8; 32], &str)> = policy
        .list
        .iter()
        .map(|q| {
            (
                key.mac(
                    "decoy-questions",
                    &[normalize_login(login).as_bytes(), q.id.as_bytes()],
                ),
                q.id.as_str(),
            )
        })
        .collect();
    order.sort();
    order
        .into_iter()
        .take(usize::from(policy.register))
        .map(|(_, id)| crate::methods::questions::Asked::Listed(id.to_string()))
        .collect()
}

/// The methods a decoy shows: every enabled method, with a made-up masked address (and
/// number, in `phone_prefix`'s country).
pub fn methods(
    key: &ServerKey,
    login: &str,
    enabled: &[MethodKind],
    phone_prefix: &str,
) -> Vec<FlowMethod> {
    let mac = key.mac("decoy", &[normalize_login(login).as_bytes()]);
    let letter = |i: usize| LETTERS[mac[i] as usize % LETTERS.len()] as char;
    enabled
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let masked = match kind {
                MethodKind::Email => format!(
                    "{}•••@{}•••.{}",
                    login
                        .trim()
                        .chars()
                        .next()
                        .map(|c| c.to_ascii_lowercase())
                        .unwrap_or_else(|| letter(0)),
                    letter(1),
                    TLDS[mac[2] as usize % TLDS.len()]
                ),
                MethodKind::Sms | MethodKind::Voice => masked_phone(key, login, phone_prefix),
                _ => super::method_label(*kind).to_string(),
            };
            FlowMethod {
                id: super::method_id(*kind, i),
                kind: *kind,
                target: String::new(),
                masked,
            }
        })
        .collect()
}

/// The person a decoy stands in for: a decoy shows what a real person shows (their kinds
/// of method, how many are required, their masked address), so a decoy's methods come
/// from the same distribution as real people's, and identify does the same reads for both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandIn {
    pub user_id: String,
    pub is_admin: bool,
}

/// Who decoys stand in for, grouped by what people show (their kinds of method, and
/// whether they are administrators). A login's decoy first draws a shape, each with the
/// share of people who have it (weighted rendezvous hashing over the shapes: exact in
/// expectation, and a login keeps its shape unless the shares change around it), then a
/// person of that shape on a consistent-hash ring (their masked address; a person who
/// joins takes over only the logins just before their points).
#[derive(Default)]
pub struct StandIns {
    shapes: RwLock<Arc<Vec<Shape>>>,
    /// How often a person's registered address starts with the login they type (as an
    /// f64's bits), read from the day's real flows; unknown until enough were seen.
    same_initial: std::sync::atomic::AtomicU64,
    /// The numbers the directory gave people at identify (masked, nowhere to send), by
    /// user id: a person's shape counts them as the person's own flow does, and a decoy
    /// that stands in for them shows them as their flow would. Learned as people come
    /// (the directory isn't listed for them), kept while this process runs.
    directory_numbers: RwLock<HashMap<String, DirectoryNumbers>>,
}

/// People whose numbers from the directory are kept for decoys, at most (about 100 bytes
/// each).
const DIRECTORY_NUMBERS_KEPT: usize = 200_000;

/// Real flows needed before their share of same initials is trusted.
const INITIALS_SEEN: usize = 20;

struct Shape {
    /// What the shape is, as hashed with a login: kinds, then "admin" or "staff".
    key: String,
    people: Vec<StandIn>,
    /// (point, index in `people`), sorted.
    points: Vec<(u64, u32)>,
}

/// Points on a shape's ring a person gets: 8 keep each person's share of their shape
/// within about a third of 1/n, at 128 bytes a person.
const POINTS: usize = 8;

fn point(mac: [u8; 32]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&mac[..8]);
    u64::from_be_bytes(b)
}

impl StandIns {
    /// How often a real person's masked address starts with their login's first letter;
    /// 1 (a decoy always takes its login's) until enough real flows were seen.
    pub fn same_initial(&self) -> f64 {
        let bits = self.same_initial.load(std::sync::atomic::Ordering::Relaxed);
        if bits == 0 {
            1.0
        } else {
            f64::from_bits(bits)
        }
    }

    /// A decoy's masked address from its stand-in's: the stand-in's domain and ending,
    /// and the first letter the login's as often as real people's addresses start with
    /// their login's (else the stand-in's own), drawn from the login so it stays put.
    pub fn masked_email(&self, key: &ServerKey, login: &str, stand_in_masked: &str) -> String {
        let login = normalize_login(login);
        let Some(initial) = login.chars().next() else {
            return stand_in_masked.to_string();
        };
        let draw = point(key.mac("decoy-initial", &[login.as_bytes()])) as f64
            / 18_446_744_073_709_551_616.0;
        if draw >= self.same_initial() {
            return stand_in_masked.to_string();
        }
        let mut rest = stand_in_masked.chars();
        rest.next();
        format!("{initial}{}", rest.as_str())
    }

    /// The person `login`'s decoy stands in for; None while nobody has enough methods.
    pub fn pick(&self, key: &ServerKey, login: &str) -> Option<StandIn> {
        let shapes = self.shapes.read().map(|r| r.clone()).ok()?;
        let login = normalize_login(login);
        // Weighted rendezvous: the shape with the least -ln(u)/weight wins, which is shape
        // s with probability weight(s) / total.
        let shape = shapes
            .iter()
            .filter(|s| !s.points.is_empty())
            .map(|s| {
                let h = point(key.mac("decoy-shape", &[login.as_bytes(), s.key.as_bytes()]));
                let u = (h as f64 + 0.5) / 18_446_744_073_709_551_616.0;
                (-u.ln() / s.people.len() as f64, s)
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, s)| s)?;
        let at = point(key.mac("decoy-ring-login", &[login.as_bytes()]));
        let i = shape.points.partition_point(|(p, _)| *p < at);
        let (_, person) = shape.points[i % shape.points.len()];
        shape.people.get(person as usize).cloned()
    }

    /// Keeps what the directory's numbers of `user_id` show (`masked_only`), learned at
    /// their identify; none forgets them.
    pub fn learn_directory_numbers(&self, user_id: &str, numbers: &DirectoryNumbers) {
        let shown = numbers.masked_only();
        let known = self
            .directory_numbers
            .read()
            .map(|m| {
                m.get(user_id) == Some(&shown) || (shown.is_empty() && !m.contains_key(user_id))
            })
            .unwrap_or(true);
        if known {
            return;
        }
        if let Ok(mut m) = self.directory_numbers.write() {
            if shown.is_empty() {
                m.remove(user_id);
            } else if m.len() < DIRECTORY_NUMBERS_KEPT || m.contains_key(user_id) {
                m.insert(user_id.to_string(), shown);
            }
        }
    }

    /// The directory's numbers of a person decoys stand in for, as learned (masked).
    pub fn directory_numbers_of(&self, user_id: &str) -> DirectoryNumbers {
        self.directory_numbers
            .read()
            .ok()
            .and_then(|m| m.get(user_id).cloned())
            .unwrap_or_default()
    }

    /// How many people decoys may stand in for.
    pub fn len(&self) -> usize {
        self.shapes
            .read()
            .map(|r| r.iter().map(|s| s.people.len()).sum())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Puts `people` (each with the key of their shape) in place of who was there.
    pub fn set(&self, key: &ServerKey, people: Vec<(String, StandIn)>) {
        let mut by_shape: std::collections::BTreeMap<String, Vec<StandIn>> = Default::default();
        for (shape, person) in people {
            by_shape.entry(shape).or_default().push(person);
        }
        let shapes = by_shape
            .into_iter()
            .map(|(shape_key, mut people)| {
                people.sort_by(|a, b| a.user_id.cmp(&b.user_id));
                let mut points = Vec::with_capacity(people.len() * POINTS);
                for (i, p) in people.iter().enumerate() {
                    for n in 0..POINTS as u8 {
                        let mac = key.mac("decoy-ring-person", &[p.user_id.as_bytes(), &[n]]);
                        points.push((point(mac), i as u32));
                    }
                }
                points.sort_unstable();
                Shape {
                    key: shape_key,
                    people,
                    points,
                }
            })
            .collect();
        if let Ok(mut ring) = self.shapes.write() {
            *ring = Arc::new(shapes);
        }
    }

    /// Reads who gets a real flow now: everyone with enough methods of the kinds the policy
    /// offers (an administrator needs two), administrators named by the directories.
    /// People out of a pilot group's scope are counted too: listing a large group every few
    /// minutes would cost the directory more than their shapes, which are people's shapes
    /// all the same, tell anyone. Numbers count from the sources the policy names: a
    /// registered one, and one the directory gave the person at identify (learned then,
    /// for the same reason).
    pub async fn refresh(
        &self,
        key: &ServerKey,
        store: &Store,
        directories: &Directories,
        policy: &PolicyConfig,
        offer: super::Offer,
    ) -> StoreResult<usize> {
        let mut admins = std::collections::HashSet::new();
        for group in &policy.admin_groups {
            match directories.members(group).await {
                Ok(members) => admins.extend(members.into_iter().map(|m| m.id)),
                // Keep going: without it, administrators stand in as others do.
                Err(e) => tracing::warn!(error = %e, "listing administrators for decoys failed"),
            }
        }
        let registered = policy.numbers_from.contains(&NumberSource::Registered);
        let phone = |k: &str| k == MethodKind::Sms.as_str() || k == MethodKind::Voice.as_str();
        let mut everyone: std::collections::BTreeMap<String, Vec<String>> = store
            .registered_kinds()
            .await?
            .into_iter()
            .map(|(user, kinds)| {
                let kinds = kinds
                    .into_iter()
                    .filter(|k| registered || !phone(k))
                    .collect();
                (user, kinds)
            })
            .collect();
        if policy.numbers_from.contains(&NumberSource::Directory) {
            if let Ok(learned) = self.directory_numbers.read() {
                for (user, numbers) in learned.iter() {
                    let kinds = everyone.entry(user.clone()).or_default();
                    for (number, kind) in [
                        (&numbers.mobile, MethodKind::Sms),
                        (&numbers.office, MethodKind::Voice),
                    ] {
                        if number.is_some() && !kinds.iter().any(|k| k == kind.as_str()) {
                            kinds.push(kind.as_str().to_string());
                        }
                    }
                }
            }
        }
        let mut people = Vec::new();
        for (user_id, kinds) in everyone {
            let is_admin = admins.contains(&user_id);
            let decision = crate::policy::decide_for(policy, is_admin);
            if !decision.allowed {
                continue;
            }
            let offered: Vec<&str> = decision
                .methods
                .iter()
                .filter(|k| super::offerable(**k, offer) && kinds.iter().any(|r| r == k.as_str()))
                .map(|k| k.as_str())
                .collect();
            if offered.len() >= usize::from(decision.required) {
                let shape = format!(
                    "{} {}",
                    offered.join(","),
                    if is_admin { "admin" } else { "staff" }
                );
                people.push((shape, StandIn { user_id, is_admin }));
            }
        }
        let n = people.len();
        self.set(key, people);
        let pairs = store.logins_and_emails().await?;
        if pairs.len() >= INITIALS_SEEN {
            let same = pairs
                .iter()
                .filter(|(login, email)| {
                    let first = |s: &str| {
                        s.trim()
                            .chars()
                            .next()
                            .map(|c| c.to_lowercase().to_string())
                    };
                    first(login).is_some() && first(login) == first(email)
                })
                .count();
            let share = (same as f64 / pairs.len() as f64).max(f64::MIN_POSITIVE);
            self.same_initial
                .store(share.to_bits(), std::sync::atomic::Ordering::Relaxed);
        }
        Ok(n)
    }
}

/// A secret a decoy's authenticator codes are checked against, so a decoy verify costs what
/// a real one does. Nobody holds it.
pub fn totp_secret(key: &ServerKey, login: &str) -> String {
    let mac = key.mac("decoy-totp", &[normalize_login(login).as_bytes()]);
    totp_rs::Secret::Raw(mac[..20].to_vec())
        .to_encoded()
        .to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn person(i: usize) -> (String, StandIn) {
        // Three shapes: 60 % email+totp, 30 % totp, 10 % administrators.
        let shape = match i % 10 {
            0 => "email,totp admin",
            1..=3 => "totp staff",
            _ => "email,totp staff",
        };
        (
            shape.to_string(),
            StandIn {
                user_id: format!("user-{i}"),
                is_admin: i.is_multiple_of(10),
            },
        )
    }

    fn share(ring: &StandIns, key: &ServerKey, logins: &[String], admin: bool) -> f64 {
        let n = logins
            .iter()
            .filter(|l| ring.pick(key, l).unwrap().is_admin == admin)
            .count();
        n as f64 / logins.len() as f64
    }

    /// Decoys take each shape with the share of people who have it, and a login keeps its
    /// stand-in when someone joins unless the newcomer takes it over.
    #[test]
    fn stand_ins_follow_the_shares_and_stay_put() {
        let key = ServerKey::from_bytes([5; 32]);
        let ring = StandIns::default();
        assert_eq!(ring.pick(&key, "nobody"), None);
        ring.set(&key, (0..50).map(person).collect());
        assert_eq!(ring.len(), 50);
        let logins: Vec<String> = (0..20_000).map(|i| format!("login{i}")).collect();
        let before: Vec<StandIn> = logins.iter().map(|l| ring.pick(&key, l).unwrap()).collect();
        let totp_only = before
            .iter()
            .filter(|p| {
                let i: usize = p.user_id[5..].parse().unwrap();
                (1..=3).contains(&(i % 10))
            })
            .count() as f64
            / logins.len() as f64;
        assert!((totp_only - 0.3).abs() < 0.02, "{totp_only}");
        let admins = share(&ring, &key, &logins, true);
        assert!((admins - 0.1).abs() < 0.015, "{admins}");
        // The same login, the same stand-in (case and spaces don't matter).
        assert_eq!(ring.pick(&key, " LOGIN7 "), Some(before[7].clone()));

        // Someone joins: only logins the newcomer (or their shape's bigger share) takes
        // over move.
        ring.set(&key, (0..51).map(person).collect());
        let moved = logins
            .iter()
            .zip(&before)
            .filter(|(l, b)| ring.pick(&key, l).as_ref() != Some(*b))
            .count();
        assert!(moved < logins.len() / 20, "{moved} moved");
    }

    /// A decoy's address starts with its login's letter as often as real people's do.
    #[test]
    fn a_decoy_address_starts_as_real_peoples_do() {
        let key = ServerKey::from_bytes([9; 32]);
        let ring = StandIns::default();
        // Nothing seen yet: always the login's letter (as decoys always did).
        assert_eq!(
            ring.masked_email(&key, "Zoe", "a•••@h•••.net"),
            "z•••@h•••.net"
        );
        ring.same_initial
            .store(0.25f64.to_bits(), std::sync::atomic::Ordering::Relaxed);
        let logins: Vec<String> = (0..4000).map(|i| format!("zed{i}")).collect();
        let own = logins
            .iter()
            .filter(|l| ring.masked_email(&key, l, "a•••@h•••.net").starts_with('z'))
            .count();
        assert!((800..=1200).contains(&own), "{own} of 4000");
        // The same login, the same answer.
        assert_eq!(
            ring.masked_email(&key, "zed7", "a•••@h•••.net"),
            ring.masked_email(&key, " ZED7 ", "a•••@h•••.net")
        );
    }

    #[test]
    fn the_same_login_gets_the_same_decoy() {
        let key = ServerKey::from_bytes([3; 32]);
        let kinds = [MethodKind::Email, MethodKind::Totp];
        let a: Vec<String> = methods(&key, "Nobody", &kinds, "+49")
            .into_iter()
            .map(|m| m.masked)
            .collect();
        let b: Vec<String> = methods(&key, " nobody ", &kinds, "+49")
            .into_iter()
            .map(|m| m.masked)
            .collect();
        assert_eq!(a, b);
        assert!(a[0].contains("•••@"));
        assert_eq!(login_key(&key, "Nobody"), login_key(&key, "nobody"));
    }
}
