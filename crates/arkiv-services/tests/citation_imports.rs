//! `arkiv import bibtex|csljson|crossref|datacite` (issue 30): each format
//! through the one import pipeline. In each file one record is broken
//! (BibTeX braces that never close, a `@string` that refers to itself, a
//! JSON item cut off, an item without a title): it is reported by its
//! position, and the records around it land with their fields mapped.

use arkiv_services::import::{import_records, ImportOptions, ImportReport, RecordFormat};
use arkiv_services::{Config, Repository};

async fn import(format: RecordFormat, name: &str, text: &str) -> (Repository, ImportReport, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(&dir.path().join("repo"), Config::default()).await.unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, text).unwrap();
    let options = ImportOptions::for_repository(&repo);
    let report = import_records(&repo, format, std::slice::from_ref(&file), &options, &mut |_| {}).await.unwrap();
    (repo, report, dir)
}

async fn titles(repo: &Repository) -> Vec<String> {
    let ids: Vec<i64> = (1..=repo.store.max_record_id().await.unwrap()).collect();
    repo.store.get_records(&ids).await.unwrap().into_iter().map(|r| r.title).collect()
}

const BIBTEX: &str = r#"
@string{osw = "OSW Commentary"}
@string{loop = loop # " again"}

@techreport{jaroslewicz2014,
  author = {Jaroslewicz, Aleksandra},
  title = {Kazakhstan's attitude towards integration with {Russia}: less love, more fear},
  institution = {Centre for Eastern Studies},
  type = {Policy Paper},
  series = osw,
  number = {137},
  year = 2014,
  month = may,
}

@article{broken,
  author = {Nowak, Jan},
  title = {Braces that {never close},
  year = 2015,

@article{kowalska2016,
  author = {Kowalska, Anna and M{\"u}ller, J{\"o}rg},
  title = {Energy security in the {Baltic} states},
  journal = {Journal of Baltic Studies},
  volume = 47, number = 3, pages = {301--320},
  doi = {10.1080/01629778.2016.1234567},
  year = 2016,
}

@misc{looping,
  title = {Uses a string defined by itself},
  note = loop,
}
"#;

#[tokio::test]
async fn bibtex_lands_entry_by_entry() {
    let (repo, report, _dir) = import(RecordFormat::Bibtex, "refs.bib", BIBTEX).await;
    assert_eq!(report.imported, 2, "{:?}", report.rejected);
    let positions: Vec<usize> = report.rejected.iter().map(|r| r.position).collect();
    assert!(positions.contains(&2), "the unclosed entry, by position: {:?}", report.rejected);
    let titles = titles(&repo).await;
    assert_eq!(titles.len(), 2);
    let paper = repo.store.get_record(1).await.unwrap().unwrap();
    assert_eq!(paper.item_type, "policy_paper");
    assert_eq!((paper.series.as_deref(), paper.number.as_deref()), (Some("OSW Commentary"), Some("137")));
    let article = repo.store.get_record(2).await.unwrap().unwrap();
    assert_eq!(article.title, "Energy security in the Baltic states");
    assert_eq!(article.creators[1].name.inverted(), "Müller, Jörg");
    assert_eq!(article.pagerange.as_deref(), Some("301-320"));
}

const CSL_JSON: &str = r#"[
{"id": "a", "type": "article-journal", "title": "Energy security in the Baltic states",
 "author": [{"family": "Kowalska", "given": "Anna"}], "container-title": "Journal of Baltic Studies",
 "volume": "47", "issue": "3", "page": "301-320", "issued": {"date-parts": [[2016, 9]]}, "DOI": "10.1080/01629778.2016.1234567"},
{"id": "b", "type": "report", "author": [{"family": "Nowak", "given": "Jan"}]},
{"id": "c", "type": "report", "title": "Russia's long war", "genre": "Policy Paper",
 "collection-title": "OSW Commentary", "number": "137", "publisher": "Centre for Eastern Studies", "issued": {"date-parts": [[2014]]}},
{"id": "d", "type": "book", "title": "Cut off
"#;

#[tokio::test]
async fn csl_json_lands_item_by_item() {
    let (repo, report, _dir) = import(RecordFormat::CslJson, "items.json", CSL_JSON).await;
    assert_eq!(report.imported, 2, "{:?}", report.rejected);
    let positions: Vec<usize> = report.rejected.iter().map(|r| r.position).collect();
    assert!(positions.contains(&2), "the untitled item: {:?}", report.rejected);
    let article = repo.store.get_record(1).await.unwrap().unwrap();
    assert_eq!(article.publication.as_deref(), Some("Journal of Baltic Studies"));
    assert_eq!(article.date.unwrap().to_string(), "2016-09");
    let paper = repo.store.get_record(2).await.unwrap().unwrap();
    assert_eq!(paper.item_type, "policy_paper");
}

#[tokio::test]
async fn crossref_and_datacite_answers_land() {
    let Some(corpus) = arkiv_testkit::corpus_dir() else {
        arkiv_testkit::skip("../shared/corpus/doi_api_responses");
        return;
    };
    let responses = corpus.join("doi_api_responses");
    let list = std::fs::read_to_string(responses.join("crossref/works_list_missing_doi.json")).unwrap();
    let (repo, report, _dir) = import(RecordFormat::Crossref, "works.json", &list).await;
    assert_eq!(report.imported as usize + report.rejected.len(), 20, "{:?}", report.rejected);
    assert!(report.imported >= 15, "{:?}", report.rejected);
    assert!(titles(&repo)
        .await
        .contains(&"Hydrocarbon Potential of Columbia Plateau--an Overview: ABSTRACT".to_string()));

    let sample = std::fs::read_to_string(responses.join("datacite/sample.json")).unwrap();
    let (_repo, report, _dir) = import(RecordFormat::DataciteJson, "dois.json", &sample).await;
    assert_eq!(report.imported as usize + report.rejected.len(), 100, "{:?}", report.rejected);
    assert!(report.imported >= 90, "{:?}", report.rejected);

    // One work cut off among whole ones: the whole ones land.
    let work = std::fs::read_to_string(responses.join("crossref/work_10.7554_elife.01567.json")).unwrap();
    let lines = format!("{}\n{{\"title\": [\"cut\"\n{}\n", work.replace('\n', " "), work.replace('\n', " "));
    let (_repo, report, _dir) = import(RecordFormat::Crossref, "lines.jsonl", &lines).await;
    assert_eq!(report.imported, 2, "{:?}", report.rejected);
    assert_eq!(report.rejected.len(), 1);
}
