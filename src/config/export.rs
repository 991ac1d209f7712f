//! `[export]`: what an export of the tip log may reveal (docs/export.md).

use serde::Deserialize;

/// How much of a tip's description an export carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DescriptionMode {
    /// As the citizen wrote it.
    Full,
    /// With phone numbers, citizen ids and licence plates blanked out (`rules::pii::redact`).
    #[default]
    Redacted,
    /// Not at all: the column stays, every value in it is empty.
    Omit,
}

/// What an export may reveal; from the `[export]` settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportOptions {
    /// How much of the description is exported.
    #[serde(default)]
    pub description: DescriptionMode,
    /// Whether the citizen's alias is exported (as the last column); without it the column is
    /// absent.
    #[serde(default)]
    pub include_alias: bool,
}
