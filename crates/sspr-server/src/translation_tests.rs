//! Every language says everything English says, and nothing else: the kiosk's tables
//! (`ui/src/i18n`) and the phone and "My security info" pages' (`web/src/i18n`), read as
//! text. A key missing or extra, a `{placeholder}` one language lacks, or a plural
//! without the forms its language needs (Polish: one, few, many) fails here, before a
//! person sees `{n}` or an English sentence in a Polish screen.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The languages the product speaks: each table folder has exactly these.
pub const LANGUAGES: [&str; 7] = ["en", "de", "fr", "es", "it", "nl", "pl"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `"key": "text",` lines of one table (one entry a line, as the tables are written).
fn table(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        let Some(rest) = line.strip_prefix('"') else {
            continue;
        };
        let (key, value) = rest
            .split_once("\": \"")
            .unwrap_or_else(|| panic!("{}:{}: not `\"key\": \"text\",`", path.display(), n + 1));
        let value = value
            .strip_suffix("\",")
            .or_else(|| value.strip_suffix('"'))
            .unwrap_or_else(|| panic!("{}:{}: a text on one line, please", path.display(), n + 1));
        let value = value.replace("\\\"", "\"").replace("\\\\", "\\");
        let dup = out.insert(key.to_string(), value);
        assert!(dup.is_none(), "{}: {key} twice", path.display());
    }
    assert!(!out.is_empty(), "{}: no entries read", path.display());
    out
}

/// A message's parts: the names it fills in, and each plural's argument with its forms.
#[derive(Debug, Default, PartialEq)]
pub struct Shape {
    pub names: BTreeSet<String>,
    pub plurals: BTreeMap<String, BTreeSet<String>>,
}

/// Reads `{name}` and `{name, plural, one {…} other {…}}` (forms may hold placeholders).
pub fn shape(text: &str) -> Result<Shape, String> {
    let mut s = Shape::default();
    walk(text, &mut s)?;
    Ok(s)
}

fn walk(text: &str, s: &mut Shape) -> Result<(), String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'}' {
            return Err(format!("a stray }} in {text:?}"));
        }
        if b[i] != b'{' {
            i += 1;
            continue;
        }
        let close = matching(text, i).ok_or_else(|| format!("an unclosed {{ in {text:?}"))?;
        let inner = &text[i + 1..close];
        match inner.split_once(',') {
            None => {
                if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                {
                    return Err(format!("{{{inner}}} is not a placeholder"));
                }
                s.names.insert(inner.to_string());
            }
            Some((name, rest)) => {
                let cases = rest
                    .trim_start()
                    .strip_prefix("plural,")
                    .ok_or_else(|| format!("only plural is understood: {{{inner}}}"))?;
                let name = name.trim().to_string();
                s.names.insert(name.clone());
                let mut forms = BTreeSet::new();
                let mut rest = cases.trim_start();
                while !rest.is_empty() {
                    let open = rest
                        .find('{')
                        .ok_or_else(|| format!("a form without text in {text:?}"))?;
                    let form = rest[..open].trim().to_string();
                    let end = matching(rest, open)
                        .ok_or_else(|| format!("an unclosed form in {text:?}"))?;
                    walk(&rest[open + 1..end], s)?;
                    if !forms.insert(form.clone()) {
                        return Err(format!("{form} twice in {text:?}"));
                    }
                    rest = rest[end + 1..].trim_start();
                }
                s.plurals.insert(name, forms);
            }
        }
        i = close + 1;
    }
    Ok(())
}

fn matching(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (j, c) in text.char_indices().skip_while(|(j, _)| *j < open) {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(j);
                }
            }
            _ => {}
        }
    }
    None
}

/// The plural forms a language's integers need (CLDR cardinal categories).
pub fn needed_forms(lang: &str) -> &'static [&'static str] {
    match lang {
        "pl" => &["one", "few", "many", "other"],
        _ => &["one", "other"],
    }
}

/// Everything wrong with `other` held against English, one line each.
pub fn problems(
    lang: &str,
    en: &BTreeMap<String, String>,
    other: &BTreeMap<String, String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for key in en.keys().filter(|k| !other.contains_key(*k)) {
        out.push(format!("{lang}: {key} is missing"));
    }
    for key in other.keys().filter(|k| !en.contains_key(*k)) {
        out.push(format!("{lang}: {key} is not in English"));
    }
    for (key, text) in other {
        let Some(english) = en.get(key) else { continue };
        let (mine, theirs) = match (shape(text), shape(english)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) => {
                out.push(format!("{lang}: {key}: {e}"));
                continue;
            }
            (_, Err(e)) => {
                out.push(format!("en: {key}: {e}"));
                continue;
            }
        };
        if mine.names != theirs.names {
            out.push(format!(
                "{lang}: {key} fills in {:?}, English {:?}",
                mine.names, theirs.names
            ));
        }
        for (arg, forms) in &mine.plurals {
            for need in needed_forms(lang) {
                if !forms.contains(*need) {
                    out.push(format!(
                        "{lang}: {key}: the plural of {arg} has no \"{need}\" form"
                    ));
                }
            }
        }
    }
    out
}

/// Checks one folder of `<lang>.ts` tables against its `en.ts`.
fn check_folder(dir: &Path) -> Vec<String> {
    let en = table(&dir.join("en.ts"));
    let mut out = problems("en", &en, &en);
    let mut found: BTreeSet<String> = BTreeSet::new();
    for entry in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(lang) = name.strip_suffix(".ts").filter(|l| l.len() == 2) {
            found.insert(lang.to_string());
        }
    }
    let wanted: BTreeSet<String> = LANGUAGES.iter().map(|l| l.to_string()).collect();
    if found != wanted {
        out.push(format!(
            "{}: tables for {found:?}, not {wanted:?}",
            dir.display()
        ));
    }
    for lang in LANGUAGES.iter().filter(|l| **l != "en") {
        let path = dir.join(format!("{lang}.ts"));
        if path.exists() {
            out.extend(
                problems(lang, &en, &table(&path))
                    .into_iter()
                    .map(|p| format!("{}: {p}", dir.display())),
            );
        }
    }
    out
}

#[test]
fn the_kiosk_speaks_every_language_fully() {
    let problems = check_folder(&root().join("ui/src/i18n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_phone_and_my_pages_speak_every_language_fully() {
    let problems = check_folder(&root().join("crates/sspr-server/web/src/i18n"));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_missing_key_an_extra_one_a_lost_placeholder_and_a_short_plural_are_found() {
    let en: BTreeMap<String, String> = [
        (
            "a",
            "Wait {secs, plural, one {# second} other {# seconds}}.",
        ),
        ("b", "Hello {name}"),
        ("c", "Bye"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let pl: BTreeMap<String, String> = [
        (
            "a",
            "Odczekaj {secs, plural, one {# sekundę} other {# sekund}}.",
        ),
        ("b", "Cześć {imie}"),
        ("d", "Extra"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let found = problems("pl", &en, &pl);
    for want in [
        "pl: c is missing",
        "pl: d is not in English",
        "pl: b fills in {\"imie\"}, English {\"name\"}",
        "pl: a: the plural of secs has no \"few\" form",
        "pl: a: the plural of secs has no \"many\" form",
    ] {
        assert!(found.iter().any(|p| p == want), "{want} not in {found:#?}");
    }
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(shape("a {broken").is_err());
    assert!(shape("{n, select, a {x}}").is_err());
}
