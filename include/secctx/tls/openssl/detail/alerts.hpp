// How secctx gets OpenSSL to write the alerts only it can protect. OpenSSL has no call that sends
// an arbitrary alert, so the provider shows the engine input that makes it send the one owed.
#pragma once

#include "secctx/tls/record_framing.hpp"

#include <cstddef>

namespace secctx::openssl::detail {

// For record_overflow (the peer's record can never fit the buffer policy): a record header whose
// length is beyond any the engine accepts. OpenSSL answers it with its own record_overflow alert,
// in plaintext or under the keys in use. The type (application data) passes its checks in every
// state, so the header is refused for its length alone.
inline constexpr std::byte oversized_record_header[tls::record_header_size] = {
    std::byte{0x17}, std::byte{0x03}, std::byte{0x03}, std::byte{0xff}, std::byte{0xff}};

} // namespace secctx::openssl::detail
