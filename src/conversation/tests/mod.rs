//! Transition table and properties of the conversation.

use std::path::Path;
use std::sync::OnceLock;

use figment::providers::Env;
use proptest::prelude::*;
use regex::RegexSet;

use super::*;
use crate::config::Settings;
use crate::i18n::Texts;

struct Fixture {
    settings: Settings,
    texts: Texts,
    emergency: RegexSet,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::env::set_current_dir(root).unwrap();
        let settings = Settings::load_with(
            &root.join("config/tipline.toml"),
            Env::prefixed("TIPLINE_TEST_NOTHING__"),
        )
        .unwrap();
        let texts = Texts::load(&root.join("locales")).unwrap();
        let emergency = emergency_patterns(&settings).unwrap();
        Fixture {
            settings,
            texts,
            emergency,
        }
    })
}

fn ctx() -> Ctx<'static> {
    let f = fixture();
    Ctx {
        settings: &f.settings,
        texts: &f.texts,
        emergency: &f.emergency,
        now_ms: 1_000_000,
    }
}

fn draft() -> Draft {
    Draft {
        started_ms: 1_000_000,
        ..Draft::default()
    }
}

fn conv(state: State) -> Conversation {
    Conversation {
        state,
        ..Conversation::new(Lang::Vi, 1_000_000)
    }
}

fn text(s: &str) -> Input {
    Input::Text(s.into())
}

fn button(s: &str) -> Input {
    Input::button(s)
}

fn photo(size: u64) -> Input {
    Input::Media(
        Evidence {
            kind: EvidenceKind::Photo,
            file_id: "AgAD".into(),
            size: Some(size),
            mime: None,
            message_id: Some(5),
        },
        None,
    )
}

fn ids(out: &Outcome) -> Vec<&str> {
    out.replies.iter().map(Reply::id).collect()
}

fn with_category() -> Draft {
    Draft {
        category: Some("drugs".into()),
        ..draft()
    }
}

fn with_place() -> Draft {
    Draft {
        place: Some(Place::Text {
            text: "Xóm Bưng".into(),
        }),
        ..with_category()
    }
}

fn with_description() -> Draft {
    Draft {
        description: "Có người bán ma túy".into(),
        ..with_place()
    }
}

#[test]
fn transition_table() {
    // (state before, input, state name after, reply ids)
    let table: Vec<(State, Input, &str, Vec<&str>)> = vec![
        (
            State::Idle,
            Input::Command(Command::Start(None)),
            "category",
            vec!["welcome", "ask-category"],
        ),
        (
            State::Idle,
            Input::Command(Command::Report),
            "category",
            vec!["ask-category"],
        ),
        (State::Idle, text("xin chào"), "idle", vec!["help"]),
        (
            State::Idle,
            button("cat:drugs"),
            "idle",
            vec!["stale-button"],
        ),
        (
            State::Idle,
            Input::Command(Command::Cancel),
            "idle",
            vec!["nothing-to-cancel"],
        ),
        (
            State::Category(draft()),
            button("cat:drugs"),
            "place",
            vec!["ask-place", "ask-place-commune"],
        ),
        (
            State::Category(draft()),
            button("cat:nope"),
            "category",
            vec!["stale-button", "ask-category"],
        ),
        (
            State::Category(draft()),
            text("ma túy"),
            "category",
            vec!["expect-button", "ask-category"],
        ),
        (
            State::Category(draft()),
            Input::Sticker,
            "category",
            vec!["unsupported-sticker", "ask-category"],
        ),
        (
            State::Place(with_category()),
            Input::Location {
                lat: 20.7,
                lon: 105.3,
            },
            "commune",
            vec!["button-pressed", "ask-commune"],
        ),
        (
            State::Place(with_category()),
            button("com:thung-nai"),
            "description",
            vec!["ask-description"],
        ),
        (
            State::Place(with_category()),
            button("com:atlantis"),
            "place",
            vec!["stale-button", "ask-place", "ask-place-commune"],
        ),
        (
            State::Place(with_category()),
            text("Xóm Bưng, xã Thung Nai"),
            "commune",
            vec!["button-pressed", "ask-commune"],
        ),
        (
            State::Place(with_category()),
            text("a"),
            "place",
            vec!["expect-place", "ask-place", "ask-place-commune"],
        ),
        (
            State::Place(with_category()),
            photo(10),
            "place",
            vec!["expect-place", "ask-place", "ask-place-commune"],
        ),
        (
            State::Description(with_place()),
            text("Có người bán hàng cấm"),
            "description",
            vec!["description-added"],
        ),
        (
            State::Description(with_place()),
            button("go:next"),
            "description",
            vec!["description-empty", "ask-description"],
        ),
        (
            State::Description(with_description()),
            button("go:next"),
            "evidence",
            vec!["ask-evidence"],
        ),
        (
            State::Description(with_place()),
            photo(10),
            "description",
            vec!["evidence-added"],
        ),
        (
            State::Description(with_place()),
            Input::Location { lat: 1.0, lon: 2.0 },
            "description",
            vec!["expect-description", "ask-description"],
        ),
        (
            State::Evidence(with_description()),
            photo(1000),
            "evidence",
            vec!["evidence-added"],
        ),
        (
            State::Evidence(with_description()),
            photo(25_000_000),
            "evidence",
            vec!["evidence-too-large"],
        ),
        (
            State::Evidence(with_description()),
            text("đây"),
            "evidence",
            vec!["expect-evidence", "ask-evidence"],
        ),
        (
            State::Evidence(with_description()),
            button("go:next"),
            "contact",
            vec!["ask-contact"],
        ),
        (
            State::Contact(with_description()),
            text("🕶 Ẩn danh"),
            "review",
            vec!["contact-anonymous", "review"],
        ),
        (
            State::Contact(with_description()),
            text("🕶 Anonymous"),
            "review",
            vec!["contact-anonymous", "review"],
        ),
        (
            State::Contact(with_description()),
            Input::Contact {
                phone: Phone::plain("+84912345678"),
                own: true,
            },
            "review",
            vec!["contact-saved", "review"],
        ),
        (
            State::Contact(with_description()),
            Input::Contact {
                phone: Phone::plain("+84912345678"),
                own: false,
            },
            "contact",
            vec!["contact-not-own", "ask-contact"],
        ),
        (
            State::Contact(with_description()),
            text("không"),
            "contact",
            vec!["expect-contact", "ask-contact"],
        ),
        (
            State::Review(with_description()),
            button("rv:edit"),
            "edit",
            vec!["ask-edit"],
        ),
        (
            State::Review(with_description()),
            button("rv:cancel"),
            "idle",
            vec!["cancelled"],
        ),
        (
            State::Review(with_description()),
            text("gửi"),
            "review",
            vec!["expect-button", "review"],
        ),
        (
            State::Review(with_description()),
            button("cat:drugs"),
            "review",
            vec!["stale-button", "review"],
        ),
        (
            State::Edit(with_description()),
            button("ed:place"),
            "place",
            vec!["ask-place", "ask-place-commune"],
        ),
        (
            State::Edit(with_description()),
            button("ed:back"),
            "review",
            vec!["review"],
        ),
        (
            State::Review(with_description()),
            Input::Command(Command::Cancel),
            "idle",
            vec!["cancelled"],
        ),
        (
            State::Review(with_description()),
            Input::Command(Command::Report),
            "review",
            vec!["report-in-progress", "review"],
        ),
        (
            State::Review(with_description()),
            Input::Command(Command::Unknown),
            "review",
            vec!["unknown-command", "review"],
        ),
        (
            State::Review(with_description()),
            Input::Unsupported,
            "review",
            vec!["unsupported-message", "review"],
        ),
        (
            State::Idle,
            Input::Command(Command::Status(Some("xyz".into()))),
            "idle",
            vec!["status-malformed"],
        ),
        (
            State::Idle,
            Input::Command(Command::Lang(None)),
            "idle",
            vec!["lang-choose"],
        ),
    ];
    for (i, (before, input, after, replies)) in table.into_iter().enumerate() {
        let out = step(conv(before.clone()), input.clone(), &ctx());
        assert_eq!(
            out.conversation.state.name(),
            after,
            "row {i}: {before:?} + {input:?}"
        );
        assert_eq!(ids(&out), replies, "row {i}: {before:?} + {input:?}");
    }
}

fn any_input() -> impl Strategy<Value = Input> {
    prop_oneof![
        "\\PC{0,40}".prop_map(Input::Text),
        prop_oneof![
            Just("cat:drugs".to_string()),
            Just("com:thung-nai".to_string()),
            Just("go:next".to_string()),
            Just("rv:send".to_string()),
            Just("rv:edit".to_string()),
            Just("ed:place".to_string()),
            Just("ed:back".to_string()),
            Just("lang:en".to_string()),
            "[a-z:]{0,12}",
        ]
        .prop_map(|s| Input::button(&s)),
        (any::<f64>(), any::<f64>()).prop_map(|(lat, lon)| Input::Location { lat, lon }),
        (0u64..40_000_000).prop_map(photo),
        Just(Input::Sticker),
        Just(Input::Tick),
        Just(Input::Command(Command::Cancel)),
        Just(Input::Command(Command::Start(None))),
    ]
}

proptest! {
    #[test]
    fn any_input_sequence_keeps_the_draft_within_limits_and_always_answers(
        inputs in proptest::collection::vec(any_input(), 1..40)
    ) {
        let c = ctx();
        let limits = &fixture().settings.limits;
        let mut conv = Conversation::new(Lang::Vi, 0);
        for input in inputs {
            let silent_ok = input == Input::Tick || input == Input::button("rv:send");
            let out = step(conv, input, &c);
            if !silent_ok {
                prop_assert!(!out.replies.is_empty() || !out.effects.is_empty());
            }
            if let Some(d) = out.conversation.draft() {
                prop_assert!(d.description.chars().count() <= limits.description_max_chars);
                prop_assert!(d.evidence.len() <= limits.evidence_max_files);
            }
            // The stored form always loads back.
            let json = serde_json::to_string(&out.conversation).unwrap();
            let back: Conversation = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(&back, &out.conversation);
            conv = out.conversation;
        }
    }
}

#[test]
fn the_review_fits_in_one_telegram_message_however_long_the_description() {
    let f = fixture();
    let d = Draft {
        description: "Đ".repeat(20_000),
        ..with_place()
    };
    let replies = prompt(&State::Review(d), &ctx(), Lang::Vi);
    let text = f.texts.render(Lang::Vi, &replies[0].msg);
    assert!(text.chars().count() < 4096, "{}", text.chars().count());
    assert!(text.contains("Đ…"));
}

#[test]
fn emergency_patterns_table() {
    let set = &fixture().emergency;
    let urgent = [
        "Có người đang cầm dao đòi chém",
        "Hai nhóm đang đánh nhau ngoài chợ",
        "Nó dí súng vào người tôi",
        "Nhà bên cạnh đang cháy",
        "Con tôi bị bắt cóc rồi",
        "Nó doạ giết cả nhà tôi",
        "Nó dọa giết cả nhà tôi",
        "Có kẻ NỔ SÚNG ở đầu làng",
        "Someone has a gun",
        "my neighbour is being beaten",
    ];
    let ordinary = [
        "Có sới bạc, họ đang đánh bạc ở quán",
        "Người Dao ở bản trên bị lừa tiền",
        "Shop bị bom hàng khi bán online",
        "Bán dao kéo không rõ nguồn gốc",
        "Nó kiếm tiền bằng cách đánh đề",
        "Xe máy bị lấy trộm",
    ];
    for text in urgent {
        assert!(is_emergency(set, text), "should be urgent: {text}");
    }
    for text in ordinary {
        assert!(!is_emergency(set, text), "should not be urgent: {text}");
    }
}

#[test]
fn tone_marks_fold_both_ways() {
    assert_eq!(fold_tones("doạ"), "dọa");
    assert_eq!(fold_tones("dọa"), "dọa");
    assert_eq!(fold_tones("Hoà Bình, thuý, khoẻ"), "Hòa Bình, thúy, khỏe");
    assert_eq!(fold_tones("Xã Thung Nai"), "Xã Thung Nai");
}

#[test]
fn an_emergency_sent_first_starts_a_report_marked_as_one() {
    let out = step(
        conv(State::Idle),
        text("Có người đang cầm dao đòi chém"),
        &ctx(),
    );
    assert_eq!(
        ids(&out),
        vec!["emergency", "report-started", "ask-category"]
    );
    let d = out.conversation.draft().expect("a draft");
    assert!(d.emergency);
    assert_eq!(d.description, "Có người đang cầm dao đòi chém");
}

#[test]
fn edit_description_keeps_the_old_text_until_a_new_one_arrives() {
    let out = step(
        conv(State::Edit(with_description())),
        button("ed:description"),
        &ctx(),
    );
    let kept = step(out.conversation.clone(), button("go:next"), &ctx());
    assert_eq!(
        kept.conversation.draft().unwrap().description,
        "Có người bán ma túy"
    );
    assert_eq!(kept.conversation.state.name(), "review");
    let replaced = step(out.conversation, text("Nội dung khác"), &ctx());
    assert_eq!(
        replaced.conversation.draft().unwrap().description,
        "Nội dung khác"
    );
}

mod answering;
mod place;
mod start;
mod steps;
mod voice;
