# Văn bản tiếng Việt của tipline. Sửa thoải mái; giữ nguyên mã tin (bên trái dấu =) và các
# biến { $ten }. Lệnh `tipline check-config` báo mã tin nào còn thiếu.

welcome =
    👋 Đây là Hòm thư tố giác tội phạm, tin báo về an ninh, trật tự (Hòm thư ANTT 4.0) của Công an tỉnh. Bạn đang trao đổi với một hệ thống tự động.

    🔒 Danh tính của bạn được giữ bí mật: cán bộ tiếp nhận không thấy tên, tài khoản hay số điện thoại của bạn, trừ khi bạn tự chọn để lại số điện thoại.
    📋 Hệ thống lưu: loại vụ việc, địa điểm, nội dung bạn mô tả, ảnh/video/ghi âm bạn gửi và số điện thoại nếu bạn đồng ý. Tin nhắn đi qua Telegram.
    🚨 Trường hợp khẩn cấp, hãy gọi ngay 113.

help =
    ℹ️ Cách dùng:
    /report – gửi tin báo mới
    /status MÃ – xem tình trạng tin báo (ví dụ /status TB-7K3Q-X9MD)
    /cancel – hủy tin báo đang soạn
    /lang – đổi ngôn ngữ (Tiếng Việt / English)
    Mỗi người gửi tối đa { $tips } tin báo mỗi giờ. Khẩn cấp: gọi 113.
button-report = 📝 Gửi tin báo
ask-category = Vụ việc bạn muốn báo thuộc loại nào? Chọn một nút bên dưới.
ask-place =
    📍 Việc xảy ra ở đâu?
    • bấm nút «📍 Gửi vị trí hiện tại» bên dưới, hoặc
    • gõ địa chỉ (thôn/xóm, đường, xã/phường){ $list ->
        [yes] , hoặc{"\u000A"}• chọn xã/phường trong danh sách.
       *[no] .
    }
    ⚠️ Nút gửi vị trí gửi nơi điện thoại của bạn đang ở lúc này, không phải nơi xảy ra sự việc: chỉ dùng khi bạn đang ở đúng nơi đó.
ask-commune = 🏘️ Việc xảy ra thuộc xã/phường nào? Xin chọn bên dưới, hoặc gõ tên xã/phường (có dấu hay không dấu đều được; tên cũ trước ngày 1/7/2025 cũng được).
button-commune-unknown = ❔ Không rõ
commune-found = 🏘️ Xã/phường: { $name }.
commune-not-found = ⚠️ Không tìm thấy xã/phường nào tên «{ $typed }». Xin gõ lại, chọn trong danh sách, hoặc bấm «Không rõ».
commune-several = 🏘️ Có mấy xã/phường khớp với «{ $typed }». Xin chọn một:
expect-commune = ⚠️ Xin chọn xã/phường bên dưới, gõ tên xã/phường, hoặc bấm «Không rõ».
ask-near-mailbox = 📮 Bạn đến từ mã QR của hòm thư «{ $mailbox }» ({ $commune }). Việc xảy ra gần hòm thư này, hay ở nơi khác?
button-near-mailbox = 📮 Gần hòm thư
button-elsewhere = 📍 Nơi khác
ask-place-commune = Hoặc chọn xã/phường:
button-share-location = 📍 Gửi vị trí hiện tại
ask-description =
    ✍️ Xin mô tả sự việc: chuyện gì, khi nào, những ai liên quan, đặc điểm nhận dạng, phương tiện…
    Bạn có thể gửi nhiều tin nhắn (tối đa { $max } ký tự), rồi bấm «Tiếp tục».{ $voice ->
        [yes] {"\u000A"}🎙️ Không tiện gõ chữ? Giữ nút micro và kể lại: tin nhắn thoại cũng là lời mô tả.
       *[no] {""}
    }
description-added = ✅ Đã ghi nhận. Bạn có thể viết thêm (còn { $left } ký tự) hoặc bấm «Tiếp tục».
description-too-long = ⚠️ Nội dung quá dài: tối đa { $max } ký tự, chỉ còn { $left } ký tự. Hãy gửi đoạn ngắn hơn.
description-empty = ⚠️ Bạn chưa mô tả sự việc. Xin gõ vài dòng{ $voice ->
        [yes] {" "}hoặc gửi một tin nhắn thoại
       *[no] {""}
    } trước khi tiếp tục.
description-voice-added = 🎙️ Đã nhận tin nhắn thoại ({ $count }/{ $max } tệp). Bạn có thể nói hoặc viết thêm, rồi bấm «Tiếp tục».
review-voice-description = 🎙️ kể bằng { $count } tin nhắn thoại
card-voice-description = 🎙️ Người báo kể bằng { $count } tin nhắn thoại, gửi ngay dưới thẻ này.
ask-evidence =
    📎 Bạn có ảnh, video, ghi âm hay tài liệu làm bằng chứng không? Gửi vào đây (tối đa { $max } tệp, mỗi tệp không quá { $mb } MB).
    🔒 Dữ liệu vị trí (GPS) và tên tệp được xoá trước khi cán bộ xem ảnh. Tin nhắn thoại mang giọng nói của bạn, video tròn (video note) mang khuôn mặt của bạn: chỉ gửi nếu bạn chấp nhận điều đó.
    Nếu không có, bấm «Bỏ qua».
evidence-added = 📎 Đã nhận { $count }/{ $max } tệp. Gửi thêm hoặc bấm nút bên dưới.
evidence-too-large = ⚠️ Tệp này lớn hơn { $mb } MB nên không nhận được. Hãy gửi tệp nhỏ hơn (ví dụ video ngắn hơn).
evidence-too-many = ⚠️ Mỗi tin báo chỉ nhận tối đa { $max } tệp. Bấm nút bên dưới để tiếp tục.
ask-contact =
    📞 Bạn muốn gửi ẩn danh hay để lại số điện thoại để cán bộ gọi lại khi cần?
    Mặc định là ẩn danh. Số điện thoại (nếu có) được mã hóa và chỉ dùng để liên hệ về tin báo này.
button-share-phone = 📞 Để lại số điện thoại
button-anonymous = 🕶 Ẩn danh
contact-anonymous = 🕶 Tin báo sẽ được gửi ẩn danh.
contact-saved = 📞 Đã lưu số điện thoại của bạn cho tin báo này.
contact-not-own = ⚠️ Chỉ nhận số điện thoại của chính bạn. Hãy bấm nút «Để lại số điện thoại» hoặc «Ẩn danh».
review =
    📝 Kiểm tra lại tin báo:
    • Loại: { $category }
    • Địa điểm: { $place }
    • Nội dung: { $description }
    • Tệp đính kèm: { $evidence }
    • Liên hệ: { $contact }
    Bấm «Gửi» để gửi, «Sửa» để sửa một phần, hoặc «Hủy».
review-anonymous = ẩn danh
review-no-evidence = không có
place-pin = vị trí đã chia sẻ ({ $lat }, { $lon })
place-commune = { $name }
place-mailbox = Hòm thư { $name } ({ $commune })
place-text = { $text }
button-next = ➡️ Tiếp tục
button-done = ✅ Xong
button-skip = ⏭ Bỏ qua
button-send = ✅ Gửi
button-edit = ✏️ Sửa
button-cancel = ✖️ Hủy
button-back = ↩️ Quay lại
ask-edit = Bạn muốn sửa phần nào?
edit-category = Loại vụ việc
edit-place = Địa điểm
edit-description = Nội dung
edit-evidence = Tệp đính kèm
edit-contact = Liên hệ
receipt =
    ✅ Tin báo đã được tiếp nhận và lưu an toàn.
    Mã tin báo của bạn: { $code }
    Hãy giữ mã này: gõ /status { $code } để xem tình trạng. Không chia sẻ mã cho người khác.
report-started =
    { $kept ->
        [text] 📝 Cảm ơn bạn. Lời bạn vừa gửi đã được ghi lại làm phần đầu của một tin báo mới.
        [file] 📝 Cảm ơn bạn. Tệp bạn vừa gửi đã được giữ lại cho một tin báo mới.
        [place] 📝 Cảm ơn bạn. Vị trí bạn vừa gửi đã được ghi làm địa điểm của một tin báo mới.
       *[nothing] 📝 Bắt đầu một tin báo mới.
    } Tin báo chưa được gửi đi: xin trả lời vài câu hỏi, rồi kiểm tra lại trước khi gửi. Gõ /cancel nếu bạn không muốn báo tin.
cancelled = ✖️ Đã hủy tin báo đang soạn. Gõ /report khi bạn muốn báo tin mới.
nothing-to-cancel = Không có tin báo nào đang soạn. Gõ /report để báo tin mới.
expect-button = 👆 Vui lòng chọn bằng các nút bên dưới tin nhắn.
expect-place = ⚠️ Chưa rõ địa điểm. Hãy gửi vị trí, gõ địa chỉ (ít nhất 3 ký tự) hoặc chọn xã/phường.
expect-description = ⚠️ Hãy gõ nội dung sự việc bằng chữ, rồi bấm «Tiếp tục».
expect-evidence = ⚠️ Ở bước này hãy gửi ảnh, video, ghi âm hoặc tài liệu, rồi bấm nút bên dưới để tiếp tục.
expect-contact = ⚠️ Hãy bấm «Để lại số điện thoại» hoặc «Ẩn danh» trên bàn phím bên dưới.
stale-button = ⚠️ Nút này không còn dùng được ở bước hiện tại.
unsupported-sticker = 🙂 Nhãn dán không được ghi vào tin báo. Hãy gõ chữ hoặc gửi ảnh, video, ghi âm.
unsupported-message = ⚠️ Loại tin nhắn này không được hỗ trợ. Hãy gõ chữ hoặc gửi ảnh, video, ghi âm, tài liệu.
unknown-command = ⚠️ Không có lệnh này. Gõ /help để xem các lệnh.
emergency = 🚨 Nếu sự việc đang diễn ra hoặc có người gặp nguy hiểm, hãy GỌI NGAY 113. Tin báo này sẽ được đánh dấu khẩn khi bạn gửi.
emergency-no-draft = 🚨 Nếu sự việc đang diễn ra hoặc có người gặp nguy hiểm, hãy GỌI NGAY 113. Tin nhắn này chưa phải là tin báo: để báo tin, gõ /report.
status-usage = Gõ /status kèm mã tin báo, ví dụ /status TB-7K3Q-X9MD.
status-malformed = ⚠️ Mã không đúng dạng. Mã tin báo có dạng TB-XXXX-XXXX, ví dụ TB-7K3Q-X9MD.
status-unknown = ❓ Không tìm thấy tin báo { $code }. Hãy kiểm tra lại mã.
status-line = Tin báo { $code } (gửi lúc { $time }): { $status }
status-list = Các tin báo gần đây của bạn:
status-none = Bạn chưa gửi tin báo nào từ tài khoản này. Gõ /status kèm mã tin báo để tra cứu.
status-submitted = đã tiếp nhận, đang chờ xử lý
status-acknowledged = cán bộ đã nhận tin
status-in-progress = đang xác minh
status-closed = đã xử lý xong
status-purged = đã đóng; nội dung tin báo đã được xoá sau thời hạn lưu giữ
lang-choose = Chọn ngôn ngữ / Choose a language:
lang-set = ✅ Từ giờ hệ thống trả lời bằng tiếng Việt.
flood-messages = ⏳ Bạn gửi tin nhắn quá nhanh. Vui lòng chờ một phút rồi tiếp tục.
flood-tips = ⏳ Bạn đã gửi nhiều tin báo trong một giờ qua. Vui lòng thử lại sau; nếu khẩn cấp, gọi 113.
flood-status = ⏳ Bạn tra cứu quá nhiều lần. Vui lòng thử lại sau một giờ.
draft-reminder = ⏰ Tin báo của bạn chưa được gửi. Hãy tiếp tục; tin chưa gửi sẽ tự xóa sau { $hours } giờ.
draft-expired = 🗑 Tin báo đang soạn đã bị xóa vì quá lâu không hoạt động. Gõ /report để báo lại.
mailbox-unknown = ⚠️ Không nhận ra mã hòm thư trong mã QR. Bạn vẫn có thể báo tin bình thường.
report-in-progress = Bạn đang soạn dở một tin báo. Tiếp tục bên dưới, hoặc gõ /cancel để hủy.
button-pressed = ✅

## Thẻ tin báo trong nhóm cán bộ trực

card =
    { $marker } Tin báo { $code }
    Loại: { $category }
    Mức độ: { $priority }
    Địa điểm: { $place }
    Nhận lúc: { $time }
    Tệp đính kèm: { $evidence }
    Người báo: { $contact }
    ──────────
    { $description }
card-minimal =
    { $marker } Tin báo { $code }
    Loại: { $category }
    Xã/phường: { $commune }
    Mức độ: { $priority }
card-contact-anonymous = ẩn danh
card-contact-phone = có để lại số điện thoại (đã mã hóa)
card-commune-unknown = chưa rõ
card-emergency = ⚠️ Nội dung có dấu hiệu khẩn cấp; người báo đã được hướng dẫn gọi 113.
priority-low = thấp
priority-normal = bình thường
priority-high = cao
priority-urgent = KHẨN
button-desk-ack = ✅ Tiếp nhận
card-acked = ✅ Đã tiếp nhận: { $officer }, lúc { $time } (sau { $minutes } phút)
desk-acked = Đã tiếp nhận tin báo.
button-desk-claim = 🙋 Nhận xử lý
button-desk-close = 🔒 Đóng
card-claimed = 🙋 Đang xử lý: { $officer }, từ { $time } (sau { $minutes } phút)
card-closed = 🔒 Đã đóng: { $disposition } – { $officer }, lúc { $time } (sau { $minutes } phút)
desk-claimed = Bạn đã nhận xử lý tin báo này.
desk-closed = Đã đóng tin báo.
desk-already-claimed = Tin báo này đã có người nhận xử lý.
desk-already-closed = Tin báo này đã được đóng.
pending-head = 📋 { $count } tin báo đang mở, cũ nhất trước:
pending-line = { $code } · { $category } · { $minutes } phút · { $state }
pending-none = ✅ Không có tin báo nào đang mở.
pending-state-new = CHƯA TIẾP NHẬN
pending-state-acked = đã tiếp nhận
pending-state-claimed = đang xử lý
stats =
    📊 Thống kê
    Tin báo hôm nay: { $today }
    Tin báo tuần này (từ thứ Hai): { $week }
    Đang mở trong nhóm này: { $open }
desk-relay-sent = 📨 Đã chuyển câu hỏi tới người báo (ẩn danh, không kèm tên cán bộ).
desk-relay-closed = Tin báo này đã đóng; câu hỏi không được chuyển.
desk-relay-failed = ⚠️ Không chuyển được câu hỏi về tin { $code }: người báo đã chặn bot hoặc không còn liên lạc được.
desk-citizen-replied-minimal = 💬 Người báo đã trả lời về tin { $code } (nội dung không hiển thị trong nhóm theo cấu hình thẻ rút gọn).
desk-citizen-replied =
    💬 Người báo trả lời về tin { $code }:
    { $text }
button-desk-escalate = ⬆️ Báo cáo chỉ huy
button-desk-ask = ❓ Hỏi người báo
desk-ask-how = Để hỏi người báo: bấm «Trả lời» (Reply) vào thẻ này và gõ câu hỏi. Bot chuyển câu hỏi ẩn danh, không kèm tên cán bộ.
card-escalated = ⬆️ { $officer } chuyển báo cáo chỉ huy: tin báo { $code }
desk-escalated = Đã báo cáo chỉ huy.
desk-already-escalated = Tin báo này đã được báo cáo chỉ huy.
desk-no-supervisor = Chưa cấu hình nhóm chỉ huy (desk.supervisor_group).
sla-reminder = ⏰ Tin báo { $code } đã chờ { $minutes } phút mà chưa ai tiếp nhận. Đề nghị cán bộ trực bấm «Tiếp nhận».
sla-escalated = 🚨 Báo cáo chỉ huy: tin báo { $code } đã chờ { $minutes } phút mà chưa được tiếp nhận.
desk-already-acked = Tin báo này đã có người tiếp nhận trước.
desk-unknown-tip = Không tìm thấy tin báo này.
desk-stale-button = Nút này không còn dùng được.
desk-not-allowed = Nhóm này không phải nhóm trực được cấu hình; thao tác bị từ chối.
desk-commands-limited = ⏳ Nhóm đã gửi quá nhiều lệnh trong một phút; các lệnh còn lại trong phút này sẽ không được trả lời. Vui lòng thử lại sau ít phút.
desk-not-officer = Chỉ cán bộ có trong danh sách mới được thao tác trên thẻ tin báo; thao tác bị từ chối.

## Thông báo cho người báo tin

notify-question =
    ❓ Cán bộ trực hỏi thêm về tin báo { $code } của bạn:
    «{ $text }»
    Hãy trả lời bằng cách gõ tin nhắn tại đây (danh tính của bạn vẫn được giữ kín). Khi trả lời xong, bấm «Xong».
answer-sent = 📨 Đã chuyển câu trả lời của bạn cho cán bộ (tin báo { $code }). Có thể viết thêm, hoặc bấm «Xong».
answer-ended = ✅ Đã kết thúc phần trả lời cho tin báo { $code }. Cảm ơn bạn.
answer-text-only = ⚠️ Phần trả lời chỉ nhận chữ. Nếu có ảnh mới, hãy gửi một tin báo mới bằng /report.
button-answer-done = ✅ Xong
notify-closed = 🔒 Tin báo { $code } của bạn đã được xem xét và khép lại. Cảm ơn bạn đã chung tay giữ gìn an ninh, trật tự.
notify-acknowledged = ✅ Tin báo { $code } của bạn đã được cán bộ tiếp nhận. Cảm ơn bạn đã cung cấp thông tin. Gõ /status { $code } để xem tình trạng.

# Triage service, duplicates, hotspots
triage-actor = Hệ thống xử lý tin báo
desk-triage-note =
    📝 Ghi chú của hệ thống xử lý tin báo về tin { $code }:
    { $text }
desk-hotspot = 🔥 Điểm nóng: { $count } người dân báo loại “{ $category }” tại { $commune } trong { $hours } giờ qua ({ $tips } tin báo: { $codes }). Đề nghị chỉ huy xem xét, không để hình thành điểm phức tạp.
card-duplicate = 🔁 Có thể trùng với tin báo { $code } của cùng người báo (nội dung gần giống).
card-reasons = Căn cứ phân loại: { $reasons }
card-minimal-excerpt = Tóm tắt (đã che thông tin cá nhân): { $excerpt }

# Admins: exports, statistics, the weekly report, posters
admin-refused = Lệnh này chỉ dành cho quản trị viên của đường dây tin báo.
admin-bad-week = “{ $arg }” không phải là một tuần. Ví dụ: /export 2026-W47 (tuần 47 năm 2026).
admin-export-caption = Nhật ký tin báo tuần { $week } ({ $from } – { $to }): { $count } tin. Tệp CSV mở được bằng Excel.
admin-stats-title = Tin báo theo ngày, tuần { $week }
admin-weekly-header = 📊 Báo cáo tuần { $week } ({ $from } – { $to })
admin-failed = Chưa tạo được báo cáo, xin thử lại sau ít phút.
poster-title = HÒM THƯ ANTT 4.0
poster-step-1 = 1. Mở ứng dụng Telegram, quét mã QR này.
poster-step-2 = 2. Bấm “Bắt đầu” và chọn loại vụ việc.
poster-step-3 = 3. Kể lại sự việc, gửi ảnh hoặc video nếu có.
poster-step-4 = 4. Nhận mã tin báo để theo dõi kết quả.
poster-promise = Danh tính người báo tin được giữ bí mật tuyệt đối. Bạn có thể báo tin ẩn danh.
poster-emergency = Trường hợp khẩn cấp: gọi ngay 113
poster-scan = Quét mã bằng Telegram
poster-zalo = Hoặc quét bằng Zalo

## Zalo: no buttons, so choices are numbered; these replace the texts of the same id without
## "-zalo" when the citizen writes on Zalo.
zalo-menu-hint = 👉 Trả lời bằng số thứ tự (ví dụ 1) hoặc gõ tên lựa chọn.
welcome-zalo =
    👋 Đây là Hòm thư tố giác tội phạm, tin báo về an ninh, trật tự (Hòm thư ANTT 4.0) của Công an tỉnh trên Zalo. Bạn đang trao đổi với một hệ thống tự động, không phải với người.

    🔒 Danh tính của bạn được giữ bí mật: cán bộ tiếp nhận không thấy tên, tài khoản Zalo hay số điện thoại của bạn, trừ khi bạn tự chọn để lại số điện thoại.
    📋 Hệ thống thu thập và lưu: loại vụ việc, địa điểm, nội dung bạn mô tả, ảnh và ghi âm bạn gửi, và số điện thoại nếu bạn đồng ý; chỉ dùng để xử lý tin báo. Tin nhắn đi qua Zalo.
    🚨 Trường hợp khẩn cấp, hãy gọi ngay 113.
ask-category-zalo = Vụ việc bạn muốn báo thuộc loại nào?
ask-place-zalo =
    📍 Việc xảy ra ở đâu? Gõ địa chỉ (thôn/xóm, đường, xã/phường){ $list ->
        [yes] , hoặc chọn xã/phường trong danh sách.
       *[no] .
    }
ask-description-zalo =
    ✍️ Xin mô tả sự việc: chuyện gì, khi nào, những ai liên quan, đặc điểm nhận dạng, phương tiện…
    Bạn có thể gửi nhiều tin nhắn (tối đa { $max } ký tự), rồi chọn «Tiếp tục».{ $voice ->
        [yes] {"\u000A"}🎙️ Không tiện gõ chữ? Giữ nút micro và kể lại: tin nhắn thoại cũng là lời mô tả.
       *[no] {""}
    }
description-voice-added-zalo = 🎙️ Đã nhận tin nhắn thoại ({ $count }/{ $max } tệp). Bạn có thể nói hoặc viết thêm, rồi chọn «Tiếp tục».
description-added-zalo = ✅ Đã ghi nhận. Bạn có thể viết thêm (còn { $left } ký tự) hoặc chọn «Tiếp tục».
ask-evidence-zalo =
    📎 Bạn có ảnh hay ghi âm làm bằng chứng không? Gửi vào đây (tối đa { $max } tệp).
    🔒 Dữ liệu vị trí (GPS) được xoá khỏi ảnh trước khi cán bộ xem. Tin nhắn thoại mang giọng nói của bạn: chỉ gửi nếu bạn chấp nhận điều đó.
    Nếu không có, chọn «Bỏ qua».
evidence-added-zalo = 📎 Đã nhận { $count }/{ $max } tệp. Gửi thêm hoặc chọn bên dưới.
ask-contact-zalo =
    📞 Bạn muốn gửi ẩn danh, hay để lại số điện thoại để cán bộ gọi lại khi cần? Muốn để lại số thì gõ số điện thoại của bạn; không thì chọn «Ẩn danh».
    Số điện thoại (nếu có) được mã hóa và chỉ dùng để liên hệ về tin báo này.
expect-contact-zalo = ⚠️ Hãy gõ số điện thoại của bạn, hoặc chọn «Ẩn danh».
review-zalo =
    📝 Kiểm tra lại tin báo:
    • Loại: { $category }
    • Địa điểm: { $place }
    • Nội dung: { $description }
    • Tệp đính kèm: { $evidence }
    • Liên hệ: { $contact }
unsupported-message-zalo = ⚠️ Zalo không cho hệ thống xem nội dung tin nhắn này (có thể do loại tin nhắn hoặc cài đặt bảo vệ tài khoản). Hãy gõ bằng chữ, hoặc gửi ảnh hay ghi âm.
notify-question-zalo =
    ❓ Cán bộ trực hỏi thêm về tin báo { $code } của bạn:
    «{ $text }»
    Hãy trả lời bằng cách gõ tin nhắn tại đây (danh tính của bạn vẫn được giữ kín). Khi trả lời xong, gõ «Xong».
answer-sent-zalo = 📨 Đã chuyển câu trả lời của bạn cho cán bộ (tin báo { $code }). Có thể viết thêm, hoặc gõ «Xong» để kết thúc.
expect-evidence-zalo = ⚠️ Ở bước này hãy gửi ảnh hoặc ghi âm, hoặc chọn một mục trong danh sách để tiếp tục.
expect-description-zalo = ⚠️ Hãy gõ nội dung sự việc bằng chữ, rồi chọn «Tiếp tục».

# Thẻ không đăng được vào nhóm trực (issue 13)
card-outline =
    { $marker } Tin báo { $code }
    Loại: { $category }
    Xã/phường: { $commune }
    Mức độ: { $priority }
    Nhận lúc: { $time }
desk-card-outline = ⚠️ Telegram từ chối nội dung đầy đủ của thẻ này; chỉ hiển thị thông tin tóm lược, không có nội dung. Nội dung đầy đủ có trong hệ thống xử lý tin báo.
desk-fallback-banner = ⚠️ THẺ CHUYỂN VỀ NHÓM CHỈ HUY: không đăng được thẻ này vào nhóm trực của nó (mã nhóm { $group }) vì { $why }. Khi đã sửa nhóm trực, đăng lại thẻ vào đó bằng lệnh: tipline dlq replay --group desk --all
desk-fallback-why-kicked = bot đã bị xóa khỏi nhóm
desk-fallback-why-not-found = Telegram không tìm thấy nhóm (mã nhóm trong cấu hình sai, hoặc bot chưa từng ở trong nhóm)
desk-fallback-why-no-rights = bot không có quyền gửi tin nhắn trong nhóm
desk-fallback-why-message = Telegram từ chối nội dung của thẻ
desk-fallback-resolved = ✅ Thẻ tin báo { $code } đã được đăng vào nhóm trực của nó.
line-unavailable = ⏳ Đường dây báo tin đang tạm gián đoạn. Vui lòng chờ ít phút, hệ thống sẽ trả lời khi hoạt động lại. Trường hợp khẩn cấp, hãy gọi ngay 113.
desk-summary-head = 📋 Tổng hợp { $count } tin báo của người báo mới (vượt ngưỡng mỗi giờ nên không đăng từng thẻ), phần { $part }/{ $parts }:
desk-summary-line = { $code } · { $category } · { $commune } · { $time }
desk-summary-foot = Mở một tin báo bằng lệnh /tip MÃ, ví dụ: /tip { $code }
desk-relay-rate-limited = Tin báo { $code } đã có { $max } câu hỏi trong một giờ qua; câu hỏi này chưa được chuyển. Đề nghị thử lại sau.
desk-citizen-replied-masked =
    💬 Người báo trả lời về tin { $code } (đã che số điện thoại, số CCCD và biển số xe):
    { $text }
notify-question-safety = 🛡️ Lưu ý an toàn: Công an không bao giờ yêu cầu bạn cung cấp mã OTP, mật khẩu, chuyển tiền hay gửi giấy tờ tùy thân qua kênh này.

# Issue 14: bằng chứng không kèm siêu dữ liệu.
evidence-voice-refused = 🎙️ Đơn vị này không nhận tin nhắn thoại, vì giọng nói có thể làm lộ danh tính của bạn. Vui lòng gõ nội dung muốn nói; chưa có gì được thêm vào.
evidence-video-note-refused = 📹 Đơn vị này không nhận video tròn (video note), vì video cho thấy khuôn mặt của bạn. Hãy gửi video thường hoặc ảnh; chưa có gì được thêm vào.
desk-file-withheld = ⚠️ Tệp { $n } bị giữ lại: đây là ảnh không xoá được dữ liệu ẩn (vị trí, thiết bị) vì bị hỏng hoặc ở định dạng như HEIC. Hãy đề nghị người báo tin gửi lại dưới dạng ảnh.
admin-audit-head = 🔗 Đầu chuỗi nhật ký kiểm tra: #{ $n } { $hash } (hãy lưu dòng này: lệnh `tipline audit verify --head { $n }:{ $hash }` kiểm tra lịch sử không bị viết lại)
