//! No import loops: in the server (between its top-level modules, and between the files
//! of one module), in the kiosk shell (`src-tauri`) and in the kiosk UI with the phone
//! pages (`ui/src`, `crates/sspr-server/web/src`, `shared`). A loop makes two parts one:
//! neither can change, or be read, without the other. Test code doesn't count.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source folder").flatten() {
        let p = entry.path();
        if p.is_dir() {
            files(&p, ext, out);
        } else if p.extension().is_some_and(|e| e == ext) {
            out.push(p);
        }
    }
}

/// The text without comments and without its `#[cfg(test)] mod tests` block.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("a source file");
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Pairs that import each other, and longer loops (as their members).
fn loops(graph: &Graph) -> Vec<Vec<String>> {
    // Tarjan's strongly connected components.
    struct T<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        let i = t.index.len();
        t.index.insert(v, i);
        t.low.insert(v, i);
        t.stack.push(v);
        t.on.insert(v);
        let g = t.g;
        for w in g.get(v).into_iter().flatten() {
            if !t.index.contains_key(w.as_str()) {
                visit(t, w);
                let lw = t.low[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(lw));
            } else if t.on.contains(w.as_str()) {
                let iw = t.index[w.as_str()];
                let lv = t.low[v];
                t.low.insert(v, lv.min(iw));
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g: graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

/// Rust: `crate::name` and `use crate::{a, b}` between the top-level modules of `src`;
/// `super::name` and `crate::<module>::name` between the files of each module folder.
fn rust_graphs(src: &Path, crate_modules_only: bool) -> Vec<(String, Graph)> {
    let mut all = Vec::new();
    files(src, "rs", &mut all);
    let top = |p: &Path| -> String {
        let rel = p.strip_prefix(src).expect("inside src");
        let first = rel.components().next().expect("a component");
        first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string()
    };
    let tops: BTreeSet<String> = all.iter().map(|p| top(p)).collect();
    let mut graphs = Vec::new();
    let mut g = Graph::new();
    for p in &all {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if matches!(
            name,
            "tests.rs" | "testkit.rs" | "layout_tests.rs" | "main.rs" | "lib.rs"
        ) {
            continue;
        }
        let from = top(p);
        let text = code(p);
        let mut to = BTreeSet::new();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + 7..];
            if let Some(inner) = rest.strip_prefix('{') {
                let end = inner.find('}').unwrap_or(0);
                to.extend(words(&inner[..end]));
            } else if let Some(w) = first_word(rest) {
                to.insert(w);
            }
        }
        to.retain(|m| tops.contains(m) && *m != from);
        g.entry(from).or_default().extend(to);
    }
    graphs.push(("modules".to_string(), g));
    if crate_modules_only {
        return graphs;
    }
    for folder in &tops {
        let dir = src.join(folder);
        if !dir.is_dir() {
            continue;
        }
        let mut g = Graph::new();
        let mut inner = Vec::new();
        files(&dir, "rs", &mut inner);
        let names: BTreeSet<String> = inner
            .iter()
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
            .collect();
        for p in &inner {
            let from = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            if from == "tests" {
                continue;
            }
            let text = code(p);
            let mut to = BTreeSet::new();
            for pat in ["super::".to_string(), format!("crate::{folder}::")] {
                for (i, _) in text.match_indices(&pat) {
                    let rest = &text[i + pat.len()..];
                    if let Some(inner) = rest.strip_prefix('{') {
                        let end = inner.find('}').unwrap_or(0);
                        to.extend(words(&inner[..end]));
                    } else if let Some(w) = first_word(rest) {
                        to.insert(w);
                    }
                }
            }
            // `mod.rs` reaches its files by `mod x;`, which is no import.
            to.retain(|m| names.contains(m) && *m != from && m != "mod" && m != "tests");
            g.entry(from).or_default().extend(to);
        }
        graphs.push((folder.clone(), g));
    }
    graphs
}

/// Every identifier in `s`.
fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The identifier `s` starts with, if it starts with one.
fn first_word(s: &str) -> Option<String> {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_string())
}

/// TypeScript: relative `from "./x"` imports between the files of these folders.
fn ts_graph(roots: &[PathBuf]) -> Graph {
    let mut all = Vec::new();
    for r in roots {
        files(r, "ts", &mut all);
    }
    let mut g = Graph::new();
    for p in &all {
        let from = p.canonicalize().expect("a file");
        let text = std::fs::read_to_string(p).expect("a file");
        let mut to = BTreeSet::new();
        for line in text
            .lines()
            .filter(|l| l.trim_start().starts_with("import") || l.contains(" from "))
        {
            let Some(i) = line.find(" from ") else {
                continue;
            };
            let spec = line[i + 6..]
                .trim()
                .trim_end_matches(';')
                .trim_matches(|c| c == '"' || c == '\'');
            if !spec.starts_with('.') {
                continue;
            }
            let base = p.parent().expect("a folder").join(spec);
            for candidate in [
                base.with_extension("ts"),
                base.join("index.ts"),
                base.clone(),
            ] {
                if candidate.is_file() {
                    if let Ok(c) = candidate.canonicalize() {
                        to.insert(c.display().to_string());
                    }
                    break;
                }
            }
        }
        g.entry(from.display().to_string()).or_default().extend(to);
    }
    g
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_server_has_no_import_loop() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for (what, graph) in rust_graphs(&src, false) {
        assert!(
            loops(&graph).is_empty(),
            "loops in {what}: {:?}",
            loops(&graph)
        );
    }
}

#[test]
fn the_kiosk_shell_has_no_import_loop() {
    let src = root().join("src-tauri/src");
    for (what, graph) in rust_graphs(&src, false) {
        assert!(
            loops(&graph).is_empty(),
            "loops in src-tauri {what}: {:?}",
            loops(&graph)
        );
    }
}

#[test]
fn the_kiosk_ui_and_the_phone_pages_have_no_import_loop() {
    let r = root();
    let graph = ts_graph(&[
        r.join("ui/src"),
        r.join("crates/sspr-server/web/src"),
        r.join("shared"),
    ]);
    assert!(graph.len() > 10, "the TypeScript sources were found");
    assert!(loops(&graph).is_empty(), "loops: {:?}", loops(&graph));
}

#[test]
fn a_loop_is_found() {
    let mut g = Graph::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    g.entry("c".into()).or_default().insert("a".into());
    g.entry("d".into()).or_default().insert("a".into());
    assert_eq!(
        loops(&g),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
}
