//! Revisions: every change to a record is kept as a full snapshot with who
//! made it, when, and which fields changed, so old states stay readable and
//! a diff can always be shown.

use crate::date::Timestamp;
use crate::record::{Record, RecordId};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub record_id: RecordId,
    /// 1 for the first state, then 2, 3...
    pub number: i64,
    /// Who made the change: a user name, `import`, `system`.
    pub actor: String,
    pub at: Timestamp,
    /// Top-level field names that differ from the previous revision.
    pub changed: Vec<String>,
    pub record: Record,
}

/// The top-level fields that differ between two states of a record, by their
/// serialized names (`title`, `creators`, `documents`...). Bookkeeping fields
/// (`lastmod`) are left out: they change on every save and say nothing.
pub fn changed_fields(old: Option<&Record>, new: &Record) -> Vec<String> {
    let Some(old) = old else {
        // Against nothing, every field the record serializes has changed:
        // its names are enough, without building the values.
        return new_record_fields(new);
    };
    changed_fields_general(Some(old), new)
}

/// The top-level names a record serializes (those `serde_json::to_value`
/// would give), sorted, without `lastmod`. The serializer below only notes
/// the names of the record's fields: the derived `Serialize` leaves out the
/// skipped ones (empty lists, absent options) exactly as it does for JSON.
fn new_record_fields(record: &Record) -> Vec<String> {
    let mut names = Vec::with_capacity(48);
    if record.serialize(FieldNames { names: &mut names }).is_err() {
        // Cannot happen for a derived struct; fall back to the general path.
        return changed_fields_general(None, record);
    }
    let mut names: Vec<String> = names.into_iter().filter(|k| *k != "lastmod").map(str::to_string).collect();
    names.sort();
    names.dedup();
    names
}

fn changed_fields_general(old: Option<&Record>, new: &Record) -> Vec<String> {
    let new_v = serde_json::to_value(new).unwrap_or_default();
    let old_v = old.map(|o| serde_json::to_value(o).unwrap_or_default()).unwrap_or_default();
    let empty = serde_json::Map::new();
    let new_m = new_v.as_object().unwrap_or(&empty);
    let old_m = old_v.as_object().unwrap_or(&empty);
    let mut names: Vec<String> = new_m
        .keys()
        .chain(old_m.keys())
        .filter(|k| *k != "lastmod" && new_m.get(*k) != old_m.get(*k))
        .cloned()
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A serializer that accepts one struct and records the names of the fields
/// it is given; anything else is an error.
struct FieldNames<'a> {
    names: &'a mut Vec<&'static str>,
}

#[derive(Debug)]
struct NotAStruct;

impl std::fmt::Display for NotAStruct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a struct")
    }
}

impl std::error::Error for NotAStruct {}

impl serde::ser::Error for NotAStruct {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        NotAStruct
    }
}

impl serde::ser::SerializeStruct for FieldNames<'_> {
    type Ok = ();
    type Error = NotAStruct;

    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, _: &T) -> Result<(), NotAStruct> {
        self.names.push(key);
        Ok(())
    }

    fn end(self) -> Result<(), NotAStruct> {
        Ok(())
    }
}

macro_rules! not_a_struct {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> Result<(), NotAStruct> { Err(NotAStruct) })*
    };
}

impl<'a> serde::Serializer for FieldNames<'a> {
    type Ok = ();
    type Error = NotAStruct;
    type SerializeSeq = serde::ser::Impossible<(), NotAStruct>;
    type SerializeTuple = serde::ser::Impossible<(), NotAStruct>;
    type SerializeTupleStruct = serde::ser::Impossible<(), NotAStruct>;
    type SerializeTupleVariant = serde::ser::Impossible<(), NotAStruct>;
    type SerializeMap = serde::ser::Impossible<(), NotAStruct>;
    type SerializeStruct = FieldNames<'a>;
    type SerializeStructVariant = serde::ser::Impossible<(), NotAStruct>;

    not_a_struct!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<(), NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<(), NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotAStruct> {
        Err(NotAStruct)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotAStruct> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotAStruct> {
        Err(NotAStruct)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_names_what_differs() {
        let a = Record::new("article", "One");
        let mut b = a.clone();
        b.title = "Two".into();
        b.lastmod = Some(Timestamp(5));
        b.keywords.push("x".into());
        assert_eq!(changed_fields(Some(&a), &b), vec!["keywords", "title"]);
        assert!(changed_fields(Some(&a), &a).is_empty());
        assert!(changed_fields(None, &a).contains(&"title".to_string()));
    }

    #[test]
    fn the_names_of_a_new_record_are_those_its_json_has() {
        let mut r = Record::new("article", "One");
        assert_eq!(changed_fields(None, &r), changed_fields_general(None, &r));
        r.id = Some(7);
        r.keywords.push("x".into());
        r.abstract_text = Some("About".into());
        r.lastmod = Some(Timestamp(5));
        r.datestamp = Some(Timestamp(4));
        r.refereed = Some(false);
        r.date = "2024-05".parse().ok();
        let names = changed_fields(None, &r);
        assert_eq!(names, changed_fields_general(None, &r));
        assert!(names.contains(&"abstract".to_string()) && !names.contains(&"lastmod".to_string()));
    }
}
