//! Small serde adapters for the shapes that Go's encoding/json accepts: `null` where a list
//! or map is expected, a string where a command is expected (Docker's `StrSlice`), and sets
//! written as objects of empty objects (`{"80/tcp": {}}`).

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// `null` reads as the type's default, as Go reads it into a nil slice or map.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

/// Docker's `StrSlice`: a list of strings, a single string, or `null`.
pub(crate) fn string_or_list<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrSlice {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<StrSlice>::deserialize(d)? {
        None => None,
        Some(StrSlice::One(s)) => Some(vec![s]),
        Some(StrSlice::Many(v)) => Some(v),
    })
}

/// A set of strings written as `{"<item>": {}, ...}` (Go's `map[string]struct{}`); `null`
/// is `None`, and the values are ignored on reading, as Go ignores them.
pub(crate) mod string_set {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        set: &Option<BTreeSet<String>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match set {
            None => s.serialize_none(),
            Some(set) => {
                let mut map = s.serialize_map(Some(set.len()))?;
                for item in set {
                    map.serialize_entry(item, &EmptyObject)?;
                }
                map.end()
            }
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<BTreeSet<String>>, D::Error> {
        struct SetVisitor;
        impl<'de> Visitor<'de> for SetVisitor {
            type Value = Option<BTreeSet<String>>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object whose values are empty objects, or null")
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_map(SetVisitor)
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut set = BTreeSet::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    set.insert(key);
                }
                Ok(Some(set))
            }

            // Some tools write a list of names; read it rather than refuse the image.
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut set = BTreeSet::new();
                while let Some(item) = seq.next_element::<String>()? {
                    set.insert(item);
                }
                Ok(Some(set))
            }
        }
        d.deserialize_option(SetVisitor)
    }
}

/// `{}`
pub(crate) struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_map(Some(0))?.end()
    }
}
