// `secctx server --mode http`'s request framing (tools/server/responder.hpp): arbitrary bytes,
// given in one piece and again in reads cut as the input says. The answer does not depend on the
// cuts; it is a sequence of complete HTTP responses (status line, headers, a Content-Length the
// body matches) of which only the last may close, and it closes exactly when the responder says
// so; after that nothing more is answered; no 200 comes without a request's two line ends; and the
// bytes the responder holds between reads stay under the head limit. In echo mode the answer is
// the input.
//
// Input: an options byte (bit 0: echo mode), a byte for the head limit (0: the server's 16 KiB,
// else that many bytes, so that short inputs reach the limit), a chunking (input.hpp), then the
// bytes received.
#include "input.hpp"

#include "responder.hpp"

#include <algorithm>
#include <charconv>
#include <string>
#include <string_view>

using namespace secctx;

namespace {

struct feed_result {
    std::string answer;
    bool close = false;
};

// Gives `received` to a responder in the pieces `cuts` makes, checking after every piece what
// holds between reads.
feed_result feed(tool::mode m, std::size_t head_limit, std::string_view received,
                 fuzz::chunking cuts) {
    tool::responder reply(m, head_limit);
    feed_result r;
    for (std::size_t at = 0; at < received.size();) {
        const std::size_t n = cuts.next(received.size() - at);
        const std::size_t answered = r.answer.size();
        const bool closed_before = r.close;
        r.close = reply.answer(received.substr(at, n), r.answer);
        at += n;
        fuzz::check(reply.buffered() < head_limit,
                    "less than the head limit is held between reads");
        if (closed_before)
            fuzz::check(r.close && r.answer.size() == answered,
                        "nothing is answered after a response that closes");
    }
    if (r.close) {
        const std::size_t answered = r.answer.size();
        const bool still_closed = reply.answer("GET / HTTP/1.1\r\n\r\n", r.answer);
        fuzz::check(still_closed && r.answer.size() == answered,
                    "a closed responder answers no later request");
    }
    return r;
}

std::size_t number(std::string_view text) {
    std::size_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    fuzz::check(ec == std::errc() && end == text.data() + text.size() && !text.empty(),
                "Content-Length is a number");
    return value;
}

struct answer_shape {
    std::size_t served = 0; // 200 responses
    bool last_closes = false;
};

// Reads `answer` as HTTP responses one after another; anything else is a violation.
answer_shape responses(std::string_view answer) {
    answer_shape shape;
    while (!answer.empty()) {
        fuzz::check(!shape.last_closes, "only the last response closes");
        const std::size_t head_end = answer.find("\r\n\r\n");
        fuzz::check(head_end != std::string_view::npos, "a response's head is complete");
        std::string_view head = answer.substr(0, head_end + 2);
        answer.remove_prefix(head_end + 4);
        const std::size_t status_end = head.find("\r\n");
        const std::string_view status = head.substr(0, status_end);
        head.remove_prefix(status_end + 2);
        fuzz::check(status.starts_with("HTTP/1.1 ") || status.starts_with("HTTP/1.0 "),
                    "a status line names the version");
        const std::string_view code = status.substr(9, 4);
        fuzz::check(code == "200 " || code == "400 " || code == "431 " || code == "501 ",
                    "the status is one the server gives");
        std::size_t lengths = 0;
        std::size_t length = 0;
        bool closes = false;
        while (!head.empty()) {
            const std::size_t line_end = head.find("\r\n");
            const std::string_view line = head.substr(0, line_end);
            head.remove_prefix(line_end + 2);
            const std::size_t colon = line.find(": ");
            fuzz::check(colon != std::string_view::npos && colon != 0, "a header is a name: value");
            const std::string_view name = line.substr(0, colon);
            const std::string_view value = line.substr(colon + 2);
            if (name == "Content-Length") {
                ++lengths;
                length = number(value);
            }
            closes = closes || (name == "Connection" && value == "close");
        }
        fuzz::check(lengths == 1, "a response has one Content-Length");
        fuzz::check(length <= answer.size(), "the body is all there");
        const std::string_view body = answer.substr(0, length);
        answer.remove_prefix(length);
        if (code == "200 ") {
            ++shape.served;
            fuzz::check(body.starts_with("hello from secctx"), "a 200 has the server's body");
        } else {
            fuzz::check(closes, "a refusal closes");
        }
        if (status.starts_with("HTTP/1.0 "))
            fuzz::check(closes, "an HTTP/1.0 response closes");
        shape.last_closes = closes;
    }
    return shape;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const bool echo = (in.byte() & 1) != 0;
    const std::uint8_t limit = in.byte();
    const std::size_t head_limit = limit == 0 ? tool::responder::max_request_head : limit;
    const fuzz::chunking cuts(in);
    const auto bytes = in.rest();
    const std::string_view received(reinterpret_cast<const char*>(bytes.data()), bytes.size());

    fuzz::input no_cuts(nullptr, 0);
    const tool::mode m = echo ? tool::mode::echo : tool::mode::http;
    const feed_result whole = feed(m, head_limit, received, fuzz::chunking(no_cuts));
    const feed_result pieces = feed(m, head_limit, received, cuts);
    fuzz::check(whole.answer == pieces.answer && whole.close == pieces.close,
                "the answer does not depend on how the reads were cut");
    if (echo) {
        fuzz::check(whole.answer == received && !whole.close, "echo answers the bytes themselves");
        return 0;
    }
    const answer_shape shape = responses(whole.answer);
    fuzz::check(shape.last_closes == whole.close, "the responder closes after a closing response");
    fuzz::check(shape.served * 2 <=
                    static_cast<std::size_t>(std::count(received.begin(), received.end(), '\n')),
                "every 200 answers a request line and its empty line");
    return 0;
}
