//! Descriptor conformance: every prost message and enum of this crate against the Python `flyteidl`.
//!
//! The Rust side is read from the crate's own source with `syn` (nothing is generated, so the
//! source *is* the schema): for each `::prost::Message` struct the `#[prost(...)]` attributes of its
//! fields and of the variants of its `::prost::Oneof` enums, for each `::prost::Enumeration` enum its
//! discriminants and `as_str_name`/`from_str_name` arms, and the `prost::Name` of each message.
//! The Python side is `conformance/idl_descriptors.py`, which dumps the descriptors of every
//! `flyteidl.core`, `flyteidl.admin`, `flyteidl.event` and `flyteidl.service` module. Any
//! difference fails the test with the message and field named.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Attribute, Expr, Fields, Item, Lit, Meta, Token};

/// The proto packages this crate implements, one directory of `src/` each.
const PACKAGES: [&str; 4] = ["core", "admin", "event", "service"];

/// The admin proto files this crate implements in full.
const ADMIN_FILES: [&str; 11] = [
    "task",
    "workflow",
    "launch_plan",
    "execution",
    "node_execution",
    "signal",
    "common",
    "schedule",
    "description_entity",
    "matchable_resource",
    "cluster_assignment",
];

/// The service proto files whose messages this crate implements in full (the services themselves
/// are clients in `flytekit-remote`).
const SERVICE_FILES: [&str; 2] = ["auth", "dataproxy"];

// ---------------------------------------------------------------------------------------------
// Python descriptors
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
struct PyDump {
    messages: BTreeMap<String, PyMessage>,
    enums: BTreeMap<String, PyEnum>,
    files: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct PyMessage {
    file: String,
    fields: Vec<PyField>,
}

#[derive(Debug, Deserialize)]
struct PyField {
    name: String,
    number: u32,
    #[serde(rename = "type")]
    ty: String,
    label: String,
    repeated: bool,
    type_name: Option<String>,
    oneof: Option<String>,
    proto3_optional: bool,
    map: Option<PyMap>,
}

#[derive(Debug, Deserialize)]
struct PyMap {
    key: String,
    value: String,
    value_type_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PyEnum {
    file: String,
    values: Vec<(String, i32)>,
}

fn python() -> &'static PyDump {
    static DUMP: OnceLock<PyDump> = OnceLock::new();
    DUMP.get_or_init(|| {
        let out = flytekit_oracle::run_script("idl_descriptors.py", &[], b"");
        serde_json::from_slice(&out.stdout).expect("idl_descriptors.py prints JSON")
    })
}

// ---------------------------------------------------------------------------------------------
// Naming rules of prost-build (heck 0.5 word splitting)
// ---------------------------------------------------------------------------------------------

/// Splits an identifier into words the way `heck` does (which prost-build uses for names).
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in s.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        let mut init = 0;
        // 0 = boundary, 1 = lowercase, 2 = uppercase
        let mut mode = 0;
        for (pos, &(i, c)) in chars.iter().enumerate() {
            match chars.get(pos + 1) {
                Some(&(next_i, next)) => {
                    let next_mode = if c.is_lowercase() {
                        1
                    } else if c.is_uppercase() {
                        2
                    } else {
                        mode
                    };
                    if next_mode == 1 && next.is_uppercase() {
                        out.push(word[init..next_i].to_string());
                        init = next_i;
                        mode = 0;
                    } else if mode == 2 && c.is_uppercase() && next.is_lowercase() {
                        out.push(word[init..i].to_string());
                        init = i;
                        mode = 0;
                    } else {
                        mode = next_mode;
                    }
                }
                None => {
                    out.push(word[init..].to_string());
                    break;
                }
            }
        }
    }
    out.retain(|w| !w.is_empty());
    out
}

fn snake(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

fn camel(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(cs.flat_map(|c| c.to_lowercase()))
                    .collect(),
                None => String::new(),
            }
        })
        .collect()
}

/// A Rust identifier as prost-build spells a proto field: `r#type` is `type`, `self_` is `self`.
fn unraw(ident: &str) -> String {
    let s = ident.strip_prefix("r#").unwrap_or(ident);
    match s {
        "self_" | "super_" | "crate_" | "Self_" => s.trim_end_matches('_').to_string(),
        _ => s.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------
// Rust side: parsing the crate source
// ---------------------------------------------------------------------------------------------

/// A Rust item's position in proto terms: package and the chain of Rust idents of the enclosing
/// messages followed by its own ident (e.g. `core`, `[Literal]` or `core`, `[Literal, Value]`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
struct Key {
    pkg: String,
    idents: Vec<String>,
}

impl Key {
    fn child(&self, ident: &str) -> Key {
        let mut idents = self.idents.clone();
        idents.push(ident.to_string());
        Key {
            pkg: self.pkg.clone(),
            idents,
        }
    }
    fn show(&self) -> String {
        format!("{}::{}", self.pkg, self.idents.join("::"))
    }
}

/// A field type as written in a `#[prost]` attribute plus the Rust type it annotates.
#[derive(Clone, Debug)]
enum RType {
    Scalar(String),
    /// Proto full name of the message type (wrappers and well-known types included).
    Message(String),
    /// Proto full name of the enum type.
    Enum(String),
    Map(String, Box<RType>),
}

impl RType {
    fn show(&self) -> String {
        match self {
            RType::Scalar(s) => s.clone(),
            RType::Message(m) => format!("message {m}"),
            RType::Enum(e) => format!("enum {e}"),
            RType::Map(k, v) => format!("map<{k}, {}>", v.show()),
        }
    }
}

#[derive(Clone, Debug)]
struct RField {
    /// Rust field or variant ident.
    ident: String,
    number: u32,
    ty: RType,
    repeated: bool,
    optional: bool,
    packed_false: bool,
    /// For oneof members: the Rust field that holds the oneof.
    oneof: Option<String>,
}

#[derive(Debug)]
struct RMessage {
    file: PathBuf,
    fields: Vec<RField>,
    errors: Vec<String>,
}

#[derive(Debug)]
struct REnum {
    file: PathBuf,
    /// Variant ident -> discriminant.
    discriminants: Vec<(String, i64)>,
    /// Variant ident -> proto name (from `as_str_name`).
    str_names: BTreeMap<String, String>,
    /// Proto name -> variant ident (from `from_str_name`).
    from_names: BTreeMap<String, String>,
}

/// A raw field before type paths are resolved.
struct RawField {
    ident: String,
    attrs: Vec<(String, Option<String>)>,
    ty: syn::Type,
    scope: Vec<String>,
}

struct RawOneof {
    variants: Vec<RawField>,
}

/// Everything read from the source.
#[derive(Default)]
struct Crate {
    messages: BTreeMap<Key, RMessage>,
    enums: BTreeMap<Key, REnum>,
    /// Rust module path (`[pkg, file, nested...]`) -> proto scope of the module.
    mod_scopes: HashMap<Vec<String>, Key>,
    /// `use` imports: module path -> alias -> imported path.
    imports: HashMap<Vec<String>, HashMap<String, Vec<String>>>,
    /// Glob imports: module path -> imported paths.
    globs: HashMap<Vec<String>, Vec<Vec<String>>>,
    /// Message key -> `prost::Name::NAME` values found for it.
    names: BTreeMap<Key, Vec<String>>,
    errors: Vec<String>,
    raw_messages: Vec<(Key, PathBuf, Vec<RawField>, Vec<String>)>,
    raw_oneofs: HashMap<Key, RawOneof>,
    raw_names: Vec<(Vec<String>, syn::Type, String)>,
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn derives(attrs: &[Attribute]) -> Vec<String> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        if let Ok(paths) =
            attr.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
        {
            for p in paths {
                out.push(p.segments.last().unwrap().ident.to_string());
            }
        }
    }
    out
}

fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.meta
                .require_list()
                .map(|l| l.tokens.to_string().contains("test"))
                .unwrap_or(false)
    })
}

/// The `#[prost(...)]` items of a field, as (name, string value) pairs.
fn prost_attrs(attrs: &[Attribute]) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("prost")) {
        let metas = attr
            .parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
            .unwrap_or_else(|e| panic!("unparsable #[prost] attribute: {e}"));
        for meta in metas {
            match meta {
                Meta::Path(p) => out.push((p.get_ident().unwrap().to_string(), None)),
                Meta::NameValue(nv) => {
                    let value = match &nv.value {
                        Expr::Lit(l) => match &l.lit {
                            Lit::Str(s) => s.value(),
                            Lit::Int(i) => i.base10_digits().to_string(),
                            Lit::Bool(b) => b.value.to_string(),
                            other => panic!("unexpected literal in #[prost]: {other:?}"),
                        },
                        other => panic!("unexpected value in #[prost]: {}", quote::quote!(#other)),
                    };
                    out.push((nv.path.get_ident().unwrap().to_string(), Some(value)));
                }
                Meta::List(l) => out.push((
                    l.path.get_ident().unwrap().to_string(),
                    Some(l.tokens.to_string()),
                )),
            }
        }
    }
    out
}

fn path_segments(path: &syn::Path) -> Vec<String> {
    let mut segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if path.leading_colon.is_some() {
        segs.insert(0, String::new());
    }
    segs
}

/// Collects the string literals of `Self::X => "NAME"` arms (as_str_name) or
/// `"NAME" => Some(Self::X)` arms (from_str_name).
#[derive(Default)]
struct ArmCollector {
    pairs: Vec<(String, String)>,
}

fn last_ident_of_expr(e: &Expr) -> Option<String> {
    match e {
        Expr::Block(b) => match b.block.stmts.last()? {
            syn::Stmt::Expr(inner, None) => last_ident_of_expr(inner),
            _ => None,
        },
        Expr::Paren(p) => last_ident_of_expr(&p.expr),
        Expr::Path(p) => Some(p.path.segments.last()?.ident.to_string()),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if p.path.is_ident("Some") => c.args.first().and_then(last_ident_of_expr),
            _ => None,
        },
        _ => None,
    }
}

impl<'ast> Visit<'ast> for ArmCollector {
    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        match (&arm.pat, &*arm.body) {
            (syn::Pat::Path(p), Expr::Lit(l)) => {
                if let Lit::Str(s) = &l.lit {
                    self.pairs
                        .push((p.path.segments.last().unwrap().ident.to_string(), s.value()));
                }
            }
            (syn::Pat::Lit(l), body) => {
                if let (Lit::Str(s), Some(v)) = (&l.lit, last_ident_of_expr(body)) {
                    self.pairs.push((v, s.value()));
                }
            }
            _ => {}
        }
        syn::visit::visit_arm(self, arm);
    }
}

/// Flattens a `use` tree into (alias, full path) pairs and glob paths.
fn flatten_use(
    tree: &syn::UseTree,
    prefix: Vec<String>,
    out: &mut Vec<(String, Vec<String>)>,
    globs: &mut Vec<Vec<String>>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            let mut pre = prefix;
            pre.push(p.ident.to_string());
            flatten_use(&p.tree, pre, out, globs);
        }
        syn::UseTree::Name(n) => {
            let mut full = prefix;
            full.push(n.ident.to_string());
            out.push((n.ident.to_string(), full));
        }
        syn::UseTree::Rename(r) => {
            let mut full = prefix;
            full.push(r.ident.to_string());
            out.push((r.rename.to_string(), full));
        }
        syn::UseTree::Glob(_) => globs.push(prefix),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix.clone(), out, globs);
            }
        }
    }
}

/// Parses `impl_name! { Type => "Name", ... }` style macro bodies.
struct NameEntries(Vec<(syn::Type, String)>);

impl syn::parse::Parse for NameEntries {
    fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
        let mut out = Vec::new();
        while !input.is_empty() {
            let ty: syn::Type = input.parse()?;
            input.parse::<Token![=>]>()?;
            let name: syn::LitStr = input.parse()?;
            out.push((ty, name.value()));
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(NameEntries(out))
    }
}

impl Crate {
    fn load() -> Crate {
        let mut krate = Crate::default();
        for pkg in PACKAGES {
            let dir = src_dir().join(pkg);
            if !dir.is_dir() {
                continue;
            }
            let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
            files.sort();
            for file in files {
                let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&file).unwrap();
                let ast =
                    syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
                let modpath = vec![pkg.to_string(), stem];
                let scope = Key {
                    pkg: pkg.to_string(),
                    idents: vec![],
                };
                krate.walk(&file, &ast.items, modpath, scope);
            }
        }
        krate.resolve_all();
        krate
    }

    fn walk(&mut self, file: &Path, items: &[Item], modpath: Vec<String>, scope: Key) {
        self.mod_scopes.insert(modpath.clone(), scope.clone());
        // Messages of this scope first: nested modules refer back to them.
        let mut structs: Vec<String> = Vec::new();
        for item in items {
            if let Item::Struct(s) = item
                && derives(&s.attrs).iter().any(|d| d == "Message")
            {
                structs.push(s.ident.to_string());
            }
        }
        for item in items {
            match item {
                Item::Struct(s) if derives(&s.attrs).iter().any(|d| d == "Message") => {
                    let key = scope.child(&s.ident.to_string());
                    let mut fields = Vec::new();
                    let mut errors = Vec::new();
                    if let Fields::Named(named) = &s.fields {
                        for f in &named.named {
                            let attrs = prost_attrs(&f.attrs);
                            if attrs.is_empty() {
                                errors.push(format!(
                                    "field `{}` has no #[prost] attribute",
                                    f.ident.as_ref().unwrap()
                                ));
                                continue;
                            }
                            fields.push(RawField {
                                ident: f.ident.as_ref().unwrap().to_string(),
                                attrs,
                                ty: f.ty.clone(),
                                scope: modpath.clone(),
                            });
                        }
                    }
                    self.raw_messages
                        .push((key, file.to_path_buf(), fields, errors));
                }
                Item::Enum(e) => {
                    let d = derives(&e.attrs);
                    let key = scope.child(&e.ident.to_string());
                    if d.iter().any(|x| x == "Enumeration") {
                        let mut discriminants = Vec::new();
                        let mut next = 0i64;
                        for v in &e.variants {
                            if let Some((_, expr)) = &v.discriminant {
                                next = match expr {
                                    Expr::Lit(l) => match &l.lit {
                                        Lit::Int(i) => i.base10_parse().unwrap(),
                                        _ => panic!("non-integer discriminant"),
                                    },
                                    Expr::Unary(u) => match &*u.expr {
                                        Expr::Lit(l) => match &l.lit {
                                            Lit::Int(i) => -i.base10_parse::<i64>().unwrap(),
                                            _ => panic!("non-integer discriminant"),
                                        },
                                        _ => panic!("non-literal discriminant"),
                                    },
                                    _ => panic!("non-literal discriminant"),
                                };
                            }
                            discriminants.push((v.ident.to_string(), next));
                            next += 1;
                        }
                        let entry = self.enums.entry(key.clone()).or_insert_with(|| REnum {
                            file: file.to_path_buf(),
                            discriminants: vec![],
                            str_names: BTreeMap::new(),
                            from_names: BTreeMap::new(),
                        });
                        if !entry.discriminants.is_empty() {
                            self.errors
                                .push(format!("enum {} defined twice", key.show()));
                        }
                        entry.discriminants = discriminants;
                    } else if d.iter().any(|x| x == "Oneof") {
                        let variants = e
                            .variants
                            .iter()
                            .map(|v| {
                                let ty = match &v.fields {
                                    Fields::Unnamed(u) if u.unnamed.len() == 1 => {
                                        u.unnamed[0].ty.clone()
                                    }
                                    _ => panic!("oneof variant {} must hold one value", v.ident),
                                };
                                RawField {
                                    ident: v.ident.to_string(),
                                    attrs: prost_attrs(&v.attrs),
                                    ty,
                                    scope: modpath.clone(),
                                }
                            })
                            .collect();
                        self.raw_oneofs.insert(key, RawOneof { variants });
                    }
                }
                Item::Impl(imp) => {
                    let self_ident = match &*imp.self_ty {
                        syn::Type::Path(p) => p.path.segments.last().unwrap().ident.to_string(),
                        _ => continue,
                    };
                    let is_name = imp
                        .trait_
                        .as_ref()
                        .is_some_and(|(_, p, _)| p.segments.last().unwrap().ident == "Name");
                    if is_name {
                        for ii in &imp.items {
                            if let syn::ImplItem::Const(c) = ii
                                && c.ident == "NAME"
                                && let Expr::Lit(l) = &c.expr
                                && let Lit::Str(s) = &l.lit
                            {
                                self.raw_names.push((
                                    modpath.clone(),
                                    (*imp.self_ty).clone(),
                                    s.value(),
                                ));
                            }
                        }
                    } else if imp.trait_.is_none() {
                        for ii in &imp.items {
                            if let syn::ImplItem::Fn(f) = ii {
                                let which = f.sig.ident.to_string();
                                if which != "as_str_name" && which != "from_str_name" {
                                    continue;
                                }
                                let mut arms = ArmCollector::default();
                                arms.visit_block(&f.block);
                                let key = scope.child(&self_ident);
                                // Enum items may follow their impl in theory; stash by key.
                                let entry = self.enums.entry(key).or_insert_with(|| REnum {
                                    file: file.to_path_buf(),
                                    discriminants: vec![],
                                    str_names: BTreeMap::new(),
                                    from_names: BTreeMap::new(),
                                });
                                for (variant, name) in arms.pairs {
                                    if which == "as_str_name" {
                                        entry.str_names.insert(variant, name);
                                    } else {
                                        entry.from_names.insert(name, variant);
                                    }
                                }
                            }
                        }
                    }
                }
                Item::Macro(m)
                    if m.mac
                        .path
                        .segments
                        .last()
                        .is_some_and(|s| s.ident == "impl_name") =>
                {
                    let entries: NameEntries = m.mac.parse_body().unwrap_or_else(|e| {
                        panic!("{}: unparsable impl_name! body: {e}", file.display())
                    });
                    for (ty, name) in entries.0 {
                        self.raw_names.push((modpath.clone(), ty, name));
                    }
                }
                Item::Use(u) => {
                    let mut pairs = Vec::new();
                    let mut globs = Vec::new();
                    let prefix = if u.leading_colon.is_some() {
                        vec![String::new()]
                    } else {
                        vec![]
                    };
                    flatten_use(&u.tree, prefix, &mut pairs, &mut globs);
                    let imports = self.imports.entry(modpath.clone()).or_default();
                    for (alias, path) in pairs {
                        imports.insert(alias, path);
                    }
                    self.globs.entry(modpath.clone()).or_default().extend(globs);
                }
                Item::Mod(m) => {
                    if is_cfg_test(&m.attrs) {
                        continue;
                    }
                    let Some((_, content)) = &m.content else {
                        continue;
                    };
                    let name = m.ident.to_string();
                    let Some(owner) = structs.iter().find(|s| snake(s) == name) else {
                        self.errors.push(format!(
                            "{}: module `{name}` does not belong to a message of its scope (expected a struct whose snake_case name is `{name}`)",
                            file.display()
                        ));
                        continue;
                    };
                    let mut sub = modpath.clone();
                    sub.push(name);
                    self.walk(file, content, sub, scope.child(owner));
                }
                _ => {}
            }
        }
    }

    fn known(&self, key: &Key) -> bool {
        self.raw_messages.iter().any(|(k, ..)| k == key)
            || self.enums.contains_key(key)
            || self.raw_oneofs.contains_key(key)
    }

    /// Resolves a Rust path written in module `modpath` to the key of a crate item, or to a
    /// well-known type's proto name (`Err`).
    fn resolve(&self, segs: &[String], modpath: &[String]) -> Result<Key, String> {
        let mut segs: Vec<String> = segs.to_vec();
        let mut module: Vec<String> = modpath.to_vec();
        if segs.first().is_some_and(|s| s.is_empty()) {
            segs.remove(0);
            if segs.first().is_some_and(|s| s == "prost_types") && segs.len() == 2 {
                return Err(format!("google.protobuf.{}", segs[1]));
            }
            panic!("cannot resolve absolute path ::{}", segs.join("::"));
        }
        if segs.first().is_some_and(|s| s == "prost_types") && segs.len() == 2 {
            return Err(format!("google.protobuf.{}", segs[1]));
        }
        if segs.first().is_some_and(|s| s == "crate") {
            segs.remove(0);
            if segs.first().is_some_and(|s| s == "wkt") && segs.len() == 2 {
                return Err(format!("google.protobuf.{}", segs[1]));
            }
            module = vec![segs.remove(0)];
        } else if segs.len() == 1 || !segs.first().is_some_and(|s| s == "super" || s == "self") {
            // A leading name may be an import of this module.
            if let Some(path) = self.imports.get(&module).and_then(|m| m.get(&segs[0])) {
                let mut full = path.clone();
                full.extend(segs[1..].iter().cloned());
                return self.resolve(&full, &module);
            }
        }
        while let Some(first) = segs.first() {
            if first == "super" {
                module.pop();
                segs.remove(0);
            } else if first == "self" {
                segs.remove(0);
            } else {
                break;
            }
        }
        let Some((last, mids)) = segs.split_last() else {
            panic!("empty path")
        };
        // The proto scope of the module we are in (package and file modules are the package).
        let mut scope = if module.len() <= 2 {
            Key {
                pkg: module[0].clone(),
                idents: vec![],
            }
        } else {
            self.mod_scopes
                .get(&module)
                .cloned()
                .unwrap_or_else(|| panic!("unknown module {}", module.join("::")))
        };
        let mut cur = module.clone();
        for (i, m) in mids.iter().enumerate() {
            // At package level a lowercase segment may name a file module: skip it, unless it is a
            // nested module re-exported by the package.
            let nested = self.mod_scopes.iter().find(|(p, k)| {
                p.len() >= 3
                    && p.last() == Some(m)
                    && k.pkg == scope.pkg
                    && k.idents.len() == scope.idents.len() + 1
                    && k.idents.starts_with(&scope.idents)
            });
            match nested {
                Some((p, k)) => {
                    cur = p.clone();
                    scope = k.clone();
                }
                None if i == 0 && cur.len() == 1 => {
                    cur.push(m.clone());
                }
                None => {
                    return Err(format!(
                        "unresolvable path segment `{m}` in {}",
                        segs.join("::")
                    ));
                }
            }
        }
        let key = scope.child(last);
        if self.known(&key) {
            return Ok(key);
        }
        // Not defined here: try the imports and globs of the module.
        if let Some(path) = self.imports.get(&cur).and_then(|m| m.get(last)) {
            return self.resolve(path, &cur);
        }
        for glob in self.globs.get(&cur).cloned().unwrap_or_default() {
            let mut full = glob.clone();
            full.push(last.clone());
            if let Ok(k) = self.resolve(&full, &cur) {
                return Ok(k);
            }
        }
        if scope.idents.is_empty() {
            // Package level: glob re-exports make every file's items visible.
            let k = Key {
                pkg: scope.pkg.clone(),
                idents: vec![last.clone()],
            };
            if self.known(&k) {
                return Ok(k);
            }
        }
        Err(format!(
            "cannot resolve `{}` from module {}",
            segs.join("::"),
            modpath.join("::")
        ))
    }

    fn resolve_all(&mut self) {
        let raw_messages = std::mem::take(&mut self.raw_messages);
        // `known` looks at raw_messages; keep the keys visible while resolving.
        self.raw_messages = raw_messages
            .iter()
            .map(|(k, f, _, e)| (k.clone(), f.clone(), vec![], e.clone()))
            .collect();
        let mut messages = BTreeMap::new();
        for (key, file, raw, mut errors) in raw_messages {
            let mut fields = Vec::new();
            for rf in &raw {
                let attr = |name: &str| {
                    rf.attrs
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.clone())
                };
                if let Some(Some(oneof)) = attr("oneof") {
                    let segs: Vec<String> =
                        oneof.split("::").map(|s| s.trim().to_string()).collect();
                    let okey = match self.resolve(&segs, &rf.scope) {
                        Ok(k) => k,
                        Err(e) => {
                            errors.push(format!("field `{}`: {e}", rf.ident));
                            continue;
                        }
                    };
                    let Some(oneof_def) = self.raw_oneofs.get(&okey) else {
                        errors.push(format!(
                            "field `{}`: oneof enum {} not found",
                            rf.ident,
                            okey.show()
                        ));
                        continue;
                    };
                    let declared: BTreeSet<u32> = attr("tags")
                        .flatten()
                        .unwrap_or_default()
                        .split(',')
                        .filter(|s| !s.trim().is_empty())
                        .map(|s| s.trim().parse().unwrap())
                        .collect();
                    let mut seen = BTreeSet::new();
                    for v in &oneof_def.variants {
                        match self.field_of(v, Some(rf.ident.clone())) {
                            Ok(f) => {
                                seen.insert(f.number);
                                fields.push(f);
                            }
                            Err(e) => errors
                                .push(format!("oneof `{}` variant `{}`: {e}", rf.ident, v.ident)),
                        }
                    }
                    if declared != seen {
                        errors.push(format!(
                            "oneof field `{}` declares tags {declared:?} but its variants have tags {seen:?}",
                            rf.ident
                        ));
                    }
                    continue;
                }
                match self.field_of(rf, None) {
                    Ok(f) => fields.push(f),
                    Err(e) => errors.push(format!("field `{}`: {e}", rf.ident)),
                }
            }
            messages.insert(
                key,
                RMessage {
                    file,
                    fields,
                    errors,
                },
            );
        }
        self.messages = messages;
        for (modpath, ty, name) in std::mem::take(&mut self.raw_names) {
            let syn::Type::Path(p) = &ty else { continue };
            match self.resolve(&path_segments(&p.path), &modpath) {
                Ok(k) => self.names.entry(k).or_default().push(name),
                Err(e) => self
                    .errors
                    .push(format!("prost::Name impl for {}: {e}", quote::quote!(#ty))),
            }
        }
    }

    /// The type named by a Rust field type after stripping `Option`, `Box` and (for repeated
    /// fields) `Vec`; maps give their value type.
    fn message_type(
        &self,
        ty: &syn::Type,
        repeated: bool,
        map_value: bool,
        scope: &[String],
    ) -> Result<String, String> {
        let mut ty = ty.clone();
        let mut strip_vec = repeated;
        let mut map_value = map_value;
        loop {
            match &ty {
                syn::Type::Tuple(t) if t.elems.is_empty() => {
                    return Ok("google.protobuf.Empty".into());
                }
                syn::Type::Path(p) => {
                    let last = p.path.segments.last().unwrap();
                    let name = last.ident.to_string();
                    let args: Vec<syn::Type> = match &last.arguments {
                        syn::PathArguments::AngleBracketed(a) => a
                            .args
                            .iter()
                            .filter_map(|g| {
                                if let syn::GenericArgument::Type(t) = g {
                                    Some(t.clone())
                                } else {
                                    None
                                }
                            })
                            .collect(),
                        _ => vec![],
                    };
                    if map_value && (name == "HashMap" || name == "BTreeMap") && args.len() == 2 {
                        ty = args[1].clone();
                        map_value = false;
                        continue;
                    }
                    if (name == "Option" || name == "Box") && args.len() == 1 {
                        ty = args[0].clone();
                        continue;
                    }
                    if name == "Vec" && args.len() == 1 {
                        if strip_vec {
                            strip_vec = false;
                            ty = args[0].clone();
                            continue;
                        }
                        if quote::quote!(#(#args)*).to_string() == "u8" {
                            return Ok("google.protobuf.BytesValue".into());
                        }
                    }
                    let wrapper = match name.as_str() {
                        "bool" => Some("BoolValue"),
                        "String" => Some("StringValue"),
                        "i32" => Some("Int32Value"),
                        "i64" => Some("Int64Value"),
                        "u32" => Some("UInt32Value"),
                        "u64" => Some("UInt64Value"),
                        "f32" => Some("FloatValue"),
                        "f64" => Some("DoubleValue"),
                        _ => None,
                    };
                    let plain = p.path.segments.len() == 1
                        || p.path
                            .segments
                            .iter()
                            .any(|s| s.ident == "alloc" || s.ident == "std");
                    if let (Some(w), true) = (wrapper, plain) {
                        return Ok(format!("google.protobuf.{w}"));
                    }
                    return match self.resolve(&path_segments(&p.path), scope) {
                        Ok(k) => Ok(self.proto_name(&k)?),
                        Err(wk) if wk.starts_with("google.protobuf.") => Ok(wk),
                        Err(e) => Err(e),
                    };
                }
                other => return Err(format!("unsupported type {}", quote::quote!(#other))),
            }
        }
    }

    fn proto_name(&self, key: &Key) -> Result<String, String> {
        proto_index()
            .get(key)
            .cloned()
            .ok_or_else(|| format!("{} has no counterpart in the Python flyteidl", key.show()))
    }

    fn enum_type(&self, path: &str, scope: &[String]) -> Result<String, String> {
        let segs: Vec<String> = path.split("::").map(|s| s.trim().to_string()).collect();
        match self.resolve(&segs, scope) {
            Ok(k) if self.enums.contains_key(&k) => self.proto_name(&k),
            Ok(k) => Err(format!("{} is not an Enumeration", k.show())),
            Err(e) => Err(e),
        }
    }

    fn field_of(&self, rf: &RawField, oneof: Option<String>) -> Result<RField, String> {
        let attr = |name: &str| {
            rf.attrs
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let has = |name: &str| rf.attrs.iter().any(|(n, _)| n == name);
        let number: u32 = attr("tag")
            .flatten()
            .ok_or("no tag")?
            .parse()
            .map_err(|e| format!("bad tag: {e}"))?;
        let repeated = has("repeated");
        let optional = has("optional");
        let packed_false = attr("packed").flatten().is_some_and(|v| v == "false");
        const SCALARS: [&str; 15] = [
            "double", "float", "int32", "int64", "uint32", "uint64", "sint32", "sint64", "fixed32",
            "fixed64", "sfixed32", "sfixed64", "bool", "string", "bytes",
        ];
        let ty = if has("message") {
            RType::Message(self.message_type(&rf.ty, repeated, false, &rf.scope)?)
        } else if let Some(Some(e)) = attr("enumeration") {
            RType::Enum(self.enum_type(&e, &rf.scope)?)
        } else if let Some(Some(m)) = attr("map")
            .or_else(|| attr("btree_map"))
            .or_else(|| attr("hash_map"))
        {
            let (k, v) = m.split_once(',').ok_or("malformed map attribute")?;
            let v = v.trim();
            let value = if v == "message" {
                RType::Message(self.message_type(&rf.ty, false, true, &rf.scope)?)
            } else if let Some(inner) = v.strip_prefix("enumeration").map(|s| s.trim()) {
                let inner = inner.trim_start_matches('(').trim_end_matches(')');
                RType::Enum(self.enum_type(inner, &rf.scope)?)
            } else {
                RType::Scalar(v.to_string())
            };
            RType::Map(k.trim().to_string(), Box::new(value))
        } else if let Some(s) = SCALARS.iter().find(|s| has(s)) {
            RType::Scalar(s.to_string())
        } else {
            return Err(format!("no type in #[prost] attribute: {:?}", rf.attrs));
        };
        Ok(RField {
            ident: rf.ident.clone(),
            number,
            ty,
            repeated,
            optional,
            packed_false,
            oneof,
        })
    }
}

/// Rust key (package + upper-camel idents) -> proto full name, for every Python message and enum.
fn proto_index() -> &'static HashMap<Key, String> {
    static INDEX: OnceLock<HashMap<Key, String>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let py = python();
        let mut index = HashMap::new();
        for full in py.messages.keys().chain(py.enums.keys()) {
            let Some(rest) = full.strip_prefix("flyteidl.") else {
                continue;
            };
            let mut parts = rest.split('.');
            let pkg = parts.next().unwrap().to_string();
            let idents = parts.map(camel).collect();
            index.insert(Key { pkg, idents }, full.clone());
        }
        index
    })
}

/// What the source walk found, without the syntax trees.
struct Schema {
    messages: BTreeMap<Key, RMessage>,
    enums: BTreeMap<Key, REnum>,
    names: BTreeMap<Key, Vec<String>>,
    errors: Vec<String>,
}

fn rust() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let krate = Crate::load();
        Schema {
            messages: krate.messages,
            enums: krate.enums,
            names: krate.names,
            errors: krate.errors,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------

fn compare_field(msg: &str, rf: &RField, pf: &PyField, errors: &mut Vec<String>) {
    let at = format!("{msg}.{} (#{})", pf.name, pf.number);
    // Name: prost snake_cases field names and raw-idents keywords; oneof members are variants.
    match (&pf.oneof, &rf.oneof) {
        (Some(po), Some(ro)) => {
            if unraw(ro) != snake(po) {
                errors.push(format!(
                    "{at}: in oneof `{po}`, but Rust puts it in oneof field `{ro}` (expected `{}`)",
                    snake(po)
                ));
            }
            if rf.ident != camel(&pf.name) {
                errors.push(format!(
                    "{at}: oneof variant is `{}`, expected `{}`",
                    rf.ident,
                    camel(&pf.name)
                ));
            }
        }
        (None, None) => {
            if unraw(&rf.ident) != snake(&pf.name) {
                errors.push(format!(
                    "{at}: Rust field is `{}`, expected `{}`",
                    rf.ident,
                    snake(&pf.name)
                ));
            }
        }
        (Some(po), None) => errors.push(format!(
            "{at}: member of oneof `{po}` in proto, plain field `{}` in Rust",
            rf.ident
        )),
        (None, Some(ro)) => errors.push(format!(
            "{at}: plain field in proto, variant `{}` of oneof `{ro}` in Rust",
            rf.ident
        )),
    }
    // Type and label.
    let expected = match &pf.map {
        Some(m) => {
            let value = match m.value.as_str() {
                "message" => RType::Message(m.value_type_name.clone().unwrap()),
                "enum" => RType::Enum(m.value_type_name.clone().unwrap()),
                s => RType::Scalar(s.to_string()),
            };
            RType::Map(m.key.clone(), Box::new(value))
        }
        None => match pf.ty.as_str() {
            "message" => RType::Message(pf.type_name.clone().unwrap()),
            "enum" => RType::Enum(pf.type_name.clone().unwrap()),
            s => RType::Scalar(s.to_string()),
        },
    };
    if expected.show() != rf.ty.show() {
        errors.push(format!(
            "{at}: type is {} in Rust, {} in proto",
            rf.ty.show(),
            expected.show()
        ));
    }
    if pf.label == "required" {
        errors.push(format!(
            "{at}: proto2 `required` field; prost messages here assume proto3"
        ));
    }
    let py_repeated = pf.repeated && pf.map.is_none();
    if py_repeated != rf.repeated {
        errors.push(format!(
            "{at}: repeated is {} in Rust, {py_repeated} in proto",
            rf.repeated
        ));
    }
    if rf.oneof.is_none() && pf.map.is_none() && !pf.repeated {
        let expect_optional = pf.ty == "message" || pf.proto3_optional;
        if rf.optional != expect_optional {
            errors.push(format!(
                "{at}: `optional` is {} in Rust, expected {expect_optional} ({})",
                rf.optional,
                if pf.ty == "message" {
                    "message fields are optional"
                } else if pf.proto3_optional {
                    "proto3 `optional` field"
                } else {
                    "implicit presence"
                }
            ));
        }
    } else if rf.optional {
        errors.push(format!(
            "{at}: marked `optional` in Rust but is repeated, a map or a oneof member"
        ));
    }
    if rf.packed_false {
        errors.push(format!(
            "{at}: `packed = \"false\"` in Rust, but proto3 packs repeated scalars"
        ));
    }
}

struct Report {
    messages: usize,
    fields: usize,
    enums: usize,
    values: usize,
    errors: Vec<String>,
}

fn compare_all() -> Report {
    let py = python();
    let krate = rust();
    let index = proto_index();
    let mut report = Report {
        messages: 0,
        fields: 0,
        enums: 0,
        values: 0,
        errors: krate.errors.clone(),
    };

    for (key, msg) in &krate.messages {
        let Some(full) = index.get(key) else {
            report.errors.push(format!(
                "Rust message {} ({}) has no counterpart in the Python flyteidl",
                key.show(),
                msg.file.display()
            ));
            continue;
        };
        let Some(pm) = py.messages.get(full) else {
            report.errors.push(format!(
                "Rust message {} corresponds to {full}, which is an enum in Python",
                key.show()
            ));
            continue;
        };
        report.messages += 1;
        for e in &msg.errors {
            report.errors.push(format!("{full}: {e}"));
        }
        // prost::Name must name the message exactly.
        let relative = full.splitn(3, '.').nth(2).unwrap().to_string();
        match krate.names.get(key).map(|v| v.as_slice()) {
            Some([name]) if *name == relative => {}
            Some([name]) => report.errors.push(format!(
                "{full}: prost::Name::NAME is {name:?}, expected {relative:?}"
            )),
            Some(many) => report
                .errors
                .push(format!("{full}: several prost::Name impls: {many:?}")),
            None => report.errors.push(format!("{full}: no prost::Name impl")),
        }
        let mut by_number: BTreeMap<u32, &RField> = BTreeMap::new();
        for f in &msg.fields {
            if by_number.insert(f.number, f).is_some() {
                report
                    .errors
                    .push(format!("{full}: tag {} used twice in Rust", f.number));
            }
        }
        for pf in &pm.fields {
            match by_number.remove(&pf.number) {
                Some(rf) => {
                    report.fields += 1;
                    compare_field(full, rf, pf, &mut report.errors);
                }
                None => report.errors.push(format!(
                    "{full}.{} (#{}): missing in Rust",
                    pf.name, pf.number
                )),
            }
        }
        for (n, rf) in by_number {
            report.errors.push(format!(
                "{full}: Rust field `{}` (#{n}) does not exist in the proto",
                rf.ident
            ));
        }
    }

    for (key, en) in &krate.enums {
        let Some(full) = index.get(key) else {
            report.errors.push(format!(
                "Rust enum {} ({}) has no counterpart in the Python flyteidl",
                key.show(),
                en.file.display()
            ));
            continue;
        };
        let Some(pe) = py.enums.get(full) else {
            report.errors.push(format!(
                "Rust enum {} corresponds to {full}, which is a message in Python",
                key.show()
            ));
            continue;
        };
        report.enums += 1;
        if en.discriminants.is_empty() {
            report.errors.push(format!(
                "{full}: `as_str_name` found but no Enumeration enum"
            ));
            continue;
        }
        let mut rust_values: BTreeMap<String, i64> = BTreeMap::new();
        for (variant, value) in &en.discriminants {
            match en.str_names.get(variant) {
                Some(name) => {
                    rust_values.insert(name.clone(), *value);
                    if en.from_names.get(name) != Some(variant) {
                        report.errors.push(format!(
                            "{full}: from_str_name({name:?}) does not return {variant}"
                        ));
                    }
                }
                None => report
                    .errors
                    .push(format!("{full}: variant {variant} has no as_str_name arm")),
            }
        }
        if en.from_names.len() != en.discriminants.len() {
            report.errors.push(format!(
                "{full}: from_str_name has {} arms for {} variants",
                en.from_names.len(),
                en.discriminants.len()
            ));
        }
        for (name, number) in &pe.values {
            report.values += 1;
            match rust_values.remove(name) {
                Some(v) if v == i64::from(*number) => {}
                Some(v) => report.errors.push(format!(
                    "{full}.{name}: value {v} in Rust, {number} in proto"
                )),
                None => report
                    .errors
                    .push(format!("{full}.{name} (= {number}): missing in Rust")),
            }
        }
        for (name, v) in rust_values {
            report.errors.push(format!(
                "{full}: Rust value {name} (= {v}) does not exist in the proto"
            ));
        }
    }
    report
}

fn fail_on(errors: &[String], what: &str) {
    if !errors.is_empty() {
        panic!(
            "{what}: {} mismatch(es):\n  {}",
            errors.len(),
            errors.join("\n  ")
        );
    }
}

#[test]
fn every_rust_message_and_enum_matches_the_python_descriptors() {
    let report = compare_all();
    println!(
        "descriptor conformance: {} messages ({} fields), {} enums ({} values) checked",
        report.messages, report.fields, report.enums, report.values
    );
    assert!(
        report.messages > 0 && report.fields > 0,
        "nothing was compared: is the source walk broken?"
    );
    fail_on(
        &report.errors,
        "Rust messages differ from the Python flyteidl descriptors",
    );
}

/// Proto full names of the Rust items (messages and enums) that have a Python counterpart.
fn rust_proto_names() -> BTreeSet<String> {
    let index = proto_index();
    let krate = rust();
    krate
        .messages
        .keys()
        .chain(krate.enums.keys())
        .filter_map(|k| index.get(k).cloned())
        .collect()
}

fn missing_from_rust(file_filter: impl Fn(&str) -> bool) -> (usize, Vec<String>) {
    let py = python();
    let have = rust_proto_names();
    let mut total = 0;
    let mut missing = Vec::new();
    for (name, file) in py
        .messages
        .iter()
        .map(|(n, m)| (n, &m.file))
        .chain(py.enums.iter().map(|(n, e)| (n, &e.file)))
    {
        if file_filter(file) {
            total += 1;
            if !have.contains(name) {
                missing.push(format!("{name} ({file})"));
            }
        }
    }
    (total, missing)
}

#[test]
fn rust_covers_every_flyteidl_core_message_and_enum() {
    let py = python();
    let (total, missing) =
        missing_from_rust(|file| py.files.get(file).is_some_and(|p| p == "flyteidl.core"));
    println!(
        "flyteidl.core: {} of {total} messages and enums present in Rust",
        total - missing.len()
    );
    assert!(total > 0);
    fail_on(&missing, "flyteidl.core types missing from src/core");
}

#[test]
fn rust_covers_the_chosen_flyteidl_admin_files() {
    let chosen: BTreeSet<String> = ADMIN_FILES
        .iter()
        .map(|f| format!("flyteidl/admin/{f}.proto"))
        .collect();
    let (total, missing) = missing_from_rust(|file| chosen.contains(file));
    println!(
        "flyteidl.admin ({} files): {} of {total} messages and enums present in Rust",
        chosen.len(),
        total - missing.len()
    );
    assert!(total > 0);
    fail_on(&missing, "flyteidl.admin types missing from src/admin");
}

#[test]
fn rust_covers_the_chosen_flyteidl_service_files() {
    let chosen: BTreeSet<String> = SERVICE_FILES
        .iter()
        .map(|f| format!("flyteidl/service/{f}.proto"))
        .collect();
    let (total, missing) = missing_from_rust(|file| chosen.contains(file));
    println!(
        "flyteidl.service ({} files): {} of {total} messages and enums present in Rust",
        chosen.len(),
        total - missing.len()
    );
    assert!(total > 0);
    fail_on(&missing, "flyteidl.service types missing from src/service");
}

#[test]
fn naming_rules_follow_prost_build() {
    assert_eq!(camel("ArtifactID"), "ArtifactId");
    assert_eq!(camel("FlyteURLs"), "FlyteUrLs");
    assert_eq!(snake("FlyteURLs"), "flyte_ur_ls");
    assert_eq!(snake("descriptionEntities"), "description_entities");
    assert_eq!(camel("ScheduleExpression"), "ScheduleExpression");
    assert_eq!(snake("ScheduleExpression"), "schedule_expression");
    assert_eq!(camel("float_value"), "FloatValue");
    assert_eq!(snake("OAuth2TokenRequest"), "o_auth2_token_request");
    assert_eq!(camel("K8sPod"), "K8sPod");
    assert_eq!(unraw("r#type"), "type");
}
