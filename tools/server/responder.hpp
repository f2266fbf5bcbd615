// What `secctx server` answers to the plaintext its connections receive: the bytes themselves
// (--mode echo), or an HTTP/1.x response per request (--mode http). A header of its own, without
// TLS, because two programs share it: the server, and the fuzz target fuzz/http_request.cpp,
// which feeds it arbitrary requests cut into arbitrary reads.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace secctx::tool {

enum class mode { echo, http };

inline bool equal_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return (x | 0x20) == (y | 0x20);
           });
}

inline bool contains_ignoring_case(std::string_view text, std::string_view word) {
    for (std::size_t i = 0; i + word.size() <= text.size(); ++i)
        if (equal_ignoring_case(text.substr(i, word.size()), word))
            return true;
    return false;
}

// A response per HTTP request, in the order the requests came (pipelining), whatever reads they
// came in: the answer depends only on the bytes, never on where the reads were cut.
//
// Framing (RFC 9112 2.2): a line ends with LF, and a CR right before that LF belongs to the line
// end, so CRLF, bare LF and any mix of them are accepted, as nginx and `openssl s_server -www` do;
// clients and test suites (tlsfuzzer) send "GET / HTTP/1.0\n\n". A head ends with its first empty
// line; empty lines before the request line are ignored (a client may send one after a body),
// though they count towards the head limit. A CR that is not followed by LF is not a line end: the
// RFC has the recipient either reject the element or read the CR as a space, and a request that
// has one anywhere in its head is refused (400), which is the simpler of the two and cannot make
// the server read a header differently from a proxy in front of it.
class responder {
public:
    // A request head longer than this (counted from where the request before it ended, body
    // included, so with any empty lines before it, through its own empty line) is refused: a peer
    // that never ends its head cannot make the server buffer without bound.
    static constexpr std::size_t max_request_head = std::size_t{16} * 1024;

    // `head_limit` other than max_request_head only lets the fuzz target reach the limit with
    // short inputs.
    explicit responder(mode m, std::size_t head_limit = max_request_head)
        : mode_(m), head_limit_(head_limit) {}

    // The identity the server mapped the client's certificate to (--client-map): named in every
    // answer's body from now on.
    void identify_client(std::string identity) { client_ = std::move(identity); }

    // Appends the answer to `received` to `out`; true when the connection should close after
    // it. Once it has been true, later bytes get no answer: the request that closed was the last.
    bool answer(std::string_view received, std::string& out) {
        if (mode_ == mode::echo) {
            out.append(received);
            return false;
        }
        if (closed_)
            return true;
        requests_.append(received);
        std::size_t at = 0;
        while (!closed_) {
            // A request body (Content-Length) is read and ignored: it must not be taken for the
            // next request.
            const std::size_t skipped = std::min(body_left_, requests_.size() - at);
            at += skipped;
            body_left_ -= skipped;
            if (body_left_ != 0)
                break;
            const std::string_view region = std::string_view(requests_).substr(at, head_limit_);
            const std::size_t end = head_end(region);
            if (end == std::string_view::npos) {
                // A limit's worth of bytes is here and none ends the head: more bytes cannot
                // change that, so the refusal does not depend on how the reads were cut.
                if (region.size() == head_limit_)
                    closed_ = refuse("431 Request Header Fields Too Large", out);
                break;
            }
            closed_ = respond(region.substr(head_begin_, end - head_begin_), out);
            at += end;
            head_begin_ = line_begin_ = searched_ = 0;
        }
        if (closed_)
            requests_.clear(); // what came after the last answer is never read
        else
            requests_.erase(0, at);
        if (requests_.empty() && requests_.capacity() > head_limit_)
            requests_.shrink_to_fit(); // an idle connection keeps no large buffer
        return closed_;
    }

    // The bytes held between calls: the start of a head that has not ended yet, always less
    // than the head limit.
    std::size_t buffered() const noexcept { return requests_.size(); }

private:
    // Where the head that `region` begins with ends (past its empty line), or npos while it has
    // not ended. The search goes on where the previous call's stopped, so a head that comes a
    // byte at a time is still searched once; what it has learnt of the lines before stays in
    // head_begin_ (where the request line begins, after the empty lines before it) and
    // line_begin_ (where the line the search is in begins).
    std::size_t head_end(std::string_view region) {
        for (std::size_t lf = region.find('\n', searched_); lf != std::string_view::npos;
             lf = region.find('\n', line_begin_)) {
            const std::size_t line = line_begin_;
            line_begin_ = lf + 1;
            const bool empty = lf == line || (lf == line + 1 && region[line] == '\r');
            if (!empty)
                continue;
            if (line != head_begin_)
                return line_begin_;
            head_begin_ = line_begin_; // an empty line before the request line
        }
        searched_ = region.size();
        return std::string_view::npos;
    }

    // The line of `head` that begins at `at`, without its line end; `at` moves past it. Every
    // line of a head ends with LF.
    static std::string_view next_line(std::string_view head, std::size_t& at) {
        const std::size_t lf = head.find('\n', at);
        std::string_view line = head.substr(at, lf - at);
        at = lf + 1;
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        return line;
    }

    // An answer that ends the connection, for a request the server will not serve.
    static bool refuse(std::string_view status, std::string& out) {
        out += "HTTP/1.1 ";
        out += status;
        out += "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return true;
    }

    static std::string_view trimmed(std::string_view value) {
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
            value.remove_suffix(1);
        return value;
    }

    // `head`: the request line through the empty line that ends the head.
    bool respond(std::string_view head, std::string& out) {
        std::size_t at = 0;
        const std::string_view request_line = next_line(head, at);
        const std::size_t target_begin = request_line.find(' ');
        const std::size_t target_end = target_begin == std::string_view::npos
                                           ? std::string_view::npos
                                           : request_line.find(' ', target_begin + 1);
        if (target_end == std::string_view::npos ||
            request_line.find('\r') != std::string_view::npos)
            return refuse("400 Bad Request", out);
        const bool http10 = request_line.ends_with("HTTP/1.0");
        bool close = http10;
        // Where the body ends decides where the next request begins: a length that does not
        // parse, two that disagree, or a body in chunks (not implemented here) would make the
        // server answer requests that were never sent, so each ends the connection instead.
        std::optional<std::size_t> body;
        for (std::string_view line = next_line(head, at); !line.empty();
             line = next_line(head, at)) {
            if (line.find('\r') != std::string_view::npos)
                return refuse("400 Bad Request", out);
            // RFC 9112 5.1 and 5.2: whitespace between a field's name and its colon MUST get 400,
            // and so may a folded line (obs-fold); a line with no colon is no field at all.
            // Skipping any of them could skip a Content-Length, and then a body would be answered
            // as a request.
            const std::size_t colon = line.find(':');
            if (colon == std::string_view::npos || colon == 0 || line.front() == ' ' ||
                line.front() == '\t')
                return refuse("400 Bad Request", out);
            const std::string_view name = line.substr(0, colon);
            if (name.find_first_of(" \t") != std::string_view::npos)
                return refuse("400 Bad Request", out);
            const std::string_view value = trimmed(line.substr(colon + 1));
            if (equal_ignoring_case(name, "connection") && contains_ignoring_case(value, "close")) {
                close = true;
            } else if (equal_ignoring_case(name, "content-length")) {
                std::size_t length = 0;
                const auto [end, ec] =
                    std::from_chars(value.data(), value.data() + value.size(), length);
                if (ec != std::errc() || end != value.data() + value.size() || value.empty() ||
                    (body && *body != length))
                    return refuse("400 Bad Request", out);
                body = length;
            } else if (equal_ignoring_case(name, "transfer-encoding")) {
                return refuse("501 Not Implemented", out);
            }
        }
        body_left_ = body.value_or(0);
        // Built once for "/", the target load generators ask for; any other target is named in
        // the body, so that a client can tell which request an answer is for.
        static const std::string keep_alive = response("HTTP/1.1", false, {});
        static const std::string closing11 = response("HTTP/1.1", true, {});
        static const std::string closing10 = response("HTTP/1.0", true, {});
        const std::string_view target =
            request_line.substr(target_begin + 1, target_end - (target_begin + 1));
        if (target == "/" && client_.empty())
            out += http10 ? closing10 : close ? closing11 : keep_alive;
        else
            out += response(http10 ? "HTTP/1.0" : "HTTP/1.1", close, target == "/" ? "" : target,
                            client_);
        return close;
    }

    static std::string response(std::string_view version, bool close, std::string_view target,
                                std::string_view client = {}) {
        const std::string body =
            (target.empty() ? std::string("hello from secctx\n")
                            : "hello from secctx: " + std::string(target) + "\n") +
            (client.empty() ? std::string() : "client identity: " + std::string(client) + "\n");
        return std::string(version) +
               " 200 OK\r\nServer: secctx\r\nContent-Type: text/plain\r\nContent-Length: " +
               std::to_string(body.size()) + (close ? "\r\nConnection: close" : "") + "\r\n\r\n" +
               body;
    }

    mode mode_;
    std::size_t head_limit_;
    std::string client_;
    std::string requests_;
    std::size_t body_left_ = 0;
    bool closed_ = false;
    // The search for the end of the head at the front of requests_, as far as it went.
    std::size_t head_begin_ = 0;
    std::size_t line_begin_ = 0;
    std::size_t searched_ = 0;
};

} // namespace secctx::tool
