//! Synthetic records: a deterministic stream of realistic think-tank output.
//!
//! Benchmarks need a million records that look like a real repository's, the
//! demo needs a few thousand that read well on a page, and property tests need
//! records that exercise every field the model has. This module feeds all
//! three. From a seed it produces policy papers, working papers, reports,
//! articles and the rest, in the proportions a think tank publishes them:
//! titles and abstracts built from topic vocabularies (so full-text search
//! has real words to find), authors with Polish, Russian, Ukrainian, Kazakh,
//! Czech, Lithuanian, German, French and English names, diacritics and
//! Cyrillic included, valid ORCID iDs, ISBNs and ISSNs, series with numbers, subjects from
//! [`subject_tree`], and optionally a small PDF per record. Record `i` depends
//! only on the seed and `i`, never on how many records were generated before
//! it, so a benchmark and a test can ask for the same record and get it.
//!
//! Every generated record passes [`arkiv_model::validate`] with the default
//! item types. Institutions and journals carry real names, but every person,
//! title, identifier and e-mail address is invented; URLs and e-mail addresses
//! use `example.org` hosts, and DOIs the `10.5555` test prefix.

use crate::pdf::{ascii_fold, small_pdf};
use arkiv_model::date::days_in_month;
use arkiv_model::{
    Contributor, CorporateCreator, Creator, Document, DocumentSecurity, PartialDate, PersonName, Record, RecordId,
    Status, StoredFile, Subject, SubjectTree, Timestamp,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;

/// What to generate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct GeneratorOptions {
    /// The same seed always gives the same records.
    pub seed: u64,
    /// Give each record one document: a small PDF (see [`crate::pdf`]).
    pub with_pdfs: bool,
    /// If set, records get ids `first_id`, `first_id + 1`, ...; otherwise
    /// their id is `None`, as for a record the store has not yet seen.
    pub first_id: Option<RecordId>,
}

/// One generated record with the bytes of its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedRecord {
    pub record: Record,
    /// `(document position, file name, bytes)`, one per file the record's
    /// documents list; empty without `with_pdfs`.
    pub files: Vec<(u32, String, Vec<u8>)>,
}

/// An endless, deterministic stream of records: use `.take(n)`.
///
/// [`Generator::record`] gives record `i` directly; the iterator yields
/// records 0, 1, 2... and its `nth` skips without generating.
#[derive(Debug, Clone)]
pub struct Generator {
    opts: GeneratorOptions,
    /// ChaCha key derived from the seed; record `i` uses stream `i` of it.
    key: [u8; 32],
    next: u64,
    /// For each topic, the indices into [`REGIONS`] it is usually about.
    topic_regions: Vec<Vec<usize>>,
}

impl Generator {
    pub fn new(opts: GeneratorOptions) -> Self {
        let key = ChaCha8Rng::seed_from_u64(opts.seed).get_seed();
        let topic_regions = TOPICS
            .iter()
            .map(|t| {
                t.regions
                    .iter()
                    .map(|code| REGIONS.iter().position(|r| r.code == *code).expect("topic names a known region"))
                    .collect()
            })
            .collect();
        Generator { opts, key, next: 0, topic_regions }
    }

    pub fn options(&self) -> &GeneratorOptions {
        &self.opts
    }

    /// Record `index` (from 0) of this seed's stream.
    pub fn record(&self, index: u64) -> GeneratedRecord {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(index);
        self.build(index, &mut rng)
    }

    fn build(&self, index: u64, rng: &mut ChaCha8Rng) -> GeneratedRecord {
        let kind = KINDS[weighted(rng, &KIND_WEIGHTS)];
        let topic_index = weighted(rng, &TOPIC_WEIGHTS);
        let topic = &TOPICS[topic_index];
        let preferred = &self.topic_regions[topic_index];
        let region = if !preferred.is_empty() && rng.gen_bool(0.85) {
            &REGIONS[*pick(rng, preferred)]
        } else {
            pick(rng, REGIONS)
        };
        let other_topic = {
            let mut t = rng.gen_range(0..TOPICS.len() as u32 - 1) as usize;
            if t >= topic_index {
                t += 1;
            }
            &TOPICS[t]
        };

        // The full date; the record keeps as much of it as its type shows.
        let year = {
            // Output grows over the years: more recent years are likelier.
            let u: f64 = rng.gen();
            (1995 + (32.0 * u.sqrt()) as i32).min(2026)
        };
        let month = rng.gen_range(1..=12u8);
        let day = rng.gen_range(1..=days_in_month(year, month));
        let precise = matches!(kind, Kind::PolicyPaper | Kind::WorkingPaper);
        let date = match if precise { 2 } else { weighted(rng, &[40, 30, 30]) } {
            0 => PartialDate::year(year),
            1 => PartialDate { year, month: Some(month), day: None },
            _ => PartialDate { year, month: Some(month), day: Some(day) },
        };
        let lang = weighted(rng, &LANG_WEIGHTS);

        let (a, a2) = two_actors(rng, region.capital);
        let (t, t2) = two_of(rng, topic.phrases);
        let mut ctx = Ctx {
            region,
            topic,
            t,
            t2,
            a,
            a2,
            year,
            y0: rng.gen_range((year - 12).max(1991)..year),
            kind: kind.noun(),
            lang,
            sub: String::new(),
        };
        let mut sub = String::new();
        fill(&mut sub, pick_str(rng, SUBTITLES), &ctx);
        ctx.sub = sub;
        let mut title = String::with_capacity(96);
        let templates = match lang {
            1 => PL_TITLES,
            2 => RU_TITLES,
            3 => DE_TITLES,
            4 => FR_TITLES,
            _ => EN_TITLES,
        };
        fill(&mut title, pick_str(rng, templates), &ctx);

        let mut r = Record::new(kind.key(), &title);
        r.id = self.opts.first_id.map(|f| f + index as RecordId);
        r.status = Status::Archive;
        r.date = Some(date);
        r.date_type = Some("published".into());
        r.languages = vec![LANGS[lang].into()];
        r.userid = Some(rng.gen_range(1..=40));

        // Imprint, series and identifiers, by type.
        let inst = &INSTITUTIONS[weighted(rng, &INSTITUTION_WEIGHTS)];
        let mut series: Option<&Series> = None;
        match kind {
            Kind::PolicyPaper | Kind::WorkingPaper | Kind::Report | Kind::Monograph => {
                let want = match kind {
                    Kind::PolicyPaper => SeriesKind::Policy,
                    Kind::WorkingPaper => SeriesKind::Working,
                    Kind::Report => SeriesKind::Report,
                    _ => SeriesKind::Monograph,
                };
                let in_series = !matches!(kind, Kind::Report | Kind::Monograph) || rng.gen_bool(0.6);
                series = SERIES
                    .iter()
                    .find(|s| s.inst == inst.short && s.kind == want)
                    .filter(|s| in_series && s.since <= year);
                r.publisher = Some(inst.name.into());
                r.institution = Some(inst.name.into());
                r.place_of_pub = Some(inst.place.into());
                let pages = match kind {
                    Kind::PolicyPaper => rng.gen_range(4..=16),
                    Kind::WorkingPaper => rng.gen_range(18..=64),
                    Kind::Report => rng.gen_range(20..=140),
                    _ => rng.gen_range(60..=320),
                };
                r.pages = Some(pages.to_string());
                if kind == Kind::Monograph || (kind == Kind::Report && rng.gen_bool(0.3)) {
                    r.isbn = Some(isbn13(rng, inst.isbn_group));
                }
                if rng.gen_bool(0.5) {
                    let mut url = format!("https://{}/publications/{year}/", inst.host);
                    slug_into(&mut url, &title, '-', 8);
                    r.official_url = Some(url);
                }
            }
            Kind::Article => {
                let j = pick(rng, JOURNALS);
                r.publication = Some(j.name.into());
                r.volume = Some((year - j.first_year + 1).max(1).to_string());
                r.number = Some(rng.gen_range(1..=j.issues).to_string());
                let start = rng.gen_range(1..=400u32);
                r.pagerange = Some(format!("{start}-{}", start + rng.gen_range(8..=32)));
                r.issn = Some(issn(j.issn7));
                let doi = format!("10.5555/{}.{year}.{:05}", j.slug, rng.gen_range(0..100_000u32));
                if rng.gen_bool(0.5) {
                    r.official_url = Some(format!("https://doi.org/{doi}"));
                }
                r.doi = Some(doi);
                r.refereed = Some(rng.gen_bool(0.9));
            }
            Kind::BookSection => {
                let p = pick(rng, PUBLISHERS);
                r.publisher = Some(p.name.into());
                r.place_of_pub = Some(p.place.into());
                let mut book = String::new();
                fill(&mut book, pick_str(rng, BOOK_TITLES), &ctx);
                r.book_title = Some(book);
                let start = rng.gen_range(1..=300u32);
                r.pagerange = Some(format!("{start}-{}", start + rng.gen_range(12..=40)));
                if rng.gen_bool(0.8) {
                    r.isbn = Some(isbn13(rng, p.isbn_group));
                }
                for _ in 0..weighted(rng, &[0, 50, 35, 15]) {
                    r.editors.push(person(rng, region, "example.org"));
                }
                r.refereed = Some(rng.gen_bool(0.5));
            }
            Kind::ConferenceItem => {
                let (event, place) = *pick(rng, EVENTS);
                r.event_title = Some(format!("{event} {year}"));
                r.place_of_pub = Some(place.into());
            }
            Kind::Thesis => {
                let (uni, place) = *pick(rng, UNIVERSITIES);
                r.institution = Some(uni.into());
                r.department = Some((*pick(rng, DEPARTMENTS)).into());
                r.place_of_pub = Some(place.into());
                r.pages = Some(rng.gen_range(80..=420).to_string());
                r.contributors.push(Contributor {
                    role: "http://www.loc.gov/loc.terms/relators/THS".into(),
                    person: person(rng, region, "example.org"),
                });
            }
        }
        if let Some(s) = series {
            r.series = Some(s.name.into());
            let n = 1 + (year - s.since) as u32 * s.per_year + rng.gen_range(0..s.per_year);
            r.number = Some(match s.numbering {
                Numbering::Plain => n.to_string(),
                Numbering::YearSlash => format!("{year}/{:02}", n % s.per_year + 1),
                Numbering::SlashYear => format!("{}/{year}", n % s.per_year + 1),
            });
            r.issn = Some(issn(s.issn7));
        }

        // Authors: people, a body, or both.
        let corporate = match kind {
            Kind::Report => 0.35,
            Kind::PolicyPaper | Kind::Monograph => 0.08,
            Kind::WorkingPaper => 0.03,
            _ => 0.0,
        };
        let corporate = rng.gen_bool(corporate);
        if corporate {
            r.corp_creators.push(CorporateCreator { name: inst.name.into(), id: None });
        }
        if !corporate || rng.gen_bool(0.5) {
            let n = if kind == Kind::Thesis { 1 } else { 1 + weighted(rng, &[55, 25, 12, 8]) };
            let mut tries = 0;
            while r.creators.len() < n && tries < 3 * n {
                tries += 1;
                let c = person(rng, region, inst.host);
                if !r.creators.iter().any(|o| o.name == c.name) {
                    r.creators.push(c);
                }
            }
        }

        r.ispublished = Some(
            match kind {
                Kind::ConferenceItem => ["pub", "unpub"][weighted(rng, &[75, 25])],
                Kind::Thesis => ["pub", "unpub"][weighted(rng, &[60, 40])],
                _ => ["pub", "inpress", "unpub"][weighted(rng, &[95, 3, 2])],
            }
            .into(),
        );

        // Keywords: the topic's, the region, sometimes one from a second topic.
        let n_keywords = rng.gen_range(2..=6usize);
        if rng.gen_bool(0.5) {
            r.keywords.push(region.en.into());
        }
        if rng.gen_bool(0.3) {
            let k = *pick(rng, other_topic.keywords);
            if !r.keywords.iter().any(|o| o == k) {
                r.keywords.push(k.into());
            }
        }
        let mut tries = 0;
        while r.keywords.len() < n_keywords && tries < 20 {
            tries += 1;
            let k = *pick(rng, topic.keywords);
            if !r.keywords.iter().any(|o| o == k) {
                r.keywords.push(k.into());
            }
        }
        r.keywords.truncate(n_keywords);

        // Subjects: region, topic, sometimes a second topic.
        let n_subjects = 1 + weighted(rng, &[15, 55, 30]);
        let topic_subject = *pick(rng, topic.subjects);
        let mut subjects = [region.subject, topic_subject, *pick(rng, other_topic.subjects)];
        if n_subjects == 1 && rng.gen_bool(0.5) {
            subjects.swap(0, 1);
        }
        for s in &subjects[..n_subjects] {
            if !r.subjects.iter().any(|o| o == s) {
                r.subjects.push((*s).into());
            }
        }

        // Division: the programme that covers the region (no draw, so the
        // rest of a record stays what the seed gave before divisions).
        if let Some(division) = division_of(region.subject) {
            r.divisions.push(division.into());
        }

        r.abstract_text = Some(abstract_text(rng, &ctx, other_topic));
        r.license = Some((*pick(rng, LICENSES)).into());

        // Deposited within weeks of publication, during office hours; some
        // records were edited later.
        let day0 = days_from_civil(year, month, day);
        let deposited = (day0 + rng.gen_range(0..=45)) * 86_400 + rng.gen_range(8 * 3600..18 * 3600);
        r.datestamp = Some(Timestamp(deposited));
        let latest_edit = (LAST_EDIT_DAY * 86_400 - deposited).clamp(60, 4 * 365 * 86_400);
        r.lastmod =
            Some(Timestamp(if rng.gen_bool(0.5) { deposited } else { deposited + rng.gen_range(60..=latest_edit) }));

        let mut files = Vec::new();
        if self.opts.with_pdfs {
            let filename = file_name(&r, kind, index);
            let bytes = pdf_for(&r);
            let security = [DocumentSecurity::Public, DocumentSecurity::Validuser, DocumentSecurity::Staffonly]
                [weighted(rng, &[85, 10, 5])];
            let embargo = rng.gen_bool(0.04).then(|| {
                let months = u32::from(month) + rng.gen_range(6..=24u32) - 1;
                PartialDate {
                    year: year + (months / 12) as i32,
                    month: Some((months % 12 + 1) as u8),
                    day: Some(day.min(28)),
                }
            });
            r.documents.push(Document {
                pos: 1,
                format: Some("application/pdf".into()),
                format_description: None,
                mime_type: Some("application/pdf".into()),
                language: Some(LANGS[lang].into()),
                security,
                embargo,
                license: r.license.clone(),
                content: Some("published".into()),
                main: Some(filename.clone()),
                files: vec![StoredFile {
                    filename: filename.clone(),
                    mime_type: Some("application/pdf".into()),
                    size: bytes.len() as u64,
                    sha256: Some(hex::encode(Sha256::digest(&bytes))),
                    source_hash: None,
                    source_url: None,
                    eprints_fileid: None,
                }],
                eprints_docid: None,
                derived: None,
            });
            files.push((1, filename, bytes));
        }
        GeneratedRecord { record: r, files }
    }
}

impl Iterator for Generator {
    type Item = GeneratedRecord;

    fn next(&mut self) -> Option<GeneratedRecord> {
        let r = self.record(self.next);
        self.next += 1;
        Some(r)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }

    fn nth(&mut self, n: usize) -> Option<GeneratedRecord> {
        self.next += n as u64;
        self.next()
    }
}

impl std::iter::FusedIterator for Generator {}

/// The subject tree the generated records use: geographical areas
/// (`geo` > `geo-casia` > `geo-casia-kz`) and topics (`top` > `top-energy` >
/// `top-energy-gas`). A subject's parent is its id without the last
/// `-segment`. Records are filed under leaves only. With it, the divisions
/// ([`DIVISIONS`]): each record is in the programme of its region.
pub fn subject_tree() -> SubjectTree {
    let nodes = |list: &[(&str, &str)], top: usize| -> Vec<Subject> {
        list.iter()
            .map(|(id, name)| Subject {
                id: (*id).into(),
                name: (*name).into(),
                parent: id.rsplit_once('-').map(|(p, _)| p.to_string()).filter(|_| id.split('-').count() > top),
            })
            .collect()
    };
    SubjectTree::with_divisions(nodes(SUBJECTS, 1), nodes(DIVISIONS, 2))
}

// ---------------------------------------------------------------------------
// Building blocks.

/// The values a template's `{placeholders}` stand for.
struct Ctx<'a> {
    region: &'a Region,
    topic: &'a Topic,
    /// Two different phrases of the topic.
    t: &'a str,
    t2: &'a str,
    /// Two different outside actors, neither the region's capital.
    a: &'a str,
    a2: &'a str,
    year: i32,
    /// An earlier year the text looks back to.
    y0: i32,
    /// "paper", "report", "chapter"...
    kind: &'static str,
    /// Index into [`LANGS`].
    lang: usize,
    /// The subtitle, filled.
    sub: String,
}

/// Appends `template` with its placeholders replaced.
fn fill(out: &mut String, template: &str, c: &Ctx) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = open + rest[open..].find('}').expect("templates close their placeholders");
        let local = c.lang.max(1) - 1;
        match &rest[open + 1..close] {
            "R" => out.push_str(c.region.en),
            "RA" => out.push_str(c.region.adj),
            "C" => out.push_str(c.region.capital),
            "A" => out.push_str(c.a),
            "A2" => out.push_str(c.a2),
            "T" => out.push_str(c.t),
            "T^" => push_capitalised(out, c.t),
            "t" => out.push_str(c.t.strip_prefix("the ").unwrap_or(c.t)),
            "T2" => out.push_str(c.t2),
            "Y" => {
                let _ = write!(out, "{}", c.year);
            }
            "Y0" => {
                let _ = write!(out, "{}", c.y0);
            }
            "kind" => out.push_str(c.kind),
            "sub" => out.push_str(&c.sub),
            "Sub" => push_capitalised(out, &c.sub),
            "TL" => out.push_str(c.topic.local[local]),
            "tl" => {
                let s = c.topic.local[local];
                // German nouns keep their capital; only the article drops it.
                if c.lang == 3 && !s.starts_with("Die ") {
                    out.push_str(s);
                } else {
                    push_lowercased_first(out, s);
                }
            }
            "RL" => out.push_str(c.region.local[local]),
            "RL^" => push_capitalised(out, c.region.local[local]),
            other => unreachable!("unknown placeholder {other}"),
        }
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
}

fn push_capitalised(out: &mut String, s: &str) {
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_uppercase());
        out.push_str(chars.as_str());
    }
}

fn push_lowercased_first(out: &mut String, s: &str) {
    let mut chars = s.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
        out.push_str(chars.as_str());
    }
}

/// An abstract of 80 to 250 words: an opening, sentences on the topic and
/// general ones, a closing.
fn abstract_text(rng: &mut ChaCha8Rng, c: &Ctx, other: &Topic) -> String {
    let target = rng.gen_range(80..=220usize);
    let mut out = String::with_capacity(target * 8);
    fill(&mut out, pick_str(rng, OPENERS), c);
    let mut used = 0u64;
    let mut words = count_words(&out);
    let pool = c.topic.sentences.len() + GENERAL_SENTENCES.len() + 1;
    while words < target && used.count_ones() < pool as u32 {
        let i = rng.gen_range(0..pool as u32) as usize;
        if used & (1 << i) != 0 {
            continue;
        }
        used |= 1 << i;
        let template = if i < c.topic.sentences.len() {
            c.topic.sentences[i]
        } else if i < pool - 1 {
            GENERAL_SENTENCES[i - c.topic.sentences.len()]
        } else {
            // One sentence from a neighbouring topic.
            *pick(rng, other.sentences)
        };
        let start = out.len();
        out.push(' ');
        fill(&mut out, template, c);
        words += count_words(&out[start..]);
    }
    let closer = pick_str(rng, CLOSERS);
    let start = out.len();
    out.push(' ');
    fill(&mut out, closer, c);
    let with_closer = words + count_words(&out[start..]);
    if with_closer > 250 {
        out.truncate(start);
    }
    out
}

fn count_words(s: &str) -> usize {
    s.split_whitespace().count()
}

/// A person from a pool of names, most often the region's own.
fn person(rng: &mut ChaCha8Rng, region: &Region, host: &str) -> Creator {
    let pool = match region.pools {
        Some(own) if rng.gen_bool(0.35) => &POOLS[own[weighted(rng, &[7, 3]) * (own.len() - 1)]],
        _ => &POOLS[weighted(rng, &POOL_WEIGHTS)],
    };
    let female = rng.gen_bool(0.45);
    let (given, family) = if female {
        let i = rng.gen_range(0..pool.female_family.len() as u32) as usize;
        (*pick(rng, pool.female), pool.female_family[i])
    } else {
        let i = rng.gen_range(0..pool.male_family.len() as u32) as usize;
        (*pick(rng, pool.male), pool.male_family[i])
    };
    let mut c = Creator { name: PersonName::new(family, given), ..Default::default() };
    if rng.gen_bool(0.3) {
        c.orcid = Some(orcid(rng));
    }
    if rng.gen_bool(0.2) {
        let mut email = String::with_capacity(32);
        email_part(&mut email, given);
        email.push('.');
        email_part(&mut email, family);
        email.push('@');
        email.push_str(host);
        if rng.gen_bool(0.7) {
            c.id = Some(email.clone());
        }
        c.email = Some(email);
    }
    c
}

fn email_part(out: &mut String, name: &str) {
    for ch in ascii_fold(name).chars() {
        if ch.is_ascii_alphanumeric() || ch == '-' {
            out.push(ch.to_ascii_lowercase());
        }
    }
}

fn two_actors(rng: &mut ChaCha8Rng, capital: &str) -> (&'static str, &'static str) {
    loop {
        let (a, b) = two_of(rng, ACTORS);
        if a != capital && b != capital {
            return (a, b);
        }
    }
}

/// Two different items of `items` (which has at least two).
fn two_of<'a>(rng: &mut ChaCha8Rng, items: &[&'a str]) -> (&'a str, &'a str) {
    let n = items.len() as u32;
    let i = rng.gen_range(0..n);
    let j = (i + rng.gen_range(1..n)) % n;
    (items[i as usize], items[j as usize])
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, items: &'a [T]) -> &'a T {
    &items[rng.gen_range(0..items.len() as u32) as usize]
}

fn pick_str(rng: &mut ChaCha8Rng, items: &[&'static str]) -> &'static str {
    items[rng.gen_range(0..items.len() as u32) as usize]
}

/// An index drawn with the given weights.
fn weighted(rng: &mut ChaCha8Rng, weights: &[u32]) -> usize {
    let total: u32 = weights.iter().sum();
    let mut x = rng.gen_range(0..total);
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

/// Up to `max_words` words of `text`, ASCII, lower case, joined by `sep`.
fn slug_into(out: &mut String, text: &str, sep: char, max_words: usize) {
    // Apostrophes join ("lithuanias", not "lithuania_s").
    let folded = ascii_fold(text).replace('\'', "");
    let words = folded.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty());
    for (i, w) in words.take(max_words).enumerate() {
        if i > 0 {
            out.push(sep);
        }
        out.extend(w.chars().map(|c| c.to_ascii_lowercase()));
    }
}

/// `osw_commentary_137.pdf` for a paper in a series, otherwise a slug of the
/// title: always ASCII letters, digits and underscores.
fn file_name(r: &Record, kind: Kind, index: u64) -> String {
    let mut name = String::with_capacity(48);
    match (&r.series, &r.number) {
        (Some(s), Some(n)) => {
            slug_into(&mut name, s, '_', 6);
            name.push('_');
            slug_into(&mut name, n, '_', 3);
        }
        _ => slug_into(&mut name, &r.title, '_', 6),
    }
    if name.is_empty() || name == "_" {
        name = format!("{}_{index}", kind.key());
    }
    name.push_str(".pdf");
    name
}

/// The full text: title, authors, imprint, abstract.
fn pdf_for(r: &Record) -> Vec<u8> {
    let mut authors = String::new();
    for c in &r.creators {
        if !authors.is_empty() {
            authors.push_str(", ");
        }
        authors.push_str(&c.name.given);
        authors.push(' ');
        authors.push_str(&c.name.family);
    }
    for c in &r.corp_creators {
        if !authors.is_empty() {
            authors.push_str(", ");
        }
        authors.push_str(&c.name);
    }
    let mut source = String::new();
    match (&r.series, &r.number, &r.publication, &r.book_title, &r.event_title) {
        (Some(s), Some(n), ..) => {
            let _ = write!(source, "{s} No. {n}");
        }
        (_, _, Some(p), ..) => {
            let _ = write!(source, "{p}, vol. {}", r.volume.as_deref().unwrap_or("1"));
        }
        (_, _, _, Some(b), _) => {
            let _ = write!(source, "In: {b}");
        }
        (.., Some(e)) => source.push_str(e),
        _ => source.push_str(r.institution.as_deref().unwrap_or("")),
    }
    let mut imprint = String::new();
    for part in [&r.publisher, &r.place_of_pub].into_iter().flatten() {
        imprint.push_str(part);
        imprint.push_str(", ");
    }
    if let Some(d) = r.date {
        imprint.push_str(&d.dotted());
    }
    let abstract_text = r.abstract_text.as_deref().unwrap_or("");
    small_pdf(
        &r.title,
        &[
            &authors,
            &source,
            &imprint,
            "",
            abstract_text,
            "",
            "Synthetic record generated by Arkiv: not a real publication.",
        ],
    )
}

// ---------------------------------------------------------------------------
// Identifiers with their check digits.

/// An ORCID iD in the range ORCID assigns from (0000-0001-5000-0007 to
/// 0000-0003-...), with its ISO 7064 MOD 11-2 check character.
fn orcid(rng: &mut ChaCha8Rng) -> String {
    let mut digits = [0u8; 15];
    digits[7] = rng.gen_range(1..=3);
    for d in &mut digits[8..] {
        *d = rng.gen_range(0..10);
    }
    let mut s = String::with_capacity(19);
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            s.push('-');
        }
        s.push((b'0' + d) as char);
    }
    s.push(orcid_check(&digits));
    s
}

/// ISO 7064 MOD 11-2 over the first 15 digits of an ORCID iD.
fn orcid_check(digits: &[u8; 15]) -> char {
    let mut total = 0u32;
    for d in digits {
        total = (total + u32::from(*d)) * 2;
    }
    match (12 - total % 11) % 11 {
        10 => 'X',
        c => (b'0' + c as u8) as char,
    }
}

/// `NNNN-NNNC` from seven digits: weights 8 to 2, check mod 11 (`X` for 10).
fn issn(seven: u32) -> String {
    let d: Vec<u32> = format!("{:07}", seven % 10_000_000).bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = d.iter().zip((2..=8).rev()).map(|(d, w)| d * w).sum();
    let check = match (11 - sum % 11) % 11 {
        10 => 'X',
        c => char::from_digit(c, 10).unwrap_or('0'),
    };
    format!("{}{}{}{}-{}{}{}{check}", d[0], d[1], d[2], d[3], d[4], d[5], d[6])
}

/// An ISBN-13 in registration group `group`, hyphenated
/// `978-group-publisher-title-check`, with a valid check digit.
fn isbn13(rng: &mut ChaCha8Rng, group: &str) -> String {
    let free = 9 - group.len();
    let publisher_len = rng.gen_range(2..=(free - 2).min(5));
    let mut digits: Vec<u8> = b"978".iter().chain(group.as_bytes()).map(|b| b - b'0').collect();
    for _ in 0..free {
        digits.push(rng.gen_range(0..10));
    }
    let check = isbn13_check(&digits);
    let text = |range: std::ops::Range<usize>| digits[range].iter().map(|d| (b'0' + d) as char).collect::<String>();
    let g = 3 + group.len();
    let p = g + publisher_len;
    format!("978-{group}-{}-{}-{check}", text(g..p), text(p..12))
}

/// The ISBN-13 check digit of twelve digits.
fn isbn13_check(digits: &[u8]) -> u8 {
    let sum: u32 = digits.iter().enumerate().map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 1 } else { 3 }).sum();
    ((10 - sum % 10) % 10) as u8
}

/// Days since 1970-01-01 of a date the generator made (always a real one).
fn days_from_civil(year: i32, month: u8, day: u8) -> i64 {
    let month = time::Month::try_from(month).expect("a month the generator made");
    let date = time::Date::from_calendar_date(year, month, day).expect("a date the generator made");
    i64::from(date.to_julian_day() - time::macros::date!(1970 - 01 - 01).to_julian_day())
}

// ---------------------------------------------------------------------------
// Vocabularies.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PolicyPaper,
    WorkingPaper,
    Report,
    Article,
    BookSection,
    Monograph,
    ConferenceItem,
    Thesis,
}

impl Kind {
    fn key(self) -> &'static str {
        match self {
            Kind::PolicyPaper => "policy_paper",
            Kind::WorkingPaper => "working_paper",
            Kind::Report => "report",
            Kind::Article => "article",
            Kind::BookSection => "book_section",
            Kind::Monograph => "monograph",
            Kind::ConferenceItem => "conference_item",
            Kind::Thesis => "thesis",
        }
    }

    /// What the abstract calls the work.
    fn noun(self) -> &'static str {
        match self {
            Kind::PolicyPaper | Kind::WorkingPaper | Kind::ConferenceItem => "paper",
            Kind::Report => "report",
            Kind::Article => "article",
            Kind::BookSection => "chapter",
            Kind::Monograph => "study",
            Kind::Thesis => "thesis",
        }
    }
}

const KINDS: [Kind; 8] = [
    Kind::PolicyPaper,
    Kind::WorkingPaper,
    Kind::Report,
    Kind::Article,
    Kind::BookSection,
    Kind::Monograph,
    Kind::ConferenceItem,
    Kind::Thesis,
];
const KIND_WEIGHTS: [u32; 8] = [30, 22, 12, 13, 7, 7, 6, 3];

/// Days since 1970 of 2027-01-01: later edits stop there, so that no record
/// seems to have been modified in the future of the data set.
const LAST_EDIT_DAY: i64 = 20_819;

const LANGS: [&str; 5] = ["en", "pl", "ru", "de", "fr"];
const LANG_WEIGHTS: [u32; 5] = [78, 9, 6, 4, 3];

const LICENSES: &[&str] = &["cc_by", "cc_by", "cc_by", "cc_by_nc", "cc_by_nc", "cc_by_nc_nd", "cc_by_sa", "cc_by_nd"];

/// Subjects, parents before children; a parent's id is its child's without
/// the last `-segment`.
const SUBJECTS: &[(&str, &str)] = &[
    ("geo", "Geographical area"),
    ("geo-casia", "Central Asia"),
    ("geo-casia-kz", "Kazakhstan"),
    ("geo-casia-uz", "Uzbekistan"),
    ("geo-casia-kg", "Kyrgyzstan"),
    ("geo-casia-tj", "Tajikistan"),
    ("geo-casia-tm", "Turkmenistan"),
    ("geo-rus", "Russia"),
    ("geo-eeur", "Eastern Europe"),
    ("geo-eeur-ua", "Ukraine"),
    ("geo-eeur-by", "Belarus"),
    ("geo-eeur-md", "Moldova"),
    ("geo-cauc", "South Caucasus"),
    ("geo-cauc-ge", "Georgia"),
    ("geo-cauc-am", "Armenia"),
    ("geo-cauc-az", "Azerbaijan"),
    ("geo-baltic", "Baltic states"),
    ("geo-baltic-ee", "Estonia"),
    ("geo-baltic-lv", "Latvia"),
    ("geo-baltic-lt", "Lithuania"),
    ("geo-ceur", "Central Europe"),
    ("geo-ceur-pl", "Poland"),
    ("geo-ceur-cz", "Czechia"),
    ("geo-ceur-sk", "Slovakia"),
    ("geo-ceur-hu", "Hungary"),
    ("geo-balkans", "Western Balkans"),
    ("geo-balkans-rs", "Serbia"),
    ("geo-balkans-ba", "Bosnia and Herzegovina"),
    ("geo-balkans-al", "Albania"),
    ("geo-balkans-mk", "North Macedonia"),
    ("geo-balkans-me", "Montenegro"),
    ("geo-weur", "Western Europe"),
    ("geo-weur-de", "Germany"),
    ("geo-weur-fr", "France"),
    ("geo-tr", "Turkey"),
    ("geo-cn", "China"),
    ("top", "Topics"),
    ("top-energy", "Energy"),
    ("top-energy-gas", "Natural gas"),
    ("top-energy-oil", "Oil"),
    ("top-energy-nuclear", "Nuclear energy"),
    ("top-energy-renew", "Renewable energy"),
    ("top-sec", "Security and defence"),
    ("top-sec-nato", "NATO"),
    ("top-sec-mil", "Armed forces"),
    ("top-sec-war", "War in Ukraine"),
    ("top-sec-hybrid", "Hybrid threats"),
    ("top-econ", "Economy"),
    ("top-econ-trade", "Trade"),
    ("top-econ-sanctions", "Sanctions"),
    ("top-econ-digital", "Digital economy"),
    ("top-econ-transport", "Transport and infrastructure"),
    ("top-int", "Integration"),
    ("top-int-eu", "EU enlargement"),
    ("top-int-eap", "Eastern Partnership"),
    ("top-int-eaeu", "Eurasian Economic Union"),
    ("top-pol", "Politics"),
    ("top-pol-dom", "Domestic politics"),
    ("top-pol-foreign", "Foreign policy"),
    ("top-pol-elections", "Elections"),
    ("top-soc", "Society"),
    ("top-soc-migration", "Migration"),
    ("top-soc-religion", "Religion"),
    ("top-soc-media", "Media"),
    ("top-climate", "Climate policy"),
];

/// The divisions of the generated repository: a think tank's programmes,
/// each covering regions (`div-prog` > `div-prog-russia`...), and its
/// centres. A division's parent is its id without the last `-segment`.
const DIVISIONS: &[(&str, &str)] = &[
    ("div-prog", "Research programmes"),
    ("div-prog-russia", "Russia Programme"),
    ("div-prog-eeur", "Ukraine, Belarus and Moldova Programme"),
    ("div-prog-caucasia", "Caucasus and Central Asia Programme"),
    ("div-prog-ceur", "Central Europe and Baltic Programme"),
    ("div-prog-balkans", "Western Balkans Programme"),
    ("div-prog-west", "Germany, France and Turkey Programme"),
    ("div-prog-china", "China Programme"),
];

/// The programme of a region's subject (`geo-casia-kz` → Caucasus and
/// Central Asia).
fn division_of(region_subject: &str) -> Option<&'static str> {
    let area = region_subject.split('-').nth(1)?;
    Some(match area {
        "rus" => "div-prog-russia",
        "eeur" => "div-prog-eeur",
        "casia" | "cauc" => "div-prog-caucasia",
        "ceur" | "baltic" => "div-prog-ceur",
        "balkans" => "div-prog-balkans",
        "weur" | "tr" => "div-prog-west",
        "cn" => "div-prog-china",
        _ => return None,
    })
}

/// A country (or Russia, Turkey, China) records are about.
struct Region {
    code: &'static str,
    subject: &'static str,
    en: &'static str,
    /// "Kazakh": for "the Kazakh approach to...".
    adj: &'static str,
    capital: &'static str,
    /// Polish, Russian, German and French names, as they stand in a title
    /// (French and some German ones with their article).
    local: [&'static str; 4],
    /// Name pools of its people: Latin script first, Cyrillic second.
    pools: Option<&'static [usize]>,
}

const fn region(
    code: &'static str,
    subject: &'static str,
    en: &'static str,
    adj: &'static str,
    capital: &'static str,
    local: [&'static str; 4],
    pools: Option<&'static [usize]>,
) -> Region {
    Region { code, subject, en, adj, capital, local, pools }
}

#[rustfmt::skip]
const REGIONS: &[Region] = &[
    region("kz", "geo-casia-kz", "Kazakhstan", "Kazakh", "Astana", ["Kazachstan", "Казахстан", "Kasachstan", "le Kazakhstan"], Some(&[KAZAKH, KAZAKH_CYR])),
    region("uz", "geo-casia-uz", "Uzbekistan", "Uzbek", "Tashkent", ["Uzbekistan", "Узбекистан", "Usbekistan", "l'Ouzbékistan"], None),
    region("kg", "geo-casia-kg", "Kyrgyzstan", "Kyrgyz", "Bishkek", ["Kirgistan", "Киргизия", "Kirgisistan", "le Kirghizistan"], None),
    region("tj", "geo-casia-tj", "Tajikistan", "Tajik", "Dushanbe", ["Tadżykistan", "Таджикистан", "Tadschikistan", "le Tadjikistan"], None),
    region("tm", "geo-casia-tm", "Turkmenistan", "Turkmen", "Ashgabat", ["Turkmenistan", "Туркменистан", "Turkmenistan", "le Turkménistan"], None),
    region("rus", "geo-rus", "Russia", "Russian", "Moscow", ["Rosja", "Россия", "Russland", "la Russie"], Some(&[RUSSIAN, RUSSIAN_CYR])),
    region("ua", "geo-eeur-ua", "Ukraine", "Ukrainian", "Kyiv", ["Ukraina", "Украина", "die Ukraine", "l'Ukraine"], Some(&[UKRAINIAN, UKRAINIAN_CYR])),
    region("by", "geo-eeur-by", "Belarus", "Belarusian", "Minsk", ["Białoruś", "Белоруссия", "Belarus", "la Biélorussie"], None),
    region("md", "geo-eeur-md", "Moldova", "Moldovan", "Chișinău", ["Mołdawia", "Молдавия", "die Republik Moldau", "la Moldavie"], None),
    region("ge", "geo-cauc-ge", "Georgia", "Georgian", "Tbilisi", ["Gruzja", "Грузия", "Georgien", "la Géorgie"], None),
    region("am", "geo-cauc-am", "Armenia", "Armenian", "Yerevan", ["Armenia", "Армения", "Armenien", "l'Arménie"], None),
    region("az", "geo-cauc-az", "Azerbaijan", "Azerbaijani", "Baku", ["Azerbejdżan", "Азербайджан", "Aserbaidschan", "l'Azerbaïdjan"], None),
    region("ee", "geo-baltic-ee", "Estonia", "Estonian", "Tallinn", ["Estonia", "Эстония", "Estland", "l'Estonie"], None),
    region("lv", "geo-baltic-lv", "Latvia", "Latvian", "Riga", ["Łotwa", "Латвия", "Lettland", "la Lettonie"], None),
    region("lt", "geo-baltic-lt", "Lithuania", "Lithuanian", "Vilnius", ["Litwa", "Литва", "Litauen", "la Lituanie"], Some(&[LITHUANIAN])),
    region("pl", "geo-ceur-pl", "Poland", "Polish", "Warsaw", ["Polska", "Польша", "Polen", "la Pologne"], Some(&[POLISH])),
    region("cz", "geo-ceur-cz", "Czechia", "Czech", "Prague", ["Czechy", "Чехия", "Tschechien", "la Tchéquie"], Some(&[CZECH])),
    region("sk", "geo-ceur-sk", "Slovakia", "Slovak", "Bratislava", ["Słowacja", "Словакия", "die Slowakei", "la Slovaquie"], None),
    region("hu", "geo-ceur-hu", "Hungary", "Hungarian", "Budapest", ["Węgry", "Венгрия", "Ungarn", "la Hongrie"], None),
    region("rs", "geo-balkans-rs", "Serbia", "Serbian", "Belgrade", ["Serbia", "Сербия", "Serbien", "la Serbie"], None),
    region("ba", "geo-balkans-ba", "Bosnia and Herzegovina", "Bosnian", "Sarajevo", ["Bośnia i Hercegowina", "Босния и Герцеговина", "Bosnien und Herzegowina", "la Bosnie-Herzégovine"], None),
    region("al", "geo-balkans-al", "Albania", "Albanian", "Tirana", ["Albania", "Албания", "Albanien", "l'Albanie"], None),
    region("mk", "geo-balkans-mk", "North Macedonia", "Macedonian", "Skopje", ["Macedonia Północna", "Северная Македония", "Nordmazedonien", "la Macédoine du Nord"], None),
    region("me", "geo-balkans-me", "Montenegro", "Montenegrin", "Podgorica", ["Czarnogóra", "Черногория", "Montenegro", "le Monténégro"], None),
    region("de", "geo-weur-de", "Germany", "German", "Berlin", ["Niemcy", "Германия", "Deutschland", "l'Allemagne"], Some(&[GERMAN])),
    region("fr", "geo-weur-fr", "France", "French", "Paris", ["Francja", "Франция", "Frankreich", "la France"], Some(&[FRENCH])),
    region("tr", "geo-tr", "Turkey", "Turkish", "Ankara", ["Turcja", "Турция", "die Türkei", "la Turquie"], None),
    region("cn", "geo-cn", "China", "Chinese", "Beijing", ["Chiny", "Китай", "China", "la Chine"], None),
];

/// Outside powers and bodies a text weighs a country against.
const ACTORS: &[&str] = &[
    "Moscow",
    "Brussels",
    "Beijing",
    "Washington",
    "Ankara",
    "Berlin",
    "Warsaw",
    "the European Commission",
    "NATO",
    "the Kremlin",
    "Tehran",
    "the International Monetary Fund",
];

/// A subject of think-tank output, with the words texts about it use.
struct Topic {
    /// Leaf subjects of the `top` branch.
    subjects: &'static [&'static str],
    /// Noun phrases in lower case (unless a proper name leads).
    phrases: &'static [&'static str],
    /// The topic's name in Polish, Russian, German and French titles.
    local: [&'static str; 4],
    keywords: &'static [&'static str],
    /// Sentence templates for abstracts.
    sentences: &'static [&'static str],
    /// Region codes the topic is usually about; empty for any.
    regions: &'static [&'static str],
}

const TOPIC_WEIGHTS: [u32; 13] = [14, 9, 9, 7, 8, 8, 8, 5, 6, 10, 8, 4, 4];

#[rustfmt::skip]
const TOPICS: &[Topic] = &[
    Topic {
        subjects: &["top-energy-gas", "top-energy-oil", "top-energy-nuclear"],
        phrases: &["energy security", "gas transit", "pipeline politics", "oil export routes", "the nuclear energy programme", "LNG diversification", "electricity market integration", "energy dependence on Russia"],
        local: ["Bezpieczeństwo energetyczne", "Энергетическая безопасность", "Energiesicherheit", "La sécurité énergétique"],
        keywords: &["energy security", "natural gas", "oil", "pipelines", "LNG", "nuclear power", "Gazprom", "energy transit"],
        sentences: &[
            "Gas transit through {R} has long been a source of both revenue and political leverage.",
            "The construction of new interconnectors and an LNG terminal has reduced dependence on a single supplier.",
            "Oil export routes bypassing Russian territory have gained importance since {Y0}.",
            "{C} presents the nuclear energy programme as a guarantee of long-term supply security.",
            "Long-term contracts with Gazprom were renegotiated several times, each time on terms less favourable to {R}.",
            "Energy subsidies keep household prices low but burden the state budget.",
        ],
        regions: &[],
    },
    Topic {
        subjects: &["top-int-eaeu", "top-econ-trade"],
        phrases: &["Eurasian integration", "the Eurasian Economic Union", "the customs union", "integration with Russia", "the common labour market", "the Union State"],
        local: ["Integracja euroazjatycka", "Евразийская интеграция", "Die eurasische Integration", "L'intégration eurasienne"],
        keywords: &["Eurasian Economic Union", "customs union", "regional integration", "trade", "Russia", "tariffs"],
        sentences: &[
            "Membership of the Eurasian Economic Union has brought {R} fewer benefits than its leadership expected.",
            "Non-tariff barriers continue to hamper trade within the customs union.",
            "For Moscow, Eurasian integration is primarily a political project intended to anchor its neighbours.",
            "The common external tariff forced {R} to raise import duties on goods from China and the EU.",
            "Decisions of the Eurasian Economic Commission are often ignored when they conflict with national interests.",
        ],
        regions: &["kz", "by", "am", "kg", "rus", "uz", "tj"],
    },
    Topic {
        subjects: &["top-int-eu", "top-int-eap"],
        phrases: &["EU enlargement", "the accession process", "rule-of-law conditionality", "the Eastern Partnership", "visa liberalisation", "the association agreement", "candidate status"],
        local: ["Rozszerzenie UE", "Расширение ЕС", "Die EU-Erweiterung", "L'élargissement de l'UE"],
        keywords: &["EU enlargement", "European Union", "accession negotiations", "rule of law", "Eastern Partnership", "association agreement", "conditionality"],
        sentences: &[
            "The opening of accession negotiations with {R} in {Y} was a political decision rather than a reward for reforms.",
            "Progress on the rule of law remains the main benchmark in the accession process.",
            "Visa liberalisation has been the most tangible benefit of closer ties with the European Union.",
            "Public support for EU membership in {R} has fluctuated but remains above fifty per cent.",
            "Member states remain divided over the pace of enlargement and the reform of EU institutions.",
        ],
        regions: &["ua", "md", "ge", "rs", "ba", "al", "mk", "me", "am", "az", "by", "tr"],
    },
    Topic {
        subjects: &["top-soc-migration"],
        phrases: &["labour migration", "migration policy", "the refugee crisis", "remittances", "diaspora politics", "return migration"],
        local: ["Migracja zarobkowa", "Трудовая миграция", "Arbeitsmigration", "Les migrations de travail"],
        keywords: &["migration", "labour migration", "remittances", "diaspora", "refugees", "labour market"],
        sentences: &[
            "Remittances sent home by migrants account for a significant share of {RA} GDP.",
            "The number of {RA} citizens working abroad rose sharply after {Y0}.",
            "Poland has become one of the main destinations for labour migrants from the region.",
            "Restrictive migration rules introduced in Russia have pushed migrants towards other destinations.",
            "The diaspora has become an increasingly visible actor in domestic politics.",
        ],
        regions: &["ua", "by", "md", "uz", "tj", "kg", "pl", "ge", "am", "lt"],
    },
    Topic {
        subjects: &["top-sec-nato", "top-sec-mil"],
        phrases: &["Baltic defence", "the defence of NATO's eastern flank", "the Suwałki Gap", "military modernisation", "territorial defence forces", "the forward presence of allied troops", "air policing"],
        local: ["Obronność państw bałtyckich", "Оборона Прибалтики", "Die Verteidigung des Baltikums", "La défense des pays baltes"],
        keywords: &["NATO", "Baltic states", "defence policy", "armed forces", "deterrence", "military exercises", "Suwałki Gap"],
        sentences: &[
            "The deployment of allied battlegroups has strengthened deterrence on NATO's eastern flank.",
            "Defence spending in {R} exceeded two per cent of GDP in {Y}.",
            "The Suwałki Gap remains the most vulnerable point of the Alliance's defence in the region.",
            "Large-scale Russian military exercises near the border are closely watched in {C}.",
            "Territorial defence forces have been expanded to complement the regular army.",
        ],
        regions: &["ee", "lv", "lt", "pl", "de", "by", "rus"],
    },
    Topic {
        subjects: &["top-pol-dom", "top-pol-elections"],
        phrases: &["succession politics", "the presidential transition", "elite rotation", "water disputes", "authoritarian modernisation", "constitutional reform", "the role of clans"],
        local: ["Polityka wewnętrzna", "Внутренняя политика", "Innenpolitik", "La politique intérieure"],
        keywords: &["Central Asia", "authoritarianism", "elites", "succession", "constitutional reform", "elections", "water resources"],
        sentences: &[
            "The presidential transition in {R} has so far preserved the continuity of the political system.",
            "Competition between elite groups intensified ahead of the elections held in {Y}.",
            "Disputes over water resources remain a source of tension between upstream and downstream states.",
            "Constitutional amendments adopted in {Y} strengthened the position of the president.",
            "Public protests in {C} were quickly suppressed, but they revealed growing social discontent.",
        ],
        regions: &["kz", "uz", "kg", "tj", "tm"],
    },
    Topic {
        subjects: &["top-econ-sanctions", "top-econ-trade"],
        phrases: &["sanctions", "sanctions evasion", "export controls", "the oil price cap", "asset freezes", "secondary sanctions", "the shadow fleet"],
        local: ["Sankcje", "Санкции", "Sanktionen", "Les sanctions"],
        keywords: &["sanctions", "export controls", "Russia", "trade", "oil price cap", "sanctions evasion"],
        sentences: &[
            "The sanctions imposed in {Y0} have gradually eroded Russia's access to Western technology.",
            "Trade flows have been rerouted through third countries, including {R}.",
            "The oil price cap has reduced export revenues, but enforcement remains uneven.",
            "Companies in {R} face a growing risk of secondary sanctions.",
            "Each new package of sanctions requires unanimity among EU member states.",
        ],
        regions: &["rus", "by", "kz", "kg", "am", "ge", "tr", "cn", "az", "uz"],
    },
    Topic {
        subjects: &["top-econ-digital"],
        phrases: &["the digital economy", "digital sovereignty", "cybersecurity", "e-government", "5G infrastructure", "the platform economy", "data localisation"],
        local: ["Gospodarka cyfrowa", "Цифровая экономика", "Die digitale Wirtschaft", "L'économie numérique"],
        keywords: &["digital economy", "cybersecurity", "e-government", "5G", "data protection", "technology"],
        sentences: &[
            "Digital public services in {R} are among the most advanced in the region.",
            "The government in {C} adopted a digital transformation strategy in {Y}.",
            "Chinese technology companies play a growing role in building 5G infrastructure.",
            "Cyber attacks on state institutions have prompted new investment in cybersecurity.",
            "Data localisation rules are presented as a matter of national sovereignty.",
        ],
        regions: &[],
    },
    Topic {
        subjects: &["top-climate", "top-energy-renew"],
        phrases: &["climate policy", "decarbonisation", "the coal phase-out", "carbon pricing", "the European Green Deal", "the energy transition"],
        local: ["Polityka klimatyczna", "Климатическая политика", "Klimapolitik", "La politique climatique"],
        keywords: &["climate policy", "decarbonisation", "coal", "renewable energy", "emissions trading", "Green Deal"],
        sentences: &[
            "Coal still accounts for the largest share of electricity generation in {R}.",
            "The EU emissions trading system has raised the cost of electricity for energy-intensive industry.",
            "Investment in wind and solar capacity has accelerated since {Y0}.",
            "The social cost of the coal phase-out is concentrated in a few mining regions.",
            "{C} has set a target of climate neutrality but has not yet adopted a credible path to reach it.",
        ],
        regions: &["pl", "cz", "de", "kz", "sk", "hu", "ua", "tr", "fr", "ee"],
    },
    Topic {
        subjects: &["top-pol-foreign"],
        phrases: &["foreign policy", "relations with neighbours", "great power ambitions", "the pivot to Asia", "soft power", "the 'near abroad'", "multi-vector diplomacy"],
        local: ["Polityka zagraniczna", "Внешняя политика", "Außenpolitik", "La politique étrangère"],
        keywords: &["foreign policy", "Russia", "near abroad", "soft power", "great power politics", "diplomacy"],
        sentences: &[
            "Moscow continues to treat {R} as part of its sphere of privileged interests.",
            "The Kremlin uses a combination of economic pressure, energy supplies and media influence.",
            "Relations between {C} and Moscow deteriorated markedly after {Y0}.",
            "The pivot to Asia has not compensated Russia for the loss of European markets.",
            "Russian soft power in the region has weakened, particularly among younger generations.",
        ],
        regions: &["rus", "ua", "by", "md", "ge", "am", "az", "kz", "cn", "tr", "de"],
    },
    Topic {
        subjects: &["top-sec-war", "top-sec-hybrid"],
        phrases: &["the war in Ukraine", "reconstruction", "military aid", "hybrid threats", "disinformation", "critical infrastructure protection"],
        local: ["Wojna i bezpieczeństwo", "Война и безопасность", "Krieg und Sicherheit", "La guerre et la sécurité"],
        keywords: &["war", "security", "military aid", "reconstruction", "disinformation", "hybrid warfare", "critical infrastructure"],
        sentences: &[
            "Attacks on energy infrastructure have forced {R} to decentralise electricity generation.",
            "Western military aid has been essential, but deliveries have often been delayed.",
            "The cost of reconstruction is estimated at several hundred billion euros.",
            "Disinformation campaigns target public opinion in {R} and in neighbouring states.",
            "Sabotage and cyber attacks on critical infrastructure have become more frequent since {Y0}.",
        ],
        regions: &["ua", "pl", "rus", "md", "lt", "lv", "ee", "by", "de"],
    },
    Topic {
        subjects: &["top-econ-transport", "top-econ-trade"],
        phrases: &["transport corridors", "the Middle Corridor", "rail transit between China and Europe", "the Belt and Road Initiative", "port infrastructure", "connectivity"],
        local: ["Korytarze transportowe", "Транспортные коридоры", "Verkehrskorridore", "Les corridors de transport"],
        keywords: &["transport", "Middle Corridor", "Belt and Road Initiative", "logistics", "railways", "connectivity"],
        sentences: &[
            "Cargo volumes on the Middle Corridor across the Caspian Sea have grown rapidly since {Y0}.",
            "Chinese loans financed a large part of the new road and rail infrastructure in {R}.",
            "Bottlenecks at border crossings remain the main obstacle to faster transit.",
            "{C} hopes to turn the country into a regional logistics hub.",
            "Transit through Russia has become politically and commercially riskier for European shippers.",
        ],
        regions: &["kz", "uz", "az", "ge", "tr", "cn", "tm", "kg", "pl", "lt"],
    },
    Topic {
        subjects: &["top-soc-religion", "top-soc-media"],
        phrases: &["religion and politics", "the Orthodox Church", "media freedom", "civil society", "national identity", "memory politics"],
        local: ["Społeczeństwo i tożsamość", "Общество и идентичность", "Gesellschaft und Identität", "Société et identité"],
        keywords: &["religion", "Orthodox Church", "media", "civil society", "national identity", "memory politics", "propaganda"],
        sentences: &[
            "The Orthodox Church remains one of the most trusted institutions in {R}.",
            "Independent media in {R} operate under growing legal and financial pressure.",
            "Debates over national identity intensified after {Y0}.",
            "Civil society organisations have taken over tasks that the state fails to perform.",
            "Memory politics has become a recurring source of tension with neighbouring countries.",
        ],
        regions: &["ua", "rus", "ge", "by", "md", "pl", "lt", "kz", "rs", "hu", "am"],
    },
];

const EN_TITLES: &[&str] = &[
    "{R}'s {t}: {sub}",
    "{T^} in {R}: {sub}",
    "Between {A} and {A2}: {R} and {T}",
    "{R} and {T}",
    "{T^} after {Y0}: {sub}",
    "Is {R} ready for {T}?",
    "The {RA} approach to {T}",
    "{T^} and {T2}: the case of {R}",
    "{T^} in {R}. {Sub}",
    "Towards {T}? {R} and {A}",
    "{R} – {T} and {T2}",
    "{RA} {t} in the shadow of {A}",
    "{T^}: {sub}",
    "What future for {T} in {R}?",
];

const PL_TITLES: &[&str] = &[
    "{TL}: {RL} wobec nowych wyzwań",
    "{RL} a {tl}",
    "{TL} w latach {Y0}–{Y}",
    "{TL}. Bilans i perspektywy",
    "{RL}: {tl} po {Y0} roku",
];

const RU_TITLES: &[&str] = &[
    "{TL}: {RL} в поисках нового баланса",
    "{RL} и {tl}",
    "{TL} в {Y0}–{Y} годах",
    "{TL}. Итоги и перспективы",
    "{RL}: {tl} после {Y0} года",
];

const DE_TITLES: &[&str] = &[
    "{TL}: {RL} zwischen Anspruch und Wirklichkeit",
    "{RL^} und {tl}",
    "{TL} nach {Y0}",
    "{TL}. Bilanz und Perspektiven",
    "{RL^}: {tl} seit {Y0}",
];

const FR_TITLES: &[&str] = &[
    "{TL} : {RL} face à de nouveaux défis",
    "{RL^} et {tl}",
    "{TL} depuis {Y0}",
    "{TL}. Bilan et perspectives",
    "{RL^} : {tl} après {Y0}",
];

const SUBTITLES: &[&str] = &[
    "less love, more fear",
    "a new chapter",
    "an assessment",
    "challenges and prospects",
    "between ambition and reality",
    "the limits of pragmatism",
    "old problems, new actors",
    "a decade on",
    "implications for Poland",
    "implications for the European Union",
    "what next?",
    "the view from {C}",
    "risks and opportunities",
    "a balance sheet",
    "the end of an era?",
    "continuity and change",
    "a difficult partnership",
    "lessons learned",
    "myths and facts",
    "a window of opportunity",
    "no easy choices",
    "from crisis to crisis",
    "the state of play in {Y}",
    "a reluctant reformer",
    "in search of a strategy",
];

const BOOK_TITLES: &[&str] = &[
    "The Post-Soviet Space after {Y0}: Actors and Strategies",
    "{T^} in Central and Eastern Europe",
    "Eurasia in Transition: Politics, Economy, Society",
    "{R} in a Changing World",
    "Between {A} and {A2}: Small States in a Turbulent Neighbourhood",
    "Europe's Eastern Neighbourhood: {Sub}",
];

const OPENERS: &[&str] = &[
    "This {kind} examines {T} in {R} since {Y0}.",
    "This {kind} analyses the evolution of {T} in {R}.",
    "The {kind} discusses how {T} has shaped the policy of {C} towards {A}.",
    "This {kind} looks at {T} and {T2} in {R} in the period {Y0}–{Y}.",
];

const GENERAL_SENTENCES: &[&str] = &[
    "It argues that {T} has become a central element of {RA} policy.",
    "The analysis draws on official statistics, interviews conducted in {C} and a review of {RA}-language media.",
    "Since {Y0}, {C} has sought to balance its relations with {A} and {A2}.",
    "Three factors shape {T}: domestic politics, economic constraints and pressure from {A}.",
    "The implications of {T2} for regional stability are also discussed.",
    "The most likely scenario is a gradual adjustment rather than a sharp reversal.",
    "Particular attention is paid to the role of {A} and to the growing influence of {A2}.",
    "These developments have been accompanied by debates over {T2}.",
    "Official rhetoric in {C} often diverges from actual policy.",
    "The decisions taken in {Y} marked a turning point for {T}.",
    "For {A}, this creates both risks and opportunities.",
    "Compared with its neighbours, {R} has adopted a cautious approach to {T}.",
    "Neither the government nor the opposition has offered a coherent vision of {T}.",
    "The experience of {R} offers lessons for other states of the region.",
    "External actors, above all {A}, have limited means of influencing the outcome.",
];

const CLOSERS: &[&str] = &[
    "The {kind} concludes with recommendations for the European Union and for Poland.",
    "Much will depend on the economic situation and on the stability of the ruling elite.",
    "The text reflects the situation as of {Y}.",
    "In the short term, {T} is unlikely to change significantly.",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SeriesKind {
    Policy,
    Working,
    Report,
    Monograph,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Numbering {
    /// `137`
    Plain,
    /// `2014/07`
    YearSlash,
    /// `7/2014`
    SlashYear,
}

struct Institution {
    name: &'static str,
    short: &'static str,
    place: &'static str,
    /// Host for invented URLs and e-mail addresses.
    host: &'static str,
    /// ISBN registration group of its country.
    isbn_group: &'static str,
}

#[rustfmt::skip]
const INSTITUTIONS: &[Institution] = &[
    Institution { name: "Centre for Eastern Studies", short: "OSW", place: "Warsaw", host: "osw.example.org", isbn_group: "83" },
    Institution { name: "Polish Institute of International Affairs", short: "PISM", place: "Warsaw", host: "pism.example.org", isbn_group: "83" },
    Institution { name: "Stiftung Wissenschaft und Politik", short: "SWP", place: "Berlin", host: "swp.example.org", isbn_group: "3" },
    Institution { name: "Institut français des relations internationales", short: "Ifri", place: "Paris", host: "ifri.example.org", isbn_group: "2" },
    Institution { name: "Eastern Europe Studies Centre", short: "EESC", place: "Vilnius", host: "eesc.example.org", isbn_group: "609" },
    Institution { name: "Ústav mezinárodních vztahů", short: "ÚMV", place: "Praha", host: "iir.example.org", isbn_group: "80" },
    Institution { name: "Kazakhstan Institute for Strategic Studies", short: "KazISS", place: "Almaty", host: "kaziss.example.org", isbn_group: "601" },
    Institution { name: "Razumkov Centre", short: "Razumkov", place: "Kyiv", host: "razumkov.example.org", isbn_group: "966" },
];
const INSTITUTION_WEIGHTS: [u32; 8] = [40, 15, 12, 8, 7, 7, 6, 5];

struct Series {
    name: &'static str,
    inst: &'static str,
    kind: SeriesKind,
    /// The year of its first number; older records are outside it.
    since: i32,
    /// About how many numbers appear a year (numbers grow with the year).
    per_year: u32,
    numbering: Numbering,
    /// First seven digits of its ISSN; the check digit is computed.
    issn7: u32,
}

const fn series(
    name: &'static str,
    inst: &'static str,
    kind: SeriesKind,
    since: i32,
    per_year: u32,
    numbering: Numbering,
    issn7: u32,
) -> Series {
    Series { name, inst, kind, since, per_year, numbering, issn7 }
}

const SERIES: &[Series] = &[
    series("OSW Commentary", "OSW", SeriesKind::Policy, 2006, 30, Numbering::Plain, 2082338),
    series("OSW Studies", "OSW", SeriesKind::Working, 2000, 6, Numbering::Plain, 1642418),
    series("OSW Report", "OSW", SeriesKind::Report, 2008, 8, Numbering::Plain, 2543567),
    series("Point of View", "OSW", SeriesKind::Monograph, 2000, 4, Numbering::Plain, 1644054),
    series("PISM Bulletin", "PISM", SeriesKind::Policy, 2008, 60, Numbering::Plain, 2080096),
    series("PISM Policy Paper", "PISM", SeriesKind::Working, 2011, 15, Numbering::Plain, 2082576),
    series("PISM Report", "PISM", SeriesKind::Report, 2011, 6, Numbering::Plain, 2657218),
    series("SWP Comments", "SWP", SeriesKind::Policy, 2003, 50, Numbering::SlashYear, 1861176),
    series("SWP Research Paper", "SWP", SeriesKind::Working, 2003, 12, Numbering::SlashYear, 1863105),
    series("Notes de l'Ifri", "Ifri", SeriesKind::Policy, 2005, 10, Numbering::Plain, 2104331),
    series("Russie.Nei.Visions", "Ifri", SeriesKind::Working, 2005, 6, Numbering::Plain, 1951476),
    series("Études de l'Ifri", "Ifri", SeriesKind::Monograph, 2004, 5, Numbering::Plain, 2260411),
    series("EESC Policy Brief", "EESC", SeriesKind::Policy, 2009, 12, Numbering::Plain, 2335286),
    series("Working Paper Series", "EESC", SeriesKind::Working, 2009, 8, Numbering::YearSlash, 2335294),
    series("Policy Paper", "ÚMV", SeriesKind::Policy, 1997, 12, Numbering::SlashYear, 1805725),
    series("Working Papers", "ÚMV", SeriesKind::Working, 1997, 6, Numbering::YearSlash, 1805733),
    series("Analytical Note", "KazISS", SeriesKind::Policy, 2001, 20, Numbering::Plain, 2306804),
    series("Working Paper Series", "KazISS", SeriesKind::Working, 2001, 6, Numbering::YearSlash, 2306812),
    series("Analytical Report", "KazISS", SeriesKind::Report, 2001, 4, Numbering::Plain, 2306820),
    series("Policy Brief", "Razumkov", SeriesKind::Policy, 1999, 10, Numbering::Plain, 2414707),
    series("Working Paper Series", "Razumkov", SeriesKind::Working, 1999, 5, Numbering::YearSlash, 2414715),
    series("Analytical Report", "Razumkov", SeriesKind::Report, 1999, 4, Numbering::Plain, 2414723),
];

struct Journal {
    name: &'static str,
    slug: &'static str,
    issn7: u32,
    first_year: i32,
    issues: u32,
}

const JOURNALS: &[Journal] = &[
    Journal { name: "Journal of Eurasian Studies", slug: "jes", issn7: 1879366, first_year: 2010, issues: 2 },
    Journal { name: "Europe-Asia Studies", slug: "eas", issn7: 966813, first_year: 1949, issues: 10 },
    Journal { name: "Central Asian Survey", slug: "cas", issn7: 263493, first_year: 1982, issues: 4 },
    Journal { name: "Baltic Journal of Political Science", slug: "bjps", issn7: 2335807, first_year: 2012, issues: 1 },
    Journal { name: "Osteuropa", slug: "oe", issn7: 30642, first_year: 1951, issues: 12 },
    Journal { name: "Politique étrangère", slug: "pe", issn7: 32342, first_year: 1936, issues: 4 },
    Journal { name: "Problems of Post-Communism", slug: "ppc", issn7: 1075821, first_year: 1954, issues: 6 },
    Journal { name: "East European Politics", slug: "eep", issn7: 2159916, first_year: 1985, issues: 4 },
    Journal { name: "Nowa Europa Wschodnia", slug: "new", issn7: 1898086, first_year: 2008, issues: 6 },
    Journal { name: "Sprawy Międzynarodowe", slug: "sm", issn7: 38853, first_year: 1948, issues: 4 },
    Journal { name: "Mezinárodní vztahy", slug: "mv", issn7: 323184, first_year: 1966, issues: 4 },
];

struct Publisher {
    name: &'static str,
    place: &'static str,
    isbn_group: &'static str,
}

const PUBLISHERS: &[Publisher] = &[
    Publisher { name: "Routledge", place: "London", isbn_group: "1" },
    Publisher { name: "Palgrave Macmillan", place: "Cham", isbn_group: "3" },
    Publisher { name: "Wydawnictwo Naukowe Scholar", place: "Warszawa", isbn_group: "83" },
    Publisher { name: "Nomos", place: "Baden-Baden", isbn_group: "3" },
    Publisher { name: "Karolinum", place: "Praha", isbn_group: "80" },
    Publisher { name: "Presses de Sciences Po", place: "Paris", isbn_group: "2" },
    Publisher { name: "Vilniaus universiteto leidykla", place: "Vilnius", isbn_group: "609" },
    Publisher { name: "ibidem", place: "Stuttgart", isbn_group: "3" },
];

const EVENTS: &[(&str, &str)] = &[
    ("Annual Convention of the Association for the Study of Nationalities", "New York"),
    ("Aleksanteri Conference", "Helsinki"),
    ("Warsaw East European Conference", "Warsaw"),
    ("ICCEES World Congress", "Montreal"),
    ("Central Eurasian Studies Society Annual Conference", "Bloomington"),
    ("Riga Conference", "Riga"),
    ("Astana International Forum", "Astana"),
];

const UNIVERSITIES: &[(&str, &str)] = &[
    ("University of Warsaw", "Warsaw"),
    ("Jagiellonian University", "Kraków"),
    ("Vytautas Magnus University", "Kaunas"),
    ("Charles University", "Prague"),
    ("Al-Farabi Kazakh National University", "Almaty"),
    ("Taras Shevchenko National University of Kyiv", "Kyiv"),
    ("Humboldt-Universität zu Berlin", "Berlin"),
    ("Sciences Po", "Paris"),
];

const DEPARTMENTS: &[&str] = &[
    "Faculty of Political Science and International Studies",
    "Department of International Relations",
    "Institute of East European Studies",
    "School of Slavonic and East European Studies",
    "Department of Economics",
];

// ---------------------------------------------------------------------------
// Names.

struct NamePool {
    male: &'static [&'static str],
    female: &'static [&'static str],
    /// Family names as men bear them...
    male_family: &'static [&'static str],
    /// ...and women, index for index (the same where the language does not
    /// inflect family names).
    female_family: &'static [&'static str],
}

const POLISH: usize = 0;
const RUSSIAN: usize = 1;
const RUSSIAN_CYR: usize = 2;
const GERMAN: usize = 3;
const FRENCH: usize = 4;
const KAZAKH: usize = 5;
const KAZAKH_CYR: usize = 6;
const UKRAINIAN: usize = 7;
const UKRAINIAN_CYR: usize = 8;
const CZECH: usize = 9;
const LITHUANIAN: usize = 10;
const ENGLISH: usize = 11;

const POOL_WEIGHTS: [u32; 12] = [30, 8, 3, 10, 7, 5, 2, 7, 2, 7, 6, 13];

#[rustfmt::skip]
const POOLS: [NamePool; 12] = {
    let mut p = [EMPTY_POOL; 12];
    p[POLISH] = NamePool {
        male: &["Łukasz", "Paweł", "Wojciech", "Michał", "Grzegorz", "Krzysztof", "Jędrzej", "Bartłomiej", "Tomasz", "Marek", "Szymon"],
        female: &["Małgorzata", "Agnieszka", "Katarzyna", "Aleksandra", "Żaneta", "Joanna", "Justyna", "Iwona", "Marta", "Weronika", "Urszula"],
        male_family: &["Wójcik", "Kowalski", "Wiśniewski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski", "Jarosiewicz", "Żurawski", "Gołębiowski", "Sienkiewicz", "Chmielewski", "Kępa"],
        female_family: &["Wójcik", "Kowalska", "Wiśniewska", "Zielińska", "Szymańska", "Woźniak", "Dąbrowska", "Kozłowska", "Jarosiewicz", "Żurawska", "Gołębiowska", "Sienkiewicz", "Chmielewska", "Kępa"],
    };
    p[RUSSIAN] = NamePool {
        male: &["Aleksei", "Dmitry", "Sergei", "Mikhail", "Nikolai", "Andrei", "Pavel"],
        female: &["Natalia", "Yekaterina", "Olga", "Tatiana", "Anastasia", "Irina", "Yulia"],
        male_family: &["Ivanov", "Smirnov", "Kuznetsov", "Sokolov", "Lebedev", "Morozov", "Volkov", "Fyodorov"],
        female_family: &["Ivanova", "Smirnova", "Kuznetsova", "Sokolova", "Lebedeva", "Morozova", "Volkova", "Fyodorova"],
    };
    p[RUSSIAN_CYR] = NamePool {
        male: &["Олег", "Алексей", "Дмитрий", "Сергей", "Владимир", "Юрий"],
        female: &["Ольга", "Наталья", "Екатерина", "Татьяна", "Мария", "Елена"],
        male_family: &["Иванов", "Смирнов", "Кузнецов", "Соколов", "Лебедев", "Фёдоров", "Жуков"],
        female_family: &["Иванова", "Смирнова", "Кузнецова", "Соколова", "Лебедева", "Фёдорова", "Жукова"],
    };
    p[GERMAN] = NamePool {
        male: &["Jürgen", "Günter", "Matthias", "Stefan", "Jörg", "Klaus", "Andreas", "Björn"],
        female: &["Käthe", "Sabine", "Ulrike", "Anne-Kathrin", "Bärbel", "Susanne", "Dörte", "Jördis"],
        male_family: &["Müller", "Schäfer", "Schröder", "Weiß", "Großmann", "Köhler", "Fischer", "Krüger", "Schmidt", "Hoffmann"],
        female_family: &["Müller", "Schäfer", "Schröder", "Weiß", "Großmann", "Köhler", "Fischer", "Krüger", "Schmidt", "Hoffmann"],
    };
    p[FRENCH] = NamePool {
        male: &["François", "Jérôme", "Benoît", "Loïc", "Gaël", "Étienne", "Thierry"],
        female: &["Zoë", "Hélène", "Cécile", "Océane", "Françoise", "Élodie", "Chloé"],
        male_family: &["Lefèvre", "Dupré", "Moreau", "Girard", "Lemaître", "Bérenger", "Fournier", "Rousseau", "Faure", "Chénier"],
        female_family: &["Lefèvre", "Dupré", "Moreau", "Girard", "Lemaître", "Bérenger", "Fournier", "Rousseau", "Faure", "Chénier"],
    };
    p[KAZAKH] = NamePool {
        male: &["Yerlan", "Dauren", "Askar", "Timur", "Aidos", "Nurlan", "Serik"],
        female: &["Aigerim", "Dana", "Saule", "Gulnara", "Zhanar", "Aruzhan", "Madina"],
        male_family: &["Abdrakhmanov", "Zhumabayev", "Nurpeisov", "Sarsenbayev", "Kassymov", "Omarov", "Tulegenov"],
        female_family: &["Abdrakhmanova", "Zhumabayeva", "Nurpeisova", "Sarsenbayeva", "Kassymova", "Omarova", "Tulegenova"],
    };
    p[KAZAKH_CYR] = NamePool {
        male: &["Нұрлан", "Ерлан", "Асқар", "Дәурен", "Серік"],
        female: &["Әйгерім", "Гүлнар", "Сәуле", "Жанар", "Айгүл"],
        male_family: &["Жұмабаев", "Қасымов", "Сәрсенбаев", "Нұрпейісов", "Оспанов"],
        female_family: &["Жұмабаева", "Қасымова", "Сәрсенбаева", "Нұрпейісова", "Оспанова"],
    };
    p[UKRAINIAN] = NamePool {
        male: &["Oleksandr", "Andrii", "Mykola", "Taras", "Yurii", "Bohdan", "Serhii"],
        female: &["Olena", "Oksana", "Iryna", "Kateryna", "Nataliia", "Halyna", "Solomiia"],
        male_family: &["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchuk", "Melnyk", "Lysenko", "Polishchuk", "Savchuk"],
        female_family: &["Shevchenko", "Kovalenko", "Bondarenko", "Tkachenko", "Kravchuk", "Melnyk", "Lysenko", "Polishchuk", "Savchuk"],
    };
    p[UKRAINIAN_CYR] = NamePool {
        male: &["Олександр", "Андрій", "Тарас", "Юрій", "Богдан"],
        female: &["Олена", "Оксана", "Ірина", "Ганна", "Соломія"],
        male_family: &["Шевченко", "Коваленко", "Бондаренко", "Мельник", "Кравчук", "Ґудзенко", "Їжакевич"],
        female_family: &["Шевченко", "Коваленко", "Бондаренко", "Мельник", "Кравчук", "Ґудзенко", "Їжакевич"],
    };
    p[CZECH] = NamePool {
        male: &["Jiří", "Tomáš", "Lukáš", "Ondřej", "Vojtěch", "Petr", "Radek"],
        female: &["Kateřina", "Tereza", "Lucie", "Zuzana", "Markéta", "Božena", "Jitka"],
        male_family: &["Dvořák", "Novák", "Svoboda", "Černý", "Procházka", "Kučera", "Veselý", "Růžička", "Šťastný"],
        female_family: &["Dvořáková", "Nováková", "Svobodová", "Černá", "Procházková", "Kučerová", "Veselá", "Růžičková", "Šťastná"],
    };
    p[LITHUANIAN] = NamePool {
        male: &["Ramūnas", "Gintaras", "Mindaugas", "Šarūnas", "Dainius", "Vytautas", "Žygimantas"],
        female: &["Rūta", "Eglė", "Aušra", "Giedrė", "Jūratė", "Dalia", "Ieva"],
        male_family: &["Šimkus", "Kazlauskas", "Petrauskas", "Jankauskas", "Žukauskas", "Butkus", "Paulauskas", "Vaitkus"],
        female_family: &["Šimkienė", "Kazlauskienė", "Petrauskienė", "Jankauskienė", "Žukauskienė", "Butkienė", "Paulauskaitė", "Vaitkutė"],
    };
    p[ENGLISH] = NamePool {
        male: &["James", "Thomas", "Andrew", "Richard", "Daniel", "Mark", "Owen"],
        female: &["Sarah", "Emily", "Rachel", "Catherine", "Helen", "Laura", "Siobhán"],
        male_family: &["Smith", "Walker", "Thompson", "O'Connor", "Bennett", "Hughes", "Clarke", "Fitzgerald", "MacLeod"],
        female_family: &["Smith", "Walker", "Thompson", "O'Connor", "Bennett", "Hughes", "Clarke", "Fitzgerald", "MacLeod"],
    };
    p
};

const EMPTY_POOL: NamePool = NamePool { male: &[], female: &[], male_family: &[], female_family: &[] };

#[cfg(test)]
mod tests {
    use super::*;
    use arkiv_model::validate::{is_orcid, is_safe_filename};
    use arkiv_model::ItemTypes;
    use std::collections::{BTreeMap, HashSet};

    fn generate(seed: u64, n: usize) -> Vec<GeneratedRecord> {
        Generator::new(GeneratorOptions { seed, ..Default::default() }).take(n).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_records() {
        assert_eq!(generate(7, 50), generate(7, 50));
        let tenth_of_11 = generate(7, 11).pop().unwrap();
        let tenth_of_100 = generate(7, 100).swap_remove(10);
        assert_eq!(tenth_of_11, tenth_of_100);
        let g = Generator::new(GeneratorOptions { seed: 7, ..Default::default() });
        assert_eq!(g.record(10), tenth_of_100);
        assert_eq!(g.clone().nth(10).unwrap(), tenth_of_100);
    }

    #[test]
    fn different_seeds_give_different_records() {
        let a = generate(1, 20);
        let b = generate(2, 20);
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert_eq!(same, 0);
        let titles: HashSet<_> = a.iter().map(|g| &g.record.title).collect();
        assert!(titles.len() > 15, "titles vary: {titles:?}");
    }

    #[test]
    fn generated_records_validate_and_use_the_subject_tree() {
        let types = ItemTypes::default();
        let tree = subject_tree();
        assert!((55..=80).contains(&tree.len()), "{}", tree.len());
        for s in tree.iter() {
            if let Some(p) = &s.parent {
                assert!(tree.get(p).is_some(), "{} has a parent in the tree", s.id);
            }
        }
        assert_eq!(tree.path_label("geo-casia-kz"), "Geographical area > Central Asia > Kazakhstan");
        let gen = Generator::new(GeneratorOptions { seed: 42, with_pdfs: false, first_id: Some(1000) });
        for (i, g) in gen.take(2000).enumerate() {
            let r = &g.record;
            if let Err(problems) = arkiv_model::validate(r, &types) {
                panic!("record {i} is invalid: {problems:?}\n{r:#?}");
            }
            assert_eq!(r.id, Some(1000 + i as i64));
            assert_eq!(r.status, Status::Archive);
            assert!(g.files.is_empty() && r.documents.is_empty());
            assert!(!r.creators.is_empty() || !r.corp_creators.is_empty(), "{r:#?}");
            assert!(r.creators.len() <= 4);
            assert!((2..=6).contains(&r.keywords.len()), "{:?}", r.keywords);
            assert!((1..=3).contains(&r.subjects.len()));
            for s in &r.subjects {
                assert!(tree.get(s).is_some(), "{s}");
                assert_eq!(tree.children(Some(s)).count(), 0, "{s} is a leaf");
            }
            let text = r.abstract_text.as_deref().unwrap();
            let words = text.split_whitespace().count();
            assert!((80..=250).contains(&words), "{words} words: {text}");
            for s in [r.title.as_str(), text] {
                assert!(!s.contains(['{', '}']), "unfilled template: {s}");
            }
            let date = r.date.unwrap();
            assert!((1995..=2026).contains(&date.year));
            assert_eq!(date.to_string().parse::<PartialDate>().unwrap(), date);
            if matches!(r.item_type.as_str(), "policy_paper" | "working_paper") {
                assert_eq!(date.precision(), arkiv_model::DatePrecision::Day);
            }
            let stamp = r.datestamp.unwrap();
            assert!(
                stamp.day() >= format!("{}-{:02}-{:02}", date.year, date.month.unwrap_or(1), date.day.unwrap_or(1))
            );
            assert!(r.lastmod.unwrap() >= stamp);
            if let Some(isbn) = &r.isbn {
                let digits: Vec<u8> = isbn.bytes().filter(u8::is_ascii_digit).map(|b| b - b'0').collect();
                assert_eq!(digits.len(), 13, "{isbn}");
                assert_eq!(isbn13_check(&digits[..12]), digits[12], "{isbn}");
            }
            if let Some(issn) = &r.issn {
                assert!(issn_is_valid(issn), "{issn}");
            }
            if r.item_type == "article" {
                assert!(r.doi.as_deref().unwrap().starts_with("10.5555/"));
                assert!(r.issn.is_some() && r.publication.is_some());
            }
            if matches!(r.item_type.as_str(), "monograph") {
                assert!(r.isbn.is_some());
            }
        }
    }

    fn issn_is_valid(issn: &str) -> bool {
        let chars: Vec<char> = issn.chars().filter(|c| *c != '-').collect();
        if chars.len() != 8 || issn.len() != 9 {
            return false;
        }
        let sum: u32 = chars[..7].iter().zip((2..=8).rev()).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
        let check = (11 - sum % 11) % 11;
        chars[7] == if check == 10 { 'X' } else { char::from_digit(check, 10).unwrap() }
    }

    #[test]
    fn identifiers_carry_valid_check_digits() {
        assert_eq!(days_from_civil(2027, 1, 1), LAST_EDIT_DAY);
        assert_eq!(issn(378_595), "0378-5955");
        assert_eq!(issn(2_434_561), "2434-561X");
        assert!(issn_is_valid("0317-8471"));
        assert_eq!(isbn13_check(&[9, 7, 8, 0, 3, 0, 6, 4, 0, 6, 1, 5]), 7);
        assert_eq!(orcid_check(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 8, 2, 5, 0, 0, 9]), '7');
        assert_eq!(orcid_check(&[0, 0, 0, 0, 0, 0, 0, 2, 1, 6, 9, 4, 2, 3, 3]), 'X');
        for (y, m, d) in [(1970, 1, 1), (1995, 2, 28), (2000, 2, 29), (2014, 5, 29), (2026, 12, 31)] {
            let expected = time::Date::from_calendar_date(y, time::Month::try_from(m).unwrap(), d).unwrap();
            assert_eq!(
                days_from_civil(y, m, d),
                (expected - time::Date::from_calendar_date(1970, time::Month::January, 1).unwrap()).whole_days()
            );
        }
    }

    #[test]
    fn orcids_are_valid_and_about_a_third_of_people_have_one() {
        let mut people = 0;
        let mut with_orcid = 0;
        let mut with_email = 0;
        let mut cyrillic = 0;
        let mut diacritics = 0;
        for g in generate(3, 2000) {
            for c in g.record.creators.iter().chain(&g.record.editors) {
                people += 1;
                if let Some(o) = &c.orcid {
                    assert!(is_orcid(o), "{o}");
                    with_orcid += 1;
                }
                if let Some(e) = &c.email {
                    assert!(e.is_ascii() && e.contains('@') && !e.starts_with('.'), "{e}");
                    with_email += 1;
                }
                let name = format!("{} {}", c.name.given, c.name.family);
                if name.chars().any(|ch| ('\u{0400}'..='\u{04FF}').contains(&ch)) {
                    cyrillic += 1;
                } else if !name.is_ascii() {
                    diacritics += 1;
                }
            }
        }
        let share = with_orcid as f64 / people as f64;
        assert!((0.25..0.35).contains(&share), "{share}");
        assert!(with_email > people / 10);
        assert!(cyrillic > people / 40, "{cyrillic} of {people}");
        assert!(diacritics > people / 5, "{diacritics} of {people}");
    }

    #[test]
    fn policy_papers_are_the_largest_group() {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for g in generate(11, 2000) {
            *counts.entry(g.record.item_type).or_default() += 1;
        }
        let (largest, _) = counts.iter().max_by_key(|(_, n)| **n).unwrap();
        assert_eq!(largest, "policy_paper", "{counts:?}");
        assert!(counts["working_paper"] > counts["report"], "{counts:?}");
        for t in ["report", "article", "book_section", "monograph", "conference_item", "thesis"] {
            assert!(counts.get(t).copied().unwrap_or(0) > 0, "{t} missing: {counts:?}");
        }
        let languages: HashSet<String> = generate(11, 500).into_iter().flat_map(|g| g.record.languages).collect();
        assert_eq!(languages.len(), 5, "{languages:?}");
    }

    #[test]
    fn pdfs_are_well_formed_and_listed_in_the_record() {
        let types = ItemTypes::default();
        let gen = Generator::new(GeneratorOptions { seed: 5, with_pdfs: true, first_id: None });
        let mut securities = HashSet::new();
        for g in gen.take(200) {
            let r = &g.record;
            assert_eq!(r.id, None);
            assert!(arkiv_model::validate(r, &types).is_ok());
            assert_eq!(r.documents.len(), 1);
            assert_eq!(g.files.len(), 1);
            let doc = &r.documents[0];
            let (pos, name, bytes) = &g.files[0];
            assert_eq!(*pos, 1);
            assert_eq!(doc.pos, 1);
            assert!(is_safe_filename(name), "{name}");
            assert!(name.ends_with(".pdf") && name.is_ascii(), "{name}");
            assert_eq!(doc.main.as_deref(), Some(name.as_str()));
            assert_eq!(doc.format.as_deref(), Some("application/pdf"));
            assert_eq!(doc.content.as_deref(), Some("published"));
            let file = doc.main_file().unwrap();
            assert_eq!(file.size, bytes.len() as u64);
            assert_eq!(file.sha256.as_deref().unwrap(), hex::encode(Sha256::digest(bytes)));
            securities.insert(doc.security);
            if let (Some(e), Some(d)) = (doc.embargo, r.date) {
                assert!(e.year > d.year || (e.year == d.year && e.month > d.month));
            }
            check_pdf(bytes);
            // About 1 to 3 KB: the abstract makes the difference.
            assert!((1024..=3 * 1024 + 256).contains(&bytes.len()), "{} bytes", bytes.len());
        }
        assert!(securities.contains(&DocumentSecurity::Public) && securities.len() >= 2);
        let name = file_name(
            &{
                let mut r = Record::new("policy_paper", "x");
                r.series = Some("OSW Commentary".into());
                r.number = Some("137".into());
                r
            },
            Kind::PolicyPaper,
            0,
        );
        assert_eq!(name, "osw_commentary_137.pdf");
    }

    /// Header, trailer, and every xref offset pointing at `N 0 obj`.
    fn check_pdf(pdf: &[u8]) {
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.trim_ascii_end().ends_with(b"%%EOF"));
        let tail = std::str::from_utf8(&pdf[pdf.len() - 40..]).unwrap();
        let startxref: usize =
            tail.split("startxref").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
        let xref = std::str::from_utf8(&pdf[startxref..]).unwrap();
        let mut lines = xref.lines();
        assert_eq!(lines.next(), Some("xref"));
        let count: usize = lines.next().unwrap().strip_prefix("0 ").unwrap().parse().unwrap();
        assert_eq!(lines.next(), Some("0000000000 65535 f "));
        for n in 1..count {
            let entry = lines.next().unwrap();
            assert!(entry.ends_with(" 00000 n "), "{entry:?}");
            let offset: usize = entry[..10].parse().unwrap();
            assert!(pdf[offset..].starts_with(format!("{n} 0 obj").as_bytes()), "object {n} at {offset}");
        }
        assert!(lines.next().unwrap().starts_with("trailer"));
        assert!(xref.contains(&format!("/Size {count}")));
    }
}
