// The provider policy: the security package (Schannel's role in SSPI). It owns the partial and
// then the established context, consumes the peer's token bytes and produces ours. The loop
// (handshake.hpp, channel.hpp) knows only this file: how tokens are framed is the provider's
// decision, and no engine's header is reachable from the core. The engines secctx ships are in
// secctx/openssl.hpp and secctx/gnutls.hpp; docs/engines.md shows how to write another.
//
// Requirements, for a provider type P, a provider p (const cp) and a buffer policy b:
//   P(creds, kind, server_name) and P(creds, kind), noexcept, where creds is a
//       const P::credentials_type& (AcquireCredentialsHandle's result, shared by connections):
//       the constructors basic_client and basic_server call (roles.hpp). A failure to set up is
//       kept and returned by the first handshake().
//   P::token_header_size: the bytes that tell how long the peer's first token is (a TLS record
//       header, 5); the loop reads at least these before the first call of a server.
//   p.handshake(b) -> provider_result, noexcept. One InitializeSecurityContext /
//       AcceptSecurityContext call. Reads whole tokens (TLS records) from the front of b.input()
//       and consume()s exactly the bytes the engine processed; a trailing incomplete record and any
//       surplus stay in b.input(), untouched. Appends the token to send (whole records) to
//       b.output(). Returns:
//         ok                 the context is established; what is left in b.input() is application
//                            data (or post-handshake messages) and belongs to the secure channel;
//         continue_needed    send the output, then call again with the peer's next token;
//         incomplete_message b.input() holds part of a record; missing_bytes says exactly how many
//                            more bytes complete it; call again once they are there;
//         verdict_needed     the validator deferred its verdict on the peer's certificate
//                            (verdict::later()): call again once it is given; until then every
//                            call returns verdict_needed at once. Only from providers with the
//                            deferred_verdicts capability;
//         certificate_needed a client's certificate selector deferred its choice
//                            (certificate_choice::later(), SEC_I_INCOMPLETE_CREDENTIALS): call
//                            again once it is given; until then every call returns
//                            certificate_needed at once. Only from providers with the
//                            deferred_certificate_choice capability;
//         error              the context is destroyed (DeleteSecurityContext); `error` says why and
//                            b.output() may hold the alert owed to the peer. Every later call
//                            returns the same error.
//       A token the engine makes that b.output() cannot hold (errc::token_too_large) is
//       discarded, never sent in part; b.output() then holds only the alert for the peer.
//   p.abandon(ec)      noexcept: the loop failed for its own reason (a limit, the
//                      transport); destroy the context now. Every later handshake() returns `ec`.
//   p.reject_record(b, ec) -> provider_result, noexcept: the peer's next record is larger than
//       b.input() can ever hold (ec is errc::token_too_large). Destroys the context as abandon(ec)
//       does, and appends to b.output() the alert owed to the peer (record_overflow, protected as
//       the connection's state requires) if the engine can make one. Returns error with `ec`.
//   cp.error_detail()  -> std::string: the engine's own words for the last error (OpenSSL's reason
//                         string, the certificate verification result), empty if none.
//   cp.protocol(), cp.cipher(), cp.alpn() -> std::string_view: negotiated values, empty if none.
//   cp.resumed()       -> bool: whether the handshake resumed an earlier session.
#pragma once

#include "secctx/attributes.hpp"
#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/certificate_selection.hpp"
#include "secctx/error.hpp"
#include "secctx/peer_validation.hpp"

#include <concepts>
#include <cstddef>
#include <memory>
#include <span>
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
    verdict_needed,     // the application's verdict on the peer's certificate is awaited
    certificate_needed, // SEC_I_INCOMPLETE_CREDENTIALS: the client's choice of certificate
    context_expired,    // SEC_I_CONTEXT_EXPIRED: the peer's close_notify arrived (decrypt only)
};

struct provider_result {
    provider_status status = provider_status::continue_needed;
    std::size_t missing_bytes = 0;
    std::error_code error;
};

// clang-format off
struct decrypt_result {
    provider_status status = provider_status::continue_needed;
    std::size_t bytes = 0; // plaintext written, with ok
    std::size_t missing_bytes = 0;
    std::error_code error;
};

template <class P, class B>
concept security_provider =
    buffer_policy<B> && std::movable<P> &&
    requires(P& p, const P& cp, B& b, std::error_code ec) {
    typename P::credentials_type;
    { P::token_header_size } -> std::convertible_to<std::size_t>;
    { p.handshake(b) } noexcept -> std::same_as<provider_result>;
    { p.abandon(ec) } noexcept;
    { p.reject_record(b, ec) } noexcept -> std::same_as<provider_result>;
    { cp.error_detail() } -> std::same_as<std::string>;
    { cp.protocol() } noexcept -> std::same_as<std::string_view>;
    { cp.cipher() } noexcept -> std::same_as<std::string_view>;
    { cp.alpn() } noexcept -> std::same_as<std::string_view>;
    { cp.resumed() } noexcept -> std::same_as<bool>;
};
// clang-format on

// What the secure channel needs on top of the handshake (EncryptMessage, DecryptMessage,
// ApplyControlToken), for a provider p (const cp) whose handshake is done, and buffers b:
//   P::max_message_size: the most plaintext one protected message (record) carries (16384);
//   P::max_message_expansion: the most protection adds to one message, framing included.
//   p.encrypt(plaintext, b) -> provider_result: all of `plaintext` becomes records appended to
//       b.output() (at most 16 KiB of plaintext per record); ok or error.
//   p.decrypt(b, into) -> decrypt_result: plaintext from the whole records at the front of
//       b.input() into `into` (ok, bytes > 0; ok with 0 only for an empty `into`); continue_needed
//       / incomplete_message as in handshake(); context_expired once the peer's close_notify is
//       read (bytes after it stay in b.input()); error. Post-handshake messages are handled inside,
//       and what they owe the peer is appended to b.output().
//   p.close(b) -> provider_result: appends close_notify to b.output().
//   p.update_keys(b, request_peer) -> provider_result: a TLS 1.3 KeyUpdate in b.output().
//   p.release_memory() noexcept: the connection is idle; the engine gives back the memory it
//       can make again when the next record comes (its own record buffers).
//   cp.pending_plaintext() -> std::size_t: plaintext decrypted and not yet handed out.
//   cp.closed_by_peer() -> bool: the peer's close_notify has been read.
//   query_attributes(cp) -> connection_attributes, found by argument-dependent lookup in the
//       provider's namespace (QueryContextAttributes).
// clang-format off
template <class P, class B>
concept record_protection =
    security_provider<P, B> &&
    requires(P& p, const P& cp, B& b, std::span<const std::byte> plaintext,
             std::span<std::byte> into, bool request_peer) {
    { P::max_message_size } -> std::convertible_to<std::size_t>;
    { P::max_message_expansion } -> std::convertible_to<std::size_t>;
    { p.encrypt(plaintext, b) } noexcept -> std::same_as<provider_result>;
    { p.decrypt(b, into) } noexcept -> std::same_as<decrypt_result>;
    { p.close(b) } noexcept -> std::same_as<provider_result>;
    { p.update_keys(b, request_peer) } noexcept -> std::same_as<provider_result>;
    { p.release_memory() } noexcept;
    { cp.pending_plaintext() } noexcept -> std::same_as<std::size_t>;
    { cp.closed_by_peer() } noexcept -> std::same_as<bool>;
    { query_attributes(cp) } -> std::same_as<connection_attributes>;
};
// clang-format on

// What basic_channel::receive_session_tickets() needs on top of record_protection:
//   p.process_post_handshake(b) -> provider_result: the post-handshake messages in the whole
//       records at the front of b.input(), without handing out application data (a record of it
//       stays decrypted in the engine for the next decrypt()); ok when plaintext is waiting or no
//       ticket can come any more; otherwise as decrypt().
//   cp.tickets_received() -> unsigned: sessions (tickets) the peer gave this connection so far.
// clang-format off
template <class P, class B>
concept post_handshake_processing =
    record_protection<P, B> && requires(P& p, const P& cp, B& b) {
    { p.process_post_handshake(b) } noexcept -> std::same_as<provider_result>;
    { cp.tickets_received() } noexcept -> std::same_as<unsigned>;
};
// clang-format on

// A capability: the provider can pause a handshake until the application's deferred verdict on
// the peer's certificate (verdict::later()) is given, from any thread. For a const provider cp:
//   cp.verdicts() -> const std::shared_ptr<detail::verdict_slot>&: the slot this connection's
//       verdict is given through (null when its credentials have no validator). The provider
//       opens it (await) when the validator defers, returns verdict_needed until a verdict is
//       given, uses it on the next handshake() call, and closes it when the context ends.
// basic_handshake::pending() exists only for such providers: on another, asking for a deferred
// verdict fails to compile, naming this concept.
// clang-format off
template <class P>
concept deferred_verdicts = requires(const P& cp) {
    { cp.verdicts() } noexcept -> std::same_as<const std::shared_ptr<detail::verdict_slot>&>;
};
// clang-format on

// A capability: the provider can pause a client's handshake until the application's deferred
// choice of certificate (certificate_choice::later()) is given, from any thread. For a const
// provider cp:
//   cp.certificate_choices() -> const std::shared_ptr<detail::certificate_slot>&: the slot this
//       connection's choice is given through (null when its credentials have nothing to choose
//       from). The provider opens it (await) when the selector defers, returns
//       certificate_needed until a choice is given, uses it on the next handshake() call, and
//       closes it when the context ends.
// basic_handshake::pending_certificate() exists only for such providers: on another, asking for
// a deferred choice fails to compile, naming this concept.
// clang-format off
template <class P>
concept deferred_certificate_choice = requires(const P& cp) {
    { cp.certificate_choices() } noexcept
        -> std::same_as<const std::shared_ptr<detail::certificate_slot>&>;
};
// clang-format on

} // namespace secctx
