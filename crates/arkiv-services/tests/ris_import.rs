//! `arkiv import ris` (issue 30): RIS files through the same pipeline as
//! EPrints XML. Records land with their fields mapped by reference type;
//! a record that cannot be read is reported with its position while the
//! others land; a file imported once is refused a second time.

use arkiv_model::Status;
use arkiv_services::import::{import_records, ImportOptions, RecordFormat};
use arkiv_services::{Config, Repository};

const RIS: &str = "\u{feff}TY  - JOUR\r
AU  - Jaroslewicz, Aleksandra\r
AU  - Kowalska, Anna\r
TI  - Kazakhstan's attitude towards integration with Russia\r
T2  - Journal of Eurasian Studies\r
PY  - 2014\r
DA  - 2014/05/29/\r
VL  - 5\r
IS  - 2\r
SP  - 101\r
EP  - 117\r
DO  - 10.1016/j.euras.2014.05.001\r
AB  - Less love,\r
more fear.\r
KW  - Kazakhstan\r
KW  - Eurasian Economic Union\r
ZZ  - a tag no field takes\r
ER  - \r
\r
TY  - RPRT\r
AU  - Nowak, Jan\r
TI  - A report that never ends\r
PY  - 2015\r
\r
TY  - RPRT\r
AU  - Menkiszak, Marek\r
TI  - Russia's long war\r
T2  - OSW Commentary\r
SN  - 137\r
M3  - Policy Paper\r
PB  - Centre for Eastern Studies\r
PY  - 2014\r
ER  - \r
";

#[tokio::test]
async fn a_ris_file_lands_record_by_record() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo"), Config::default()).await.unwrap();
    let file = dir.path().join("zotero.ris");
    std::fs::write(&file, RIS).unwrap();
    let options = ImportOptions::for_repository(&repo);
    let report =
        import_records(&repo, RecordFormat::Ris, std::slice::from_ref(&file), &options, &mut |_| {}).await.unwrap();
    assert_eq!(report.imported, 2, "{:?}", report.rejected);
    assert_eq!(report.rejected.len(), 1);
    assert_eq!(report.rejected[0].position, 2, "the record without its ER, by position: {:?}", report.rejected);
    assert!(report.rejected[0].reason.contains("ER"), "{}", report.rejected[0].reason);

    let article = repo.store.get_record(1).await.unwrap().expect("the article");
    assert_eq!(article.item_type, "article");
    assert_eq!(article.status, Status::Archive, "an import is the archive's, as EPrints XML's records are");
    assert_eq!(
        article.creators.iter().map(|c| c.name.inverted()).collect::<Vec<_>>(),
        ["Jaroslewicz, Aleksandra", "Kowalska, Anna"]
    );
    assert_eq!(article.date.unwrap().to_string(), "2014-05-29");
    assert_eq!(article.doi.as_deref(), Some("10.1016/j.euras.2014.05.001"));
    assert_eq!(article.pagerange.as_deref(), Some("101-117"));
    assert_eq!(article.abstract_text.as_deref(), Some("Less love, more fear."));
    assert_eq!(article.keywords, ["Kazakhstan", "Eurasian Economic Union"]);
    let paper = repo.store.get_record(2).await.unwrap().expect("the policy paper");
    assert_eq!(paper.item_type, "policy_paper", "M3 names the repository's type");
    assert_eq!((paper.series.as_deref(), paper.number.as_deref()), (Some("OSW Commentary"), Some("137")));

    // The same bytes again: refused, nothing written twice.
    let again = import_records(&repo, RecordFormat::Ris, std::slice::from_ref(&file), &options, &mut |_| {}).await;
    assert!(again.is_err(), "a file imported once is refused");
    assert!(repo.store.get_record(3).await.unwrap().is_none());
}
