# English texts of tipline. Edit freely; keep the message ids (left of =) and the variables
# { $name }. `tipline check-config` reports any missing id.

welcome =
    👋 This is the provincial police tip line for crime and public-order reports (Hòm thư ANTT 4.0). You are talking to an automated system.

    🔒 Your identity stays confidential: officers do not see your name, account or phone number unless you choose to leave a number.
    📋 We store: the kind of case, the place, your description, photos/videos/voice you send, and your phone number if you agree. Messages travel through Telegram.
    🚨 In an emergency, call 113 now.

help =
    ℹ️ How to use it:
    /report – send a new tip
    /status CODE – check a tip's status (e.g. /status TB-7K3Q-X9MD)
    /cancel – discard the tip you are writing
    /lang – change language (Tiếng Việt / English)
    Each person can send up to { $tips } tips an hour. Emergencies: call 113.
button-report = 📝 Send a tip
ask-category = What is it about? Choose a button below.
ask-place =
    📍 Where did it happen?
    • press «📍 Share my location» below, or
    • type an address (village, street, commune/ward){ $list ->
        [yes] , or{"\u000A"}• choose a commune/ward from the list.
       *[no] .
    }
    ⚠️ The location button sends where your phone is now, not where it happened: use it only if you are at the place.
ask-commune = 🏘️ Which commune or ward did it happen in? Please pick one below, or type its name (with or without diacritics; the names from before 1 July 2025 work too).
button-commune-unknown = ❔ Not known
commune-found = 🏘️ Commune or ward: { $name }.
commune-not-found = ⚠️ No commune or ward is called «{ $typed }». Please type it again, pick one from the list, or press «Not known».
commune-several = 🏘️ Several communes or wards match «{ $typed }». Please pick one:
expect-commune = ⚠️ Please pick a commune or ward below, type its name, or press «Not known».
ask-near-mailbox = 📮 You came through the QR code of the mailbox «{ $mailbox }» ({ $commune }). Did it happen near this mailbox, or somewhere else?
button-near-mailbox = 📮 Near the mailbox
button-elsewhere = 📍 Somewhere else
ask-place-commune = Or choose a commune/ward:
button-share-location = 📍 Share my location
ask-description =
    ✍️ Please describe what happened: what, when, who was involved, how to recognise them, vehicles…
    You can send several messages (up to { $max } characters), then press «Next».{ $voice ->
        [yes] {"\u000A"}🎙️ Typing is hard? Hold the microphone button and tell it: a voice message counts as the description.
       *[no] {""}
    }
description-added = ✅ Noted. Write more ({ $left } characters left) or press «Next».
description-too-long = ⚠️ Too long: at most { $max } characters, { $left } left. Please send a shorter part.
description-empty = ⚠️ You have not described what happened. Please type a few lines{ $voice ->
        [yes] {" "}or send a voice message
       *[no] {""}
    } before going on.
description-voice-added = 🎙️ Voice message received ({ $count }/{ $max } files). You can say or write more, then press «Next».
review-voice-description = 🎙️ told in { $count } voice messages
card-voice-description = 🎙️ The reporter told it in { $count } voice messages, sent right under this card.
ask-evidence =
    📎 Do you have photos, videos, voice notes or documents as evidence? Send them here (up to { $max } files, each at most { $mb } MB).
    🔒 Location data (GPS) and file names are removed before officers see photos. A voice note carries your voice and a round video note your face: send them only if you accept that.
    If not, press «Skip».
evidence-added = 📎 Received { $count }/{ $max } files. Send more or press the button below.
evidence-too-large = ⚠️ This file is larger than { $mb } MB and cannot be taken. Please send a smaller one (e.g. a shorter video).
evidence-too-many = ⚠️ A tip can carry at most { $max } files. Press the button below to go on.
ask-contact =
    📞 Send anonymously, or leave your phone number so an officer can call you back if needed?
    Anonymous is the default. A phone number is stored encrypted and used only about this tip.
button-share-phone = 📞 Leave my phone number
button-anonymous = 🕶 Anonymous
contact-anonymous = 🕶 The tip will be sent anonymously.
contact-saved = 📞 Your phone number is saved for this tip.
contact-not-own = ⚠️ Only your own number can be taken. Press «Leave my phone number» or «Anonymous».
review =
    📝 Please check your tip:
    • Kind: { $category }
    • Place: { $place }
    • What happened: { $description }
    • Files: { $evidence }
    • Contact: { $contact }
    Press «Send» to send it, «Edit» to change a part, or «Cancel».
review-anonymous = anonymous
review-no-evidence = none
place-pin = shared location ({ $lat }, { $lon })
place-commune = { $name }
place-mailbox = mailbox { $name } ({ $commune })
place-text = { $text }
button-next = ➡️ Next
button-done = ✅ Done
button-skip = ⏭ Skip
button-send = ✅ Send
button-edit = ✏️ Edit
button-cancel = ✖️ Cancel
button-back = ↩️ Back
ask-edit = Which part do you want to change?
edit-category = Kind of case
edit-place = Place
edit-description = Description
edit-evidence = Files
edit-contact = Contact
receipt =
    ✅ Your tip has been received and stored safely.
    Your receipt code: { $code }
    Keep it: type /status { $code } to check its status. Do not share the code with others.
report-started =
    { $kept ->
        [text] 📝 Thank you. What you just sent is kept as the start of a new report.
        [file] 📝 Thank you. The file you just sent is kept for a new report.
        [place] 📝 Thank you. The location you just sent is kept as the place of a new report.
       *[nothing] 📝 A new report is started.
    } Nothing is sent yet: please answer a few questions, then check it before sending. Type /cancel if you do not want to report.
cancelled = ✖️ The tip you were writing is discarded. Type /report to send a new one.
nothing-to-cancel = You are not writing a tip. Type /report to send one.
expect-button = 👆 Please choose with the buttons under the message.
expect-place = ⚠️ The place is not clear yet. Share your location, type an address (at least 3 characters) or choose a commune/ward.
expect-description = ⚠️ Please type what happened as text, then press «Next».
expect-evidence = ⚠️ At this step, send photos, videos, voice notes or documents, then press the button below to go on.
expect-contact = ⚠️ Please press «Leave my phone number» or «Anonymous» on the keyboard below.
stale-button = ⚠️ That button no longer works at this step.
unsupported-sticker = 🙂 Stickers are not added to tips. Please type text or send photos, videos or voice notes.
unsupported-message = ⚠️ This kind of message is not supported. Please type text or send photos, videos, voice notes or documents.
unknown-command = ⚠️ Unknown command. Type /help to see the commands.
emergency = 🚨 If it is happening now or someone is in danger, CALL 113 NOW. This tip will be marked urgent when you send it.
emergency-no-draft = 🚨 If it is happening now or someone is in danger, CALL 113 NOW. This message is not a tip yet: to send one, type /report.
status-usage = Type /status with the receipt code, e.g. /status TB-7K3Q-X9MD.
status-malformed = ⚠️ That is not a receipt code. Codes look like TB-XXXX-XXXX, e.g. TB-7K3Q-X9MD.
status-unknown = ❓ No tip { $code } was found. Please check the code.
status-line = Tip { $code } (sent { $time }): { $status }
status-list = Your recent tips:
status-none = You have not sent a tip from this account. Type /status with a receipt code to look one up.
status-submitted = received, waiting for an officer
status-acknowledged = an officer has taken it
status-in-progress = being checked
status-closed = handled and closed
status-purged = closed; its details were deleted after the retention period
lang-choose = Chọn ngôn ngữ / Choose a language:
lang-set = ✅ From now on, replies are in English.
flood-messages = ⏳ You are sending messages too fast. Please wait a minute, then go on.
flood-tips = ⏳ You have sent many tips in the last hour. Please try again later; in an emergency, call 113.
flood-status = ⏳ Too many lookups. Please try again in an hour.
draft-reminder = ⏰ Your tip has not been sent yet. Please go on; an unsent tip is deleted after { $hours } hours.
draft-expired = 🗑 The tip you were writing was deleted after a long silence. Type /report to start again.
mailbox-unknown = ⚠️ The mailbox code in that QR code is not known. You can still send a tip as usual.
report-in-progress = You are in the middle of a tip. Go on below, or type /cancel to discard it.
button-pressed = ✅

## Tip cards in the duty officers' group

card =
    { $marker } Tip { $code }
    Kind: { $category }
    Priority: { $priority }
    Place: { $place }
    Received: { $time }
    Files: { $evidence }
    Reporter: { $contact }
    ──────────
    { $description }
card-minimal =
    { $marker } Tip { $code }
    Kind: { $category }
    Commune/ward: { $commune }
    Priority: { $priority }
card-contact-anonymous = anonymous
card-contact-phone = left a phone number (encrypted)
card-commune-unknown = unknown
card-emergency = ⚠️ The text reads like an emergency; the reporter was told to call 113.
priority-low = low
priority-normal = normal
priority-high = high
priority-urgent = URGENT
button-desk-ack = ✅ Acknowledge
card-acked = ✅ Acknowledged: { $officer }, at { $time } ({ $minutes } min after it came in)
desk-acked = Tip acknowledged.
button-desk-claim = 🙋 Claim
button-desk-close = 🔒 Close
card-claimed = 🙋 Claimed: { $officer }, since { $time } ({ $minutes } min after it came in)
card-closed = 🔒 Closed: { $disposition } – { $officer }, at { $time } ({ $minutes } min after it came in)
desk-claimed = You have claimed this tip.
desk-closed = Tip closed.
desk-already-claimed = Somebody has claimed this tip already.
desk-already-closed = This tip is closed already.
pending-head = 📋 { $count } open tips, oldest first:
pending-line = { $code } · { $category } · { $minutes } min · { $state }
pending-none = ✅ No open tips.
pending-state-new = NOT ACKNOWLEDGED
pending-state-acked = acknowledged
pending-state-claimed = in progress
stats =
    📊 Statistics
    Tips today: { $today }
    Tips this week (since Monday): { $week }
    Open in this group: { $open }
desk-relay-sent = 📨 The question was passed to the reporter (anonymously, without the officer's name).
desk-relay-closed = This tip is closed; the question was not passed on.
desk-relay-failed = ⚠️ The question about tip { $code } could not be delivered: the reporter blocked the bot or cannot be reached.
desk-citizen-replied-minimal = 💬 The reporter answered about tip { $code } (the text is not shown in the group: minimal cards).
desk-citizen-replied =
    💬 The reporter answers about tip { $code }:
    { $text }
button-desk-escalate = ⬆️ Escalate
button-desk-ask = ❓ Ask the reporter
desk-ask-how = To ask the reporter: Reply to this card and type the question. The bot passes it on anonymously, without your name.
card-escalated = ⬆️ { $officer } escalates tip { $code } to the supervisors
desk-escalated = Escalated to the supervisors.
desk-already-escalated = This tip has been escalated already.
desk-no-supervisor = No supervisors' group is configured (desk.supervisor_group).
sla-reminder = ⏰ Tip { $code } has waited { $minutes } minutes and nobody has acknowledged it. Duty officers, please press «Acknowledge».
sla-escalated = 🚨 For the supervisors: tip { $code } has waited { $minutes } minutes without an acknowledgement.
desk-already-acked = Somebody acknowledged this tip already.
desk-unknown-tip = This tip was not found.
desk-stale-button = That button no longer works.
desk-not-allowed = This group is not a configured duty group; refused.
desk-commands-limited = ⏳ This group sent too many commands in one minute; the rest of this minute's commands go unanswered. Please try again in a minute.
desk-not-officer = Only the listed officers can act on cards; refused.

## Notices to the reporter

notify-question =
    ❓ The duty officer asks about your tip { $code }:
    «{ $text }»
    Please answer by typing here (your identity stays confidential). When you are done, press «Done».
answer-sent = 📨 Your answer was passed to the officer (tip { $code }). You can write more, or press «Done».
answer-ended = ✅ Your answers about tip { $code } are finished. Thank you.
answer-text-only = ⚠️ Answers can only be text. For new photos, please send a new tip with /report.
button-answer-done = ✅ Done
notify-closed = 🔒 Your tip { $code } has been reviewed and closed. Thank you for helping keep our community safe.
notify-acknowledged = ✅ Your tip { $code } has been taken by an officer. Thank you for the information. Type /status { $code } to check its status.

# Triage service, duplicates, hotspots
triage-actor = The triage service
desk-triage-note =
    📝 Note from the triage service on tip { $code }:
    { $text }
desk-hotspot = 🔥 Hotspot: { $count } citizens reported “{ $category }” in { $commune } in the last { $hours } hours ({ $tips } tips: { $codes }). Commanders, please look at it before it grows.
card-duplicate = 🔁 Probably repeats tip { $code } from the same reporter (nearly the same text).
card-reasons = Triage reasons: { $reasons }
card-minimal-excerpt = Summary (personal data hidden): { $excerpt }

# Admins: exports, statistics, the weekly report, posters
admin-refused = This command is for the tip line's administrators only.
admin-bad-week = “{ $arg }” is not a week. For example: /export 2026-W47 (week 47 of 2026).
admin-export-caption = Tip log for week { $week } ({ $from } – { $to }): { $count } tips. The CSV file opens in Excel.
admin-stats-title = Tips per day, week { $week }
admin-weekly-header = 📊 Report for week { $week } ({ $from } – { $to })
admin-failed = The report could not be made; please try again in a few minutes.
poster-title = ANTT 4.0 MAILBOX
poster-step-1 = 1. Open Telegram and scan this QR code.
poster-step-2 = 2. Press “Start” and choose what happened.
poster-step-3 = 3. Tell us what happened; send photos or videos if you have them.
poster-step-4 = 4. Keep the tip code to follow it up.
poster-promise = The identity of whoever reports is kept strictly confidential. You may report anonymously.
poster-emergency = Emergency: call 113 now
poster-scan = Scan with Telegram
poster-zalo = Or scan with Zalo

## Zalo: no buttons, so choices are numbered; these replace the texts of the same id without
## "-zalo" when the citizen writes on Zalo.
zalo-menu-hint = 👉 Reply with the number (for example 1) or type the choice.
welcome-zalo =
    👋 This is the provincial police's tip line for crime, security and public order (Hòm thư ANTT 4.0) on Zalo. You are talking to an automated system, not to a person.

    🔒 Your identity stays confidential: officers do not see your name, Zalo account or phone number, unless you choose to leave your number.
    📋 We collect and keep: the kind of incident, the place, what you describe, the photos and voice notes you send, and your phone number if you agree; only to handle your tip. Messages travel through Zalo.
    🚨 In an emergency, call 113 now.
ask-category-zalo = What kind of incident do you want to report?
ask-place-zalo =
    📍 Where did it happen? Type the address (hamlet, street, commune/ward){ $list ->
        [yes] , or pick a commune/ward from the list.
       *[no] .
    }
ask-description-zalo =
    ✍️ Please describe what happened: what, when, who was involved, how to recognise them, vehicles…
    You can send several messages (at most { $max } characters), then choose «Next».{ $voice ->
        [yes] {"\u000A"}🎙️ Typing is hard? Hold the microphone button and tell it: a voice message counts as the description.
       *[no] {""}
    }
description-voice-added-zalo = 🎙️ Voice message received ({ $count }/{ $max } files). You can say or write more, then choose «Next».
description-added-zalo = ✅ Noted. Write more ({ $left } characters left) or choose «Next».
ask-evidence-zalo =
    📎 Do you have photos or voice notes as evidence? Send them here (at most { $max } files).
    🔒 Location data (GPS) is removed from photos before officers see them. A voice note carries your voice: send one only if you accept that.
    If not, choose «Skip».
evidence-added-zalo = 📎 Received { $count }/{ $max } files. Send more or choose below.
ask-contact-zalo =
    📞 Do you want to stay anonymous, or leave a phone number so an officer can call you back? To leave it, type your phone number; otherwise choose «Anonymous».
    A number you leave is encrypted and used only about this tip.
expect-contact-zalo = ⚠️ Type your phone number, or choose «Anonymous».
review-zalo =
    📝 Please check your tip:
    • Kind: { $category }
    • Place: { $place }
    • Description: { $description }
    • Attachments: { $evidence }
    • Contact: { $contact }
unsupported-message-zalo = ⚠️ Zalo does not let us see this message (its kind, or the sender's account protection). Please type it, or send a photo or a voice note.
notify-question-zalo =
    ❓ The duty officer asks about your tip { $code }:
    «{ $text }»
    Answer by typing here (your identity stays confidential). When you are done, type «Done».
answer-sent-zalo = 📨 Your answer went to the officer (tip { $code }). Write more, or type «Done» to finish.
expect-evidence-zalo = ⚠️ At this step, send photos or voice notes, or choose from the list to go on.
expect-description-zalo = ⚠️ Please type what happened, then choose «Next».

# Cards their duty group would not take (issue 13)
card-outline =
    { $marker } Tip { $code }
    Kind: { $category }
    Commune/ward: { $commune }
    Priority: { $priority }
    Received: { $time }
desk-card-outline = ⚠️ Telegram refused this card's full content; only its outline is shown, without the content. The full content is in the triage system.
desk-fallback-banner = ⚠️ CARD SENT TO THE SUPERVISORS: this card could not be posted in its duty group (group id { $group }) because { $why }. Once the duty group is fixed, post the card there with: tipline dlq replay --group desk --all
desk-fallback-why-kicked = the bot was removed from the group
desk-fallback-why-not-found = Telegram does not know the group (a wrong group id in the configuration, or the bot was never in it)
desk-fallback-why-no-rights = the bot may not send messages in the group
desk-fallback-why-message = Telegram refused the card's content
desk-fallback-resolved = ✅ The card of tip { $code } is now in its duty group.
line-unavailable = ⏳ The tip line is briefly unavailable. Please wait a few minutes; you will be answered when it is back. In an emergency, call 113 now.
desk-summary-head = 📋 Summary of { $count } tips from new reporters (over the hourly ceiling, so not posted as cards one by one), part { $part }/{ $parts }:
desk-summary-line = { $code } · { $category } · { $commune } · { $time }
desk-summary-foot = Open a tip with the command /tip CODE, e.g. /tip { $code }
desk-relay-rate-limited = Tip { $code } has had { $max } questions in the last hour; this one was not passed on. Please try again later.
desk-citizen-replied-masked =
    💬 The reporter answers about tip { $code } (phone numbers, ID numbers and plates masked):
    { $text }
notify-question-safety = 🛡️ Safety note: the police never ask you here for OTP codes, passwords, money transfers or identity documents.

# Issue 14: evidence without metadata.
evidence-voice-refused = 🎙️ This unit does not take voice notes, because a voice can identify you. Please type what you wanted to say instead; nothing was added.
evidence-video-note-refused = 📹 This unit does not take round video notes, because they show your face. Send an ordinary video or a photo instead; nothing was added.
desk-file-withheld = ⚠️ File { $n } is withheld: it is an image whose hidden data (location, device) could not be removed (corrupt, or a format such as HEIC). Ask the citizen to send it again as a photo.
admin-audit-head = 🔗 Audit chain head: #{ $n } { $hash } (keep this line: `tipline audit verify --head { $n }:{ $hash }` checks the history was not rewritten)
