// TLS record framing, for TLS providers of any engine: find the whole records at the front of the
// input so that only whole records reach the engine, and compute the exact number of bytes missing
// from the first incomplete one (Schannel's SECBUFFER_MISSING). The loop itself knows nothing of
// records: framing is the provider's decision (a provider's token_header_size and missing_bytes),
// so a security package with other tokens fits the same loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace secctx::tls {

inline constexpr std::size_t record_header_size = 5;
// RFC 8446 5.1: the most plaintext a record carries (2^14).
inline constexpr std::size_t max_plaintext_size = 16384;
// RFC 8446 5.2 / RFC 5246 6.2.3: the largest ciphertext a record may carry (2^14 + 2048).
inline constexpr std::size_t max_record_body = max_plaintext_size + 2048;
// What protection adds to a record's plaintext at most, header included, with any cipher either
// engine negotiates (TLS 1.2 CBC: IV, MAC and up to 256 bytes of padding).
inline constexpr std::size_t max_record_expansion = record_header_size + 256;

enum class content_type : std::uint8_t {
    change_cipher_spec = 20,
    alert = 21,
    handshake = 22,
    application_data = 23,
};

struct record_scan {
    std::size_t whole = 0;   // bytes of whole records at the front, ready for the engine
    std::size_t missing = 0; // bytes still missing from the first incomplete record; 0 if none
    bool not_tls = false;    // after `whole`: a header no TLS peer can send
};

inline std::size_t record_body_size(std::span<const std::byte> header) noexcept {
    return (std::to_integer<std::size_t>(header[3]) << 8) | std::to_integer<std::size_t>(header[4]);
}

enum class header_verdict {
    record,         // wait for the whole record, then hand it over (an unknown content type too:
                    // the engine rejects it with its own reason and alert once it has the body)
    engine_rejects, // a major version that is not TLS's, or a length over the protocol's limit:
                    // the engine rejects the header alone, so it is handed over without waiting
                    // for a body that should never be read
    not_tls,        // a first byte with the high bit set: no TLS content type has it, and engines
                    // would read it as an SSL 2 header, so it is refused without the engine
};

inline header_verdict judge_header(std::span<const std::byte> header) noexcept {
    if ((header[0] & std::byte{0x80}) != std::byte{0})
        return header_verdict::not_tls;
    if (header[1] != std::byte{3} || record_body_size(header) > max_record_body)
        return header_verdict::engine_rejects;
    return header_verdict::record;
}

// Stops once `enough` bytes of whole records are found, so that a large input is not walked
// again on every call.
inline record_scan scan_records(std::span<const std::byte> input,
                                std::size_t enough = SIZE_MAX) noexcept {
    record_scan scan;
    while (scan.whole < enough) {
        const auto rest = input.subspan(scan.whole);
        if (rest.size() < record_header_size) {
            scan.missing = rest.empty() ? 0 : record_header_size - rest.size();
            return scan;
        }
        switch (judge_header(rest)) {
        case header_verdict::record:
            break;
        case header_verdict::engine_rejects:
            scan.whole += record_header_size;
            return scan;
        case header_verdict::not_tls:
            scan.not_tls = true;
            return scan;
        }
        const std::size_t record = record_header_size + record_body_size(rest);
        if (rest.size() < record) {
            scan.missing = record - rest.size();
            return scan;
        }
        scan.whole += record;
    }
    return scan;
}

// Whether `taken`, bytes an engine read from a record boundary on, includes the header of a
// handshake record (the body need not follow: an engine may reject a record by its header).
inline bool has_handshake_header(std::span<const std::byte> taken) noexcept {
    for (std::size_t at = 0; at + record_header_size <= taken.size();
         at += record_header_size + record_body_size(taken.subspan(at)))
        if (taken[at] == std::byte{static_cast<std::uint8_t>(content_type::handshake)})
            return true;
    return false;
}

// RFC 8446 4.1.3: a HelloRetryRequest is a ServerHello whose random is
// SHA-256("HelloRetryRequest"). True when `records` starts with a plaintext record holding one.
inline bool starts_with_hello_retry_request(std::span<const std::byte> records) noexcept {
    static constexpr std::uint8_t magic[32] = {0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11,
                                               0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
                                               0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E,
                                               0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C};
    constexpr std::size_t random_offset = record_header_size + 4 + 2;
    if (records.size() < random_offset + sizeof magic ||
        records[0] != std::byte{static_cast<std::uint8_t>(content_type::handshake)} ||
        records[record_header_size] != std::byte{2})
        return false;
    for (std::size_t i = 0; i < sizeof magic; ++i)
        if (records[random_offset + i] != std::byte{magic[i]})
            return false;
    return true;
}

} // namespace secctx::tls
