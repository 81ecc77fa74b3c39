//! EPrints' subjects file (`cfg/subjects`, read by `bin/import_subjects`):
//! one subject a line, `KEY:TITLE:PARENT_KEY(S):CANADD?`, parents separated
//! by commas, `ROOT` the top, `#` comments, `%3A` for a colon inside a
//! field (perl_lib/EPrints/Plugin/Import/FlatSubjects.pm:56-80). Read
//! line by line: a bad line is reported with its number and the others
//! are read. Hand-written: a line format no crate knows.

/// One subject as the file gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatSubject {
    pub id: String,
    pub name: String,
    /// Parent ids, in the file's order (`ROOT` for the top).
    pub parents: Vec<String>,
    /// Whether depositors may file items under it.
    pub depositable: bool,
}

/// A line of the file that holds a subject, or why it does not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectLine {
    /// From 1.
    pub line: usize,
    pub result: Result<FlatSubject, String>,
}

/// Every subject line of `text` (comments and blank lines left out).
pub fn read_subjects_file(text: &str) -> Vec<SubjectLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|(i, l)| SubjectLine { line: i + 1, result: read_line(l) })
        .collect()
}

fn read_line(line: &str) -> Result<FlatSubject, String> {
    let fields: Vec<String> = line.trim_end_matches(['\r', '\n']).split(':').map(|f| f.replace("%3A", ":")).collect();
    if fields.len() < 3 {
        return Err(format!("{:?} is not KEY:TITLE:PARENTS:CANADD", line.chars().take(80).collect::<String>()));
    }
    let id = fields[0].trim().to_string();
    let name = fields[1].trim().to_string();
    if id.is_empty() {
        return Err("a subject without a key".into());
    }
    if name.is_empty() {
        return Err(format!("subject {id} has no title"));
    }
    let parents: Vec<String> = fields[2].split(',').map(|p| p.trim().to_string()).filter(|p| !p.is_empty()).collect();
    if parents.is_empty() {
        return Err(format!("subject {id} has no parent (the top ones have ROOT)"));
    }
    // Perl truth: empty and "0" are false.
    let depositable = fields.get(3).map(|f| f.trim()).is_some_and(|f| !f.is_empty() && f != "0");
    Ok(FlatSubject { id, name, parents, depositable })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_of_the_pub_flavours_file_read_as_eprints_reads_them() {
        let text = "# a comment\n\nsubjects:Subjects:ROOT:0\nQA75:Electronic computers. Computer science:QA,T1:1\n\
                    x%3Ay:A colon%3A inside:subjects:1\nbroken line\n:no key:subjects:1\nnoparent:No parent::1\n";
        let lines = read_subjects_file(text);
        assert_eq!(lines.len(), 6);
        assert_eq!(lines[0].line, 3);
        let qa = lines[1].result.as_ref().unwrap();
        assert_eq!(qa.parents, ["QA", "T1"]);
        assert!(qa.depositable);
        assert!(!lines[0].result.as_ref().unwrap().depositable);
        let colon = lines[2].result.as_ref().unwrap();
        assert_eq!((colon.id.as_str(), colon.name.as_str()), ("x:y", "A colon: inside"));
        assert_eq!(lines[3].line, 6);
        assert!(lines[3].result.as_ref().unwrap_err().contains("is not KEY:TITLE:PARENTS:CANADD"));
        assert!(lines[4].result.is_err() && lines[5].result.is_err());
    }
}
