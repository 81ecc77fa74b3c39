//! The records the format benchmarks share: N generated records with
//! varied authors, years, titles and types (so that BibTeX keys collide as
//! in a real repository), the same for every run.

use arkiv_model::{Creator, PartialDate, Record};

const FAMILIES: &[&str] =
    &["Jaroslewlcz", "Müller", "Smith", "Nowak", "O'Brien", "García", "Kowalski", "Chen", "Ivanova", "Dubois"];
const WORDS: &[&str] =
    &["Kazakhstan", "integration", "Russia", "energy", "policy", "security", "trade", "China", "elections", "water"];

/// The `i`th generated record.
pub fn record(i: usize) -> Record {
    let w = |k: usize| WORDS[(i / k) % WORDS.len()];
    let mut r = Record::new(
        ["policy_paper", "article", "book_section", "thesis", "report"][i % 5],
        &format!("{} and {}: {} & {}% of the {}", w(1), w(7), w(3), i % 100, w(11)),
    );
    r.id = Some(i as i64 + 1);
    r.creators.push(Creator::new(FAMILIES[i % FAMILIES.len()], "Anna"));
    if i.is_multiple_of(3) {
        r.creators.push(Creator::new(FAMILIES[(i / 3) % FAMILIES.len()], "Jan"));
    }
    r.date = Some(PartialDate { year: 1990 + (i % 36) as i32, month: Some((i % 12) as u8 + 1), day: None });
    r.series = Some("OSW Commentary".into());
    r.number = Some((i % 500).to_string());
    r.publisher = Some("OSW Centre for Eastern Studies".into());
    r.publication = Some("Journal of Eurasian Studies".into());
    r.keywords = vec![w(1).into(), w(5).into()];
    r.abstract_text = Some(format!("{} An abstract of about three hundred characters, with an ampersand & and a percent sign % and some Unicode: Łódź, Astana’s.", w(2)).repeat(2));
    r
}
