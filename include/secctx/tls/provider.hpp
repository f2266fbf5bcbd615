// The provider policy: the security package (Schannel's role in SSPI). It owns the partial and
// then the established context, consumes the peer's token bytes and produces ours. OpenSSL is the
// default engine (secctx/tls/openssl/provider.hpp); nothing outside an engine's own headers names
// the engine's types.
//
// Requirements, for a provider p (const cp) and a buffer policy b:
//   p.handshake(b) -> provider_result, noexcept. One InitializeSecurityContext /
//       AcceptSecurityContext call. Reads whole TLS records from the front of b.input() and
//       consume()s exactly the bytes the engine processed; a trailing incomplete record and any
//       surplus stay in b.input(), untouched. Appends the token to send (whole records) to
//       b.output(). Returns:
//         ok                 the context is established; what is left in b.input() is application
//                            data (or post-handshake messages) and belongs to the secure channel;
//         continue_needed    send the output, then call again with the peer's next token;
//         incomplete_message b.input() holds part of a record; missing_bytes says exactly how many
//                            more bytes complete it; call again once they are there;
//         error              the context is destroyed (DeleteSecurityContext); `error` says why and
//                            b.output() may hold the alert owed to the peer. Every later call
//                            returns the same error.
//   p.abandon(ec)      noexcept: the loop failed for its own reason (a limit, the
//                      transport); destroy the context now. Every later handshake() returns `ec`.
//   cp.error_detail()  -> std::string: the engine's own words for the last error (OpenSSL's reason
//                         string, the certificate verification result), empty if none.
//   cp.protocol(), cp.cipher(), cp.alpn() -> std::string_view: negotiated values, empty if none.
//   cp.resumed()       -> bool: whether the handshake resumed an earlier session.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/error.hpp"

#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <system_error>

namespace secctx {

// The return codes of the source document.
enum class provider_status {
    ok,                 // SEC_E_OK
    continue_needed,    // SEC_I_CONTINUE_NEEDED
    incomplete_message, // SEC_E_INCOMPLETE_MESSAGE (+ SECBUFFER_MISSING)
    error,              // anything else: DeleteSecurityContext
};

struct provider_result {
    provider_status status = provider_status::continue_needed;
    std::size_t missing_bytes = 0;
    std::error_code error;
};

// clang-format off
template <class P, class B>
concept security_provider =
    buffer_policy<B> && requires(P& p, const P& cp, B& b, std::error_code ec) {
    { p.handshake(b) } noexcept -> std::same_as<provider_result>;
    { p.abandon(ec) } noexcept;
    { cp.error_detail() } -> std::same_as<std::string>;
    { cp.protocol() } noexcept -> std::same_as<std::string_view>;
    { cp.cipher() } noexcept -> std::same_as<std::string_view>;
    { cp.alpn() } noexcept -> std::same_as<std::string_view>;
    { cp.resumed() } noexcept -> std::same_as<bool>;
};
// clang-format on

} // namespace secctx
