//! `[report]`: what a citizen's report may carry (issue 14). A voice note carries the citizen's
//! voice and a round video note their face; a unit may refuse both, and the citizen is then told
//! why and what to send instead.

use serde::Deserialize;

/// Which kinds of evidence a unit takes; from the `[report]` settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportSettings {
    /// Whether voice notes are taken (default true).
    pub accept_voice: bool,
    /// Whether round video notes are taken (default true).
    pub accept_video_notes: bool,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            accept_voice: true,
            accept_video_notes: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_are_taken_by_default_and_an_unknown_key_is_refused() {
        let absent: ReportSettings = toml::from_str("").unwrap();
        assert_eq!(absent, ReportSettings::default());
        assert!(absent.accept_voice && absent.accept_video_notes);
        let refusing: ReportSettings = toml::from_str("accept_voice = false").unwrap();
        assert!(!refusing.accept_voice && refusing.accept_video_notes);
        let err = toml::from_str::<ReportSettings>("accept_voices = false").unwrap_err();
        assert!(err.to_string().contains("accept_voices"), "{err}");
        assert!(toml::from_str::<ReportSettings>("accept_voice = \"no\"").is_err());
    }
}
