//! Button data: what a pressed button sends back. Every button the bot draws (the citizen's
//! inline buttons on Telegram, the numbered options of a Zalo menu, the officers' buttons on a
//! card) carries one [`ButtonData`], written by [`ButtonData::encode`] and read back by
//! [`ButtonData::decode`], the one place that knows the wire strings.
//!
//! The wire strings are a contract with the past: buttons already sent sit in chats for months
//! and come back with the data they were drawn with, so a string never changes meaning. Decoding
//! is total: anything that is not data this version writes (a button from a much older message,
//! or data a client made up) is `None`, and the caller answers "this button is no longer valid".
//!
//! Telegram takes at most [`MAX_BYTES`] bytes of callback data. Receipt codes, category, commune
//! and disposition ids are bounded by the code format and the config checks, which keeps every
//! button this bot draws within it (see the tests).
//!
//! ```text
//! lang:<vi|en>        language menu            go:report   start a report (idle help)
//! cat:<category id>   category step            go:next     next / skip / done
//! com:<commune id>    place and commune steps  ct:anon     stay anonymous (contact step)
//! pl:unknown          commune not known        pl:mailbox  near the mailbox the QR code named
//! pl:other            somewhere else than the mailbox
//! rv:send|edit|cancel review                   ed:<part>   edit menu (category, place,
//! qa:done             end an answer to an                  description, evidence, contact,
//!                     officer's question                   back)
//! dk:<verb>:<code>    officer card: ack, claim, closemenu, esc, ask, back
//! dk:close:<code>:<disposition id>
//! ```

use crate::codes::ReceiptCode;

/// Most bytes of callback data Telegram accepts on a button.
pub const MAX_BYTES: usize = 64;

/// What a button means, whichever platform drew it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonData {
    /// `lang:<code>`: answer in this language (kept as sent; the conversation checks it).
    Lang(String),
    /// `go:report`: start a report.
    Report,
    /// `go:next`: go on to the next step (also "skip" and "done").
    Next,
    /// `cat:<id>`: this category.
    Category(String),
    /// `com:<id>`: this commune or ward.
    Commune(String),
    /// `pl:unknown`: the citizen does not know the commune of the place.
    CommuneUnknown,
    /// `pl:mailbox`: it happened near the mailbox whose QR code the citizen scanned.
    NearMailbox,
    /// `pl:other`: it happened somewhere else than that mailbox.
    Elsewhere,
    /// `ct:anon`: stay anonymous.
    Anonymous,
    /// `rv:send`: send the reviewed tip.
    ReviewSend,
    /// `rv:edit`: change a part of the draft.
    ReviewEdit,
    /// `rv:cancel`: drop the draft.
    ReviewCancel,
    /// `ed:<part>`: edit this part of the draft.
    EditPart(Part),
    /// `ed:back`: back to the review without changes.
    EditBack,
    /// `qa:done`: the citizen finished answering an officer's question.
    AnswerDone,
    /// `dk:…`: an officer's button on a tip's card.
    Desk(DeskPress),
}

/// A part of the draft the citizen can go back to from the review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `ed:category`.
    Category,
    /// `ed:place`.
    Place,
    /// `ed:description`.
    Description,
    /// `ed:evidence`.
    Evidence,
    /// `ed:contact`.
    Contact,
}

impl Part {
    /// Every part, in the order the edit menu shows them.
    pub const ALL: [Part; 5] = [
        Part::Category,
        Part::Place,
        Part::Description,
        Part::Evidence,
        Part::Contact,
    ];

    fn wire(self) -> &'static str {
        match self {
            Part::Category => "category",
            Part::Place => "place",
            Part::Description => "description",
            Part::Evidence => "evidence",
            Part::Contact => "contact",
        }
    }
}

/// An officer's button on a card (see [`crate::desk::actions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskPress {
    /// `dk:ack:<code>`: acknowledge.
    Ack(ReceiptCode),
    /// `dk:claim:<code>`: claim (take responsibility).
    Claim(ReceiptCode),
    /// `dk:closemenu:<code>`: show the dispositions.
    CloseMenu(ReceiptCode),
    /// `dk:close:<code>:<disposition id>`: close with this disposition.
    Close(ReceiptCode, String),
    /// `dk:back:<code>`: back from the dispositions to the card's buttons.
    Back(ReceiptCode),
    /// `dk:esc:<code>`: report to the supervisors' group.
    Escalate(ReceiptCode),
    /// `dk:ask:<code>`: how to ask the citizen (reply to the card).
    Ask(ReceiptCode),
}

impl DeskPress {
    /// The tip the button is about.
    pub fn code(&self) -> &ReceiptCode {
        match self {
            Self::Ack(c)
            | Self::Claim(c)
            | Self::CloseMenu(c)
            | Self::Close(c, _)
            | Self::Back(c)
            | Self::Escalate(c)
            | Self::Ask(c) => c,
        }
    }

    /// The card button `data` stands for; `None` for any other data.
    pub fn parse(data: &str) -> Option<Self> {
        match ButtonData::decode(data)? {
            ButtonData::Desk(press) => Some(press),
            _ => None,
        }
    }

    /// The wire verb; `close` carries a disposition after the code.
    fn verb(&self) -> &'static str {
        match self {
            Self::Ack(_) => "ack",
            Self::Claim(_) => "claim",
            Self::CloseMenu(_) => "closemenu",
            Self::Close(..) => "close",
            Self::Back(_) => "back",
            Self::Escalate(_) => "esc",
            Self::Ask(_) => "ask",
        }
    }

    fn decode(rest: &str) -> Option<Self> {
        // A disposition is the rest of the data, so it round-trips whatever it holds.
        let mut parts = rest.splitn(3, ':');
        let verb = parts.next()?;
        let code = ReceiptCode::parse(parts.next()?).ok()?;
        Some(match (verb, parts.next()) {
            ("ack", None) => Self::Ack(code),
            ("claim", None) => Self::Claim(code),
            ("closemenu", None) => Self::CloseMenu(code),
            ("esc", None) => Self::Escalate(code),
            ("ask", None) => Self::Ask(code),
            ("close", Some(d)) => Self::Close(code, d.to_owned()),
            ("back", None) => Self::Back(code),
            _ => return None,
        })
    }
}

impl ButtonData {
    /// The wire string, as a button carries it.
    pub fn encode(&self) -> String {
        match self {
            Self::Lang(code) => format!("lang:{code}"),
            Self::Report => "go:report".into(),
            Self::Next => "go:next".into(),
            Self::Category(id) => format!("cat:{id}"),
            Self::Commune(id) => format!("com:{id}"),
            Self::CommuneUnknown => "pl:unknown".into(),
            Self::NearMailbox => "pl:mailbox".into(),
            Self::Elsewhere => "pl:other".into(),
            Self::Anonymous => "ct:anon".into(),
            Self::ReviewSend => "rv:send".into(),
            Self::ReviewEdit => "rv:edit".into(),
            Self::ReviewCancel => "rv:cancel".into(),
            Self::EditPart(part) => format!("ed:{}", part.wire()),
            Self::EditBack => "ed:back".into(),
            Self::AnswerDone => "qa:done".into(),
            Self::Desk(DeskPress::Close(code, disposition)) => {
                format!("dk:close:{code}:{disposition}")
            }
            Self::Desk(press) => format!("dk:{}:{}", press.verb(), press.code()),
        }
    }

    /// What a button's wire string means; `None` for anything this version does not write.
    /// Never panics, whatever the string.
    pub fn decode(data: &str) -> Option<Self> {
        let (prefix, rest) = data.split_once(':')?;
        Some(match (prefix, rest) {
            ("lang", code) => Self::Lang(code.to_owned()),
            ("go", "report") => Self::Report,
            ("go", "next") => Self::Next,
            ("cat", id) => Self::Category(id.to_owned()),
            ("com", id) => Self::Commune(id.to_owned()),
            ("pl", "unknown") => Self::CommuneUnknown,
            ("pl", "mailbox") => Self::NearMailbox,
            ("pl", "other") => Self::Elsewhere,
            ("ct", "anon") => Self::Anonymous,
            ("rv", "send") => Self::ReviewSend,
            ("rv", "edit") => Self::ReviewEdit,
            ("rv", "cancel") => Self::ReviewCancel,
            ("ed", "back") => Self::EditBack,
            ("ed", part) => Self::EditPart(Part::ALL.into_iter().find(|p| p.wire() == part)?),
            ("qa", "done") => Self::AnswerDone,
            ("dk", rest) => Self::Desk(DeskPress::decode(rest)?),
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Receipt codes as the bot writes them.
    fn any_code() -> impl Strategy<Value = ReceiptCode> {
        any::<u64>().prop_map(|seed| {
            use rand::SeedableRng;
            ReceiptCode::generate(&mut rand::rngs::StdRng::seed_from_u64(seed))
        })
    }

    /// Ids as the config checks allow them (categories and communes: 32 characters).
    fn any_id() -> impl Strategy<Value = String> {
        "[A-Za-z0-9_-]{1,32}"
    }

    /// Disposition ids as the config checks allow them.
    fn any_disposition() -> impl Strategy<Value = String> {
        "[a-z0-9_-]{1,16}"
    }

    fn any_desk() -> impl Strategy<Value = DeskPress> {
        prop_oneof![
            any_code().prop_map(DeskPress::Ack),
            any_code().prop_map(DeskPress::Claim),
            any_code().prop_map(DeskPress::CloseMenu),
            (any_code(), any_disposition()).prop_map(|(c, d)| DeskPress::Close(c, d)),
            any_code().prop_map(DeskPress::Back),
            any_code().prop_map(DeskPress::Escalate),
            any_code().prop_map(DeskPress::Ask),
        ]
    }

    fn any_button() -> impl Strategy<Value = ButtonData> {
        prop_oneof![
            prop_oneof![Just("vi".to_owned()), Just("en".to_owned()), "[a-z]{0,5}"]
                .prop_map(ButtonData::Lang),
            Just(ButtonData::Report),
            Just(ButtonData::Next),
            any_id().prop_map(ButtonData::Category),
            any_id().prop_map(ButtonData::Commune),
            Just(ButtonData::CommuneUnknown),
            Just(ButtonData::NearMailbox),
            Just(ButtonData::Elsewhere),
            Just(ButtonData::Anonymous),
            Just(ButtonData::ReviewSend),
            Just(ButtonData::ReviewEdit),
            Just(ButtonData::ReviewCancel),
            prop::sample::select(Part::ALL.to_vec()).prop_map(ButtonData::EditPart),
            Just(ButtonData::EditBack),
            Just(ButtonData::AnswerDone),
            any_desk().prop_map(ButtonData::Desk),
        ]
    }

    proptest! {
        #[test]
        fn every_button_decodes_back_to_itself_within_telegrams_limit(b in any_button()) {
            let wire = b.encode();
            prop_assert_eq!(ButtonData::decode(&wire), Some(b));
            prop_assert!(wire.len() <= MAX_BYTES, "{} is {} bytes", wire, wire.len());
        }

        #[test]
        fn decoding_never_panics(s in "\\PC{0,80}") {
            let _ = ButtonData::decode(&s);
        }

        #[test]
        fn decoding_never_panics_on_near_misses(
            prefix in prop::sample::select(vec!["lang:", "go:", "cat:", "ed:", "dk:", "dk:close:", "dk:ack:TB-7K3Q-X9MD"]),
            rest in "[:a-zA-Z0-9-]{0,30}",
        ) {
            let _ = ButtonData::decode(&format!("{prefix}{rest}"));
        }
    }

    #[test]
    fn the_wire_strings_are_the_ones_already_in_chats() {
        let code = ReceiptCode::parse("TB-7K3Q-X9MD").unwrap();
        let table = [
            (ButtonData::Lang("vi".into()), "lang:vi"),
            (ButtonData::Report, "go:report"),
            (ButtonData::Next, "go:next"),
            (ButtonData::Category("drugs".into()), "cat:drugs"),
            (ButtonData::Commune("thung-nai".into()), "com:thung-nai"),
            (ButtonData::Anonymous, "ct:anon"),
            (ButtonData::ReviewSend, "rv:send"),
            (ButtonData::ReviewEdit, "rv:edit"),
            (ButtonData::ReviewCancel, "rv:cancel"),
            (ButtonData::EditPart(Part::Category), "ed:category"),
            (ButtonData::EditPart(Part::Place), "ed:place"),
            (ButtonData::EditPart(Part::Description), "ed:description"),
            (ButtonData::EditPart(Part::Evidence), "ed:evidence"),
            (ButtonData::EditPart(Part::Contact), "ed:contact"),
            (ButtonData::EditBack, "ed:back"),
            (ButtonData::AnswerDone, "qa:done"),
            (
                ButtonData::Desk(DeskPress::Ack(code.clone())),
                "dk:ack:TB-7K3Q-X9MD",
            ),
            (
                ButtonData::Desk(DeskPress::Claim(code.clone())),
                "dk:claim:TB-7K3Q-X9MD",
            ),
            (
                ButtonData::Desk(DeskPress::CloseMenu(code.clone())),
                "dk:closemenu:TB-7K3Q-X9MD",
            ),
            (
                ButtonData::Desk(DeskPress::Close(code.clone(), "spam".into())),
                "dk:close:TB-7K3Q-X9MD:spam",
            ),
            (
                ButtonData::Desk(DeskPress::Back(code.clone())),
                "dk:back:TB-7K3Q-X9MD",
            ),
            (
                ButtonData::Desk(DeskPress::Escalate(code.clone())),
                "dk:esc:TB-7K3Q-X9MD",
            ),
            (
                ButtonData::Desk(DeskPress::Ask(code.clone())),
                "dk:ask:TB-7K3Q-X9MD",
            ),
        ];
        for (button, wire) in table {
            assert_eq!(button.encode(), wire);
            assert_eq!(ButtonData::decode(wire), Some(button));
        }
    }

    #[test]
    fn stale_and_made_up_data_decodes_to_nothing() {
        for data in [
            "",
            "go",
            "go:",
            "go:somewhere",
            "ed:",
            "ed:name",
            "rv:",
            "qa:done:x",
            "dk:",
            "dk:ack",
            "dk:ack:TB-123",
            "dk:ack:TB-7K3Q-X9MD:x",
            "dk:close:TB-7K3Q-X9MD",
            "dk:fly:TB-7K3Q-X9MD",
            "xyz",
        ] {
            assert_eq!(ButtonData::decode(data), None, "{data}");
        }
    }

    #[test]
    fn a_card_button_forgives_how_the_code_is_written() {
        let code = ReceiptCode::parse("TB-7K3Q-X9MD").unwrap();
        assert_eq!(
            DeskPress::parse("dk:ack:tb7k3qx9md"),
            Some(DeskPress::Ack(code))
        );
        assert_eq!(DeskPress::parse("cat:drugs"), None);
    }
}
