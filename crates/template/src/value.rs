//! Values as a template sees them: JSON data given the Go types that Docker's typed data
//! would have, and the values templates compute.
//!
//! Go's templates see Docker's data as structs, `[]string`, `map[string]string`, ints and
//! so on; pier's CLI hands us JSON. So JSON is typed the way Go would see the equivalent
//! data: integers are `int`, other numbers `float64`, arrays of strings only `[]string`,
//! objects of string values only `map[string]string`, other arrays and objects
//! `[]interface {}` and `map[string]interface {}`, whose elements are `interface {}` values
//! ([`Val::Iface`]) that hold the element (JSON null is a nil interface). This decides what
//! `index` gives for a missing key, what Go's messages call a type, and what compares.

use std::borrow::Cow;
use std::rc::Rc;

use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub(crate) enum Val<'d> {
    /// Go's zero `reflect.Value`: a missing map entry, nil data; it prints `<no value>`.
    Invalid,
    /// An `interface {}` holding a JSON value: an element of `map[string]interface {}` or
    /// `[]interface {}`. JSON null is a nil interface.
    Iface(&'d Value),
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(Cow<'d, str>),
    /// A JSON array: `[]string` when all its elements are strings.
    Array(&'d [Value]),
    /// A JSON object: `map[string]string` when all its values are strings.
    Object(&'d Map<String, Value>),
    /// A `[]string` made by the template (`split`).
    Strings(Rc<[String]>),
}

pub(crate) fn all_strings<'a>(mut values: impl Iterator<Item = &'a Value>) -> bool {
    values.all(Value::is_string)
}

impl<'d> Val<'d> {
    /// The value of JSON data as Go's `reflect.ValueOf` would give it.
    pub fn from_json(value: &'d Value) -> Val<'d> {
        match value {
            Value::Null => Val::Invalid,
            Value::Bool(b) => Val::Bool(*b),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Val::Int(i)
                } else if let Some(u) = n.as_u64() {
                    Val::Uint(u)
                } else {
                    Val::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => Val::Str(Cow::Borrowed(s)),
            Value::Array(a) => Val::Array(a),
            Value::Object(o) => Val::Object(o),
        }
    }

    /// An element of a `[]interface {}` or `[]string`, or a value of a map of either kind.
    pub fn element(value: &'d Value, of_strings: bool) -> Val<'d> {
        match value {
            Value::String(s) if of_strings => Val::Str(Cow::Borrowed(s)),
            _ => Val::Iface(value),
        }
    }

    /// The value inside an interface (Go's `indirectInterface`); nil becomes invalid.
    pub fn unboxed(&self) -> Val<'d> {
        match self {
            Val::Iface(value) => Val::from_json(value),
            other => other.clone(),
        }
    }

    pub fn is_nil_interface(&self) -> bool {
        matches!(self, Val::Iface(Value::Null))
    }

    pub fn str(s: impl Into<Cow<'d, str>>) -> Val<'d> {
        Val::Str(s.into())
    }

    /// Go's name for the type of the value, as its messages print it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Invalid => "<nil>",
            Val::Iface(_) => "interface {}",
            Val::Bool(_) => "bool",
            Val::Int(_) => "int",
            Val::Uint(_) => "uint64",
            Val::Float(_) => "float64",
            Val::Str(_) => "string",
            Val::Array(a) if all_strings(a.iter()) => "[]string",
            Val::Array(_) => "[]interface {}",
            Val::Object(o) if all_strings(o.values()) => "map[string]string",
            Val::Object(_) => "map[string]interface {}",
            Val::Strings(_) => "[]string",
        }
    }

    /// Go's truth: not the zero value of its type (empty collections are false).
    pub fn is_true(&self) -> bool {
        match self.unboxed() {
            Val::Invalid | Val::Iface(_) => false,
            Val::Bool(b) => b,
            Val::Int(i) => i != 0,
            Val::Uint(u) => u != 0,
            Val::Float(f) => f != 0.0,
            Val::Str(s) => !s.is_empty(),
            Val::Array(a) => !a.is_empty(),
            Val::Object(o) => !o.is_empty(),
            Val::Strings(s) => !s.is_empty(),
        }
    }

    /// The value as JSON: what `json` encodes and what methods receive.
    pub fn to_json(&self) -> Value {
        match self {
            Val::Invalid => Value::Null,
            Val::Iface(value) => (*value).clone(),
            Val::Bool(b) => Value::Bool(*b),
            Val::Int(i) => Value::from(*i),
            Val::Uint(u) => Value::from(*u),
            Val::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Val::Str(s) => Value::String(s.to_string()),
            Val::Array(a) => Value::Array(a.to_vec()),
            Val::Object(o) => Value::Object((*o).clone()),
            Val::Strings(s) => Value::Array(s.iter().cloned().map(Value::String).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_takes_go_types() {
        let data = json!({"s": ["a"], "i": [1], "m": {"a": "b"}, "o": {"a": 1}, "e": []});
        let types: Vec<&str> = ["s", "i", "m", "o", "e"]
            .iter()
            .map(|k| Val::from_json(&data[k]).type_name())
            .collect();
        assert_eq!(
            types,
            vec![
                "[]string",
                "[]interface {}",
                "map[string]string",
                "map[string]interface {}",
                "[]string"
            ]
        );
        assert_eq!(Val::from_json(&json!(1)).type_name(), "int");
        assert_eq!(Val::from_json(&json!(1.5)).type_name(), "float64");
        assert!(matches!(Val::from_json(&json!(null)), Val::Invalid));
    }

    #[test]
    fn truth_is_gos() {
        for (value, truth) in [
            (json!(0), false),
            (json!(2), true),
            (json!(""), false),
            (json!("x"), true),
            (json!([]), false),
            (json!({}), false),
            (json!({"a": 1}), true),
            (json!(0.0), false),
            (json!(null), false),
        ] {
            assert_eq!(Val::from_json(&value).is_true(), truth, "{value}");
            assert_eq!(Val::Iface(&value).is_true(), truth, "{value}");
        }
    }
}
