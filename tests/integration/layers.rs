//! The crate's layers point one way: every top-level module of `src/` imports only modules
//! of the layers below it (STYLE lesson 16), so there is no import cycle between them.
//!
//! The check reads the sources, not the compiler: every `crate::` path (in `use` lines and
//! anywhere else, groups like `crate::{a, b::c}` included) and every `super::` chain that
//! climbs out of a top-level module is an edge from the file's top-level module to the one
//! the path names. Comments, strings and doc tests are skipped. Test code counts too: a test
//! that imports upward is as confusing as code that does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, bottom first. A module may import any module of a lower layer, and none of its
/// own layer or above. Keep in step with the "Layout" section of `src/lib.rs`.
const LAYERS: &[&[&str]] = &[
    &["pool"],
    &["transport"],
    &["s3"],
    &["modes"],
    &["sut"],
    &["workload"],
    &["metrics"],
    &["analysis"],
    &["results"],
    &["sweep"],
    &["render"],
    &["report", "compare"],
    &["cli"],
];

/// One import: the module imported, and where.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Edge {
    from: String,
    to: String,
    at: String,
}

/// A token of Rust source, as far as paths are concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Other,
}

/// Tokens with their line numbers; comments, string and char literals and lifetimes are
/// skipped.
fn tokens(src: &str) -> Vec<(Tok, usize)> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    let count_lines = |from: usize, to: usize| b[from..to].iter().filter(|&&c| c == b'\n').count();
    while i < b.len() {
        let c = b[i];
        let start = i;
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i..].starts_with(b"/*") {
                        depth += 1;
                        i += 2;
                    } else if b[i..].starts_with(b"*/") {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                line += count_lines(start, i);
            }
            b'r' if matches!(b.get(i + 1), Some(b'"' | b'#'))
                && (i == 0 || !is_ident(b[i - 1])) =>
            {
                // r"...", r#"..."#
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    // r#ident (a raw identifier)
                    i = j;
                    continue;
                }
                j += 1;
                let close: Vec<u8> = std::iter::once(b'"')
                    .chain(std::iter::repeat_n(b'#', hashes))
                    .collect();
                while j < b.len() && !b[j..].starts_with(&close) {
                    j += 1;
                }
                i = (j + close.len()).min(b.len());
                line += count_lines(start, i);
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                line += count_lines(start, i.min(b.len()));
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    // Past the quote, the backslash and the escaped character.
                    i += 3;
                    while i < b.len() && b[i] != b'\'' {
                        i += 1;
                    }
                    i += 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    // A multi-byte char literal, or a lifetime.
                    let rest = &src[i + 1..];
                    match rest.chars().next() {
                        Some(ch) if rest[ch.len_utf8()..].starts_with('\'') => {
                            i += 1 + ch.len_utf8() + 1;
                        }
                        _ => i += 1,
                    }
                }
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                out.push((Tok::PathSep, line));
                i += 2;
            }
            b'{' => {
                out.push((Tok::Open, line));
                i += 1;
            }
            b'}' => {
                out.push((Tok::Close, line));
                i += 1;
            }
            b',' => {
                out.push((Tok::Comma, line));
                i += 1;
            }
            c if is_ident(c) => {
                while i < b.len() && is_ident(b[i]) {
                    i += 1;
                }
                out.push((Tok::Ident(src[start..i].to_owned()), line));
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                out.push((Tok::Other, line));
                i += 1;
            }
        }
    }
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The first names of the items of the group that opens at `toks[at]` (`{a, b::c, d::{e}}`
/// gives `a`, `b`, `d`), with their lines.
fn group_heads(toks: &[(Tok, usize)], at: usize) -> Vec<(String, usize)> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut item_start = true;
    for (tok, line) in &toks[at..] {
        match tok {
            Tok::Open => {
                depth += 1;
                if depth == 1 {
                    item_start = true;
                }
            }
            Tok::Close => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Tok::Comma if depth == 1 => item_start = true,
            Tok::Ident(name) if depth == 1 && item_start => {
                if name != "self" {
                    heads.push((name.clone(), *line));
                }
                item_start = false;
            }
            _ if depth == 1 => item_start = false,
            _ => {}
        }
    }
    heads
}

/// The top-level modules a file imports. `module_depth` is how deep the file's module sits
/// (`src/a.rs` and `src/a/mod.rs`: 1, `src/a/b.rs`: 2), so that a `super::` chain that climbs
/// out of the top-level module is read as a crate path. Inline `mod x { … }` blocks deepen
/// the code inside them.
fn imports(src: &str, module_depth: usize) -> Vec<(String, usize)> {
    let toks = tokens(src);
    let mut found = Vec::new();
    // For each open brace: whether it opened an inline module.
    let mut braces: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let depth = module_depth + braces.iter().filter(|m| **m).count();
        let ident = |k: usize| match toks.get(k) {
            Some((Tok::Ident(s), _)) => Some(s.as_str()),
            _ => None,
        };
        let sep = |k: usize| matches!(toks.get(k), Some((Tok::PathSep, _)));
        match &toks[i].0 {
            Tok::Open => {
                let is_mod =
                    i >= 2 && ident(i - 2) == Some("mod") && matches!(toks[i - 1].0, Tok::Ident(_));
                braces.push(is_mod);
            }
            Tok::Close => {
                braces.pop();
            }
            Tok::Ident(kw) if (kw == "crate" || kw == "super") && sep(i + 1) => {
                // `$crate::` in a macro names the crate the macro lives in: also this one.
                let mut k = i;
                let rooted = if kw == "crate" {
                    k += 2;
                    true
                } else {
                    let mut supers = 0;
                    while ident(k) == Some("super") && sep(k + 1) {
                        supers += 1;
                        k += 2;
                    }
                    supers >= depth
                };
                if rooted {
                    match &toks.get(k).map(|t| &t.0) {
                        Some(Tok::Ident(name)) => found.push((name.clone(), toks[k].1)),
                        Some(Tok::Open) => found.extend(group_heads(&toks, k)),
                        _ => {}
                    }
                }
                i = k;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The top-level module of a file under `src/` and its module depth; `None` for the crate
/// root (`lib.rs`, `main.rs`).
fn module_of(rel: &Path) -> Option<(String, usize)> {
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.last()?;
    if parts.len() == 1 && (file == "lib.rs" || file == "main.rs") {
        return None;
    }
    let top = parts[0].trim_end_matches(".rs").to_owned();
    let depth = if file == "mod.rs" {
        parts.len() - 1
    } else {
        parts.len()
    };
    Some((top, depth))
}

/// The import edges between top-level modules, from (path relative to `src/`, source) pairs.
fn edges(files: &[(PathBuf, String)], modules: &BTreeSet<String>) -> BTreeSet<Edge> {
    let mut out = BTreeSet::new();
    for (rel, src) in files {
        let Some((from, depth)) = module_of(rel) else {
            continue;
        };
        for (to, line) in imports(src, depth) {
            if to != from && modules.contains(&to) {
                out.insert(Edge {
                    from: from.clone(),
                    to,
                    at: format!("src/{}:{line}", rel.display()),
                });
            }
        }
    }
    out
}

/// An import graph: module → imported module → where.
type Graph<'e> = BTreeMap<&'e str, BTreeMap<&'e str, &'e str>>;

/// A shortest path from `start` back to itself, if there is one (breadth-first).
fn cycle_through<'e>(graph: &Graph<'e>, start: &'e str) -> Option<Vec<&'e str>> {
    let mut prev: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        for &m in graph.get(n).into_iter().flat_map(|m| m.keys()) {
            if m == start {
                let mut path = vec![start, n];
                let mut at = n;
                while at != start {
                    at = prev[at];
                    path.push(at);
                }
                path.reverse();
                return Some(path);
            }
            if !prev.contains_key(m) {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    None
}

/// The import cycles among `edges`: one per strongly connected component of more than one
/// module, written `a → b → a` with where each import is.
fn cycles(edges: &BTreeSet<Edge>) -> Vec<String> {
    let mut graph: Graph<'_> = BTreeMap::new();
    for e in edges {
        graph.entry(&e.to).or_default();
        graph
            .entry(&e.from)
            .or_default()
            .entry(&e.to)
            .or_insert(&e.at);
    }
    let mut seen: BTreeSet<BTreeSet<&str>> = BTreeSet::new();
    let mut out = Vec::new();
    for &start in graph.keys() {
        let Some(path) = cycle_through(&graph, start) else {
            continue;
        };
        let members: BTreeSet<&str> = path.iter().copied().collect();
        if !seen.insert(members) {
            continue;
        }
        let steps: Vec<String> = path
            .windows(2)
            .map(|w| format!("{} → {} ({})", w[0], w[1], graph[w[0]][w[1]]))
            .collect();
        out.push(steps.join(", "));
    }
    out
}

/// The imports that do not point to a lower layer, and the modules missing from [`LAYERS`].
fn layer_violations(edges: &BTreeSet<Edge>, modules: &BTreeSet<String>) -> Vec<String> {
    let level = |m: &str| LAYERS.iter().position(|l| l.contains(&m));
    let mut out: Vec<String> = modules
        .iter()
        .filter(|m| level(m).is_none())
        .map(|m| format!("module `{m}` is in no layer: add it to LAYERS and to lib.rs's Layout"))
        .collect();
    for e in edges {
        if let (Some(from), Some(to)) = (level(&e.from), level(&e.to))
            && to >= from
        {
            out.push(format!(
                "{} imports {} ({}): a layer imports only the layers below it",
                e.from, e.to, e.at
            ));
        }
    }
    out
}

fn src_files() -> (Vec<(PathBuf, String)>, BTreeSet<String>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files: Vec<(PathBuf, String)> = rust_files(&src)
        .into_iter()
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p.strip_prefix(&src).expect("under src").to_owned(), text)
        })
        .collect();
    let modules = files
        .iter()
        .filter_map(|(rel, _)| module_of(rel).map(|(m, _)| m))
        .collect();
    (files, modules)
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let (files, modules) = src_files();
    let edges = edges(&files, &modules);
    assert!(
        edges.len() >= LAYERS.len(),
        "too few imports found ({}): is the parser reading src/?",
        edges.len()
    );
    let cycles = cycles(&edges);
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn every_module_imports_only_lower_layers() {
    let (files, modules) = src_files();
    for layer in LAYERS {
        for m in *layer {
            assert!(
                modules.contains(*m),
                "LAYERS names `{m}`, which is not in src/"
            );
        }
    }
    let violations = layer_violations(&edges(&files, &modules), &modules);
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

/// The checker itself: paths in every form are found, comments and strings are not, and a
/// cycle is reported with where its imports are.
#[test]
fn checker_finds_paths_and_cycles() {
    let heads = |src: &str, depth: usize| -> Vec<String> {
        imports(src, depth).into_iter().map(|(m, _)| m).collect()
    };
    assert_eq!(
        heads("use crate::a::B;\nuse crate::{b, c::{D, e}, self};", 1),
        ["a", "b", "c"]
    );
    assert_eq!(heads("fn f() { crate::d::f(); let x = 'y'; }", 2), ["d"]);
    assert_eq!(
        heads(
            "// crate::x\n/* crate::y */ let s = \"crate::z\"; let r = r#\"crate::w\"#;",
            1
        ),
        Vec::<String>::new()
    );
    // `super::super::x` from `src/a/b.rs` is `crate::x`; `super::c` stays inside `a`.
    assert_eq!(heads("use super::c; use super::super::x;", 2), ["x"]);
    // Inside an inline `mod tests`, one more `super` is needed to leave the file.
    assert_eq!(
        heads("mod tests { use super::*; use super::super::y; }", 1),
        ["y"]
    );
    assert_eq!(
        heads("fn f<'a>(x: &'a str) -> char { '\\'' } use crate::q;", 1),
        ["q"]
    );

    let files = [
        ("a/mod.rs", "use crate::b::X;"),
        ("b.rs", "use crate::{c::Y};"),
        ("c/d.rs", "pub(crate) fn f() { crate::a::g() }"),
        ("e.rs", "use crate::a::Z;"),
    ]
    .map(|(p, s)| (PathBuf::from(p), s.to_owned()));
    let modules: BTreeSet<String> = ["a", "b", "c", "e"].map(str::to_owned).into();
    let found = cycles(&edges(&files, &modules));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0],
        "a → b (src/a/mod.rs:1), b → c (src/b.rs:1), c → a (src/c/d.rs:1)"
    );
}
