//! What a report is made of, as the citizen gave it: the place and the evidence files. The
//! conversation collects them into a draft, the store keeps them on the tip, the desk and the
//! forwarder show them; none of them owns them, so they live here, below all of them.

use serde::{Deserialize, Serialize};

/// Where it happened, as the citizen gave it; never guessed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Place {
    /// A shared location pin.
    Pin {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// A commune or ward from the configured list.
    Commune {
        /// Commune id.
        id: String,
    },
    /// The place of a Hòm thư mailbox.
    Mailbox {
        /// Mailbox code.
        code: String,
    },
    /// A typed address or description of the place.
    Text {
        /// What the citizen typed.
        text: String,
    },
}

/// Kinds of files a citizen can attach.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    /// A photo.
    Photo,
    /// A video.
    Video,
    /// A voice note.
    Voice,
    /// An audio file.
    Audio,
    /// A round video note.
    VideoNote,
    /// Any other file.
    Document,
}

impl EvidenceKind {
    /// A voice note or an audio file: what a citizen says rather than types.
    pub fn is_voice(self) -> bool {
        matches!(self, Self::Voice | Self::Audio)
    }
}

/// A file reference; the file itself stays on the platform until it is forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// What kind of file.
    pub kind: EvidenceKind,
    /// The platform's file id (Telegram `file_id`) or URL (Zalo).
    pub file_id: String,
    /// Size in bytes when the platform says.
    #[serde(default)]
    pub size: Option<u64>,
    /// MIME type when the platform says.
    #[serde(default)]
    pub mime: Option<String>,
    /// Id of the citizen's message that carried it (for `copyMessage`).
    #[serde(default)]
    pub message_id: Option<i64>,
}
