//! EPrints' subject tree comes along (issue 25): the subjects file of the
//! publication flavour's shape goes in, the subtree below `subjects`
//! becomes Arkiv's subject tree, and every line that cannot be placed is
//! reported with its number while the rest land.

use arkiv_services::subjects_import::{import_subjects, read_subjects};
use arkiv_services::{Config, Repository};

/// Shaped like flavours/pub_lib/defaultcfg/subjects, with the faults an
/// edited file has.
const SUBJECTS: &str = "\
# Format is KEY:TITLE:PARENTS_KEY(S):CANADD?
subjects:Subjects:ROOT:0
divisions:University Structure:ROOT:0
fac_eng:Faculty of Engineering:divisions:0
sch_ecs:School of Electronics and Computer Science:fac_eng:1
Q:Q Science:subjects:0
QA:QA Mathematics:Q:1
QA75:Electronic computers. Computer science:QA,T1:1
T:T Technology:subjects:0
T1:T Technology (General):T:1
loop1:A loop:loop2:1
loop2:The loop's other half:loop1:1
orphan:An orphan:nowhere:1
QA:QA Mathematics again:Q:1
bad key!:A bad key:subjects:1
half a line
";

#[tokio::test]
async fn the_subject_tree_comes_along_and_each_bad_line_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    let report = import_subjects(&repo, read_subjects(SUBJECTS.as_bytes()).unwrap(), "subjects").await.unwrap();

    assert_eq!(report.imported, 5, "Q, QA, QA75, T, T1: {report:?}");
    assert_eq!(report.divisions, 2, "fac_eng and sch_ecs, as the division tree: {report:?}");
    assert_eq!(report.outside, 0, "{report:?}");
    let lines: Vec<usize> = report.rejected.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, [11, 12, 13, 14, 15, 16], "{:?}", report.rejected);
    let said = |line: usize| report.rejected.iter().find(|(l, _)| *l == line).unwrap().1.clone();
    assert!(said(11).contains("loops"), "{}", said(11));
    assert!(said(13).contains("the parent nowhere of subject orphan is not defined"), "{}", said(13));
    assert!(said(14).contains("defined twice (first on line 7)"), "{}", said(14));
    assert!(said(15).contains("not a subject key"), "{}", said(15));
    assert!(said(16).contains("is not KEY:TITLE:PARENTS:CANADD"), "{}", said(16));
    assert_eq!(report.warnings.len(), 1);
    assert!(
        report.warnings[0].1.contains("QA75 is also under T1: Arkiv keeps one parent, QA"),
        "{:?}",
        report.warnings
    );

    let tree = repo.subjects();
    let path: Vec<&str> = tree.path("QA75").iter().map(|s| s.name.as_str()).collect();
    assert_eq!(path, ["Q Science", "QA Mathematics", "Electronic computers. Computer science"]);
    assert!(tree.get("Q").unwrap().parent.is_none(), "the children of `subjects` are the top level");
    assert!(tree.get("loop1").is_none() && tree.get("orphan").is_none());
    let divisions: Vec<&str> = tree.divisions().map(|s| s.id.as_str()).collect();
    assert_eq!(divisions, ["fac_eng", "sch_ecs"], "a second tree, not subjects");
    assert_eq!(tree.children(None).count(), 2, "Q and T: the divisions are no subjects");
    assert_eq!(tree.path_label("sch_ecs"), "Faculty of Engineering > School of Electronics and Computer Science");

    // The same file again changes nothing and reports the same lines.
    let again = import_subjects(&repo, read_subjects(SUBJECTS.as_bytes()).unwrap(), "subjects").await.unwrap();
    assert_eq!((again.imported, again.divisions, again.rejected.len()), (5, 2, 6));
    assert_eq!(repo.subjects().divisions().count(), 2);
}

/// The XML export of EPrints' subject dataset gives the same tree.
#[tokio::test]
async fn the_xml_export_of_the_subjects_gives_the_same_tree() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path(), Config::default()).await.unwrap();
    let subject = |id: &str, name: &str, parents: &[&str]| {
        let parents: String = parents.iter().map(|p| format!("<item>{p}</item>")).collect();
        format!(
            "<subject><subjectid>{id}</subjectid><name><item><name>{name}</name><lang>en</lang></item></name>\
             <parents>{parents}</parents><depositable>TRUE</depositable></subject>\n"
        )
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<subjects xmlns=\"http://eprints.org/ep2/data/2.0\">\n{}{}{}{}{}</subjects>\n",
        subject("subjects", "Subjects", &["ROOT"]),
        subject("Q", "Q Science", &["subjects"]),
        subject("QA", "QA Mathematics", &["Q"]),
        subject("QA75", "Electronic computers. Computer science", &["QA", "T1"]),
        subject("orphan", "An orphan", &["nowhere"]),
    );
    let report = import_subjects(&repo, read_subjects(xml.as_bytes()).unwrap(), "subjects").await.unwrap();
    assert_eq!(report.imported, 3, "{report:?}");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].0, 7, "the orphan's <subject> starts on line 7: {report:?}");
    let tree = repo.subjects();
    let path: Vec<&str> = tree.path("QA75").iter().map(|s| s.name.as_str()).collect();
    assert_eq!(path, ["Q Science", "QA Mathematics", "Electronic computers. Computer science"]);
    assert!(read_subjects(b"<subjects><subject></subjects>").unwrap_err().contains("line 1"));
}
