//! `safeguard i18n export` and `import` as a translator's round trip: every text out as one
//! CSV, corrected Welsh back in where each text lives (catalogue, workflow, email), the list of
//! unreviewed Welsh kept in step, a bad row refusing the whole import, and the service showing
//! the reviewed Welsh.
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use support::web::Web;
use support::*;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let p = e.expect("entry").path();
        let t = to.join(p.file_name().expect("name"));
        if p.is_dir() {
            copy(&p, &t);
        } else {
            std::fs::copy(&p, &t).expect("copy");
        }
    }
}

/// Every file under `dir`, with its contents.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.display().to_string(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

struct Folders {
    _dir: tempfile::TempDir,
    templates: String,
    workflows: String,
}

impl Folders {
    fn new() -> Folders {
        let dir = tempfile::tempdir().expect("temp dir");
        copy(
            &Path::new(ROOT).join("templates"),
            &dir.path().join("templates"),
        );
        copy(
            &Path::new(ROOT).join("workflows"),
            &dir.path().join("workflows"),
        );
        Folders {
            templates: dir.path().join("templates").display().to_string(),
            workflows: dir.path().join("workflows").display().to_string(),
            _dir: dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_safeguard"))
            .args(args)
            .args([
                "--templates",
                &self.templates,
                "--workflows",
                &self.workflows,
            ])
            .env("SAFEGUARD_LOG", "error")
            .output()
            .expect("run safeguard")
    }

    fn export(&self) -> Vec<BTreeMap<String, String>> {
        let out = self.run(&["i18n", "export"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        csv::Reader::from_reader(out.stdout.as_slice())
            .deserialize()
            .map(|r| r.expect("a CSV row"))
            .collect()
    }

    fn import(&self, rows: &[BTreeMap<String, String>]) -> Output {
        let path = Path::new(&self.templates).join("../returned.csv");
        let mut w = csv::Writer::from_path(&path).expect("csv");
        w.write_record(["key", "english", "welsh", "where_used", "reviewed"])
            .expect("header");
        for r in rows {
            w.write_record(
                ["key", "english", "welsh", "where_used", "reviewed"].map(|k| r[k].as_str()),
            )
            .expect("row");
        }
        w.flush().expect("flush");
        self.run(&["i18n", "import", &path.display().to_string()])
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn a_translator_returns_the_csv_and_the_welsh_lands_where_each_text_lives() {
    let f = Folders::new();
    let rows = f.export();
    let count = |prefix: &str| rows.iter().filter(|r| r["key"].starts_with(prefix)).count();
    println!(
        "{} texts: {} catalogue, {} workflow, {} email",
        rows.len(),
        count("catalogue:"),
        count("workflow:"),
        count("email:")
    );
    assert!(count("catalogue:") > 300 && count("workflow:") > 200 && count("email:") > 30);
    assert!(
        rows.iter()
            .all(|r| !r["english"].trim().is_empty() && !r["welsh"].trim().is_empty()),
        "a text without both languages"
    );
    assert!(
        rows.iter().all(|r| r["reviewed"] == "no"),
        "the shipped Welsh is all unreviewed"
    );

    // Returned as it went out: nothing changes, not even the list.
    let before = snapshot(Path::new(&f.templates));
    let o = f.import(&rows);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("0 Welsh texts changed; 0 newly reviewed"),
        "{}",
        text(&o)
    );
    assert_eq!(snapshot(Path::new(&f.templates)), before);

    // A reviewer corrects four texts, one of each kind, and signs off a fifth unchanged.
    let mut returned = rows.clone();
    let mut edit = |key: &str, welsh: Option<&str>| {
        let r = returned
            .iter_mut()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("{key} in the export"));
        if let Some(w) = welsh {
            r.insert("welsh".into(), w.into());
        }
        r.insert("reviewed".into(), "yes".into());
    };
    edit("catalogue:pages.ftl:my_cases", Some("Fy achosion i"));
    edit("catalogue:plurals.ftl:working_days", Some("{ $count ->\n    [two] { $count } ddiwrnod gwaith (adolygwyd)\n   *[other] { $count } diwrnod gwaith\n}"));
    edit(
        "workflow:cse-strategy.toml:states[report_received].title",
        Some("Hysbysiad wedi dod i law: penderfyniad yr awdurdod"),
    );
    edit(
        "workflow:cse-strategy.toml:facts.iaa_referral_consent.option_labels.given",
        Some("Wedi’i roi (adolygwyd)"),
    );
    edit(
        "email:invitation:subject",
        Some("Gwahoddiad (adolygwyd): {{kind}}, {{starts}} ({{references}})"),
    );
    edit("catalogue:pages.ftl:dashboard", None);
    let o = f.import(&returned);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("5 Welsh texts changed; 6 newly reviewed"),
        "{}",
        text(&o)
    );
    let read = |p: &str| std::fs::read_to_string(Path::new(&f.templates).join(p)).expect(p);
    assert!(read("i18n/cy/pages.ftl").contains("\nmy_cases = Fy achosion i\n"));
    assert!(
        read("i18n/cy/plurals.ftl")
            .contains("(adolygwyd)\n   *[other] { $count } diwrnod gwaith\n}\n"),
        "{}",
        read("i18n/cy/plurals.ftl")
    );
    assert!(read("email/invitation/subject.cy.hbs").starts_with("Gwahoddiad (adolygwyd)"));
    let workflow = std::fs::read_to_string(Path::new(&f.workflows).join("cse-strategy.toml"))
        .expect("workflow");
    assert!(
        workflow.contains("title_cy = \"Hysbysiad wedi dod i law: penderfyniad yr awdurdod\""),
        "the title"
    );
    assert!(
        workflow.contains("Wedi’i roi (adolygwyd)"),
        "the option label"
    );
    assert!(
        workflow.contains("# "),
        "comments stay in the workflow file"
    );
    let list = read("i18n/UNREVIEWED.md");
    assert!(
        !list.contains("`catalogue:pages.ftl:my_cases`")
            && !list.contains("`catalogue:pages.ftl:dashboard`")
    );
    assert!(
        list.contains(&format!("{} keys:", rows.len() - 6)),
        "{}",
        &list[..600]
    );
    let again = f.export();
    assert_eq!(again.iter().filter(|r| r["reviewed"] == "yes").count(), 6);
    // Welsh edited by hand after its review is unreviewed again, without anyone saying so.
    let pages = Path::new(&f.templates).join("i18n/cy/pages.ftl");
    let edited = read("i18n/cy/pages.ftl").replace(
        "\nmy_cases = Fy achosion i\n",
        "\nmy_cases = Fy achosion i gyd\n",
    );
    std::fs::write(&pages, edited).expect("edit by hand");
    let after = f.export();
    let mine = after
        .iter()
        .find(|r| r["key"] == "catalogue:pages.ftl:my_cases")
        .expect("row");
    assert_eq!(
        (mine["welsh"].as_str(), mine["reviewed"].as_str()),
        ("Fy achosion i gyd", "no")
    );

    // The service shows the reviewed Welsh, from the folders as imported.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        &[
            ("SAFEGUARD_TEMPLATES_DIR", f.templates.clone()),
            ("SAFEGUARD_WORKFLOWS_DIR", f.workflows.clone()),
        ],
    );
    let person = app.person("chair", "la-cardiff", "Test team", "Chair Cymraeg");
    let web = Web::new(&app);
    web.sign_in(&person.email, TEST_PASSWORD);
    web.get("/language/cy?back=/cases");
    let page = web.get("/cases").body;
    assert!(page.contains("Fy achosion i gyd"), "{page}");
}

#[test]
fn one_bad_row_refuses_the_whole_import_and_nothing_is_written() {
    let f = Folders::new();
    let rows = f.export();
    let before = (
        snapshot(Path::new(&f.templates)),
        snapshot(Path::new(&f.workflows)),
    );
    let with = |key: &str, field: &str, value: &str| {
        let mut r = rows.clone();
        let good = r
            .iter_mut()
            .find(|r| r["key"] == "catalogue:pages.ftl:my_cases")
            .expect("my_cases");
        good.insert("welsh".into(), "Fy achosion i".into());
        let row = r.iter_mut().find(|r| r["key"] == key).expect("row");
        row.insert(field.into(), value.into());
        r
    };
    for (what, returned, says) in [
        (
            "a message that does not parse",
            with("catalogue:pages.ftl:search", "welsh", "Chwilio { $"),
            "nothing imported",
        ),
        (
            "a message that loses its variable",
            with("catalogue:pages.ftl:print_printed", "welsh", "Argraffwyd"),
            "the same values as the English",
        ),
        (
            "an email that does not render",
            with("email:invitation:subject", "welsh", "Gwahoddiad {{#if}}"),
            "nothing imported",
        ),
        (
            "a key that does not exist",
            {
                let mut r = with("catalogue:pages.ftl:search", "welsh", "Chwilio");
                r[0].insert("key".into(), "catalogue:pages.ftl:no_such_message".into());
                r
            },
            "no such text",
        ),
        (
            "English changed since the export",
            with("catalogue:pages.ftl:search", "english", "Look for"),
            "the English has changed",
        ),
        (
            "Welsh left empty",
            with("catalogue:pages.ftl:search", "welsh", " "),
            "the Welsh is empty",
        ),
    ] {
        let o = f.import(&returned);
        assert!(!o.status.success(), "{what}: {}", text(&o));
        assert!(text(&o).contains(says), "{what}: {}", text(&o));
        assert_eq!(
            (
                snapshot(Path::new(&f.templates)),
                snapshot(Path::new(&f.workflows))
            ),
            before,
            "{what}: files changed"
        );
        println!("refused, nothing written: {what}");
    }
}
