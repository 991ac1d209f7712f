//! The citizen conversation as a pure state machine (DESIGN.md §2.2):
//! `step(conversation, input, ctx) -> Outcome { conversation, replies, effects }`.
//! It knows no transport, no Redis and no clock but `ctx.now_ms`. Channel adapters turn platform
//! updates into [`Input`] and render [`Reply`] for their platform; the intake worker persists the
//! new conversation and carries out the [`Effect`]s (submitting a tip, looking up a status,
//! relaying an answer to an officer's question).
//!
//! - `step`: the report, from `/start` to the receipt, and the commands.
//! - `start`: a report started by whatever the citizen sends first.
//! - `evidence`: files in a draft: limits, captions, voice notes first.
//! - `place`: the commune of a typed address or a pin, and "near the mailbox, or elsewhere?".
//! - `answer`: answering an officer's question ([`State::Answering`]).
//! - `prompts`: the question each state asks, with its buttons.
//!
//! Button data is typed ([`crate::buttons::ButtonData`]); the adapters decode it at the edge.
//!
//! Bad input is never an error: it is a reply that explains what to do, with the state kept.

mod answer;
mod evidence;
mod place;
mod prompts;
mod start;
mod step;
#[cfg(test)]
mod tests;

use regex::RegexSet;
use serde::{Deserialize, Serialize};

use crate::buttons::ButtonData;
use crate::codes::ReceiptCode;
use crate::config::Settings;
use crate::i18n::{Lang, Msg, Texts};

pub use crate::report::{Evidence, EvidenceKind, Place};
pub use crate::rules::fold_tones;
pub use prompts::{place_summary, prompt};
pub use step::step;

/// Version of the stored [`Conversation`] shape; bumped when a change is not backward compatible.
pub const CONVERSATION_VERSION: u32 = 1;

/// One citizen's conversation, as stored between messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    /// Shape version, see [`CONVERSATION_VERSION`].
    pub version: u32,
    /// Language the citizen is answered in.
    pub lang: Lang,
    /// Where the conversation stands.
    pub state: State,
    /// Time of the citizen's last message (ms since the epoch); drives reminders and expiry.
    pub last_activity_ms: i64,
    /// Whether the idle reminder for the current draft was sent.
    #[serde(default)]
    pub reminded: bool,
}

impl Conversation {
    /// A new conversation in `lang`, idle.
    pub fn new(lang: Lang, now_ms: i64) -> Self {
        Self {
            version: CONVERSATION_VERSION,
            lang,
            state: State::Idle,
            last_activity_ms: now_ms,
            reminded: false,
        }
    }

    /// The draft being written, if any.
    pub fn draft(&self) -> Option<&Draft> {
        self.state.draft()
    }

    /// A stored conversation (its JSON), or `None` when it was written by an incompatible
    /// version or cannot be read: the citizen then starts afresh rather than getting stuck.
    pub fn from_stored(raw: &str) -> Option<Self> {
        match serde_json::from_str::<Self>(raw) {
            Ok(c) if c.version <= CONVERSATION_VERSION => Some(c),
            Ok(c) => {
                tracing::warn!(
                    version = c.version,
                    "conversation from a newer version; starting afresh"
                );
                None
            }
            Err(e) => {
                // Only the position: serde's message can quote the citizen's text.
                tracing::warn!(
                    line = e.line(),
                    column = e.column(),
                    "unreadable conversation; starting afresh"
                );
                None
            }
        }
    }

    /// The conversation as it resumes for a citizen's input: idle with an officer's `question`
    /// open (the tip code the `answering` key names) is [`State::Answering`] it. A draft in
    /// progress keeps the question waiting; the draft timer never answers, so its caller
    /// passes `None`.
    pub fn resume(mut self, question: Option<String>) -> Self {
        if let (State::Idle, Some(code)) = (&self.state, question) {
            self.state = State::Answering { code };
        }
        self
    }

    /// Makes the conversation ready to store: answer mode is not kept here but in the
    /// `answering` key (see [`State::Answering`]), so it is stored as idle, the layout the
    /// stored conversations already have.
    pub fn settle(&mut self) {
        if let State::Answering { .. } = self.state {
            self.state = State::Idle;
        }
    }
}

/// Where the conversation stands; each variant carries what has been collected so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "step", content = "draft", rename_all = "snake_case")]
pub enum State {
    /// No report in progress.
    Idle,
    /// Waiting for a category button.
    Category(Draft),
    /// Came through a mailbox's QR code: near that mailbox, or somewhere else?
    NearMailbox(Draft),
    /// Waiting for a location pin, a commune button or a typed address.
    Place(Draft),
    /// A typed address or a pin: waiting for its commune or ward (a button, its name typed,
    /// or "not known"), so that routing and hotspots know it.
    Commune(Draft),
    /// Collecting description messages until "Next".
    Description(Draft),
    /// Collecting photos, videos, voice notes and documents until "Done".
    Evidence(Draft),
    /// Waiting for "anonymous" or a shared phone number.
    Contact(Draft),
    /// Showing the summary: Send, Edit or Cancel.
    Review(Draft),
    /// Choosing which part to edit.
    Edit(Draft),
    /// Idle, with an officer's question about tip `code` open: what the citizen writes is
    /// their answer, until they press «Xong». Never stored: the notifier opens the question in
    /// the `answering` key and the intake enters this state on loading an idle conversation
    /// ([`Conversation::resume`]), so a later question about another tip takes over.
    Answering {
        /// The receipt code of the tip asked about.
        code: String,
    },
}

impl State {
    /// The draft, unless idle.
    pub fn draft(&self) -> Option<&Draft> {
        match self {
            State::Idle | State::Answering { .. } => None,
            State::Category(d)
            | State::NearMailbox(d)
            | State::Place(d)
            | State::Commune(d)
            | State::Description(d)
            | State::Evidence(d)
            | State::Contact(d)
            | State::Review(d)
            | State::Edit(d) => Some(d),
        }
    }

    /// The draft, unless idle, to change.
    pub fn draft_mut(&mut self) -> Option<&mut Draft> {
        match self {
            State::Idle | State::Answering { .. } => None,
            State::Category(d)
            | State::NearMailbox(d)
            | State::Place(d)
            | State::Commune(d)
            | State::Description(d)
            | State::Evidence(d)
            | State::Contact(d)
            | State::Review(d)
            | State::Edit(d) => Some(d),
        }
    }

    /// A short name for logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            State::Idle => "idle",
            State::Category(_) => "category",
            State::NearMailbox(_) => "near_mailbox",
            State::Place(_) => "place",
            State::Commune(_) => "commune",
            State::Description(_) => "description",
            State::Evidence(_) => "evidence",
            State::Contact(_) => "contact",
            State::Review(_) => "review",
            State::Edit(_) => "edit",
            State::Answering { .. } => "answering",
        }
    }
}

/// What a citizen has told us so far.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    /// Category id from the config.
    pub category: Option<String>,
    /// Where it happened.
    pub place: Option<Place>,
    /// Mailbox code when the citizen came through a Hòm thư QR code.
    pub mailbox: Option<String>,
    /// The commune or ward of a typed address or a pin, as the citizen picked or typed it
    /// (its current id); `None` when not asked yet or not known.
    #[serde(default)]
    pub commune: Option<String>,
    /// What happened, the citizen's messages joined by newlines.
    pub description: String,
    /// Attached files.
    pub evidence: Vec<Evidence>,
    /// Phone number the citizen chose to share; `None` is anonymous. The intake seals it
    /// before it reaches the conversation, so it is never stored in clear.
    pub phone: Option<Phone>,
    /// The text matched an emergency pattern (the 113 advice was given).
    pub emergency: bool,
    /// The citizen came here from "Edit": finishing this step returns to the review.
    pub editing: bool,
    /// Chosen "Edit description": the next text replaces the old one instead of adding to it.
    #[serde(default)]
    pub replace_description: bool,
    /// Chosen "Edit files": the next file replaces the old ones instead of adding to them.
    #[serde(default)]
    pub replace_evidence: bool,
    /// When the draft was started (ms since the epoch).
    pub started_ms: i64,
}

impl Draft {
    /// How many voice notes and audio files the citizen sent: with no text, they are the
    /// description (a citizen who does not type comfortably tells it instead).
    pub fn voice_count(&self) -> usize {
        self.evidence.iter().filter(|e| e.kind.is_voice()).count()
    }

    /// Whether something describes what happened: text, or a voice note.
    pub fn is_described(&self) -> bool {
        !self.description.trim().is_empty() || self.voice_count() > 0
    }
}

/// A phone number a citizen shared.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case")]
pub enum Phone {
    /// As the platform gave it; only between the adapter and the intake, which seals it.
    Plain {
        /// The number.
        number: String,
    },
    /// Sealed with the route key, with a masked form to show the citizen.
    Sealed {
        /// Ciphertext (see [`crate::privacy::Vault::seal`]).
        sealed: String,
        /// E.g. `•••••••678`.
        masked: String,
    },
}

impl Phone {
    /// A plain number.
    pub fn plain(number: &str) -> Self {
        Self::Plain {
            number: number.to_owned(),
        }
    }

    /// The number with all but its last three digits hidden.
    pub fn masked(&self) -> String {
        match self {
            Self::Sealed { masked, .. } => masked.clone(),
            Self::Plain { number } => mask(number),
        }
    }
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// `•••••••678` for `+84912345678`.
pub fn mask(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let keep = digits.len().min(3);
    let hidden = digits.len() - keep;
    "•".repeat(hidden) + &digits[hidden..].iter().collect::<String>()
}

/// A command a citizen can type (DESIGN.md §5, a contract).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/start [payload]`; the payload `mb_<code>` comes from a mailbox QR code.
    Start(Option<String>),
    /// `/report`.
    Report,
    /// `/status [code]`.
    Status(Option<String>),
    /// `/cancel`.
    Cancel,
    /// `/help`.
    Help,
    /// `/lang [vi|en]`.
    Lang(Option<String>),
    /// Anything else starting with `/`.
    Unknown,
}

impl Command {
    /// Parses `/name[@bot] [argument]`; `None` when the text is not a command.
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.trim().strip_prefix('/')?;
        let (head, arg) = match rest.split_once(char::is_whitespace) {
            Some((h, a)) => (h, Some(a.trim().to_owned()).filter(|a| !a.is_empty())),
            None => (rest, None),
        };
        let name = head.split('@').next().unwrap_or(head).to_ascii_lowercase();
        Some(match name.as_str() {
            "start" => Self::Start(arg),
            "report" | "baotin" => Self::Report,
            "status" | "trangthai" => Self::Status(arg),
            "cancel" | "huy" => Self::Cancel,
            "help" | "trogiup" => Self::Help,
            "lang" | "ngonngu" => Self::Lang(arg),
            _ => Self::Unknown,
        })
    }
}

/// One thing a citizen did, in channel-neutral form.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A command.
    Command(Command),
    /// Free text (NFC-normalised by the adapter).
    Text(String),
    /// A button press with what its data means; `None` when this version does not write that
    /// data (a button from an old message, or data a client made up).
    Button(Option<ButtonData>),
    /// A location pin.
    Location {
        /// Latitude.
        lat: f64,
        /// Longitude.
        lon: f64,
    },
    /// A shared contact; `own` when it is the sender's own number.
    Contact {
        /// The phone number.
        phone: Phone,
        /// Whether it is the sender's own contact card.
        own: bool,
    },
    /// A file, with its caption if any.
    Media(Evidence, Option<String>),
    /// A sticker.
    Sticker,
    /// Anything else the platform can carry that we do not take (polls, games…).
    Unsupported,
    /// The idle timer fired (reminder or expiry check), not the citizen.
    Tick,
}

impl Input {
    /// The press of a button carrying `data` on the wire.
    pub fn button(data: &str) -> Self {
        Self::Button(ButtonData::decode(data))
    }
}

/// A button on a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    /// Label, localised or literal.
    pub label: Label,
    /// Data sent back when pressed, as [`ButtonData::encode`] writes it (at most
    /// [`crate::buttons::MAX_BYTES`] on Telegram).
    pub data: String,
}

impl Button {
    /// A button labelled with the locale message `id`.
    pub fn msg(id: &str, data: &ButtonData) -> Self {
        Self {
            label: Label::Msg(Msg::new(id)),
            data: data.encode(),
        }
    }

    /// A button labelled with literal text (names from the config).
    pub fn plain(label: &str, data: &ButtonData) -> Self {
        Self {
            label: Label::Plain(label.to_owned()),
            data: data.encode(),
        }
    }
}

/// A button label: a message id or a literal text (category and commune names from config).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Label {
    /// A message from the locale files.
    Msg(Msg),
    /// Text as it is.
    Plain(String),
}

/// What comes with a reply besides its text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Keyboard {
    /// Nothing.
    #[default]
    None,
    /// Buttons under the message, in rows.
    Inline(Vec<Vec<Button>>),
    /// A keyboard button that shares the citizen's location.
    RequestLocation,
    /// Keyboard buttons: share my phone number, or stay anonymous.
    RequestContact,
    /// Take the reply keyboard away.
    Remove,
}

/// A message to the citizen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// The text.
    pub msg: Msg,
    /// Buttons.
    pub keyboard: Keyboard,
}

impl Reply {
    /// A reply without buttons.
    pub fn text(msg: Msg) -> Self {
        Self {
            msg,
            keyboard: Keyboard::None,
        }
    }

    /// A reply with a keyboard.
    pub fn with(msg: Msg, keyboard: Keyboard) -> Self {
        Self { msg, keyboard }
    }

    /// The message id, for tests and logs.
    pub fn id(&self) -> &str {
        &self.msg.id
    }
}

/// Work the intake does for the conversation, outside the pure step.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Persist this draft as a tip and send the receipt.
    Submit(Box<Draft>),
    /// Tell the status of one tip.
    Status(ReceiptCode),
    /// List the citizen's own recent tips with their status.
    StatusList,
    /// Record `text` as the citizen's answer to the officer's question about tip `code`.
    Answer {
        /// The tip asked about.
        code: String,
        /// The citizen's answer.
        text: String,
    },
    /// Close the officer's question: what the citizen writes next is no answer.
    EndAnswer,
}

/// The result of one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The conversation after the input.
    pub conversation: Conversation,
    /// Messages to send, in order.
    pub replies: Vec<Reply>,
    /// Work for the intake.
    pub effects: Vec<Effect>,
}

/// What a step may read besides the conversation and the input.
pub struct Ctx<'a> {
    /// The configuration (categories, communes, mailboxes, limits).
    pub settings: &'a Settings,
    /// Locale texts, for labels and nested messages.
    pub texts: &'a Texts,
    /// Emergency patterns, compiled.
    pub emergency: &'a RegexSet,
    /// Now, in ms since the epoch.
    pub now_ms: i64,
}

/// Compiles the configured emergency patterns, case-insensitively, with tone marks folded
/// (see [`fold_tones`]) so that a pattern written `dọa` also catches `doạ`.
pub fn emergency_patterns(settings: &Settings) -> Result<RegexSet, regex::Error> {
    regex::RegexSetBuilder::new(settings.emergency.patterns.iter().map(|p| fold_tones(p)))
        .case_insensitive(true)
        .build()
}

/// Whether `text` matches an emergency pattern compiled by [`emergency_patterns`].
pub fn is_emergency(patterns: &RegexSet, text: &str) -> bool {
    patterns.is_match(&fold_tones(text))
}
