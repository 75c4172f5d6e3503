//! The module graph of `src/` has no import circle, at the level of
//! top-level modules, of their children, and of single files. A module may
//! use its own ancestors and descendants (`super::` items, `mod` children);
//! every other `crate::`, `super::` or `self::` path is an edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Module = Vec<String>;

#[test]
fn the_modules_of_src_import_each_other_without_a_circle() {
    let files = modules_of(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")));
    assert!(files.len() > 40, "found only {} files", files.len());
    let known: BTreeSet<Module> = files.keys().cloned().collect();
    for level in [1, 2, usize::MAX] {
        let graph = graph(&files, &known, level);
        if let Some(circle) = find_circle(&graph) {
            panic!("import circle at level {level}: {}", circle.join(" -> "));
        }
    }
}

#[test]
fn the_circle_check_finds_a_circle() {
    let files = BTreeMap::from([
        (path("a"), "use crate::b::Thing;".to_owned()),
        (path("b"), "use crate::c::{x, y::Z};".to_owned()),
        (path("c::y"), "fn f() { super::super::a::g() }".to_owned()),
    ]);
    let known: BTreeSet<Module> = files.keys().cloned().collect();
    let circle = find_circle(&graph(&files, &known, 1)).expect("a circle");
    assert_eq!(circle.len(), 4, "{circle:?}");
    assert!(find_circle(&graph(&files, &known, usize::MAX)).is_some());
}

fn path(s: &str) -> Module {
    s.split("::").map(str::to_owned).collect()
}

/// Every `.rs` file under `dir` by module path, with its non-test source.
fn modules_of(dir: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read src") {
            let p = entry.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = p.strip_prefix(dir).expect("under src").with_extension("");
            let mut module: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            if module == ["lib"] || module == ["main"] {
                continue;
            }
            let text = std::fs::read_to_string(&p).expect("read file");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let code: String = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            out.insert(module, code);
        }
    }
    out
}

/// Edges between modules cut to `level` segments.
fn graph(
    files: &BTreeMap<Module, String>,
    known: &BTreeSet<Module>,
    level: usize,
) -> BTreeMap<Module, BTreeSet<Module>> {
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (me, code) in files {
        let from = cut(me, level);
        for used in paths_in(code) {
            let Some(target) = resolve(me, &used, known) else {
                continue;
            };
            let to = cut(&target, level);
            let related = to.starts_with(&from) || from.starts_with(&to);
            if !related {
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    edges
}

fn cut(m: &Module, level: usize) -> Module {
    m[..m.len().min(level)].to_vec()
}

/// The module a path names: `crate::`, `super::` and `self::` resolved,
/// then cut to the longest known module (the rest names an item).
fn resolve(me: &Module, used: &[String], known: &BTreeSet<Module>) -> Option<Module> {
    let mut base: Module = match used.first()?.as_str() {
        "crate" => Vec::new(),
        "self" => me.clone(),
        "super" => me.clone(),
        _ => return None,
    };
    let mut rest = &used[1..];
    if used[0] == "super" {
        base.pop();
        while rest.first().is_some_and(|s| s == "super") {
            base.pop();
            rest = &rest[1..];
        }
    }
    base.extend(rest.iter().cloned());
    (1..=base.len())
        .rev()
        .map(|n| base[..n].to_vec())
        .find(|m| known.contains(m))
}

/// Every path starting with `crate::`, `super::` or `self::`, with use
/// groups (`a::{b, c::d}`) expanded.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !is_ident(bytes[i - 1]);
        let starts = ["crate::", "super::", "self::"]
            .iter()
            .any(|p| bytes[i..].starts_with(p.as_bytes()));
        if boundary && starts {
            let (paths, end) = parse_path(code, i, Vec::new());
            out.extend(paths);
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    out
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Parses `seg::seg::{...}` from `i`; returns the paths and where it ended.
fn parse_path(code: &str, mut i: usize, prefix: Vec<String>) -> (Vec<Vec<String>>, usize) {
    let bytes = code.as_bytes();
    let mut segments = prefix;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'{' {
            let mut all = Vec::new();
            i += 1;
            loop {
                while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b',') {
                    i += 1;
                }
                if i >= bytes.len() || bytes[i] == b'}' {
                    return (all, i + 1);
                }
                let (paths, end) = parse_path(code, i, segments.clone());
                all.extend(paths);
                i = end;
            }
        }
        let start = i;
        while i < bytes.len() && is_ident(bytes[i]) {
            i += 1;
        }
        if i == start {
            return (vec![segments], i);
        }
        segments.push(code[start..i].to_owned());
        if bytes[i..].starts_with(b"::") {
            i += 2;
        } else {
            // Skip `as alias` so that it is not read as a segment.
            return (vec![segments], i);
        }
    }
}

/// One circle of the graph, if there is any.
fn find_circle(graph: &BTreeMap<Module, BTreeSet<Module>>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &Module,
        graph: &BTreeMap<Module, BTreeSet<Module>>,
        marks: &mut BTreeMap<Module, Mark>,
        trail: &mut Vec<Module>,
    ) -> Option<Vec<String>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = trail.iter().position(|m| m == node).unwrap_or(0);
                let mut circle: Vec<String> = trail[from..].iter().map(|m| m.join("::")).collect();
                circle.push(node.join("::"));
                return Some(circle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        trail.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, trail) {
                return Some(c);
            }
        }
        trail.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut marks, &mut Vec::new()))
}
