//! Every text in both languages, as one CSV a translator can review and return: the message
//! catalogue (`templates/i18n`), the workflows' texts and their `_cy` twins, and the email
//! templates. Columns: key, English, Welsh, where used, reviewed. Importing writes the Welsh
//! back where it came from. What a fluent speaker has reviewed is kept in
//! `templates/i18n/reviewed.csv` as each key with a fingerprint of the Welsh they passed, so a
//! text added later, or Welsh changed since, counts as unreviewed without anyone remembering to
//! say so; `templates/i18n/UNREVIEWED.md` lists those keys for people to read. Writing and
//! checking the result is the caller's: `apply` only works out the new files.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, TableLike, Value};

use crate::error::AppError;

/// The file that lists the unreviewed Welsh, under the templates folder.
pub const UNREVIEWED: &str = "i18n/UNREVIEWED.md";
/// The reviews: key and a fingerprint of the Welsh reviewed.
pub const REVIEWED: &str = "i18n/reviewed.csv";

const WORKFLOW_TEXTS: &[&str] = &[
    "title",
    "description",
    "label",
    "guidance",
    "message",
    "source",
    "owner",
    "text",
];
const EMAIL_PARTS: &[(&str, &str)] = &[
    ("subject", "subject line"),
    ("text", "plain text"),
    ("html", "HTML"),
];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    pub key: String,
    pub english: String,
    pub welsh: String,
    pub where_used: String,
    /// `yes` once a fluent Welsh speaker has reviewed the Welsh, else `no`.
    pub reviewed: String,
}

fn failed(what: &str, e: impl std::fmt::Display) -> AppError {
    AppError::Startup(format!("{what}: {e}"))
}

fn read(path: &Path) -> Result<String, AppError> {
    std::fs::read_to_string(path).map_err(|e| failed(&path.display().to_string(), e))
}

fn sorted_files(dir: &Path, ext: &str) -> Result<Vec<PathBuf>, AppError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| failed(&dir.display().to_string(), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    Ok(files)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default()
}

// ---- The catalogue: one message per line, continued on indented lines (Fluent's syntax). ----

/// Whether a line carries on the message above it: indented, or the closing brace of a
/// select expression (which Fluent allows at the start of a line).
fn continues(line: &str) -> bool {
    line.starts_with([' ', '\t', '}'])
}

/// Each message's id and its value as written (continuation lines joined with newlines).
fn messages(source: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in source.lines() {
        if continues(line) {
            if let Some((_, value)) = out.last_mut() {
                value.push('\n');
                value.push_str(line);
            }
            continue;
        }
        if line.starts_with('#') || line.trim().is_empty() {
            // A comment or a blank line ends the message before it.
            out.push((String::new(), String::new()));
            continue;
        }
        if let Some((id, value)) = line.split_once('=') {
            out.push((id.trim().to_string(), value.trim_start().to_string()));
        }
    }
    out.retain(|(id, _)| !id.is_empty());
    out
}

/// `source` with message `id` given `value`; None if there is no such message.
fn with_message(source: &str, id: &str, value: &str) -> Option<String> {
    let mut out = Vec::new();
    let mut lines = source.lines().peekable();
    let mut found = false;
    while let Some(line) = lines.next() {
        let is_it = !line.starts_with([' ', '\t', '#'])
            && line.split_once('=').is_some_and(|(k, _)| k.trim() == id);
        if !is_it {
            out.push(line.to_string());
            continue;
        }
        found = true;
        while lines.peek().is_some_and(|l| continues(l)) {
            lines.next();
        }
        let mut value_lines = value.lines();
        out.push(format!("{id} = {}", value_lines.next().unwrap_or("")));
        for l in value_lines {
            out.push(if continues(l) {
                l.to_string()
            } else {
                format!("    {l}")
            });
        }
    }
    found.then(|| out.join("\n") + "\n")
}

/// The `$names` a message uses.
fn variables(value: &str) -> BTreeSet<String> {
    value
        .split('$')
        .skip(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
        .map(|v| format!("${v}"))
        .collect()
}

/// Where a message is used: its kind for the ones the code chooses, else the templates that
/// name it.
fn catalogue_use(id: &str, templates: &[(String, String)]) -> String {
    for (prefix, what) in [
        (
            "error_",
            "the message for an error code, on pages and in the API",
        ),
        ("status_", "a status, on pages and in emails"),
        ("history_", "an entry in a case's timeline"),
    ] {
        if id.starts_with(prefix) {
            return what.to_string();
        }
    }
    let named: Vec<&str> = templates
        .iter()
        .filter(|(_, text)| {
            text.contains(&format!("t.{id}}}"))
                || text.contains(&format!("t.{id} "))
                || text.contains(&format!("\"{id}\""))
        })
        .map(|(name, _)| name.as_str())
        .collect();
    if named.is_empty() {
        "chosen by the code (pages and emails)".to_string()
    } else {
        named.join(", ")
    }
}

fn template_texts(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "hbs") {
                if let Ok(text) = std::fs::read_to_string(&p) {
                    let name = p.strip_prefix(dir).unwrap_or(&p).display().to_string();
                    out.push((name, text));
                }
            }
        }
    }
    out.sort();
    out
}

// ---- Workflows: every text key beside its `_cy` twin, found by a path of ids. ----

/// A table's name in a path: its `id`, `event` or `name`, else its place in the array.
fn name_of(t: &dyn TableLike, i: usize) -> String {
    ["id", "event", "name"]
        .iter()
        .find_map(|k| t.get(k).and_then(Item::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| i.to_string())
}

/// Calls `f` with every table in the document and its path (`states[report_received]`).
fn walk(t: &mut dyn TableLike, path: &str, f: &mut dyn FnMut(&str, &mut dyn TableLike)) {
    f(path, t);
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    let keys: Vec<String> = t.iter().map(|(k, _)| k.to_string()).collect();
    for k in keys {
        if k.ends_with("_cy") || k == "option_labels" {
            continue;
        }
        let Some(item) = t.get_mut(&k) else { continue };
        if let Some(child) = item.as_table_like_mut() {
            walk(child, &join(&k), f);
        } else if let Some(tables) = item.as_array_of_tables_mut() {
            for (i, child) in tables.iter_mut().enumerate() {
                let name = name_of(child, i);
                walk(child, &format!("{}[{name}]", join(&k)), f);
            }
        } else if let Some(values) = item.as_array_mut() {
            for (i, v) in values.iter_mut().enumerate() {
                if let Value::InlineTable(child) = v {
                    let name = name_of(child, i);
                    walk(child, &format!("{}[{name}]", join(&k)), f);
                }
            }
        }
    }
}

/// The words a table holds: (key within the table, English, Welsh). Option labels are
/// `option_labels.<option>`; the yes and no of a question are `answers`, written `Yes | No`.
fn table_texts(t: &dyn TableLike) -> Vec<(String, String, String)> {
    let text = |k: &str| t.get(k).and_then(Item::as_str).map(str::to_string);
    let mut out = Vec::new();
    for k in WORKFLOW_TEXTS {
        if let Some(en) = text(k) {
            out.push((
                k.to_string(),
                en,
                text(&format!("{k}_cy")).unwrap_or_default(),
            ));
        }
    }
    if let Some(labels) = t.get("option_labels").and_then(Item::as_table_like) {
        let welsh = t.get("option_labels_cy").and_then(Item::as_table_like);
        for (option, v) in labels.iter() {
            if let Some(en) = v.as_str() {
                let cy = welsh
                    .and_then(|w| w.get(option))
                    .and_then(Item::as_str)
                    .unwrap_or_default();
                out.push((
                    format!("option_labels.{option}"),
                    en.to_string(),
                    cy.to_string(),
                ));
            }
        }
    }
    let answers = |k: &str| {
        t.get(k).and_then(Item::as_array).map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" | ")
        })
    };
    if let Some(cy) = answers("answers_cy") {
        let en = answers("answers").unwrap_or_else(|| "Yes | No".to_string());
        out.push(("answers".to_string(), en, cy));
    }
    out
}

/// Puts `welsh` beside the text `key` in table `t`.
fn set_welsh(t: &mut dyn TableLike, key: &str, welsh: &str) -> Result<(), String> {
    if let Some(option) = key.strip_prefix("option_labels.") {
        let labels = t
            .get_mut("option_labels_cy")
            .and_then(Item::as_table_like_mut)
            .ok_or("no option_labels_cy beside the options")?;
        labels.insert(option, toml_edit::value(welsh));
        return Ok(());
    }
    if key == "answers" {
        let mut array = toml_edit::Array::new();
        for a in welsh.split('|').map(str::trim) {
            array.push(a);
        }
        if array.len() != 2 {
            return Err("answers need a yes and a no, written Ydy | Nac ydy".into());
        }
        t.insert("answers_cy", toml_edit::value(array));
        return Ok(());
    }
    if !WORKFLOW_TEXTS.contains(&key) || t.get(key).is_none() {
        return Err(format!("no text {key} here"));
    }
    t.insert(&format!("{key}_cy"), toml_edit::value(welsh));
    Ok(())
}

/// A fingerprint of a Welsh text: enough to tell that it changed since its review.
fn fingerprint(welsh: &str) -> String {
    use sha2::Digest;
    hex::encode(&sha2::Sha256::digest(welsh.as_bytes())[..8])
}

fn reviews(templates: &Path) -> Result<BTreeMap<String, String>, AppError> {
    let path = templates.join(REVIEWED);
    if !path.is_file() {
        return Ok(BTreeMap::new());
    }
    let file = std::fs::File::open(&path).map_err(|e| failed(&path.display().to_string(), e))?;
    csv::Reader::from_reader(file)
        .records()
        .map(|r| {
            let r = r.map_err(|e| failed(REVIEWED, e))?;
            Ok((
                r.get(0).unwrap_or_default().to_string(),
                r.get(1).unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

fn reviews_file(reviews: &BTreeMap<String, String>) -> Result<String, AppError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["key", "welsh_fingerprint"])
        .map_err(|e| failed(REVIEWED, e))?;
    for (k, f) in reviews {
        w.write_record([k, f]).map_err(|e| failed(REVIEWED, e))?;
    }
    let bytes = w.into_inner().map_err(|e| failed(REVIEWED, e))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn unreviewed_file(keys: &BTreeSet<String>) -> String {
    let mut out = String::from(
        "# Welsh that no fluent Welsh speaker has reviewed yet\n\n\
         Every key below has Welsh written by the developers, from the official terms in\n\
         `../shared/reference/welsh-terms.md` where they exist, but nobody fluent has read it in\n\
         place. Before live use, export everything (`safeguard i18n export > texts.csv`), have a\n\
         fluent reviewer correct the Welsh column and set `reviewed` to `yes`, and import it\n\
         (`safeguard i18n import texts.csv`): each key reviewed leaves this list, and a text added\n\
         or changed without review joins it. Reviews are kept in `reviewed.csv`; this file is\n\
         written from it (`safeguard i18n unreviewed`), and a test fails when it is out of date.\n\n",
    );
    out.push_str(&format!("{} keys:\n\n", keys.len()));
    for k in keys {
        out.push_str(&format!("- `{k}`\n"));
    }
    out
}

/// Every text in both languages, in a stable order; reviewed when its Welsh is what a reviewer
/// passed.
pub fn rows(templates: &Path, workflows: &Path) -> Result<Vec<Row>, AppError> {
    let passed = reviews(templates)?;
    let mut out = texts(templates, workflows)?;
    for r in &mut out {
        let yes = passed.get(&r.key) == Some(&fingerprint(&r.welsh));
        r.reviewed = if yes { "yes" } else { "no" }.to_string();
    }
    Ok(out)
}

/// The list of unreviewed Welsh as it should read now.
pub fn unreviewed_list(templates: &Path, workflows: &Path) -> Result<String, AppError> {
    let keys: BTreeSet<String> = rows(templates, workflows)?
        .into_iter()
        .filter(|r| r.reviewed != "yes")
        .map(|r| r.key)
        .collect();
    Ok(unreviewed_file(&keys))
}

fn texts(templates: &Path, workflows: &Path) -> Result<Vec<Row>, AppError> {
    let reviewed = |_: &str| String::new();
    let uses = template_texts(templates);
    let mut out = Vec::new();
    for en_path in sorted_files(&templates.join("i18n/en"), "ftl")? {
        let file = file_name(&en_path);
        let welsh: BTreeMap<String, String> =
            messages(&read(&templates.join("i18n/cy").join(&file))?)
                .into_iter()
                .collect();
        for (id, english) in messages(&read(&en_path)?) {
            let key = format!("catalogue:{file}:{id}");
            out.push(Row {
                reviewed: reviewed(&key),
                welsh: welsh.get(&id).cloned().unwrap_or_default(),
                where_used: catalogue_use(&id, &uses),
                english,
                key,
            });
        }
    }
    // The risk assessment lives beside the workflows, in `assessments/`, and is keyed by its
    // path there so that `apply` finds it again.
    let assessments = workflows.join("assessments");
    let mut files: Vec<(PathBuf, String)> = sorted_files(workflows, "toml")?
        .into_iter()
        .map(|p| {
            let f = file_name(&p);
            (p, f)
        })
        .collect();
    if assessments.is_dir() {
        for p in sorted_files(&assessments, "toml")? {
            let f = format!("assessments/{}", file_name(&p));
            files.push((p, f));
        }
    }
    for (path, file) in files {
        let mut doc: DocumentMut = read(&path)?
            .parse()
            .map_err(|e| failed(&path.display().to_string(), e))?;
        walk(doc.as_table_mut(), "", &mut |at, t| {
            for (k, english, welsh) in table_texts(t) {
                let key = if at.is_empty() {
                    format!("workflow:{file}:{k}")
                } else {
                    format!("workflow:{file}:{at}.{k}")
                };
                out.push(Row {
                    reviewed: reviewed(&key),
                    where_used: format!(
                        "workflows/{file}, {}",
                        if at.is_empty() { "the workflow" } else { at }
                    ),
                    english,
                    welsh,
                    key,
                });
            }
        });
    }
    let mut emails: Vec<PathBuf> = std::fs::read_dir(templates.join("email"))
        .map_err(|e| failed("templates/email", e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    emails.sort();
    for dir in emails {
        let name = file_name(&dir);
        for (part, what) in EMAIL_PARTS {
            let en = dir.join(format!("{part}.en.hbs"));
            if !en.is_file() {
                continue;
            }
            let key = format!("email:{name}:{part}");
            out.push(Row {
                reviewed: reviewed(&key),
                english: read(&en)?,
                welsh: read(&dir.join(format!("{part}.cy.hbs"))).unwrap_or_default(),
                where_used: format!("the {name} email, its {what}"),
                key,
            });
        }
    }
    Ok(out)
}

pub fn write_csv(rows: &[Row], out: impl std::io::Write) -> Result<(), AppError> {
    let mut w = csv::Writer::from_writer(out);
    for r in rows {
        w.serialize(r).map_err(|e| failed("writing the CSV", e))?;
    }
    w.flush().map_err(|e| failed("writing the CSV", e))
}

pub fn read_csv(input: impl std::io::Read) -> Result<Vec<Row>, AppError> {
    csv::Reader::from_reader(input)
        .deserialize()
        .enumerate()
        .map(|(i, r)| r.map_err(|e| failed(&format!("CSV row {}", i + 2), e)))
        .collect()
}

/// What an import would write: each file's new text, and what changed.
#[derive(Debug, Default)]
pub struct Changes {
    pub files: BTreeMap<PathBuf, String>,
    pub changed: usize,
    pub newly_reviewed: usize,
    pub still_unreviewed: usize,
}

/// The files an import of `rows` leads to. A row whose key is unknown, or whose English no
/// longer matches (the text changed since the export), is refused with its key.
pub fn apply(rows: &[Row], templates: &Path, workflows: &Path) -> Result<Changes, AppError> {
    let current: BTreeMap<String, Row> = rows_by_key(templates, workflows)?;
    let mut passed = reviews(templates)?;
    let mut changes = Changes::default();
    let mut problems = Vec::new();
    let mut edits: BTreeMap<String, Vec<(&Row, String)>> = BTreeMap::new();
    for r in rows {
        let Some(now) = current.get(&r.key) else {
            problems.push(format!("{}: no such text", r.key));
            continue;
        };
        if now.english != r.english {
            problems.push(format!(
                "{}: the English has changed since the export; export again",
                r.key
            ));
            continue;
        }
        let changed = now.welsh != r.welsh;
        if r.reviewed.trim().eq_ignore_ascii_case("yes") {
            if now.reviewed != "yes" || changed {
                changes.newly_reviewed += 1;
            }
            passed.insert(r.key.clone(), fingerprint(&r.welsh));
        } else if changed {
            passed.remove(&r.key);
        }
        if changed {
            if r.welsh.trim().is_empty() {
                problems.push(format!("{}: the Welsh is empty", r.key));
                continue;
            }
            let (kind, rest) = r.key.split_once(':').unwrap_or(("", ""));
            edits
                .entry(kind.to_string())
                .or_default()
                .push((r, rest.to_string()));
            changes.changed += 1;
        }
    }
    for (r, rest) in edits.remove("catalogue").unwrap_or_default() {
        let (file, id) = rest.split_once(':').unwrap_or((&rest, ""));
        if variables(&r.english) != variables(&r.welsh) {
            problems.push(format!(
                "{}: the Welsh must use the same values as the English ({})",
                r.key,
                variables(&r.english)
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            continue;
        }
        let path = templates.join("i18n/cy").join(file);
        let source = match changes.files.get(&path) {
            Some(s) => s.clone(),
            None => read(&path)?,
        };
        match with_message(&source, id, &r.welsh) {
            Some(s) => {
                changes.files.insert(path, s);
            }
            None => problems.push(format!("{}: not in {}", r.key, path.display())),
        }
    }
    let mut docs: BTreeMap<String, DocumentMut> = BTreeMap::new();
    for (r, rest) in edits.remove("workflow").unwrap_or_default() {
        let (file, at) = rest.split_once(':').unwrap_or((&rest, ""));
        if !docs.contains_key(file) {
            let path = workflows.join(file);
            let doc: DocumentMut = read(&path)?
                .parse()
                .map_err(|e| failed(&path.display().to_string(), e))?;
            docs.insert(file.to_string(), doc);
        }
        let Some(doc) = docs.get_mut(file) else {
            continue;
        };
        // The text's key is the last part of the path, or the last two for option labels.
        let (table, key) = match at.rsplit_once(".option_labels.") {
            Some((t, option)) => (t.to_string(), format!("option_labels.{option}")),
            None => match at.strip_prefix("option_labels.") {
                Some(option) => (String::new(), format!("option_labels.{option}")),
                None => match at.rsplit_once('.') {
                    Some((t, k)) => (t.to_string(), k.to_string()),
                    None => (String::new(), at.to_string()),
                },
            },
        };
        let mut outcome = Err(format!("no table {table}"));
        walk(doc.as_table_mut(), "", &mut |p, t| {
            if p == table {
                outcome = set_welsh(t, &key, &r.welsh);
            }
        });
        if let Err(e) = outcome {
            problems.push(format!("{}: {e}", r.key));
        }
    }
    for (file, doc) in docs {
        changes.files.insert(workflows.join(file), doc.to_string());
    }
    for (r, rest) in edits.remove("email").unwrap_or_default() {
        let (name, part) = rest.split_once(':').unwrap_or((&rest, ""));
        let path = templates
            .join("email")
            .join(name)
            .join(format!("{part}.cy.hbs"));
        changes.files.insert(path, r.welsh.clone());
    }
    if !problems.is_empty() {
        return Err(AppError::Startup(format!(
            "nothing imported; {} rows refused:\n  {}",
            problems.len(),
            problems.join("\n  ")
        )));
    }
    passed.retain(|k, _| current.contains_key(k));
    let pending: BTreeSet<String> = current
        .keys()
        .filter(|k| {
            let welsh = rows
                .iter()
                .find(|r| &r.key == *k)
                .map_or(current[*k].welsh.as_str(), |r| r.welsh.as_str());
            passed.get(*k) != Some(&fingerprint(welsh))
        })
        .cloned()
        .collect();
    changes.still_unreviewed = pending.len();
    changes
        .files
        .insert(templates.join(UNREVIEWED), unreviewed_file(&pending));
    changes
        .files
        .insert(templates.join(REVIEWED), reviews_file(&passed)?);
    Ok(changes)
}

fn rows_by_key(templates: &Path, workflows: &Path) -> Result<BTreeMap<String, Row>, AppError> {
    Ok(rows(templates, workflows)?
        .into_iter()
        .map(|r| (r.key.clone(), r))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A text added or changed without review must be listed: the shipped list is what the
    /// reviews make of the shipped texts.
    #[test]
    fn the_list_of_unreviewed_welsh_is_up_to_date() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (templates, workflows) = (root.join("templates"), root.join("workflows"));
        let shipped = read(&templates.join(UNREVIEWED)).expect("the list");
        let now = unreviewed_list(&templates, &workflows).expect("texts");
        assert!(
            shipped == now,
            "templates/{UNREVIEWED} is out of date: run `safeguard i18n unreviewed`"
        );
    }

    #[test]
    fn a_message_is_read_and_replaced_with_its_continuation_lines() {
        let source = "# c\na = One\nb = { $count ->\n    [one] x\n   *[other] y\n}\nc = Three\n";
        let m = messages(source);
        assert_eq!(m[0], ("a".into(), "One".into()));
        assert_eq!(m[1].1, "{ $count ->\n    [one] x\n   *[other] y\n}");
        assert_eq!(m[2], ("c".into(), "Three".into()));
        let replaced = with_message(source, "b", "Dau").expect("b");
        assert_eq!(replaced, "# c\na = One\nb = Dau\nc = Three\n");
        assert_eq!(with_message(source, "z", "x"), None);
    }
}
