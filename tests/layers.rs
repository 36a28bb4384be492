//! The shape of the tree, checked: a lower layer never imports a higher one, the code names no
//! workflow state, event or fact except through the workflow contract, and ARCHITECTURE.md names
//! every module there is. Each check has a positive control: the same scan run on a planted
//! violation must find it.
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
const WORKFLOWS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/workflows");
const ARCHITECTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md");

/// Each top-level module and the modules it may use. Everything not listed is forbidden.
/// Bottom to top: error, shipped, i18n, time, identity; reference; storage; engine and mail (peers, not
/// each other); domain; follow-up; jobs; the API and the pages; the wiring.
fn allowed(module: &str) -> Option<&'static [&'static str]> {
    const BASE: &[&str] = &["error", "i18n", "time", "identity"];
    Some(match module {
        "error" => &[],
        // The files shipped inside the binary: read by the catalogue, the templates and the
        // workflow registry alike.
        "shipped" => &["error"],
        // The catalogue refuses to load with the one error type.
        "i18n" => &["error", "shipped"],
        "time" => &["error", "i18n"],
        "identity" => &["error", "i18n"],
        "reference" => BASE,
        "storage" => &["error", "i18n", "time", "identity", "reference"],
        "engine" => &["error", "shipped", "i18n", "time", "identity", "reference"],
        "mail" => &[
            "error",
            "shipped",
            "i18n",
            "time",
            "identity",
            "reference",
            "storage",
        ],
        "print" => &["error"],
        "domain" => &[
            "error",
            "shipped",
            "i18n",
            "time",
            "identity",
            "reference",
            "storage",
            "engine",
            "mail",
            "print",
        ],
        "follow_up" => &[
            "error",
            "shipped",
            "i18n",
            "time",
            "identity",
            "reference",
            "storage",
            "engine",
            "mail",
            "print",
            "domain",
        ],
        "jobs" => &[
            "error",
            "shipped",
            "i18n",
            "time",
            "identity",
            "reference",
            "storage",
            "engine",
            "mail",
            "print",
            "domain",
            "follow_up",
            "app",
            "config",
        ],
        "http" | "web" => &[
            "error",
            "shipped",
            "i18n",
            "time",
            "identity",
            "reference",
            "storage",
            "engine",
            "mail",
            "print",
            "domain",
            "follow_up",
            "jobs",
            "app",
            "config",
            "http",
            "web",
        ],
        // The wiring: it puts every part together.
        "app" | "config" | "demo" | "main" | "lib" => return None,
        _ => return Some(&[]),
    })
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read src").flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The top-level module a file belongs to: `src/engine/decide.rs` is `engine`.
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(SRC).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

/// A file read as Rust: its code without comments, and the contents of its string literals.
/// `//` inside a string is not a comment, and a char literal (`'"'`) does not open a string.
struct Scanned {
    code: String,
    strings: Vec<String>,
}

fn scan(text: &str) -> Scanned {
    let chars: Vec<char> = text.chars().collect();
    let mut code = String::with_capacity(text.len());
    let mut strings = Vec::new();
    let mut current: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if let Some(s) = current.as_mut() {
            code.push(c);
            if c == '\\' && i + 1 < chars.len() {
                s.push(chars[i + 1]);
                code.push(chars[i + 1]);
                i += 1;
            } else if c == '"' {
                strings.extend(current.take());
            } else {
                s.push(c);
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            continue;
        } else if c == '\'' {
            let len = match (chars.get(i + 1), chars.get(i + 2), chars.get(i + 3)) {
                (Some('\\'), _, Some('\'')) => 4,
                (Some(_), Some('\''), _) => 3,
                _ => 1,
            };
            code.extend(&chars[i..(i + len).min(chars.len())]);
            i += len;
            continue;
        } else {
            if c == '"' {
                current = Some(String::new());
            }
            code.push(c);
        }
        i += 1;
    }
    Scanned { code, strings }
}

/// Every `crate::x` a file names, and the top-level module `x`.
fn imports(text: &str) -> BTreeSet<String> {
    let code = scan(text).code;
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
        rest = after;
    }
    out
}

fn layer_violations(files: &[(String, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (path, text) in files {
        let module = module_of(Path::new(path));
        let Some(allowed) = allowed(&module) else {
            continue;
        };
        for used in imports(text) {
            if used != module && !allowed.contains(&used.as_str()) {
                problems.push(format!("{path}: {module} imports {used}"));
            }
        }
    }
    problems
}

fn read_all(files: &[PathBuf]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                std::fs::read_to_string(p).expect("read source"),
            )
        })
        .collect()
}

#[test]
fn a_lower_layer_never_imports_a_higher_one() {
    let files = read_all(&rust_files(Path::new(SRC)));
    let problems = layer_violations(&files);
    assert!(
        problems.is_empty(),
        "layer violations:\n{}",
        problems.join("\n")
    );
    println!("{} source files, no layer violations", files.len());

    // Positive control: an engine file that imports the domain, and a domain file that imports
    // the pages, are both found.
    let planted = vec![
        (
            format!("{SRC}/engine/planted.rs"),
            "use crate::domain::case::visible_case;\n".to_string(),
        ),
        (
            format!("{SRC}/domain/planted.rs"),
            "fn f() { crate::web::svg::dot(); }\n".to_string(),
        ),
        (
            format!("{SRC}/engine/fine.rs"),
            "// crate::domain is named in a comment only\nuse crate::reference::calendar::WorkingCalendar;\n".to_string(),
        ),
    ];
    let found = layer_violations(&planted);
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].contains("engine imports domain") && found[1].contains("domain imports web"));
}

/// Every state id, event and fact name of the shipped workflows.
fn workflow_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for entry in std::fs::read_dir(WORKFLOWS).expect("workflows").flatten() {
        // The risk assessment (`assessments/`) names no state, event or fact.
        if entry.path().is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).expect("read workflow");
        let v: toml::Value = toml::from_str(&text).expect("workflow parses");
        for s in v["states"].as_array().into_iter().flatten() {
            names.insert(s["id"].as_str().expect("id").to_string());
        }
        for t in v
            .get("transitions")
            .and_then(|t| t.as_array())
            .into_iter()
            .flatten()
        {
            names.insert(t["event"].as_str().expect("event").to_string());
        }
        for table in ["facts", "action_kinds", "review_kinds", "meeting_kinds"] {
            if let Some(m) = v.get(table).and_then(|f| f.as_table()) {
                names.extend(m.keys().cloned());
            }
        }
    }
    names
}

/// String literals in a file's code that are workflow names.
fn named_literals(text: &str, names: &BTreeSet<String>) -> Vec<String> {
    scan(text)
        .strings
        .into_iter()
        .filter(|s| names.contains(s))
        .collect()
}

fn literal_violations(files: &[(String, String)], names: &BTreeSet<String>) -> Vec<String> {
    files
        .iter()
        .filter(|(path, _)| !path.ends_with("engine/contract.rs"))
        .flat_map(|(path, text)| {
            named_literals(text, names)
                .into_iter()
                .map(move |n| format!("{path}: \"{n}\""))
        })
        .collect()
}

#[test]
fn the_code_names_no_workflow_state_event_or_fact_outside_the_contract() {
    let names = workflow_names();
    assert!(
        names.len() > 60,
        "the scan knows the workflows' names: {}",
        names.len()
    );
    let files = read_all(&rust_files(Path::new(SRC)));
    let problems = literal_violations(&files, &names);
    assert!(
        problems.is_empty(),
        "workflow names as string literals outside src/engine/contract.rs:\n{}",
        problems.join("\n")
    );
    println!(
        "{} workflow names, {} source files, none named outside the contract",
        names.len(),
        files.len()
    );

    // Positive control: a planted state name in a dashboard file is found; the same name in a
    // comment, and in the contract itself, is not.
    let planted = vec![
        (
            format!("{SRC}/follow_up/planted.rs"),
            "let q = ['\"', '\\''];\nlet s = \"report_received\"; // \"plan_active\" in prose\n"
                .to_string(),
        ),
        (
            format!("{SRC}/engine/contract.rs"),
            "pub const X: &str = \"close_at_18\";\n".to_string(),
        ),
    ];
    let found = literal_violations(&planted, &names);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].ends_with("\"report_received\""));
}

#[test]
fn architecture_names_every_module_in_the_tree() {
    let doc = std::fs::read_to_string(ARCHITECTURE).expect("ARCHITECTURE.md");
    let mut missing = Vec::new();
    for path in rust_files(Path::new(SRC)) {
        let rel = path
            .strip_prefix(SRC)
            .expect("under src")
            .display()
            .to_string();
        if rel == "lib.rs" || rel == "main.rs" || rel.ends_with("/mod.rs") {
            continue;
        }
        let name = Path::new(&rel)
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .to_string();
        if !doc.contains(&name) {
            missing.push(rel);
        }
    }
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md does not name these files: {missing:?}"
    );
    // Positive control: a file that does not exist is not in it.
    assert!(!doc.contains("handler2.rs"));
}
