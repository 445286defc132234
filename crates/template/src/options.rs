//! How a template treats what the data lacks, and the methods data can offer.

use serde_json::{Map, Value};

/// What `.Key` gives when a JSON object has no such key: Go's `missingkey` option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// Go's default: an invalid value, which prints as `<no value>`.
    #[default]
    NoValue,
    /// `missingkey=zero`: the zero value of the map's elements (`""` in a map of strings,
    /// else a nil interface, which prints as `<no value>` too).
    Zero,
    /// `missingkey=error`: `map has no entry for key "Foo"`. Docker's `inspect` runs its
    /// templates so on the raw JSON of what it inspects.
    Error,
}

/// Methods with arguments that Docker's data offers besides fields, such as
/// `{{.Label "com.example"}}` on `docker ps` rows. Called for every `.Name` on a JSON object
/// before its keys are looked at, as Go looks for a method before a field.
pub trait Methods {
    /// The method `name` of `receiver` called with `args`; `None` when there is no such
    /// method, `Some(Err(..))` when the call fails (the message follows `error calling
    /// Name: `).
    fn call(
        &self,
        receiver: &Map<String, Value>,
        name: &str,
        args: &[Value],
    ) -> Option<Result<String, String>>;
}

/// How to render a template.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// What a missing key gives.
    pub missing_key: MissingKey,
    /// Docker's CLI renders `docker ps` and the like with a Go struct as the data, so a
    /// field it lacks is `can't evaluate field Foo in type *formatter.ContainerContext`.
    /// With a type name here, a key missing from the top-level object fails so, naming it.
    pub root_type: Option<&'a str>,
    /// Methods the data offers.
    pub methods: Option<&'a dyn Methods>,
}
