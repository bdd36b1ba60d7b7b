//! A streaming block-style YAML serializer: it writes as serde visits the
//! value, without building a `serde_json::Value` first (the tests compare it
//! with a tree-based reference writer).
//!
//! Each value is written knowing only its position ([`Ctx`]): the document
//! top, the value after `key:`, or the item after `-`. Whether a map or
//! sequence is empty is only known at its end, so the line break that
//! introduces its first entry is written lazily with that entry.

use std::fmt::{self, Write as _};

use serde::ser::{self, Serialize};

use super::write_string;

/// Error of the YAML writer (keys that are not strings, custom errors).
#[derive(Debug)]
pub(crate) struct YamlError(pub(crate) String);

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for YamlError {}

impl ser::Error for YamlError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        YamlError(msg.to_string())
    }
}

/// Where the value being written sits.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Ctx {
    /// The document itself.
    Top,
    /// After `key:` written at this indentation.
    Value(usize),
    /// After `-` written at this indentation.
    Item(usize),
}

pub(crate) struct Ser<'a> {
    pub(crate) out: &'a mut String,
    pub(crate) ctx: Ctx,
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

impl<'a> Ser<'a> {
    /// Writes a scalar (already formatted) in its position.
    fn scalar(self, write: impl FnOnce(&mut String)) -> Result<(), YamlError> {
        match self.ctx {
            Ctx::Top => {}
            Ctx::Value(_) | Ctx::Item(_) => self.out.push(' '),
        }
        write(self.out);
        self.out.push('\n');
        Ok(())
    }

    fn map(self) -> MapSer<'a> {
        let (indent, inline_first) = match self.ctx {
            Ctx::Top => (0, false),
            Ctx::Value(i) => (i + 2, false),
            Ctx::Item(i) => (i + 2, true),
        };
        MapSer {
            out: self.out,
            ctx: self.ctx,
            indent,
            inline_first,
            count: 0,
        }
    }

    fn seq(self) -> SeqSer<'a> {
        let indent = match self.ctx {
            Ctx::Top => 0,
            // Sequences under a key are not indented (the kubectl style).
            Ctx::Value(i) => i,
            Ctx::Item(i) => i + 2,
        };
        SeqSer {
            out: self.out,
            ctx: self.ctx,
            indent,
            count: 0,
        }
    }
}

pub(crate) struct MapSer<'a> {
    out: &'a mut String,
    ctx: Ctx,
    indent: usize,
    inline_first: bool,
    count: usize,
}

impl MapSer<'_> {
    fn key_prefix(&mut self) {
        if self.count == 0 {
            match self.ctx {
                Ctx::Top => {}
                Ctx::Value(_) => self.out.push('\n'),
                Ctx::Item(_) => self.out.push(' '),
            }
        }
        if !(self.count == 0 && self.inline_first) {
            indent(self.out, self.indent);
        }
        self.count += 1;
    }

    fn finish(self) -> Result<(), YamlError> {
        if self.count == 0 {
            match self.ctx {
                Ctx::Top => self.out.push_str("{}\n"),
                Ctx::Value(_) | Ctx::Item(_) => self.out.push_str(" {}\n"),
            }
        }
        Ok(())
    }

    fn entry<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) -> Result<(), YamlError> {
        self.key_prefix();
        write_string(self.out, key);
        self.value(value)
    }

    /// Writes a key through serde (map keys are not always `&str`).
    fn key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<(), YamlError> {
        self.key_prefix();
        key.serialize(KeySer { out: self.out })
    }

    /// Writes `:` and the value of the key just written.
    fn value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), YamlError> {
        self.out.push(':');
        value.serialize(Ser {
            out: self.out,
            ctx: Ctx::Value(self.indent),
        })
    }
}

pub(crate) struct SeqSer<'a> {
    out: &'a mut String,
    ctx: Ctx,
    indent: usize,
    count: usize,
}

impl SeqSer<'_> {
    fn item<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<(), YamlError> {
        if self.count == 0 && matches!(self.ctx, Ctx::Value(_) | Ctx::Item(_)) {
            self.out.push('\n');
        }
        self.count += 1;
        indent(self.out, self.indent);
        self.out.push('-');
        value.serialize(Ser {
            out: self.out,
            ctx: Ctx::Item(self.indent),
        })
    }

    fn finish(self) -> Result<(), YamlError> {
        if self.count == 0 {
            match self.ctx {
                Ctx::Top => self.out.push_str("[]\n"),
                Ctx::Value(_) | Ctx::Item(_) => self.out.push_str(" []\n"),
            }
        }
        Ok(())
    }
}

macro_rules! display_scalar {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name(self, v: $ty) -> Result<(), YamlError> {
            self.scalar(|out| { let _ = write!(out, "{v}"); })
        })*
    };
}

impl<'a> ser::Serializer for Ser<'a> {
    type Ok = ();
    type Error = YamlError;
    type SerializeSeq = SeqSer<'a>;
    type SerializeTuple = SeqSer<'a>;
    type SerializeTupleStruct = SeqSer<'a>;
    type SerializeTupleVariant = VariantSer<'a>;
    type SerializeMap = KeyedMapSer<'a>;
    type SerializeStruct = MapSer<'a>;
    type SerializeStructVariant = VariantSer<'a>;

    display_scalar!(
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_i128: i128,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_u128: u128
    );

    fn serialize_bool(self, v: bool) -> Result<(), YamlError> {
        self.scalar(|out| out.push_str(if v { "true" } else { "false" }))
    }

    fn serialize_f32(self, v: f32) -> Result<(), YamlError> {
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), YamlError> {
        // The JSON rendering of floats (as serde_json writes them); non-finite
        // values have no JSON form and become null, as in serde_json.
        self.scalar(|out| match serde_json::Number::from_f64(v) {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.push_str("null"),
        })
    }

    fn serialize_char(self, v: char) -> Result<(), YamlError> {
        let mut buf = [0u8; 4];
        self.serialize_str(v.encode_utf8(&mut buf))
    }

    fn serialize_str(self, v: &str) -> Result<(), YamlError> {
        self.scalar(|out| write_string(out, v))
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<(), YamlError> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for b in v {
            seq.serialize_element(b)?;
        }
        seq.end()
    }

    fn serialize_none(self) -> Result<(), YamlError> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), YamlError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), YamlError> {
        self.scalar(|out| out.push_str("null"))
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), YamlError> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), YamlError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        let mut map = self.map();
        map.entry(variant, value)?;
        map.finish()
    }

    fn serialize_seq(self, _len: Option<usize>) -> Result<SeqSer<'a>, YamlError> {
        Ok(self.seq())
    }

    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'a>, YamlError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<SeqSer<'a>, YamlError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantSer<'a>, YamlError> {
        VariantSer::new(self, variant)
    }

    fn serialize_map(self, _len: Option<usize>) -> Result<KeyedMapSer<'a>, YamlError> {
        Ok(KeyedMapSer {
            map: self.map(),
            pending_key: false,
        })
    }

    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<MapSer<'a>, YamlError> {
        Ok(self.map())
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<VariantSer<'a>, YamlError> {
        VariantSer::new(self, variant)
    }
}

/// Sequences, tuples and tuple structs are all written as YAML sequences.
macro_rules! seq_impls {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for SeqSer<'_> {
            type Ok = ();
            type Error = YamlError;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
                self.item(value)
            }
            fn end(self) -> Result<(), YamlError> {
                self.finish()
            }
        })*
    };
}

seq_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

impl ser::SerializeStruct for MapSer<'_> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        self.entry(key, value)
    }
    fn end(self) -> Result<(), YamlError> {
        self.finish()
    }
}

/// A map whose keys arrive separately from their values. Keys are written
/// as they come (no owned copy): a value must follow each key.
pub(crate) struct KeyedMapSer<'a> {
    map: MapSer<'a>,
    pending_key: bool,
}

impl ser::SerializeMap for KeyedMapSer<'_> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), YamlError> {
        if self.pending_key {
            return Err(YamlError("a map key without a value".into()));
        }
        self.map.key(key)?;
        self.pending_key = true;
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        if !std::mem::take(&mut self.pending_key) {
            return Err(YamlError("a map value without a key".into()));
        }
        self.map.value(value)
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), YamlError> {
        self.map.key(key)?;
        self.map.value(value)
    }
    fn end(self) -> Result<(), YamlError> {
        if self.pending_key {
            return Err(YamlError("a map key without a value".into()));
        }
        self.map.finish()
    }
}

/// `{variant: value}` for tuple and struct variants.
pub(crate) struct VariantSer<'a> {
    inner: MapSer<'a>,
    entries: Vec<(Option<&'static str>, serde_json::Value)>,
    variant: &'static str,
}

impl<'a> VariantSer<'a> {
    fn new(ser: Ser<'a>, variant: &'static str) -> Result<Self, YamlError> {
        Ok(VariantSer {
            inner: ser.map(),
            entries: Vec::new(),
            variant,
        })
    }

    fn push<T: Serialize + ?Sized>(
        &mut self,
        key: Option<&'static str>,
        value: &T,
    ) -> Result<(), YamlError> {
        let v = serde_json::to_value(value).map_err(|e| YamlError(e.to_string()))?;
        self.entries.push((key, v));
        Ok(())
    }

    fn finish(mut self) -> Result<(), YamlError> {
        // Rare in Kubernetes objects: built as a JSON value, then written.
        let body = if self.entries.iter().all(|(k, _)| k.is_some()) && !self.entries.is_empty() {
            serde_json::Value::Object(
                self.entries
                    .into_iter()
                    .map(|(k, v)| (k.unwrap_or_default().to_owned(), v))
                    .collect(),
            )
        } else {
            serde_json::Value::Array(self.entries.into_iter().map(|(_, v)| v).collect())
        };
        self.inner.entry(self.variant, &body)?;
        self.inner.finish()
    }
}

impl ser::SerializeTupleVariant for VariantSer<'_> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), YamlError> {
        self.push(None, value)
    }
    fn end(self) -> Result<(), YamlError> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for VariantSer<'_> {
    type Ok = ();
    type Error = YamlError;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        self.push(Some(key), value)
    }
    fn end(self) -> Result<(), YamlError> {
        self.finish()
    }
}

/// A key method per scalar type: its `Display` text, as a string.
macro_rules! display_key {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name(self, v: $ty) -> Result<(), YamlError> {
            write_string(self.out, &v.to_string());
            Ok(())
        })*
    };
}

/// Map keys: strings, or scalars written as strings (as serde_json does).
struct KeySer<'a> {
    out: &'a mut String,
}

/// The error for a map key that has no string form.
fn not_a_string_key<T>() -> Result<T, YamlError> {
    Err(YamlError("map keys must be strings".into()))
}

impl ser::Serializer for KeySer<'_> {
    type Ok = ();
    type Error = YamlError;
    type SerializeSeq = ser::Impossible<(), YamlError>;
    type SerializeTuple = ser::Impossible<(), YamlError>;
    type SerializeTupleStruct = ser::Impossible<(), YamlError>;
    type SerializeTupleVariant = ser::Impossible<(), YamlError>;
    type SerializeMap = ser::Impossible<(), YamlError>;
    type SerializeStruct = ser::Impossible<(), YamlError>;
    type SerializeStructVariant = ser::Impossible<(), YamlError>;

    fn serialize_str(self, v: &str) -> Result<(), YamlError> {
        write_string(self.out, v);
        Ok(())
    }
    // Scalars become keys in their text form, as serde_json writes them.
    display_key!(
        serialize_bool: bool, serialize_char: char,
        serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64
    );
    fn serialize_f32(self, _v: f32) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_f64(self, _v: f64) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_bytes(self, _v: &[u8]) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_none(self) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), YamlError> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), YamlError> {
        write_string(self.out, variant);
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), YamlError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _value: &T,
    ) -> Result<(), YamlError> {
        not_a_string_key()
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq, YamlError> {
        not_a_string_key()
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple, YamlError> {
        not_a_string_key()
    }
    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleStruct, YamlError> {
        not_a_string_key()
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant, YamlError> {
        not_a_string_key()
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap, YamlError> {
        not_a_string_key()
    }
    fn serialize_struct(
        self,
        _name: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStruct, YamlError> {
        not_a_string_key()
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant, YamlError> {
        not_a_string_key()
    }
}
