//! EPrints' users as they leave EPrints: the XML export of the user
//! dataset ([`read_users_xml`]), which never carries passwords (they are
//! `secret` fields, left out of exports), and a dump of EPrints' `user`
//! table for the password hashes ([`read_password_dump`]): what
//! `mysqldump eprints user` writes, or a CSV with a header row.
//!
//! Both are read item by item: a broken `<user>` element, or a row that
//! cannot be read, is one error with its line, and the others are read.
//! The XML is cut into its `<user>` elements first (EPrints writes them
//! one after the other, never nested, its text escaped, so `<user` opens
//! one and nothing else), and each is parsed on its own: a mismatched tag
//! costs its own user only.

use quick_xml::events::Event;

/// The longest `<user>` element read: a user is a few hundred bytes, a
/// long editorial scope a few kilobytes.
pub const MAX_USER_BYTES: usize = 1 << 20;

/// One user of the export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EprintsUser {
    pub userid: i64,
    pub username: String,
    /// `user`, `editor`, `admin` (or a repository's own type).
    pub usertype: String,
    pub email: String,
    pub family: String,
    pub given: String,
    /// Each item of `editperms`: an EPrints search, serialised
    /// (perl_lib/EPrints/Search.pm: `serialise`).
    pub editperms: Vec<String>,
    /// A `<password>`, if the export carries one (EPrints' own never does).
    pub password: Option<String>,
}

/// An item of a file, by the line it starts on (from 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item<T> {
    pub line: usize,
    pub result: Result<T, String>,
}

/// The users of an EPrints XML export of the user dataset, each with the
/// line its `<user>` starts on.
pub fn read_users_xml(xml: &[u8]) -> Vec<Item<EprintsUser>> {
    let starts = user_starts(xml);
    let mut out = Vec::with_capacity(starts.len());
    let mut line = 1;
    let mut counted_to = 0;
    for (i, &start) in starts.iter().enumerate() {
        line += memchr::memchr_iter(b'\n', &xml[counted_to..start]).count();
        counted_to = start;
        let next = starts.get(i + 1).copied().unwrap_or(xml.len());
        // The element ends at its `</user>`, or, broken, where the next begins.
        let end = memchr::memmem::find(&xml[start..next], b"</user>").map_or(next, |at| start + at + 7);
        let chunk = &xml[start..end];
        let result = if chunk.len() > MAX_USER_BYTES {
            Err(format!("the <user> element is {} bytes, more than a user takes ({MAX_USER_BYTES})", chunk.len()))
        } else {
            read_user(chunk, line)
        };
        out.push(Item { line, result });
    }
    out
}

/// Where each `<user>` start tag begins (`<user>` or `<user ` with
/// attributes; never `<username>` or `<users>`).
fn user_starts(xml: &[u8]) -> Vec<usize> {
    memchr::memmem::find_iter(xml, b"<user")
        .filter(|&at| matches!(xml.get(at + 5), Some(b'>' | b' ' | b'\t' | b'\r' | b'\n' | b'/')))
        .collect()
}

/// One `<user>` element, parsed on its own; `line` is where it starts.
fn read_user(chunk: &[u8], line: usize) -> Result<EprintsUser, String> {
    let mut reader = quick_xml::Reader::from_reader(chunk);
    let mut path: Vec<String> = Vec::new();
    let mut user = EprintsUser::default();
    let mut userid = String::new();
    let mut closed = false;
    let line_at = |pos: u64| line + chunk[..(pos as usize).min(chunk.len())].iter().filter(|&&b| b == b'\n').count();
    loop {
        let at = reader.buffer_position();
        let broken = |e: String| format!("the <user> element is broken at line {}: {e}", line_at(at));
        match reader.read_event().map_err(|e| broken(e.to_string()))? {
            Event::Start(e) => {
                path.push(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
                if path.len() > 8 {
                    return Err(broken("elements nested too deep for a user".into()));
                }
                if path.len() == 3 && path[1] == "editperms" && path[2] == "item" {
                    user.editperms.push(String::new());
                }
            }
            Event::End(_) => {
                // The chunk starts with `<user>`: the path empties as it closes.
                path.pop();
                if path.is_empty() {
                    closed = true;
                    break;
                }
            }
            event @ (Event::Text(_) | Event::GeneralRef(_) | Event::CData(_)) => {
                let text = super::reader::event_text(&event).unwrap_or_else(|| Ok(String::new())).map_err(broken)?;
                let here: Vec<&str> = path.iter().rev().take(3).map(String::as_str).collect();
                match here.as_slice() {
                    ["userid", "user", ..] => userid.push_str(&text),
                    ["username", "user", ..] => user.username.push_str(&text),
                    ["usertype", "user", ..] => user.usertype.push_str(&text),
                    ["email", "user", ..] => user.email.push_str(&text),
                    ["password", "user", ..] => user.password.get_or_insert_with(String::new).push_str(&text),
                    ["family", "name", "user"] => user.family.push_str(&text),
                    ["given", "name", "user"] => user.given.push_str(&text),
                    // The item's text may come in pieces (around entities).
                    ["item", "editperms", "user"] => {
                        user.editperms.last_mut().into_iter().for_each(|s| s.push_str(&text))
                    }
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !closed {
        return Err(format!("the <user> element starting at line {line} is not closed before the next one"));
    }
    let userid = userid.trim();
    user.userid = match userid.parse::<i64>() {
        Ok(id) if id > 0 => id,
        _ if userid.is_empty() => return Err("a <user> without a <userid>".into()),
        _ => return Err(format!("the userid {:?} is not a positive number", trimmed(userid))),
    };
    for field in [&mut user.username, &mut user.usertype, &mut user.email, &mut user.family, &mut user.given] {
        *field = field.trim().to_string();
    }
    user.editperms.retain(|s| !s.trim().is_empty());
    if user.username.is_empty() {
        return Err(format!("user {} has no username", user.userid));
    }
    Ok(user)
}

/// At most 60 characters of `s`, for messages.
fn trimmed(s: &str) -> String {
    s.chars().take(60).collect()
}

/// A row of the `user` table: the id, the username if the dump has that
/// column, and the password column (`None` for NULL or empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRow {
    pub userid: i64,
    pub username: Option<String>,
    pub password: Option<String>,
}

/// The rows of a dump of EPrints' `user` table: SQL as mysqldump writes it
/// (`INSERT INTO \`user\` VALUES (...),(...);`, the columns named by the
/// `CREATE TABLE` before it or the INSERT's own column list), or CSV whose
/// header names at least `userid` and `password`. An error for the whole
/// file only when it is neither (no user table, no such header).
pub fn read_password_dump(bytes: &[u8]) -> Result<Vec<Item<PasswordRow>>, String> {
    let head = &bytes[..bytes.len().min(1 << 20)];
    let upper = head.to_ascii_uppercase();
    if memchr::memmem::find(&upper, b"INSERT INTO").is_some() || memchr::memmem::find(&upper, b"CREATE TABLE").is_some()
    {
        sql::read(bytes)
    } else {
        read_csv(bytes)
    }
}

fn read_csv(bytes: &[u8]) -> Result<Vec<Item<PasswordRow>>, String> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(bytes);
    let headers = reader.byte_headers().map_err(|e| format!("the CSV header cannot be read: {e}"))?.clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| String::from_utf8_lossy(h).trim().trim_start_matches('\u{feff}').eq_ignore_ascii_case(name))
    };
    let (Some(userid), Some(password)) = (column("userid"), column("password")) else {
        return Err("the file is neither an SQL dump of the user table nor a CSV whose header names userid and \
                    password"
            .into());
    };
    let username = column("username");
    let mut out = Vec::new();
    for row in reader.byte_records() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                out.push(Item { line, result: Err(format!("a CSV row that cannot be read: {e}")) });
                continue;
            }
        };
        let line = row.position().map_or(0, |p| p.line() as usize);
        let text = |i: usize| row.get(i).map(|v| String::from_utf8_lossy(v).trim().to_string());
        out.push(Item { line, result: password_row(text(userid), username.and_then(text), text(password)) });
    }
    Ok(out)
}

/// A row from its cells, as either form gives them.
fn password_row(
    userid: Option<String>,
    username: Option<String>,
    password: Option<String>,
) -> Result<PasswordRow, String> {
    let userid = userid.unwrap_or_default();
    let userid = match userid.trim().parse::<i64>() {
        Ok(id) if id > 0 => id,
        _ => return Err(format!("the userid {:?} is not a positive number", trimmed(&userid))),
    };
    Ok(PasswordRow {
        userid,
        username: username.filter(|u| !u.is_empty()),
        password: password.filter(|p| !p.trim().is_empty()),
    })
}

/// mysqldump's SQL, read only as far as the `user` table needs.
mod sql {
    use super::{password_row, Item, PasswordRow};

    #[derive(Debug, Clone, PartialEq)]
    enum Token {
        /// A bare word or a `backquoted` name.
        Word(String),
        Quoted(String),
        /// A string literal, unescaped (`None`: its bytes were not UTF-8).
        Str(String),
        Punct(u8),
    }

    /// The tokens of the dump, each with its line; comments (`-- `, `#`,
    /// `/* */`, mysqldump's `/*!40101 ... */`) left out.
    fn tokens(b: &[u8]) -> Result<Vec<(usize, Token)>, String> {
        let mut out = Vec::new();
        let (mut i, mut line) = (0, 1);
        while i < b.len() {
            let c = b[i];
            match c {
                b'\n' => {
                    line += 1;
                    i += 1;
                }
                _ if c.is_ascii_whitespace() => i += 1,
                b'-' if b.get(i + 1) == Some(&b'-') => i = skip_line(b, i),
                b'#' => i = skip_line(b, i),
                b'/' if b.get(i + 1) == Some(&b'*') => {
                    let end = memchr::memmem::find(&b[i + 2..], b"*/").map_or(b.len(), |e| i + 2 + e + 2);
                    line += memchr::memchr_iter(b'\n', &b[i..end]).count();
                    i = end;
                }
                b'\'' | b'"' => {
                    let start = line;
                    let (s, next) = string(b, i, &mut line)?;
                    out.push((start, Token::Str(s)));
                    i = next;
                }
                b'`' => {
                    let end = memchr::memchr(b'`', &b[i + 1..]).map(|e| i + 1 + e).ok_or("an unclosed `name`")?;
                    out.push((line, Token::Quoted(String::from_utf8_lossy(&b[i + 1..end]).into_owned())));
                    i = end + 1;
                }
                _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'+' || c == b'-' => {
                    let end = b[i..]
                        .iter()
                        .position(|c| !(c.is_ascii_alphanumeric() || b"_.+-".contains(c)))
                        .map_or(b.len(), |e| i + e);
                    out.push((line, Token::Word(String::from_utf8_lossy(&b[i..end]).into_owned())));
                    i = end;
                }
                _ => {
                    out.push((line, Token::Punct(c)));
                    i += 1;
                }
            }
        }
        Ok(out)
    }

    fn skip_line(b: &[u8], i: usize) -> usize {
        memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |e| i + e)
    }

    /// A string literal from its opening quote: MySQL's backslash escapes
    /// and doubled quotes. Returns the text and where the next token starts.
    fn string(b: &[u8], start: usize, line: &mut usize) -> Result<(String, usize), String> {
        let quote = b[start];
        let mut out = Vec::new();
        let mut i = start + 1;
        loop {
            let Some(&c) = b.get(i) else { return Err(format!("a string from line {line} is never closed")) };
            match c {
                b'\\' => {
                    let Some(&e) = b.get(i + 1) else { return Err("a string ends in a backslash".into()) };
                    out.push(match e {
                        b'0' => 0,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'Z' => 0x1a,
                        b'b' => 8,
                        other => other,
                    });
                    i += 2;
                }
                _ if c == quote && b.get(i + 1) == Some(&quote) => {
                    out.push(quote);
                    i += 2;
                }
                _ if c == quote => return Ok((String::from_utf8_lossy(&out).into_owned(), i + 1)),
                _ => {
                    if c == b'\n' {
                        *line += 1;
                    }
                    out.push(c);
                    i += 1;
                }
            }
        }
    }

    fn is_word(t: &Token, w: &str) -> bool {
        matches!(t, Token::Word(x) if x.eq_ignore_ascii_case(w))
    }

    fn name(t: &Token) -> Option<&str> {
        match t {
            Token::Word(w) | Token::Quoted(w) => Some(w),
            _ => None,
        }
    }

    /// The table a statement names after `INTO` or `TABLE` (`db.user`,
    /// `` `user` ``), and where its tokens go on.
    fn table_at(t: &[(usize, Token)], i: usize) -> (Option<String>, usize) {
        let mut i = i;
        if t.get(i).is_some_and(|(_, x)| is_word(x, "IF")) {
            i += 3; // IF NOT EXISTS
        }
        let mut name = t.get(i).and_then(|(_, x)| self::name(x)).map(str::to_string);
        i += 1;
        while t
            .get(i)
            .is_some_and(|(_, x)| *x == Token::Punct(b'.') || matches!(x, Token::Word(w) if w.starts_with('.')))
        {
            // db.`user`: the last part names the table.
            if let Some((_, Token::Word(w))) = t.get(i) {
                name = Some(w.trim_start_matches('.').to_string());
                i += 1;
                continue;
            }
            name = t.get(i + 1).and_then(|(_, x)| self::name(x)).map(str::to_string);
            i += 2;
        }
        (name.map(|n| n.rsplit('.').next().unwrap_or_default().to_string()), i)
    }

    /// Column definitions' names from `CREATE TABLE user ( ... )`.
    fn create_columns(t: &[(usize, Token)], mut i: usize) -> (Vec<String>, usize) {
        const NOT_COLUMNS: [&str; 9] =
            ["PRIMARY", "KEY", "UNIQUE", "CONSTRAINT", "INDEX", "FULLTEXT", "FOREIGN", "CHECK", "SPATIAL"];
        let mut columns = Vec::new();
        let mut depth = 0;
        let mut at_item = false;
        while let Some((_, tok)) = t.get(i) {
            i += 1;
            match tok {
                Token::Punct(b'(') => {
                    depth += 1;
                    at_item = depth == 1;
                    continue;
                }
                Token::Punct(b')') => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                Token::Punct(b',') if depth == 1 => {
                    at_item = true;
                    continue;
                }
                Token::Punct(b';') => break,
                Token::Quoted(n) if at_item => columns.push(n.clone()),
                Token::Word(w) if at_item && !NOT_COLUMNS.iter().any(|k| w.eq_ignore_ascii_case(k)) => {
                    columns.push(w.clone())
                }
                _ => {}
            }
            at_item = false;
        }
        (columns, i)
    }

    /// The rows of every `INSERT INTO user` (or `REPLACE INTO`) of the dump.
    pub(super) fn read(bytes: &[u8]) -> Result<Vec<Item<PasswordRow>>, String> {
        let t = tokens(bytes)?;
        let mut columns: Option<Vec<String>> = None;
        let mut out = Vec::new();
        let mut i = 0;
        let mut saw_table = false;
        while i < t.len() {
            let (line, tok) = &t[i];
            if is_word(tok, "CREATE") && t.get(i + 1).is_some_and(|(_, x)| is_word(x, "TABLE")) {
                let (table, next) = table_at(&t, i + 2);
                if table.as_deref() == Some("user") {
                    let (cols, after) = create_columns(&t, next);
                    columns = Some(cols);
                    saw_table = true;
                    i = after;
                    continue;
                }
                i = next;
                continue;
            }
            let insert = is_word(tok, "INSERT") || is_word(tok, "REPLACE");
            if !insert {
                i += 1;
                continue;
            }
            let mut j = i + 1;
            while t.get(j).is_some_and(|(_, x)| {
                ["IGNORE", "LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY"].iter().any(|w| is_word(x, w))
            }) {
                j += 1;
            }
            if t.get(j).is_some_and(|(_, x)| is_word(x, "INTO")) {
                j += 1;
            }
            let (table, mut j) = table_at(&t, j);
            if table.as_deref() != Some("user") {
                i = j;
                continue;
            }
            saw_table = true;
            // An INSERT's own column list wins over the CREATE TABLE's.
            let mut own = None;
            if t.get(j).is_some_and(|(_, x)| *x == Token::Punct(b'(')) {
                let mut cols = Vec::new();
                j += 1;
                while let Some((_, x)) = t.get(j) {
                    j += 1;
                    match x {
                        Token::Punct(b')') => break,
                        x => cols.extend(name(x).map(str::to_string)),
                    }
                }
                own = Some(cols);
            }
            let cols = own.or_else(|| columns.clone());
            if !t.get(j).is_some_and(|(_, x)| is_word(x, "VALUES") || is_word(x, "VALUE")) {
                out.push(Item { line: *line, result: Err("an INSERT INTO user without VALUES".into()) });
                i = j;
                continue;
            }
            j += 1;
            // Tuples until the statement's `;`.
            while let Some((tuple_line, Token::Punct(b'('))) = t.get(j) {
                let tuple_line = *tuple_line;
                j += 1;
                let mut values: Vec<Option<String>> = Vec::new();
                let mut current: Option<String> = None;
                let mut depth = 0;
                while let Some((_, x)) = t.get(j) {
                    j += 1;
                    match x {
                        Token::Punct(b'(') => depth += 1,
                        Token::Punct(b')') if depth > 0 => depth -= 1,
                        Token::Punct(b')') => {
                            values.push(current.take());
                            break;
                        }
                        Token::Punct(b',') if depth == 0 => values.push(current.take()),
                        Token::Str(s) => current = Some(s.clone()),
                        Token::Word(w) if w.eq_ignore_ascii_case("NULL") => current = None,
                        Token::Word(w) if !w.starts_with('_') => current = Some(w.clone()),
                        _ => {}
                    }
                }
                out.push(Item { line: tuple_line, result: row_of(cols.as_deref(), values) });
                match t.get(j) {
                    Some((_, Token::Punct(b','))) => j += 1,
                    _ => break,
                }
            }
            i = j;
        }
        if !saw_table {
            return Err("the SQL dump has no table named user".into());
        }
        Ok(out)
    }

    fn row_of(columns: Option<&[String]>, values: Vec<Option<String>>) -> Result<PasswordRow, String> {
        let Some(columns) = columns else {
            return Err("a row of the user table whose columns are not named (no CREATE TABLE before it)".into());
        };
        if columns.len() != values.len() {
            return Err(format!(
                "a row of {} values, where the user table has {} columns",
                values.len(),
                columns.len()
            ));
        }
        let get =
            |name: &str| columns.iter().position(|c| c.eq_ignore_ascii_case(name)).and_then(|i| values[i].clone());
        if !columns.iter().any(|c| c.eq_ignore_ascii_case("password")) {
            return Err("the user table has no password column".into());
        }
        password_row(get("userid"), get("username"), get("password"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_are_read_one_by_one_and_a_broken_one_costs_itself() {
        let xml = br#"<?xml version="1.0" encoding="utf-8" ?>
<users xmlns="http://eprints.org/ep2/data/2.0">
  <user id="http://repo.example/id/user/1">
    <userid>1</userid>
    <username>admin</username>
    <usertype>admin</usertype>
    <email>admin@example.org</email>
    <name><family>Smith &amp; Jones</family><given>Ann</given></name>
    <editperms><item>0|1||eprint|-|type:type:ANY:EQ:article|-|</item><item>0|1||eprint|-|subjects:subjects:ANY:EQ:QA|-|</item></editperms>
  </user>
  <user id="http://repo.example/id/user/2">
    <userid>2</userid>
    <username>broken</username></usertype>
  </user>
  <user>
    <userid>x</userid><username>noid</username>
  </user>
  <user><userid>4</userid><username>jd</username><email>jd@example.org</email></user>
</users>"#;
        let users = read_users_xml(xml);
        assert_eq!(users.iter().map(|u| u.line).collect::<Vec<_>>(), [3, 11, 15, 18]);
        let admin = users[0].result.as_ref().unwrap();
        assert_eq!((admin.userid, admin.username.as_str(), admin.usertype.as_str()), (1, "admin", "admin"));
        assert_eq!((admin.family.as_str(), admin.given.as_str()), ("Smith & Jones", "Ann"));
        assert_eq!(admin.editperms.len(), 2);
        assert!(users[1].result.as_ref().unwrap_err().contains("broken at line 13"), "{:?}", users[1]);
        assert!(users[2].result.as_ref().unwrap_err().contains("not a positive number"));
        assert_eq!(users[3].result.as_ref().unwrap().email, "jd@example.org");
    }

    #[test]
    fn mysqldump_rows_give_the_hashes() {
        let dump = "-- MySQL dump 10.13\n/*!40101 SET NAMES utf8mb4 */;\nDROP TABLE IF EXISTS `user`;\n\
            CREATE TABLE `user` (\n  `userid` int(11) NOT NULL DEFAULT '0',\n  `rev_number` int(11) DEFAULT NULL,\n\
              `username` varchar(255) DEFAULT NULL,\n  `password` varchar(255) DEFAULT NULL,\n\
              `preference` blob,\n  PRIMARY KEY (`userid`),\n  KEY `username` (`username`)\n) ENGINE=InnoDB;\n\
            INSERT INTO `user` VALUES (1,3,'admin','abNANd1rDfiNc',NULL),(2,1,'o\\'brien',\
            '?method=2&salt=Qz&digest=ab;cd',_binary 'x\\0y'),\n(3,1,'nopass',NULL,NULL),(4,1,'short');\n\
            INSERT INTO `other` VALUES (9,'x');\n\
            INSERT INTO `user` (`userid`,`password`) VALUES (5,'zznEAZYZPEcBo');\n";
        let rows = read_password_dump(dump.as_bytes()).unwrap();
        assert_eq!(rows.len(), 5);
        let row = |i: usize| rows[i].result.as_ref().unwrap();
        assert_eq!(row(0).password.as_deref(), Some("abNANd1rDfiNc"));
        assert_eq!(row(1).username.as_deref(), Some("o'brien"));
        assert_eq!(row(1).password.as_deref(), Some("?method=2&salt=Qz&digest=ab;cd"));
        assert_eq!((row(2).userid, row(2).password.as_ref()), (3, None));
        assert_eq!(rows[3].line, 14);
        assert!(rows[3].result.as_ref().unwrap_err().contains("a row of 3 values"));
        assert_eq!((row(4).userid, row(4).password.as_deref()), (5, Some("zznEAZYZPEcBo")));
        assert!(read_password_dump(b"INSERT INTO `eprint` VALUES (1);").unwrap_err().contains("no table named user"));
    }

    /// Any prefix of a users export or a dump, cut anywhere (mid-tag,
    /// mid-string, mid-escape, mid-UTF-8), gives items or errors, never a
    /// panic.
    #[test]
    fn files_cut_anywhere_never_panic() {
        let xml = "<users><user id=\"x\"><userid>1</userid><username>a&amp;b</username><usertype>user</usertype>\
                   <email>é@example.org</email><editperms><item>0|1||eprint|-|type:type:ANY:EQ:a&lt;b|-|</item>\
                   </editperms></user><user><userid>2</userid></user></users>";
        let sql = "CREATE TABLE `user` (`userid` int, `password` varchar(9)); /* c */ -- c\n\
                   INSERT INTO `user` VALUES (1,'a\\'b\\\\'),(2,\"é\"),(3,NULL);";
        let csv = "userid,password\n1,\"a,\"\"b\"\n2,é\n";
        for text in [xml, sql, csv] {
            let bytes = text.as_bytes();
            for cut in 0..=bytes.len() {
                let _ = read_users_xml(&bytes[..cut]);
                let _ = read_password_dump(&bytes[..cut]);
            }
        }
        assert_eq!(read_users_xml(xml.as_bytes()).len(), 2);
        let rows = read_password_dump(sql.as_bytes()).unwrap();
        assert_eq!(rows[0].result.as_ref().unwrap().password.as_deref(), Some("a'b\\"));
    }

    #[test]
    fn csv_rows_give_the_hashes() {
        let csv = "userid,username,password\n1,admin,abNANd1rDfiNc\nseven,x,y\n3,nopass,\n";
        let rows = read_password_dump(csv.as_bytes()).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].result.as_ref().unwrap().password.as_deref(), Some("abNANd1rDfiNc"));
        assert_eq!(rows[1].line, 3);
        assert!(rows[1].result.is_err());
        assert_eq!(rows[2].result.as_ref().unwrap().password, None);
        assert!(read_password_dump(b"id,hash\n1,x\n").unwrap_err().contains("userid and password"));
    }
}
