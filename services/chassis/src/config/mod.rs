//! The configuration of a motcua service: every environment variable's name, default and description
//! written once, and the values read from them at start-up into a [`ServiceConfig`].
//!
//! Each variable is declared once, in a [`variables!`](crate::variables) list: the chassis's list
//! ([`VARIABLES`], read by every service) and each service's own (`<service>::settings::VARIABLES`,
//! the `MOTCUA_<SERVICE>_*` variables). docs/operations.md and the deployment manifests are checked
//! against those lists together.

mod kind;
mod service;
mod shared;

use thiserror::Error;

pub use self::{
    kind::ServiceKind,
    service::{ServiceConfig, TlsFiles, default_sqlite_url},
    shared::*,
};

/// One configuration variable: its name, its default and what it is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The environment variable's name.
    pub name: &'static str,
    /// The default, as text; what the code reads when the variable is unset, or, in `<angle
    /// brackets>`, a note where the default is not one value (per service, derived, ...).
    pub default: &'static str,
    /// Whether it carries a secret (then it belongs in a Kubernetes Secret, never a ConfigMap).
    pub secret: bool,
    /// One line on what it sets.
    pub description: &'static str,
}

/// The default of `name` in `variables`; empty when it is not listed, so that reading it fails loudly
/// at start-up rather than taking a value nobody documented.
pub fn default_of(variables: &[Variable], name: &str) -> &'static str {
    variables.iter().find(|variable| variable.name == name).map_or("", |variable| variable.default)
}

/// Declares configuration variables once: for each entry a `pub const ENV_*: &str` holding its name
/// (documented by its description), and one list of them all for the documentation checks.
///
/// ```
/// motcua_chassis::variables! {
///     /// The example's variables.
///     pub const VARIABLES = [
///         ENV_EXAMPLE_URL {
///             name: "MOTCUA_EXAMPLE_URL",
///             default: "http://127.0.0.1:50059",
///             secret: false,
///             description: "example: URL of a peer",
///         },
///     ];
/// }
/// assert_eq!(VARIABLES[0].name, ENV_EXAMPLE_URL);
/// ```
#[macro_export]
macro_rules! variables {
    (
        $(#[$list_meta:meta])*
        $list_vis:vis const $list:ident = [
            $(
                $env:ident {
                    name: $name:literal,
                    default: $default:literal,
                    secret: $secret:literal,
                    description: $description:literal $(,)?
                }
            ),* $(,)?
        ];
    ) => {
        $(
            #[doc = $description]
            pub const $env: &str = $name;
        )*
        $(#[$list_meta])*
        $list_vis const $list: &[$crate::config::Variable] = &[
            $(
                $crate::config::Variable { name: $env, default: $default, secret: $secret, description: $description }
            ),*
        ];
    };
}

/// A configuration value that could not be read.
#[derive(Debug, Error)]
#[error("{variable}={value:?} is not valid: {reason}")]
pub struct ConfigError {
    /// The variable's name.
    pub variable: &'static str,
    /// The value found.
    pub value: String,
    /// What was expected.
    pub reason: &'static str,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, carrying trace_id and span_id.
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

/// Reads the log settings, which are process-wide rather than per service.
pub fn log_settings() -> Result<(LogFormat, String), ConfigError> {
    let get = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
    let format = match read_text(&get, ENV_LOG_FORMAT).trim() {
        "json" => LogFormat::Json,
        "pretty" => LogFormat::Pretty,
        other => {
            return Err(ConfigError { variable: ENV_LOG_FORMAT, value: other.to_owned(), reason: "json or pretty" });
        }
    };
    Ok((format, read_text(&get, ENV_LOG)))
}

/// The value of a chassis variable, or its listed default.
fn read_text(get: &impl Fn(&str) -> Option<String>, variable: &'static str) -> String {
    get(variable).unwrap_or_else(|| default_of(VARIABLES, variable).to_owned())
}

fn parse<T: std::str::FromStr>(variable: &'static str, value: &str, reason: &'static str) -> Result<T, ConfigError> {
    value.trim().parse().map_err(|_| ConfigError { variable, value: value.to_owned(), reason })
}

/// Reads a chassis variable, taking its listed default when unset.
fn read<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    reason: &'static str,
) -> Result<T, ConfigError> {
    parse(variable, &read_text(get, variable), reason)
}

/// Like [`read`], refusing zero.
fn read_positive<T: std::str::FromStr + Default + PartialEq>(
    get: &impl Fn(&str) -> Option<String>,
    variable: &'static str,
    reason: &'static str,
) -> Result<T, ConfigError> {
    let value = read(get, variable, reason)?;
    if value == T::default() {
        return Err(ConfigError { variable, value: "0".to_owned(), reason });
    }
    Ok(value)
}

/// Reads a chassis flag, taking its listed default when unset.
fn read_bool(get: &impl Fn(&str) -> Option<String>, variable: &'static str) -> Result<bool, ConfigError> {
    match read_text(get, variable).trim() {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        other => Err(ConfigError { variable, value: other.to_owned(), reason: "true or false" }),
    }
}
