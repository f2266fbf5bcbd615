// secctx's own record framing (tls/record_framing.hpp) against a plain walk over the record
// headers and the promises the handshake and channel build on: only whole records are handed over,
// the missing count is exact (one byte fewer makes no progress, that many more does), a scan that
// stops early finds a prefix of the full scan, and the bytes after the whole records are left as
// they are for the next call.
//
// Input: two bytes for `enough` (0xFFFF: no limit), one byte choosing a prefix length, then the
// bytes to scan.
#include "input.hpp"

#include "secctx/tls/record_framing.hpp"

using namespace secctx;
using namespace secctx::tls;

namespace {

struct walk_result {
    std::size_t whole = 0;
    std::size_t missing = 0;
    bool not_tls = false;
    bool handshake_header = false;
    bool rejected = false; // stopped at a header the engine rejects alone
};

std::size_t at(std::span<const std::byte> in, std::size_t i) {
    return std::to_integer<std::size_t>(in[i]);
}

// RFC 8446 5.1 read literally: type, version major 3, 16-bit length, body.
walk_result walk(std::span<const std::byte> in, std::size_t enough) {
    walk_result w;
    while (w.whole < enough) {
        const std::size_t left = in.size() - w.whole;
        if (left < 5) {
            w.missing = left == 0 ? 0 : 5 - left;
            return w;
        }
        const std::size_t type = at(in, w.whole);
        const std::size_t length = at(in, w.whole + 3) * 256 + at(in, w.whole + 4);
        if (type >= 0x80) {
            w.not_tls = true;
            return w;
        }
        w.handshake_header = w.handshake_header || type == 22;
        if (at(in, w.whole + 1) != 3 || length > 16384 + 2048) {
            w.whole += 5;
            w.rejected = true;
            return w;
        }
        if (left < 5 + length) {
            w.missing = 5 + length - left;
            return w;
        }
        w.whole += 5 + length;
    }
    return w;
}

void same(const record_scan& scan, const walk_result& w, const char* what) {
    fuzz::check(scan.whole == w.whole && scan.missing == w.missing && scan.not_tls == w.not_tls,
                what);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::input in(data, size);
    const std::uint16_t limit = in.u16();
    const std::size_t enough = limit == 0xFFFF ? SIZE_MAX : limit;
    const std::uint8_t cut = in.byte();
    const auto bytes = in.rest();

    const record_scan full = scan_records(bytes);
    same(full, walk(bytes, SIZE_MAX), "scan_records matches the header walk");
    fuzz::check(full.whole <= bytes.size(), "whole <= size");
    fuzz::check(full.missing == 0 || (!full.not_tls && full.whole < bytes.size()),
                "bytes are missing only from a record that has begun");
    fuzz::check(!full.not_tls || (full.missing == 0 && full.whole < bytes.size()),
                "not_tls names a header that is there");
    fuzz::check(has_handshake_header(bytes.first(full.whole)) ==
                    walk(bytes.first(full.whole), SIZE_MAX).handshake_header,
                "has_handshake_header sees the handshake records among the whole ones");
    if (bytes.size() >= record_header_size) {
        const auto verdict = judge_header(bytes);
        const walk_result first = walk(bytes.first(record_header_size), 1);
        fuzz::check((verdict == header_verdict::not_tls) == first.not_tls &&
                        (verdict == header_verdict::engine_rejects) == first.rejected,
                    "judge_header agrees with the walk");
    }
    if (starts_with_hello_retry_request(bytes))
        fuzz::check(bytes[0] == std::byte{22} && bytes[5] == std::byte{2},
                    "a HelloRetryRequest is a ServerHello in a handshake record");

    // Stopping early gives a prefix of the full scan.
    const record_scan early = scan_records(bytes, enough);
    same(early, walk(bytes, enough), "an early stop matches the walk");
    fuzz::check(early.whole <= full.whole, "an early stop finds no more than the full scan");
    if (early.whole < full.whole)
        fuzz::check(early.whole >= enough, "a scan stops early only once it has enough");

    // The surplus after the whole records is left for the next call: scanning the whole records
    // alone finds them all and nothing missing.
    const record_scan whole_only = scan_records(bytes.first(full.whole));
    fuzz::check(whole_only.whole == full.whole && whole_only.missing == 0 && !whole_only.not_tls,
                "the whole records scan alone to themselves");

    // The missing count is exact, as bytes arrive.
    const std::size_t arrived = bytes.empty() ? 0 : cut * bytes.size() / 256;
    const record_scan partial = scan_records(bytes.first(arrived));
    fuzz::check(partial.whole <= full.whole, "more bytes never find fewer whole records");
    if (partial.missing != 0 && arrived + partial.missing <= bytes.size()) {
        const record_scan short_by_one = scan_records(bytes.first(arrived + partial.missing - 1));
        fuzz::check(short_by_one.whole == partial.whole,
                    "one byte fewer than missing: no progress");
        const record_scan completed = scan_records(bytes.first(arrived + partial.missing));
        fuzz::check(completed.whole > partial.whole || completed.not_tls || completed.missing != 0,
                    "the missing bytes complete the record or its header");
        if (arrived - partial.whole >= record_header_size)
            fuzz::check(completed.whole > partial.whole,
                        "the missing bytes of a record with its header complete it");
    }
    return 0;
}
