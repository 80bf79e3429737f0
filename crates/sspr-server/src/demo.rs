//! The demo: a seeded built-in directory, a loopback mailbox that catches every email the
//! server sends, and a page (`/demo`) that shows the demo people, their current
//! authenticator codes and the mailbox. None of this exists outside `sspr-server demo`.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use sspr_mailbox::{Mailbox, Received};
use sspr_proto::MethodKind;

use crate::clock::now;
use crate::directory::builtin::{BuiltinDirectory, NewUser};
use crate::directory::set::Directories;
use crate::http::AppState;
use crate::methods::totp;
use crate::secret::random_id;
use crate::secret::ServerKey;
use crate::store::Store;

pub const ADMIN_GROUP: &str = "Domain Admins";
pub const PILOT_GROUP: &str = "SSPR Pilot";

/// A demo person: username, given name, surname, groups, state, and what they registered.
pub struct Person {
    pub username: &'static str,
    pub given: &'static str,
    pub surname: &'static str,
    pub admin: bool,
    pub pilot: bool,
    pub locked: bool,
    pub disabled: bool,
    pub registered: bool,
}

impl Person {
    pub fn email(&self) -> String {
        format!(
            "{}.{}@example.org",
            self.given.to_lowercase(),
            self.surname.to_lowercase().replace(' ', "")
        )
    }

    pub fn groups(&self) -> Vec<&'static str> {
        let mut groups = vec!["Staff"];
        if self.admin {
            groups.push(ADMIN_GROUP);
        }
        if self.pilot {
            groups.push(PILOT_GROUP);
        }
        groups
    }

    fn alternate_email(&self) -> String {
        format!("{}@home.example.net", self.username)
    }
}

const fn p(username: &'static str, given: &'static str, surname: &'static str) -> Person {
    Person {
        username,
        given,
        surname,
        admin: false,
        pilot: false,
        locked: false,
        disabled: false,
        registered: true,
    }
}

/// The demo people; `./run demo ldap` puts the same people into a real slapd.
pub const PEOPLE: &[Person] = &[
    Person {
        pilot: true,
        ..p("ada", "Ada", "Lovelace")
    },
    Person {
        admin: true,
        pilot: true,
        ..p("alan", "Alan", "Turing")
    },
    Person {
        locked: true,
        pilot: true,
        ..p("grace", "Grace", "Hopper")
    },
    Person {
        disabled: true,
        ..p("edsger", "Edsger", "Dijkstra")
    },
    Person {
        registered: false,
        ..p("barbara", "Barbara", "Liskov")
    },
    Person {
        admin: true,
        ..p("margaret", "Margaret", "Hamilton")
    },
    Person {
        pilot: true,
        ..p("katherine", "Katherine", "Johnson")
    },
    p("donald", "Donald", "Knuth"),
    p("john", "John", "von Neumann"),
    Person {
        pilot: true,
        ..p("hedy", "Hedy", "Lamarr")
    },
    p("claude", "Claude", "Shannon"),
    p("frances", "Frances", "Allen"),
    p("dennis", "Dennis", "Ritchie"),
    Person {
        pilot: true,
        ..p("radia", "Radia", "Perlman")
    },
    p("tim", "Tim", "Berners-Lee"),
    p("annie", "Annie", "Easley"),
    p("ken", "Ken", "Thompson"),
    p("karen", "Karen", "Sparck Jones"),
    p("niklaus", "Niklaus", "Wirth"),
    Person {
        pilot: true,
        ..p("sophie", "Sophie", "Wilson")
    },
];

/// Seeds the built-in directory and registrations once; later starts keep what is there.
pub async fn seed(store: &Store, key: &ServerKey, directory_name: &str) -> anyhow::Result<bool> {
    if store.builtin_users().await? > 0 {
        return Ok(false);
    }
    let dir = BuiltinDirectory::new(directory_name, store.clone());
    let now = now();
    for person in PEOPLE {
        let id = random_id();
        let email = person.email();
        let groups = person.groups();
        // Nobody knows this password: the demo is about setting a new one.
        let password = random_id();
        dir.add_user(&NewUser {
            id: &id,
            username: person.username,
            email: Some(&email),
            given_name: person.given,
            surname: person.surname,
            groups: &groups,
            disabled: person.disabled,
            locked: person.locked,
            password: &password,
        })
        .await?;
        if person.registered {
            register(store, key, &id, person, now).await?;
        }
    }
    Ok(true)
}

async fn register(
    store: &Store,
    key: &ServerKey,
    id: &str,
    person: &Person,
    now: i64,
) -> anyhow::Result<()> {
    store
        .add_registration(
            id,
            MethodKind::Email,
            &person.alternate_email(),
            "Email",
            now,
        )
        .await?;
    store
        .add_registration(
            id,
            MethodKind::Totp,
            &crate::store::seal_totp(key, id, &totp::new_secret()),
            "Authenticator app",
            now,
        )
        .await?;
    Ok(())
}

/// With a real directory: registers methods for the demo people it holds (once).
pub async fn seed_registrations(
    store: &Store,
    key: &ServerKey,
    directories: &Directories,
) -> anyhow::Result<bool> {
    let now = now();
    let mut seeded = false;
    for person in PEOPLE.iter().filter(|p| p.registered) {
        let Some((_, user)) = directories.find(person.username).await? else {
            continue;
        };
        if store.registrations(&user.id).await?.is_empty() {
            register(store, key, &user.id, person, now).await?;
            seeded = true;
        }
    }
    Ok(seeded)
}

#[derive(Clone)]
struct DemoState {
    app: AppState,
    mailbox: Mailbox,
}

/// The demo's own pages, merged into the server's router.
pub fn router(app: AppState, mailbox: Mailbox) -> Router {
    Router::new()
        .route("/demo", get(page))
        .with_state(Arc::new(DemoState { app, mailbox }))
}

/// Prints every caught email to the terminal, so the code is there without a browser.
pub fn print_mail(mailbox: &Mailbox) {
    let mut rx = mailbox.subscribe();
    tokio::spawn(async move {
        while let Ok(m) = rx.recv().await {
            let code = m.code(6).or_else(|| m.code(7)).or_else(|| m.code(8));
            match code {
                Some(code) => println!(
                    "demo mailbox: to {} — \"{}\" — code {code}",
                    m.to.join(", "),
                    m.subject
                ),
                None => println!("demo mailbox: to {} — \"{}\"", m.to.join(", "), m.subject),
            }
        }
    });
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

async fn page(State(demo): State<Arc<DemoState>>) -> Html<String> {
    let store = &demo.app.core.store;
    let directories = &demo.app.core.directories;
    let now = now();
    let mut people = String::new();
    for person in PEOPLE {
        let Ok(Some((_, user))) = directories.find(person.username).await else {
            continue;
        };
        let regs = store.registrations(&user.id).await.unwrap_or_default();
        let email = regs
            .iter()
            .find(|g| g.kind() == Some(MethodKind::Email))
            .map(|g| esc(&g.value))
            .unwrap_or_else(|| "—".into());
        let code = regs
            .iter()
            .find(|g| g.kind() == Some(MethodKind::Totp))
            .and_then(|g| g.totp_secret(&demo.app.core.key))
            .and_then(|s| totp::current_code(secrecy::ExposeSecret::expose_secret(&s), now as u64))
            .map(|c| format!("<code>{c}</code>"))
            .unwrap_or_else(|| "—".into());
        let status = match (user.disabled, user.locked, regs.is_empty()) {
            (true, _, _) => "disabled",
            (_, true, _) => "locked",
            (_, _, true) => "nothing registered",
            _ => "active",
        };
        people.push_str(&format!(
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&user.username),
            esc(&user.display_name),
            esc(&user.groups.join(", ")),
            status,
            email,
            code
        ));
    }
    let mut mail = String::new();
    for m in demo.mailbox.messages().iter().rev().take(30) {
        mail.push_str(&mail_item(m));
    }
    if mail.is_empty() {
        mail.push_str("<p class=muted>No mail yet. Ask for an email code at the kiosk.</p>");
    }
    let org = esc(&demo.app.core.config().organization.name);
    let directory = esc(&directories.names());
    Html(format!(
        r#"<!doctype html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width,initial-scale=1">
<meta http-equiv=refresh content=5>
<title>{org} — SSPR demo</title>
<style>
body{{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2433}}
h1{{font-size:1.6rem}} table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #dde2ea;padding:.4rem .6rem;text-align:left}}
code{{font-size:1.15rem;background:#eef3fb;padding:.1rem .4rem;border-radius:4px}}
.mail{{border:1px solid #dde2ea;border-radius:8px;padding:.6rem 1rem;margin:.6rem 0}}
.muted{{color:#667}} pre{{white-space:pre-wrap;margin:.3rem 0 0}}
</style></head><body>
<h1>{org}: SSPR demo</h1>
<p class=muted>Demo only: this page shows what a real deployment never would — the demo people
as {directory} holds them now, their current authenticator codes, and every email the server
sent. It refreshes every 5 seconds.</p>
<h2>People</h2>
<table><tr><th>Username</th><th>Name</th><th>Groups</th><th>Status</th><th>Email method</th><th>Authenticator code</th></tr>
{people}</table>
<h2>Mailbox</h2>{mail}
</body></html>"#
    ))
}

fn mail_item(m: &Received) -> String {
    format!(
        "<div class=mail><b>{}</b> <span class=muted>to {}</span><pre>{}</pre></div>",
        esc(&m.subject),
        esc(&m.to.join(", ")),
        esc(&m.text)
    )
}
