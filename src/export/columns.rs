//! The export's columns, in order: their stable ids (CSV header, JSON keys), their Vietnamese
//! headers (XLSX) and the typed value a row holds in each. Every writer walks this one list, so
//! the three formats cannot disagree about order or type.

use chrono::{DateTime, FixedOffset};

use super::ExportOptions;

/// One column of the export. The order of [`Col::ALL`] is the order in every format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Col {
    /// Receipt code.
    Code,
    /// Local time the tip was received.
    ReceivedAt,
    /// Channel it came through.
    Channel,
    /// Mailbox code.
    Mailbox,
    /// Where the mailbox hangs.
    MailboxName,
    /// Commune id.
    Commune,
    /// Commune name.
    CommuneName,
    /// The province (`app.province`).
    Province,
    /// Category id.
    Category,
    /// Category label in Vietnamese.
    CategoryLabel,
    /// Priority after triage.
    Priority,
    /// Matched an emergency pattern.
    Emergency,
    /// Where the tip stands.
    Status,
    /// Disposition id.
    Disposition,
    /// Disposition label in Vietnamese.
    DispositionLabel,
    /// Minutes to the first officer action.
    MinutesToAck,
    /// Minutes to closing.
    MinutesToClose,
    /// Whether the first officer action came after the SLA.
    SlaBreached,
    /// The acting unit.
    Unit,
    /// Number of attached files.
    EvidenceCount,
    /// Code of the tip this one repeats.
    DuplicateOf,
    /// What happened, as the options allow.
    Description,
    /// The citizen's alias; only with `include_alias`.
    Alias,
}

impl Col {
    /// Every column, in export order; `Alias` is last so that leaving it out moves no other.
    pub const ALL: [Col; 23] = [
        Col::Code,
        Col::ReceivedAt,
        Col::Channel,
        Col::Mailbox,
        Col::MailboxName,
        Col::Commune,
        Col::CommuneName,
        Col::Province,
        Col::Category,
        Col::CategoryLabel,
        Col::Priority,
        Col::Emergency,
        Col::Status,
        Col::Disposition,
        Col::DispositionLabel,
        Col::MinutesToAck,
        Col::MinutesToClose,
        Col::SlaBreached,
        Col::Unit,
        Col::EvidenceCount,
        Col::DuplicateOf,
        Col::Description,
        Col::Alias,
    ];

    /// The columns an export with `options` has.
    pub fn for_options(options: &ExportOptions) -> &'static [Col] {
        if options.include_alias {
            &Self::ALL
        } else {
            &Self::ALL[..Self::ALL.len() - 1]
        }
    }

    /// Stable snake_case id: the CSV header and the JSON key.
    pub fn id(self) -> &'static str {
        self.meta().0
    }

    /// Vietnamese header of the XLSX sheet.
    pub fn header(self) -> &'static str {
        self.meta().1
    }

    /// Width of the XLSX column, in Excel character units.
    pub(crate) fn width(self) -> f64 {
        self.meta().2
    }

    fn meta(self) -> (&'static str, &'static str, f64) {
        match self {
            Col::Code => ("code", "Mã tin báo", 16.0),
            Col::ReceivedAt => ("received_at", "Thời gian nhận", 20.0),
            Col::Channel => ("channel", "Kênh", 10.0),
            Col::Mailbox => ("mailbox", "Mã hòm thư", 12.0),
            Col::MailboxName => ("mailbox_name", "Hòm thư", 28.0),
            Col::Commune => ("commune", "Mã xã/phường", 16.0),
            Col::CommuneName => ("commune_name", "Xã/phường", 22.0),
            Col::Province => ("province", "Tỉnh/thành phố", 16.0),
            Col::Category => ("category", "Mã loại tin", 12.0),
            Col::CategoryLabel => ("category_label", "Loại tin", 26.0),
            Col::Priority => ("priority", "Mức độ", 10.0),
            Col::Emergency => ("emergency", "Khẩn cấp", 10.0),
            Col::Status => ("status", "Trạng thái", 14.0),
            Col::Disposition => ("disposition", "Mã kết quả", 12.0),
            Col::DispositionLabel => ("disposition_label", "Kết quả xử lý", 22.0),
            Col::MinutesToAck => ("minutes_to_ack", "Số phút đến khi tiếp nhận", 12.0),
            Col::MinutesToClose => ("minutes_to_close", "Số phút đến khi xử lý xong", 12.0),
            Col::SlaBreached => ("sla_breached", "Quá hạn tiếp nhận", 11.0),
            Col::Unit => ("unit", "Đơn vị", 18.0),
            Col::EvidenceCount => ("evidence_count", "Số tệp đính kèm", 10.0),
            Col::DuplicateOf => ("duplicate_of", "Trùng với tin", 16.0),
            Col::Description => ("description", "Nội dung", 80.0),
            Col::Alias => ("alias", "Bí danh người báo", 24.0),
        }
    }
}

/// A typed value of one cell; each writer renders it in its own way.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell<'a> {
    /// Text.
    Text(&'a str),
    /// A local time with its offset.
    Time(&'a DateTime<FixedOffset>),
    /// Minutes with one decimal.
    Minutes(f64),
    /// A count.
    Count(u64),
    /// Yes or no.
    Bool(bool),
    /// No value.
    Empty,
}

impl<'a> Cell<'a> {
    /// Text when there is some, else empty.
    pub(crate) fn text(value: Option<&'a str>) -> Self {
        value.map_or(Cell::Empty, Cell::Text)
    }

    /// Minutes when known, else empty.
    pub(crate) fn minutes(value: Option<f64>) -> Self {
        value.map_or(Cell::Empty, Cell::Minutes)
    }
}
