//! The ClickHouse columns a row struct writes: each field's name and the ClickHouse type its
//! Rust type is written as in RowBinary, read off the struct through serde. The collector's
//! client writes rows with validation off (ClickHouse 18.16 has no RowBinaryWithNamesAndTypes),
//! so a row that drifts from its table would be stored wrong, not refused: tests compare these
//! with `DESCRIBE` of the tables.

use serde::ser::{self, Impossible, Serialize, Serializer};
use std::fmt;

#[derive(Debug)]
pub struct Error(String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

fn unsupported<T>(what: &str) -> Result<T, Error> {
    Err(Error(format!("{what} has no column type here")))
}

/// `(name, ClickHouse type)` of each field of `row`, in order. Every sequence in `row` must
/// hold an element (the element's type is read off it).
pub fn columns<T: Serialize>(row: &T) -> Result<Vec<(String, String)>, Error> {
    row.serialize(RowColumns)
}

struct RowColumns;

struct Fields(Vec<(String, String)>);

impl ser::SerializeStruct for Fields {
    type Ok = Vec<(String, String)>;
    type Error = Error;
    fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
        let ty = value.serialize(TypeOf).map_err(|e| Error(format!("{key}: {e}")))?;
        self.0.push((key.to_owned(), ty));
        Ok(())
    }
    fn end(self) -> Result<Self::Ok, Error> {
        Ok(self.0)
    }
}

macro_rules! not_a_row {
    ($($method:ident($($arg:ty),*)),*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<Self::Ok, Error> { unsupported("a row that is not a struct") })*
    };
}

impl Serializer for RowColumns {
    type Ok = Vec<(String, String)>;
    type Error = Error;
    type SerializeSeq = Impossible<Self::Ok, Error>;
    type SerializeTuple = Impossible<Self::Ok, Error>;
    type SerializeTupleStruct = Impossible<Self::Ok, Error>;
    type SerializeTupleVariant = Impossible<Self::Ok, Error>;
    type SerializeMap = Impossible<Self::Ok, Error>;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Impossible<Self::Ok, Error>;
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields, Error> {
        Ok(Fields(Vec::with_capacity(len)))
    }
    not_a_row!(
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
        serialize_unit_variant(&'static str, u32, &'static str)
    );
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<Self::Ok, Error> {
        unsupported("an option")
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, _: &T) -> Result<Self::Ok, Error> {
        unsupported("a newtype")
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<Self::Ok, Error> {
        unsupported("an enum")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        unsupported("a sequence")
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        unsupported("a tuple")
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("an enum")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        unsupported("a map")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("an enum")
    }
}

/// The ClickHouse type one value is written as.
struct TypeOf;

/// An array's element type, from its first element.
struct Elements(Option<String>);

impl ser::SerializeSeq for Elements {
    type Ok = String;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        if self.0.is_none() {
            self.0 = Some(value.serialize(TypeOf)?);
        }
        Ok(())
    }
    fn end(self) -> Result<String, Error> {
        match self.0 {
            Some(element) => Ok(format!("Array({element})")),
            None => unsupported("an empty sequence"),
        }
    }
}

/// A fixed-size byte array (`[u8; 16]`): a FixedString.
struct Bytes(usize, bool);

impl ser::SerializeTuple for Bytes {
    type Ok = String;
    type Error = Error;
    fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
        self.1 &= value.serialize(TypeOf)? == "UInt8";
        Ok(())
    }
    fn end(self) -> Result<String, Error> {
        if self.1 {
            Ok(format!("FixedString({})", self.0))
        } else {
            unsupported("a tuple of other than bytes")
        }
    }
}

macro_rules! scalar {
    ($($method:ident($arg:ty) => $name:literal),*) => {
        $(fn $method(self, _: $arg) -> Result<String, Error> { Ok($name.to_owned()) })*
    };
}

impl Serializer for TypeOf {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = Elements;
    type SerializeTuple = Bytes;
    type SerializeTupleStruct = Impossible<String, Error>;
    type SerializeTupleVariant = Impossible<String, Error>;
    type SerializeMap = Impossible<String, Error>;
    type SerializeStruct = Impossible<String, Error>;
    type SerializeStructVariant = Impossible<String, Error>;
    scalar!(
        serialize_bool(bool) => "Bool", serialize_i8(i8) => "Int8", serialize_i16(i16) => "Int16",
        serialize_i32(i32) => "Int32", serialize_i64(i64) => "Int64", serialize_u8(u8) => "UInt8",
        serialize_u16(u16) => "UInt16", serialize_u32(u32) => "UInt32", serialize_u64(u64) => "UInt64",
        serialize_f32(f32) => "Float32", serialize_f64(f64) => "Float64", serialize_str(&str) => "String",
        serialize_bytes(&[u8]) => "String"
    );
    fn serialize_char(self, _: char) -> Result<String, Error> {
        unsupported("a char")
    }
    fn serialize_none(self) -> Result<String, Error> {
        unsupported("an option")
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> Result<String, Error> {
        unsupported("an option")
    }
    fn serialize_unit(self) -> Result<String, Error> {
        unsupported("a unit")
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        unsupported("a unit")
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<String, Error> {
        unsupported("an enum")
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _: &'static str, value: &T) -> Result<String, Error> {
        value.serialize(TypeOf)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        unsupported("an enum")
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Elements, Error> {
        Ok(Elements(None))
    }
    fn serialize_tuple(self, len: usize) -> Result<Bytes, Error> {
        Ok(Bytes(len, true))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct, Error> {
        unsupported("a tuple struct")
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        unsupported("an enum")
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        unsupported("a map")
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        unsupported("a nested struct")
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        unsupported("an enum")
    }
}
