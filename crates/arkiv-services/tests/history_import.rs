//! An eprint's EPrints history comes along (issue 25): the history
//! dataset's export and the revision files EPrints keeps under its
//! `documents` directory become earlier revisions of the imported record,
//! shown in its history by the EPrints actor; every entry that cannot be
//! used is told, and a second run adds nothing.

use arkiv_formats::eprints::history::read_history;
use arkiv_services::history_import::import_history;
use arkiv_services::import::{import_eprints_xml, ImportOptions};
use arkiv_services::workflow::history::history;
use arkiv_services::{Config, Repository};

fn eprint(title: &str, status: &str) -> String {
    format!(
        "<?xml version='1.0' encoding='utf-8' ?>\n<eprint xmlns=\"http://eprints.org/ep2/data/2.0\">\
         <eprintid>123</eprintid><eprint_status>{status}</eprint_status><type>article</type>\
         <title>{title}</title><date>2014</date></eprint>\n"
    )
}

fn entry(historyid: u32, objectid: u32, revision: u32, at: &str, action: &str, dataset: &str) -> String {
    format!(
        "<history><historyid>{historyid}</historyid><userid>3</userid><actor>Anna Nowak</actor>\
         <datasetid>{dataset}</datasetid><objectid>{objectid}</objectid><revision>{revision}</revision>\
         <timestamp>{at}</timestamp><action>{action}</action></history>\n"
    )
}

#[tokio::test]
async fn eprints_revisions_become_earlier_revisions() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo"), Config::default()).await.unwrap();
    let export = dir.path().join("export.xml");
    std::fs::write(
        &export,
        format!(
            "<eprints xmlns=\"http://eprints.org/ep2/data/2.0\">{}</eprints>",
            eprint("Final title", "archive").split_once("?>").unwrap().1
        ),
    )
    .unwrap();
    let report =
        import_eprints_xml(&repo, &[export], &ImportOptions::for_repository(&repo), &mut |_| {}).await.unwrap();
    assert_eq!(report.imported, 1, "{:?}", report.rejected);

    // EPrints' documents directory: eprint 123's revisions 1 and 2, and a
    // third that is broken.
    let documents = dir.path().join("documents");
    let revisions = documents.join("disk0/00/00/01/23/revisions");
    std::fs::create_dir_all(&revisions).unwrap();
    std::fs::write(revisions.join("1.xml"), eprint("A first draft", "inbox")).unwrap();
    std::fs::write(revisions.join("2.xml"), eprint("Final title", "buffer")).unwrap();
    std::fs::write(revisions.join("3.xml"), "<eprint xmlns=\"http://eprints.org/ep2/data/2.0\"><title>cut").unwrap();
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<histories xmlns=\"http://eprints.org/ep2/data/2.0\">\n{}</histories>\n",
        [
            entry(1, 123, 1, "2014-05-20 09:00:00", "create", "eprint"),
            entry(2, 123, 2, "2014-05-21 10:00:00", "move_inbox_to_buffer", "eprint"),
            entry(3, 123, 3, "2014-05-29 11:00:00", "move_buffer_to_archive", "eprint"),
            entry(4, 123, 4, "2015-01-02 12:00:00", "modify", "eprint"),
            entry(5, 999, 1, "2014-05-20 09:00:00", "create", "eprint"),
            entry(6, 3, 1, "2014-05-20 09:00:00", "create", "user"),
            "<history><historyid>7</historyid><objectid>123</objectid><timestamp>soon</timestamp></history>\n".into(),
        ]
        .concat()
    );
    let report = import_history(&repo, read_history(xml.as_bytes()).unwrap(), &documents).await.unwrap();
    assert_eq!((report.records, report.revisions), (1, 2), "{report:?}");
    assert_eq!(report.without_state, 1, "revision 4 has no file: {report:?}");
    assert_eq!(report.unknown_records, 1, "eprint 999 is not here");
    assert_eq!(report.other_datasets, 1, "a user's history");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].0, 9, "told by its line");
    assert_eq!(report.bad_states.len(), 1, "{report:?}");
    assert!(report.bad_states[0].0.ends_with("3.xml"));

    let revisions = repo.store.revisions(123).await.unwrap();
    let titles: Vec<(&str, &str)> =
        revisions.iter().map(|r| (r.record.title.as_str(), r.record.status.as_str())).collect();
    assert_eq!(titles, [("A first draft", "inbox"), ("Final title", "buffer"), ("Final title", "archive")]);
    let shown = history(&revisions, &[], |_| None);
    let oldest = shown.last().unwrap();
    assert_eq!((oldest.number, oldest.actor.as_str()), (1, "Anna Nowak (in EPrints)"));
    assert_eq!(oldest.at, "2014-05-20 09:00:00");
    assert_eq!(repo.store.get_record(123).await.unwrap().unwrap().title, "Final title", "the record is as imported");

    // The same history again adds nothing.
    let again = import_history(&repo, read_history(xml.as_bytes()).unwrap(), &documents).await.unwrap();
    assert_eq!((again.revisions, again.already.as_slice()), (0, &[123][..]));
    assert_eq!(repo.store.revisions(123).await.unwrap().len(), 3);
}
