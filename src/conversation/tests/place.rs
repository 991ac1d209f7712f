//! The commune of a typed address or a pin, and "near the mailbox, or elsewhere?" (issue 15).

use super::*;

fn typed_place() -> Draft {
    Draft {
        place: Some(Place::Text {
            text: "Xóm Bưng, xã Nam Phong".into(),
        }),
        ..with_category()
    }
}

fn buttons(reply: &Reply) -> Vec<&str> {
    match &reply.keyboard {
        Keyboard::Inline(rows) => rows.iter().flatten().map(|b| b.data.as_str()).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn the_commune_of_a_typed_place_is_asked_with_the_one_it_names_first() {
    let c = ctx();
    let out = step(
        conv(State::Place(with_category())),
        text("Xóm Bưng, xã Nam Phong"),
        &c,
    );
    assert_eq!(out.conversation.state.name(), "commune");
    let ask = out.replies.last().unwrap();
    assert_eq!(ask.id(), "ask-commune");
    // "Nam Phong" was merged into Xã Mường Thàng: offered alone, with "not known".
    assert_eq!(buttons(ask), ["com:muong-thang", "pl:unknown"]);

    // Nothing named: every commune of the (short) list, then "not known".
    let out = step(
        conv(State::Place(with_category())),
        text("Gần cầu treo"),
        &c,
    );
    assert_eq!(
        buttons(out.replies.last().unwrap()),
        [
            "com:cao-phong",
            "com:muong-thang",
            "com:thung-nai",
            "pl:unknown"
        ]
    );
}

#[test]
fn commune_step_table() {
    let c = ctx();
    // (input, state after, replies, commune kept)
    let table: [(Input, &str, Vec<&str>, Option<&str>); 9] = [
        (
            button("com:muong-thang"),
            "description",
            vec!["ask-description"],
            Some("muong-thang"),
        ),
        // A button sent before the merger names a former commune: read as the new one.
        (
            button("com:bac-phong"),
            "description",
            vec!["ask-description"],
            Some("thung-nai"),
        ),
        (
            button("pl:unknown"),
            "description",
            vec!["ask-description"],
            None,
        ),
        (
            text("bac phong"),
            "description",
            vec!["commune-found", "ask-description"],
            Some("thung-nai"),
        ),
        (
            text("Thị trấn Cao Phong"),
            "description",
            vec!["commune-found", "ask-description"],
            Some("cao-phong"),
        ),
        (text("phong"), "commune", vec!["commune-several"], None),
        (
            text("Hà Nội"),
            "commune",
            vec!["commune-not-found", "ask-commune"],
            None,
        ),
        (
            button("com:atlantis"),
            "commune",
            vec!["stale-button", "ask-commune"],
            None,
        ),
        (
            photo(10),
            "commune",
            vec!["expect-commune", "ask-commune"],
            None,
        ),
    ];
    for (i, (input, after, replies, commune)) in table.into_iter().enumerate() {
        let out = step(conv(State::Commune(typed_place())), input.clone(), &c);
        assert_eq!(out.conversation.state.name(), after, "row {i}: {input:?}");
        assert_eq!(ids(&out), replies, "row {i}: {input:?}");
        let d = out.conversation.draft().unwrap();
        assert_eq!(d.commune.as_deref(), commune, "row {i}");
        assert!(d.place.is_some(), "row {i}: the typed place is kept");
    }
    let several = step(conv(State::Commune(typed_place())), text("phong"), &c);
    assert_eq!(
        buttons(&several.replies[0]),
        [
            "com:cao-phong",
            "com:muong-thang",
            "com:thung-nai",
            "pl:unknown"
        ]
    );
}

#[test]
fn the_commune_shows_in_the_review_and_goes_with_the_tip() {
    let c = ctx();
    let mut d = typed_place();
    d.commune = Some("muong-thang".into());
    d.description = "Có người bán ma túy".into();
    let out = step(conv(State::Contact(d)), button("ct:anon"), &c);
    let review = c.texts.render(Lang::Vi, &out.replies.last().unwrap().msg);
    assert!(
        review.contains("• Địa điểm: Xóm Bưng, xã Nam Phong · Xã Mường Thàng"),
        "{review}"
    );
    let out = step(out.conversation, button("rv:send"), &c);
    let Some(Effect::Submit(d)) = out.effects.first() else {
        panic!("{:?}", out.effects);
    };
    assert_eq!(d.commune.as_deref(), Some("muong-thang"));
}

#[test]
fn editing_the_place_asks_the_commune_again_then_returns_to_the_review() {
    let c = ctx();
    let mut d = with_description();
    d.editing = true;
    let out = step(conv(State::Place(d)), text("Đồi chè, thôn Mường"), &c);
    assert_eq!(out.conversation.state.name(), "commune");
    let out = step(out.conversation, text("muong thang"), &c);
    assert_eq!(out.conversation.state.name(), "review");
    assert_eq!(ids(&out), vec!["commune-found", "review"]);
}

#[test]
fn a_province_wide_list_is_typed_not_shown_as_buttons() {
    let mut settings = fixture().settings.clone();
    let template = settings.communes[0].clone();
    for i in 0..40 {
        let mut extra = template.clone();
        extra.id = format!("xa-{i}");
        extra.name = format!("Xã Số {i}");
        extra.former.clear();
        settings.communes.push(extra);
    }
    let c = Ctx {
        settings: &settings,
        ..ctx()
    };
    let out = step(conv(State::Category(draft())), button("cat:drugs"), &c);
    assert_eq!(ids(&out), vec!["ask-place"], "no list of 43 buttons");
    let out = step(out.conversation, text("Gần cầu treo"), &c);
    assert_eq!(buttons(out.replies.last().unwrap()), ["pl:unknown"]);
    let out = step(out.conversation, text("Xã Số 17"), &c);
    assert_eq!(
        out.conversation.draft().unwrap().commune.as_deref(),
        Some("xa-17")
    );
}

#[test]
fn the_place_question_offers_a_list_only_where_one_is_shown() {
    let c = ctx();
    let out = step(conv(State::Category(draft())), button("cat:drugs"), &c);
    let ask = c.texts.render(Lang::Vi, &out.replies[0].msg);
    assert!(
        ask.contains("xã/phường), hoặc\n• chọn xã/phường trong danh sách.\n⚠️"),
        "{ask}"
    );
    let mut settings = fixture().settings.clone();
    let template = settings.communes[0].clone();
    settings.communes = (0..20)
        .map(|i| {
            let mut c = template.clone();
            c.id = format!("xa-{i}");
            c.former.clear();
            c
        })
        .collect();
    let many = Ctx {
        settings: &settings,
        ..ctx()
    };
    let out = step(conv(State::Category(draft())), button("cat:drugs"), &many);
    let ask = many.texts.render(Lang::Vi, &out.replies[0].msg);
    assert!(ask.contains("(thôn/xóm, đường, xã/phường).\n⚠️"), "{ask}");
    assert!(!ask.contains("danh sách"), "{ask}");
}
