//! The house rules of `crates/flytekit/src`, checked on the source text (see ARCHITECTURE.md):
//!
//! - every top-level module belongs to a layer, and a file only uses modules of its own layer or
//!   of lower ones: foundation → definitions → serialization → runtime → cli;
//! - no import cycle: the top-level modules form a directed acyclic graph, and inside every
//!   module directory its parts (the files beside `mod.rs`, and sub-directories) do too. A part
//!   may use its module's root (`mod.rs`, where the module's shared definitions and facade live)
//!   — that is one concept split for size, not a cycle;
//! - internal code names items by the module that defines them, not through the crate root's
//!   re-exports (which would hide the real edge).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layer of each top-level module (lower numbers are lower layers).
const LAYERS: &[(&str, u8, &str)] = &[
    ("type_engine", 1, "foundation"),
    ("storage", 1, "foundation"),
    ("blob", 1, "foundation"),
    ("secrets", 1, "foundation"),
    ("deck", 1, "foundation"),
    ("execution", 1, "foundation"),
    ("image", 1, "foundation"),
    ("fast", 1, "foundation"),
    ("dataset", 1, "foundation"),
    ("disk_cache", 1, "foundation"),
    ("scheduler", 1, "foundation"),
    ("task", 2, "definitions"),
    ("settings", 2, "definitions"),
    ("resolver", 2, "definitions"),
    ("workflow", 2, "definitions"),
    ("map", 2, "definitions"),
    ("dynamic", 2, "definitions"),
    ("instance", 2, "definitions"),
    ("bundle", 2, "definitions"),
    ("payload_plan", 2, "definitions"),
    ("serialization", 3, "serialization"),
    ("contract", 4, "runtime"),
    ("elements", 4, "runtime"),
    ("dispatch", 4, "runtime"),
    ("offload", 4, "runtime"),
    ("entrypoint", 4, "runtime"),
    ("engine", 4, "runtime"),
    ("cli", 5, "cli"),
];

/// A source file and the module it is.
struct File {
    path: PathBuf,
    module: Vec<String>,
    is_mod: bool,
    text: String,
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn files(root: &Path) -> Vec<File> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read src") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut paths = Vec::new();
    walk(root, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(root).expect("under src");
            let mut module: Vec<String> = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let last = module.last().cloned().unwrap_or_default();
            let is_mod = last == "mod" || last == "lib";
            if is_mod {
                module.pop();
            }
            File {
                text: code_only(&std::fs::read_to_string(&p).expect("read file")),
                path: rel.to_path_buf(),
                module,
                is_mod,
            }
        })
        .collect()
}

/// The source without comments, string literals and the unit tests at the end of the file
/// (`#[cfg(test)] mod tests`, which may use any layer): what the compiler sees as paths.
fn code_only(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A char literal such as '"'.
            out.push_str("' '");
            i += 3;
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Every path that starts with `crate`, `super` or `self`, with use-trees expanded.
fn paths(code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let b = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        let start_ok = i == 0 || !(is_ident(b[i - 1]) || b[i - 1] == b':');
        let kw = ["crate", "super", "self"]
            .into_iter()
            .find(|k| code[i..].starts_with(k) && code[i + k.len()..].starts_with("::"));
        match (start_ok, kw) {
            (true, Some(k)) => {
                let (tree, end) = parse_tree(code, i);
                expand(&tree, &mut Vec::new(), &mut out);
                let _ = k;
                i = end.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

/// A use-tree: a path segment list, then either nothing or a group of sub-trees.
#[derive(Debug)]
struct Tree {
    segments: Vec<String>,
    group: Vec<Tree>,
}

fn parse_tree(code: &str, mut i: usize) -> (Tree, usize) {
    let b = code.as_bytes();
    let is_ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut segments = Vec::new();
    let mut group = Vec::new();
    loop {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < b.len() && b[i] == b'{' {
            i += 1;
            loop {
                while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b',') {
                    i += 1;
                }
                if i >= b.len() || b[i] == b'}' {
                    i += 1;
                    break;
                }
                let (t, end) = parse_tree(code, i);
                group.push(t);
                i = end;
                // Skip an `as alias`.
                while i < b.len() && b[i] != b',' && b[i] != b'}' {
                    i += 1;
                }
            }
            break;
        }
        let s = i;
        while i < b.len() && is_ident(b[i]) {
            i += 1;
        }
        if s == i {
            break;
        }
        segments.push(code[s..i].to_string());
        if code[i..].starts_with("::") {
            i += 2;
        } else {
            break;
        }
    }
    (Tree { segments, group }, i)
}

fn expand(t: &Tree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let n = prefix.len();
    prefix.extend(t.segments.iter().cloned());
    if t.group.is_empty() {
        out.push(prefix.clone());
    } else {
        for g in &t.group {
            expand(g, prefix, out);
        }
    }
    prefix.truncate(n);
}

/// The relative `use child::...` / `pub use child::...` lines of a module file: edges to its
/// child modules.
fn child_uses(code: &str, children: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for stmt in code.split(';') {
        let s = stmt.trim();
        let s = s
            .strip_prefix("pub(crate) ")
            .or_else(|| s.strip_prefix("pub(super) "))
            .or_else(|| s.strip_prefix("pub "))
            .unwrap_or(s);
        if let Some(rest) = s.strip_prefix("use ") {
            let first: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if children.contains(&first) {
                out.insert(first);
            }
        }
    }
    out
}

struct Graph {
    files: Vec<File>,
    by_module: BTreeMap<Vec<String>, usize>,
    edges: Vec<BTreeSet<usize>>,
    root_uses: Vec<(String, String)>,
}

fn graph(root: &Path) -> Graph {
    let files = files(root);
    let by_module: BTreeMap<Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    let mut edges = vec![BTreeSet::new(); files.len()];
    let mut root_uses = Vec::new();
    for (i, f) in files.iter().enumerate() {
        for p in paths(&f.text) {
            let mut abs: Vec<String> = match p[0].as_str() {
                "crate" => Vec::new(),
                "super" => {
                    let mut m = f.module.clone();
                    let mut rest = &p[..];
                    while rest.first().map(String::as_str) == Some("super") {
                        m.pop();
                        rest = &rest[1..];
                    }
                    m.extend(rest.iter().cloned());
                    edges_to(&by_module, &m, i, &mut edges);
                    continue;
                }
                _ => f.module.clone(),
            };
            abs.extend(p[1..].iter().cloned());
            if p[0] == "crate"
                && let Some(first) = p.get(1)
                && !by_module.contains_key(&vec![first.clone()])
                && first
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || first == "idl")
            {
                root_uses.push((f.path.display().to_string(), p.join("::")));
            }
            edges_to(&by_module, &abs, i, &mut edges);
        }
        if f.is_mod {
            let children: BTreeSet<String> = by_module
                .keys()
                .filter(|m| m.len() == f.module.len() + 1 && m.starts_with(&f.module))
                .filter_map(|m| m.last().cloned())
                .collect();
            for c in child_uses(&f.text, &children) {
                let mut m = f.module.clone();
                m.push(c);
                edges_to(&by_module, &m, i, &mut edges);
            }
        }
    }
    Graph {
        files,
        by_module,
        edges,
        root_uses,
    }
}

/// Adds an edge from file `from` to the file defining the longest prefix of `path`.
fn edges_to(
    by_module: &BTreeMap<Vec<String>, usize>,
    path: &[String],
    from: usize,
    edges: &mut [BTreeSet<usize>],
) {
    for n in (1..=path.len()).rev() {
        if let Some(&to) = by_module.get(&path[..n]) {
            if to != from {
                edges[from].insert(to);
            }
            return;
        }
    }
}

fn layer(module: &[String]) -> Option<(u8, &'static str)> {
    let top = module.first()?;
    LAYERS
        .iter()
        .find(|(m, _, _)| m == top)
        .map(|(_, l, name)| (*l, *name))
}

#[test]
fn every_top_level_module_has_a_layer() {
    let g = graph(&src());
    let missing: BTreeSet<String> = g
        .files
        .iter()
        .filter(|f| !f.module.is_empty() && layer(&f.module).is_none())
        .map(|f| f.module[0].clone())
        .collect();
    assert!(
        missing.is_empty(),
        "add these modules to LAYERS in tests/architecture.rs and ARCHITECTURE.md: {missing:?}"
    );
}

/// Every use of a higher layer, as `file (layer) uses file (layer)`.
fn upward_edges(g: &Graph) -> Vec<String> {
    let mut upward = Vec::new();
    for (i, f) in g.files.iter().enumerate() {
        let Some((from, from_name)) = layer(&f.module) else {
            continue;
        };
        for &j in &g.edges[i] {
            let t = &g.files[j];
            if let Some((to, to_name)) = layer(&t.module)
                && to > from
            {
                upward.push(format!(
                    "{} ({from_name}) uses {} ({to_name})",
                    f.path.display(),
                    t.path.display()
                ));
            }
        }
    }
    upward
}

#[test]
fn layers_only_point_down() {
    let upward = upward_edges(&graph(&src()));
    assert!(
        upward.is_empty(),
        "upward edges:\n  {}",
        upward.join("\n  ")
    );
}

/// The strongly connected components (of more than one node) of a directed graph.
fn cycles(n: usize, edges: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<Vec<usize>> {
    struct T<'a> {
        edges: &'a BTreeMap<usize, BTreeSet<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        sccs: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        let next: Vec<usize> = t.edges.get(&v).into_iter().flatten().copied().collect();
        for w in next {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                t.sccs.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        sccs: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.sccs
}

/// Every import cycle: among the top-level modules, and among the parts of each module directory.
fn import_cycles(g: &Graph) -> Vec<String> {
    // Every module directory (and the crate root) with its parts: the child module each file
    // belongs to. Edges between files become edges between the parts that hold them.
    let mut problems = Vec::new();
    let dirs: BTreeSet<Vec<String>> = g
        .files
        .iter()
        .filter(|f| f.is_mod)
        .map(|f| f.module.clone())
        .collect();
    for dir in &dirs {
        let part_of = |f: &File| -> Option<String> {
            (f.module.len() > dir.len() && f.module.starts_with(dir))
                .then(|| f.module[dir.len()].clone())
        };
        let parts: Vec<String> = g
            .files
            .iter()
            .filter_map(part_of)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let id = |p: &str| parts.iter().position(|x| x == p);
        let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
        let mut why: BTreeMap<(usize, usize), String> = BTreeMap::new();
        for (i, f) in g.files.iter().enumerate() {
            let Some(from) = part_of(f).and_then(|p| id(&p)) else {
                continue;
            };
            for &j in &g.edges[i] {
                let Some(to) = part_of(&g.files[j]).and_then(|p| id(&p)) else {
                    continue;
                };
                if from != to {
                    edges.entry(from).or_default().insert(to);
                    why.entry((from, to)).or_insert_with(|| {
                        format!("{} → {}", f.path.display(), g.files[j].path.display())
                    });
                }
            }
        }
        for scc in cycles(parts.len(), &edges) {
            let mut shown: Vec<String> = why
                .iter()
                .filter(|((a, b), _)| scc.contains(a) && scc.contains(b))
                .map(|(_, w)| w.clone())
                .collect();
            shown.sort();
            problems.push(format!(
                "in {}: {}",
                if dir.is_empty() {
                    "the crate".to_string()
                } else {
                    dir.join("::")
                },
                shown.join(", ")
            ));
        }
    }
    problems
}

#[test]
fn no_import_cycle() {
    let g = graph(&src());
    let problems = import_cycles(&g);
    assert!(
        problems.is_empty(),
        "import cycles (each line: the uses that close one cycle):\n  {}",
        problems.join("\n  ")
    );
    // The check sees real edges: the engine uses the scheduler.
    let engine = g.by_module[&vec!["engine".to_string(), "exec".to_string()]];
    let scheduler = g.by_module[&vec!["scheduler".to_string()]];
    assert!(g.edges[engine].contains(&scheduler));
}

#[test]
fn internal_code_names_the_defining_module() {
    let g = graph(&src());
    assert!(
        g.root_uses.is_empty(),
        "these files use the crate root's re-exports; name the defining module instead:\n  {}",
        g.root_uses
            .iter()
            .map(|(f, p)| format!("{f}: {p}"))
            .collect::<Vec<_>>()
            .join("\n  ")
    );
}

/// The checks find what they look for, on a small tree with one of each mistake.
#[test]
fn the_checks_catch_upward_edges_cycles_and_root_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(p, text).expect("write");
    };
    write(
        "lib.rs",
        "pub mod task;\npub mod engine;\npub use task::Task;\n",
    );
    write(
        "task/mod.rs",
        "// crate::engine in a comment is no edge\nuse crate::engine::Engine;\npub struct Task;\n",
    );
    write(
        "engine/mod.rs",
        "mod a;\nmod b;\nuse crate::task::{Task, self};\npub struct Engine;\n",
    );
    write(
        "engine/a.rs",
        "use super::b::X;\nuse crate::Task;\npub struct Y;\n",
    );
    write(
        "engine/b.rs",
        "pub struct X;\nfn f() { let _ = super::a::Y; }\n#[cfg(test)]\nmod tests {\n    use crate::engine::Nothing;\n}\n",
    );
    let g = graph(root);
    let upward = upward_edges(&g);
    assert_eq!(
        upward,
        vec!["task/mod.rs (definitions) uses engine/mod.rs (runtime)".to_string()]
    );
    let cycles = import_cycles(&g);
    assert!(
        cycles
            .iter()
            .any(|c| c.starts_with("in engine:") && c.contains("engine/a.rs → engine/b.rs")),
        "{cycles:?}"
    );
    assert!(
        cycles.iter().any(|c| c.starts_with("in the crate:")),
        "task ⇄ engine: {cycles:?}"
    );
    assert_eq!(
        g.root_uses,
        vec![("engine/a.rs".to_string(), "crate::Task".to_string())]
    );
}
