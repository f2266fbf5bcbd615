// The GnuTLS provider: TLS 1.2 and 1.3 through one gnutls_session_t per connection, reading from
// and writing to the buffer policy's memory through its push and pull functions
// (detail/transport.hpp). The same statuses, errors and guarantees as the OpenSSL provider.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/detail/peer_judgement.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/alert.hpp"
#include "secctx/tls/gnutls/credentials.hpp"
#include "secctx/tls/gnutls/detail/describe.hpp"
#include "secctx/tls/gnutls/detail/error_mapping.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"
#include "secctx/tls/gnutls/detail/transport.hpp"
#include "secctx/tls/provider.hpp"
#include "secctx/tls/record_framing.hpp"

#include <gnutls/gnutls.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace secctx::gnutls {

class provider {
public:
    using credentials_type = credentials;
    static constexpr std::size_t token_header_size = tls::record_header_size;
    static constexpr std::size_t max_message_size = tls::max_plaintext_size;
    static constexpr std::size_t max_message_expansion = tls::max_record_expansion;

    // For a client, `server_name` is sent as SNI (unless it is an IP address) and the server's
    // certificate is verified against it; it is required when the credentials verify the peer.
    provider(const credentials& creds, role_kind kind, std::string_view server_name = {}) noexcept
        : credentials_(creds) {
        if (!creds) {
            error_ = errc::invalid_state;
            return;
        }
        if (creds.kind() != kind) {
            error_ = errc::invalid_configuration;
            return;
        }
        auto& s = *creds.state_;
        // A TLS 1.3 server's tickets wait for the client's Finished (handshake_done()), as
        // OpenSSL's do: sent with the server's flight, they would make both ends write at once,
        // which two small transport buffers cannot take.
        const unsigned flags =
            (kind == role_kind::client ? GNUTLS_CLIENT
                                       : GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET) |
            GNUTLS_NONBLOCK | GNUTLS_NO_SIGNAL | no_status_request(kind, s.ocsp);
        gnutls_session_t session = nullptr;
        if (gnutls_init(&session, flags) != GNUTLS_E_SUCCESS) {
            error_ = errc::out_of_memory;
            return;
        }
        session_.reset(session);
        gnutls_session_set_ptr(session, &s);
        // GnuTLS bounds the whole transcript it keeps (128 KiB by default), OpenSSL each message
        // (a ClientHello of 131,396 bytes, a certificate list of 102,400): room for the largest
        // of both, so that the engines accept the same peers.
        gnutls_handshake_set_max_packet_length(session, max_handshake_transcript);
        detail::attach_callbacks(session);
        if (gnutls_priority_set(session, s.priority.get()) < 0 ||
            gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, s.certificates.get()) < 0) {
            session_.reset();
            error_ = errc::out_of_memory;
            return;
        }
        if (s.key_log)
            gnutls_session_set_keylog_function(session, credentials::on_key_log);
        if (s.verify_peer)
            gnutls_session_set_verify_function(session, on_verify);
        if (s.validation.enabled() || s.identity.enabled()) {
            judgement_ = std::unique_ptr<secctx::detail::peer_judgement>(
                new (std::nothrow) secctx::detail::peer_judgement);
            if (!judgement_) {
                session_.reset();
                error_ = errc::out_of_memory;
                return;
            }
            judgement_->validation = &s.validation;
            judgement_->mapping = &s.identity;
        }
        if (kind == role_kind::client && s.candidates.enabled()) {
            chooser_ = std::unique_ptr<detail::certificate_chooser>(
                new (std::nothrow) detail::certificate_chooser);
            if (!chooser_) {
                session_.reset();
                error_ = errc::out_of_memory;
                return;
            }
            chooser_->candidates = &s.candidates;
            try {
                chooser_->server_name = server_name;
            } catch (...) {
                session_.reset();
                error_ = errc::out_of_memory;
                return;
            }
        }
        if (!s.alpn_datums.empty()) {
            unsigned alpn_flags = 0;
            if (kind == role_kind::server)
                alpn_flags = GNUTLS_ALPN_SERVER_PRECEDENCE |
                             (s.proceed_without_common_alpn ? 0u : unsigned{GNUTLS_ALPN_MANDATORY});
            gnutls_alpn_set_protocols(session, s.alpn_datums.data(),
                                      static_cast<unsigned>(s.alpn_datums.size()), alpn_flags);
        }
        const auto ec =
            kind == role_kind::server ? set_up_server(s) : set_up_client(s, server_name);
        if (ec) {
            session_.reset();
            error_ = ec;
        }
    }

    provider(provider&& other) noexcept = default;
    provider& operator=(provider&& other) noexcept {
        if (this != &other) {
            end_session({});
            // Every member is moved; nothing of this connection is left to end.
            std::destroy_at(this);
            std::construct_at(this, std::move(other));
        }
        return *this;
    }
    ~provider() { end_session({}); }

    template <buffer_policy Buffers>
    provider_result handshake(Buffers& buffers) noexcept {
        if (!session_)
            return {provider_status::error, 0, error_};
        if (awaiting_verdict())
            return {provider_status::verdict_needed, 0, {}};
        for (;;) {
            const auto scan = tls::scan_records(buffers.input().data());
            if (scan.whole == 0 && buffers.input().size() != 0)
                return need_input(buffers, scan);
            const auto call = engine_call(buffers, scan.whole,
                                          [this] { return gnutls_handshake(session_.get()); });
            if (call.rc == GNUTLS_E_SUCCESS) {
                if (const auto tickets = handshake_done(buffers); tickets.rc < 0)
                    return fail(buffers, tickets);
                return {provider_status::ok, 0, {}};
            }
            if (call.write_error == errc::token_too_large)
                return refuse_flight(buffers);
            // The verify function deferred: GnuTLS runs it again when the handshake is called.
            if (call.rc == GNUTLS_E_AGAIN && !call.write_error && awaiting_verdict())
                return {provider_status::verdict_needed, 0, {}};
            // GnuTLS returns after each record of a message that spans several: the rest, if
            // here, goes in at once.
            if (call.rc == GNUTLS_E_AGAIN && !call.write_error && call.consumed != 0 &&
                tls::scan_records(buffers.input().data(), 1).whole != 0)
                continue;
            if (call.rc == GNUTLS_E_AGAIN && !call.write_error)
                return need_input(buffers, tls::scan_records(buffers.input().data()));
            if (call.write_error || gnutls_error_is_fatal(call.rc) != 0)
                return fail(buffers, call);
            // A warning alert, an interrupted call: the handshake goes on.
        }
    }

    template <buffer_policy Buffers>
    provider_result reject_record(Buffers& buffers, std::error_code ec) noexcept {
        if (!session_)
            return {provider_status::error, 0, error_};
        engine_call(buffers, 0, [this] {
            return gnutls_alert_send(session_.get(), GNUTLS_AL_FATAL, GNUTLS_A_RECORD_OVERFLOW);
        });
        abandon(ec);
        return {provider_status::error, 0, error_};
    }

    // EncryptMessage: all of `plaintext` becomes records (of at most 16 KiB of plaintext each)
    // appended to buffers.output().
    template <buffer_policy Buffers>
    provider_result encrypt(std::span<const std::byte> plaintext, Buffers& buffers) noexcept {
        if (!session_)
            return {provider_status::error, 0, error_};
        while (!plaintext.empty()) {
            const std::size_t n = std::min(plaintext.size(), max_message_size);
            const auto call = engine_call(buffers, 0, [&] {
                return static_cast<int>(gnutls_record_send(session_.get(), plaintext.data(), n));
            });
            if (call.rc <= 0 || call.write_error)
                return fail(buffers, call);
            plaintext = plaintext.subspan(static_cast<std::size_t>(call.rc));
        }
        return {provider_status::ok, 0, {}};
    }

    // DecryptMessage: plaintext from the whole records at the front of buffers.input() into
    // `into`. Post-handshake messages (NewSessionTicket, KeyUpdate) are handled on the way; what
    // they owe the peer (a KeyUpdate answer) is appended to buffers.output().
    template <buffer_policy Buffers>
    decrypt_result decrypt(Buffers& buffers, std::span<std::byte> into) noexcept {
        if (!session_)
            return {provider_status::error, 0, 0, error_};
        if (into.empty() || closed_by_peer_)
            return {
                closed_by_peer_ ? provider_status::context_expired : provider_status::ok, 0, 0, {}};
        if (held_)
            return {provider_status::ok, take_held(into), 0, {}};
        for (;;) {
            const auto scan = tls::scan_records(buffers.input().data(), decrypt_window);
            if (scan.whole == 0 && gnutls_record_check_pending(session_.get()) == 0) {
                const auto need = need_input(buffers, scan);
                return {need.status, 0, need.missing_bytes, need.error};
            }
            const auto call = engine_call(buffers, scan.whole, [&] {
                return static_cast<int>(
                    gnutls_record_recv(session_.get(), into.data(), into.size()));
            });
            // TLS 1.2 has no handshake message after the handshake but renegotiation, which
            // secctx refuses, as with the OpenSSL provider: the connection ends.
            if (call.read_handshake_record &&
                gnutls_protocol_get_version(session_.get()) == GNUTLS_TLS1_2)
                return refuse_renegotiation(buffers);
            if (call.rc > 0 && !call.write_error)
                return {provider_status::ok, static_cast<std::size_t>(call.rc), 0, {}};
            if (call_again(buffers, call))
                continue;
            const auto r = after_record_call(buffers, call);
            return {r.status, 0, r.missing_bytes, r.error};
        }
    }

    // ApplyControlToken(SCHANNEL_SHUTDOWN): appends close_notify to buffers.output().
    template <buffer_policy Buffers>
    provider_result close(Buffers& buffers) noexcept {
        if (!session_)
            return {provider_status::error, 0, error_};
        const auto call =
            engine_call(buffers, 0, [this] { return gnutls_bye(session_.get(), GNUTLS_SHUT_WR); });
        if (call.rc == GNUTLS_E_SUCCESS && !call.write_error) {
            sent_close_ = true;
            return {provider_status::ok, 0, {}};
        }
        return fail(buffers, call);
    }

    // TLS 1.3 KeyUpdate: our sending keys change now; with `request_peer`, the peer is asked to
    // change its own. errc::invalid_state under TLS 1.2.
    template <buffer_policy Buffers>
    provider_result update_keys(Buffers& buffers, bool request_peer) noexcept {
        if (!session_)
            return {provider_status::error, 0, error_};
        if (gnutls_protocol_get_version(session_.get()) != GNUTLS_TLS1_3)
            return {provider_status::error, 0, errc::invalid_state};
        const auto call = engine_call(buffers, 0, [&] {
            return gnutls_session_key_update(session_.get(), request_peer ? GNUTLS_KU_PEER : 0);
        });
        if (call.rc == GNUTLS_E_SUCCESS && !call.write_error)
            return {provider_status::ok, 0, {}};
        return fail(buffers, call);
    }

    // GnuTLS frees its record buffers as each record is used; nothing more to give back.
    void release_memory() noexcept {}

    // The post-handshake messages in the whole records at the front of buffers.input(), without
    // handing out application data: a record of it is kept, decrypted, for the next decrypt().
    template <buffer_policy Buffers>
    provider_result process_post_handshake(Buffers& buffers) noexcept {
        if (!session_)
            return {provider_status::error, 0, error_};
        if (closed_by_peer_)
            return {provider_status::context_expired, 0, {}};
        if (pending_plaintext() != 0 ||
            gnutls_protocol_get_version(session_.get()) != GNUTLS_TLS1_3)
            return {provider_status::ok, 0, {}};
        for (;;) {
            const auto scan = tls::scan_records(buffers.input().data());
            if (scan.whole == 0)
                return need_input(buffers, scan);
            gnutls_packet_t packet = nullptr;
            const auto call = engine_call(buffers, scan.whole, [&] {
                return static_cast<int>(gnutls_record_recv_packet(session_.get(), &packet));
            });
            if (call.rc > 0 && !call.write_error) {
                held_.reset(packet);
                held_offset_ = 0;
                return {provider_status::ok, 0, {}};
            }
            if (packet != nullptr)
                gnutls_packet_deinit(packet);
            if (call_again(buffers, call))
                continue;
            return after_record_call(buffers, call);
        }
    }

    // Sessions the server gave this client connection: TLS 1.3 NewSessionTicket messages
    // processed so far, or the TLS 1.2 session of a full handshake. Always 0 on a server.
    unsigned tickets_received() const noexcept { return tickets_; }

    std::size_t pending_plaintext() const noexcept {
        if (!session_)
            return 0;
        std::size_t held = 0;
        if (held_) {
            gnutls_datum_t data{};
            gnutls_packet_get(held_.get(), &data, nullptr);
            held = data.size - held_offset_;
        }
        return held + gnutls_record_check_pending(session_.get());
    }

    bool closed_by_peer() const noexcept { return closed_by_peer_; }

    void abandon(std::error_code ec) noexcept {
        end_session(ec);
        error_ = ec;
    }

    // The slot a deferred verdict is given through (the deferred_verdicts capability); null when
    // the credentials have no validator.
    const std::shared_ptr<secctx::detail::verdict_slot>& verdicts() const noexcept {
        static const std::shared_ptr<secctx::detail::verdict_slot> none;
        return judgement_ ? judgement_->slot : none;
    }

    // The identity the server's client_identity mapping gave the client's certificate.
    peer_identity identity() const { return judgement_ ? judgement_->identity : peer_identity{}; }

    // Who vouched for the peer's certificate (connection_attributes::verified_by).
    verifier verified_by() const noexcept {
        if (!verified_)
            return verifier::none;
        if (judgement_ && judgement_->verified_by != verifier::none)
            return judgement_->verified_by;
        return verifier::engine;
    }

    // GnuTLS's words for the failure and, for certificate failures, the verification status.
    std::string error_detail() const {
        if (judgement_ && judgement_->rejected)
            return judgement_->rejection_detail();
        if (chooser_ && chooser_->failed)
            return chooser_->why.empty() ? "the certificate selector threw an exception"
                                         : chooser_->why;
        std::string text;
        if (engine_error_ != 0)
            text = gnutls_strerror(engine_error_);
        if (engine_error_ == GNUTLS_E_FATAL_ALERT_RECEIVED)
            if (const char* name = gnutls_alert_get_name(peer_alert_))
                text += std::string(" (") + name + ")";
        if (verify_status_ != 0) {
            text += text.empty() ? "" : "; ";
            text += "certificate verification: " + verification_text(verify_status_);
        }
        if (!verification_problem_.empty())
            text += "; " + verification_problem_;
        return text;
    }

    const std::error_code& error() const noexcept { return error_; }

    std::string_view protocol() const noexcept {
        if (!session_)
            return {};
        switch (gnutls_protocol_get_version(session_.get())) {
        case GNUTLS_TLS1_3:
            return "TLSv1.3";
        case GNUTLS_TLS1_2:
            return "TLSv1.2";
        default:
            return {};
        }
    }

    std::string_view cipher() const noexcept {
        const char* name = session_ ? gnutls_ciphersuite_get(session_.get()) : nullptr;
        return name != nullptr ? std::string_view(name) : std::string_view();
    }

    std::string_view alpn() const noexcept {
        gnutls_datum_t selected{};
        if (!session_ || gnutls_alpn_get_selected_protocol(session_.get(), &selected) < 0)
            return {};
        return {reinterpret_cast<const char*>(selected.data), selected.size};
    }

    bool resumed() const noexcept {
        return session_ && gnutls_session_is_resumed(session_.get()) != 0;
    }

    // The host name a client asked for (its SNI), empty on a server or for an address.
    std::string_view requested_name() const noexcept {
        const std::string_view name(host_);
        return is_address(name) ? std::string_view() : name;
    }

    // Whether the peer's certificate was verified and found good.
    bool peer_verified() const noexcept { return verified_; }
    // The verification status of the peer's chain (gnutls_certificate_status_t bits).
    unsigned verify_status() const noexcept { return verify_status_; }

    // The engine's own object, for what secctx does not wrap. Null after a failure.
    gnutls_session_t native_handle() const noexcept { return session_.get(); }

private:
    using state = credentials::state;

    struct call_result {
        int rc = 0;
        std::error_code write_error;
        std::size_t consumed = 0;           // input bytes the engine took
        bool read_bad_version = false;      // the engine read a header that is not TLS's
        bool read_handshake_record = false; // the engine read a handshake record's header
    };

    std::error_code set_up_server(state& s) noexcept {
        gnutls_session_t session = session_.get();
        gnutls_certificate_server_set_request(
            session, s.verify_clients == client_certificates::required   ? GNUTLS_CERT_REQUIRE
                     : s.verify_clients == client_certificates::optional ? GNUTLS_CERT_REQUEST
                                                                         : GNUTLS_CERT_IGNORE);
        gnutls_db_set_cache_expiration(session, static_cast<int>(s.session_lifetime));
        if (s.tickets.started() && !s.tickets.enable(session))
            return errc::out_of_memory;
        if (s.server_sessions.enabled())
            s.server_sessions.attach(session);
        gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_PRE,
                                           on_client_hello);
        return {};
    }

    // The versions a ClientHello offers (bit 0: TLS 1.2, bit 1: TLS 1.3), so that a server with
    // none of them in common says so, as OpenSSL's does: GnuTLS reports it as no cipher suite.
    static int on_client_hello(gnutls_session_t session, unsigned, unsigned, unsigned incoming,
                               const gnutls_datum_t* message) {
        provider* self = calling(session);
        if (self == nullptr || incoming == 0 || message == nullptr || message->size < 2)
            return 0;
        const unsigned legacy = (unsigned{message->data[0]} << 8) | message->data[1];
        self->offered_versions_ = legacy >= 0x0303 ? 1u : 0u;
        gnutls_ext_raw_parse(self, on_hello_extension, message,
                             GNUTLS_EXT_RAW_FLAG_TLS_CLIENT_HELLO);
        return 0;
    }

    static int on_hello_extension(void* ctx, unsigned id, const unsigned char* data,
                                  unsigned size) {
        constexpr unsigned supported_versions = 43;
        if (id != supported_versions || size < 1)
            return 0;
        auto* self = static_cast<provider*>(ctx);
        self->offered_versions_ = 0;
        for (unsigned at = 1; at + 1 < size && at < data[0]; at += 2) {
            const unsigned version = (unsigned{data[at]} << 8) | data[at + 1];
            self->offered_versions_ |= version == 0x0303 ? 1u : version == 0x0304 ? 2u : 0u;
        }
        return 0;
    }

    std::error_code set_up_client(state& s, std::string_view name) noexcept {
        gnutls_session_t session = session_.get();
        if (name.size() >= sizeof host_)
            return errc::invalid_configuration;
        if (name.empty())
            return s.verify_peer ? std::error_code(errc::server_name_required) : std::error_code();
        std::memcpy(host_, name.data(), name.size());
        host_[name.size()] = '\0';
        // RFC 6066: SNI carries host names only, never addresses.
        if (!is_address(name) &&
            gnutls_server_name_set(session, GNUTLS_NAME_DNS, host_, name.size()) < 0)
            return errc::invalid_configuration;
        gnutls_handshake_set_hook_function(session, GNUTLS_HANDSHAKE_NEW_SESSION_TICKET,
                                           GNUTLS_HOOK_POST, on_new_ticket);
        s.sessions.offer(session, name);
        return {};
    }

    static bool is_address(std::string_view name) noexcept {
        if (name.find(':') != std::string_view::npos)
            return name.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos;
        return name.find_first_not_of("0123456789.") == std::string_view::npos;
    }

    // The provider whose engine call is running on `session`.
    static provider* calling(gnutls_session_t session) noexcept {
        const auto* io = static_cast<const detail::engine_io*>(gnutls_transport_get_ptr(session));
        return io != nullptr ? static_cast<provider*>(io->owner) : nullptr;
    }

    // The peer's chain against the trust anchors and, on a client, the server name; the status is
    // kept for error_detail() and the attributes. A client without a certificate is no failure
    // here: whether one is required is GnuTLS's own check. Then the validator, if one is set: a
    // deferred verdict returns GNUTLS_E_AGAIN, and GnuTLS calls this again with the handshake.
    static int on_verify(gnutls_session_t session) {
        provider* self = calling(session);
        if (self == nullptr)
            return -1;
        auto* j = self->judgement_.get();
        try {
            if (j != nullptr)
                if (auto given = j->slot->take())
                    return self->apply(*given);
            if (j == nullptr || !j->engine_checked) {
                unsigned status = 0;
                const bool client = self->credentials_.kind() == role_kind::client;
                // A chain too long is refused before GnuTLS spends a verification on it.
                const int rc = self->chain_too_long(session) ? GNUTLS_E_CERTIFICATE_ERROR
                               : client
                                   ? gnutls_certificate_verify_peers3(session, self->host_, &status)
                                   : gnutls_certificate_verify_peers2(session, &status);
                if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND && !client)
                    return 0;
                self->verify_status_ = rc < 0 ? unsigned{GNUTLS_CERT_INVALID} : status;
                self->verified_ = rc >= 0 && status == 0;
                if (self->verified_)
                    self->check_revocation(session);
                if (self->verified_ && client)
                    self->check_staple(session);
                if (j == nullptr)
                    return self->verified_ ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
                j->engine_checked = true;
                if (!self->verified_) {
                    j->engine_verdict = self->engine_verdict();
                    j->engine_detail = self->verification_problem_.empty()
                                           ? verification_text(self->verify_status_)
                                           : self->verification_problem_;
                }
            }
            if (j->engine_has_the_last_word())
                return GNUTLS_E_CERTIFICATE_ERROR;
            j->request = self->validation_request_for(session);
            const verdict v = j->ask();
            if (v.what() != verdict::kind::later)
                return self->apply(v);
            j->slot->await(j->request);
            return GNUTLS_E_AGAIN;
        } catch (...) { // nothing may unwind through GnuTLS
            return GNUTLS_E_MEMORY_ERROR;
        }
    }

    // The credentials' CRLs, once the chain is good: a revoked certificate makes the status
    // GNUTLS_CERT_REVOKED, as GnuTLS's own CRLs would; one without a usable CRL, where one is
    // required, fails with revocation_unknown.
    void check_revocation(gnutls_session_t session) {
        const auto& checker = credentials_.state_->revocation;
        if (!checker.enabled())
            return;
        const auto result =
            checker.check(session, credentials_.state_->certificates.get(), verification_problem_);
        if (result == detail::revocation_checker::outcome::good)
            return;
        verification_problem_.insert(0, "revocation: ");
        verified_ = false;
        verify_status_ |= GNUTLS_CERT_INVALID;
        if (result == detail::revocation_checker::outcome::revoked)
            verify_status_ |= GNUTLS_CERT_REVOKED;
        else
            revocation_unknown_ = true;
    }

    // A GnuTLS client asks for a stapled OCSP response, and checks one it gets, unless told not
    // to, which only GnuTLS 3.8 can be (Debian 12 has 3.7: there, ocsp_stapling::off still asks).
    static unsigned no_status_request(role_kind kind, ocsp_stapling policy) noexcept {
#if GNUTLS_VERSION_NUMBER >= 0x030800
        if (kind == role_kind::client && policy == ocsp_stapling::off)
            return GNUTLS_NO_STATUS_REQUEST;
#else
        static_cast<void>(kind);
        static_cast<void>(policy);
#endif
        return 0;
    }

    // Whether the peer's chain has more intermediates than max_chain_depth, counted as OpenSSL
    // counts them: the certificates sent, less the peer's own and a self-issued trust anchor at
    // the end. GnuTLS's own bound (two more certificates) never bites first.
    bool chain_too_long(gnutls_session_t session) {
        unsigned count = 0;
        const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
        const unsigned allowed = credentials_.state_->max_chain_depth;
        // Only a chain that may be too long is parsed (its last certificate), so that the
        // common one costs no decoding.
        if (count < 2 || count - 1 <= allowed)
            return false;
        unsigned intermediates = count - 1;
        gnutls_x509_crt_t raw = nullptr;
        if (gnutls_x509_crt_init(&raw) >= 0) {
            const detail::x509_crt_ptr last(raw);
            if (gnutls_x509_crt_import(raw, &chain[count - 1], GNUTLS_X509_FMT_DER) >= 0 &&
                gnutls_x509_crt_check_issuer(raw, raw) != 0)
                --intermediates;
        }
        if (intermediates <= allowed)
            return false;
        verification_problem_ = "the chain has " + std::to_string(intermediates) +
                                " intermediate certificates; max_chain_depth allows " +
                                std::to_string(allowed);
        return true;
    }

    // What GnuTLS leaves unchecked of a stapled OCSP response (detail/ocsp.hpp).
    void check_staple(gnutls_session_t session) {
        const ocsp_stapling policy = credentials_.state_->ocsp;
        if (policy == ocsp_stapling::off)
            return;
        auto problem = detail::check_staple(session, policy);
        if (problem.empty())
            return;
        verified_ = false;
        verify_status_ |= GNUTLS_CERT_INVALID;
        revocation_unknown_ = true;
        verification_problem_ = "stapled OCSP response: " + problem;
    }

    std::error_code engine_verdict() const {
        return revocation_unknown_ ? errc::revocation_unknown
                                   : detail::map_verify_status(verify_status_);
    }

    int apply(const verdict& v) {
        if (!judgement_->decide(v))
            return GNUTLS_E_CERTIFICATE_ERROR;
        verified_ = true;
        return 0;
    }

    static std::vector<certificate_info> peer_chain(gnutls_session_t session) {
        std::vector<certificate_info> described;
        unsigned count = 0;
        const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
        for (unsigned i = 0; i < count; ++i)
            described.push_back(detail::describe(chain[i]));
        return described;
    }

    validation_request validation_request_for(gnutls_session_t session) const {
        validation_request r;
        r.chain = peer_chain(session);
        r.engine_verdict = judgement_->engine_verdict;
        r.engine_detail = judgement_->engine_detail;
        if (credentials_.kind() == role_kind::client) {
            r.server_name = host_;
        } else {
            char name[256];
            std::size_t size = sizeof name;
            unsigned type = 0;
            if (gnutls_server_name_get(session, name, &size, &type, 0) == GNUTLS_E_SUCCESS &&
                type == GNUTLS_NAME_DNS)
                r.server_name.assign(name, size);
        }
        return r;
    }

    static std::string verification_text(unsigned status) {
        std::string text;
        gnutls_datum_t out{};
        if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) ==
            GNUTLS_E_SUCCESS) {
            text.assign(reinterpret_cast<const char*>(out.data), out.size);
            gnutls_free(out.data);
        }
        return text;
    }

    bool awaiting_verdict() const noexcept {
        try {
            return judgement_ && judgement_->slot->awaiting();
        } catch (...) {
            return false;
        }
    }

    static int on_new_ticket(gnutls_session_t session, unsigned, unsigned, unsigned incoming,
                             const gnutls_datum_t*) {
        provider* self = calling(session);
        if (self == nullptr || incoming == 0 ||
            gnutls_protocol_get_version(session) != GNUTLS_TLS1_3)
            return 0;
        ++self->tickets_;
        self->credentials_.state_->sessions.keep(session, self->host_);
        return 0;
    }

    // Destroys the context. A session that ended without our close_notify is not resumed (OpenSSL's
    // rule, kept on both engines), except a server's whose client closed at a record boundary
    // without close_notify (errc::truncated): many clients do, and may resume.
    void end_session(std::error_code ec) noexcept {
        gnutls_session_t session = session_.get();
        if (session != nullptr && !sent_close_ &&
            gnutls_protocol_get_version(session) == GNUTLS_TLS1_2 && handshake_finished_) {
            if (credentials_.kind() == role_kind::client)
                credentials_.state_->sessions.forget(session, host_);
            else if (ec != errc::truncated)
                gnutls_db_remove_session(session);
        }
        if (judgement_)
            judgement_->slot->close();
        held_.reset();
        session_.reset();
    }

    // A resumed session was verified when it was made (only established sessions are kept), and
    // GnuTLS does not verify it again. A TLS 1.3 server sends its tickets now, as OpenSSL's does
    // (two, one after a resumption); a TLS 1.2 client's session comes with its handshake.
    template <buffer_policy Buffers>
    call_result handshake_done(Buffers& buffers) noexcept {
        gnutls_session_t session = session_.get();
        handshake_finished_ = true;
        if (gnutls_session_is_resumed(session) != 0 && credentials_.verifies_peer()) {
            unsigned count = 0;
            verified_ = gnutls_certificate_get_peers(session, &count) != nullptr && count != 0;
            // A resumption verifies nothing: its identity comes from the session's chain.
            if (judgement_ && judgement_->maps() && !judgement_->identity.mapped()) {
                try {
                    judgement_->map(peer_chain(session));
                } catch (...) { // out of memory: the connection is left unmapped
                }
            }
        }
        const bool tls13 = gnutls_protocol_get_version(session) == GNUTLS_TLS1_3;
        if (credentials_.kind() == role_kind::server) {
            if (!tls13 || !credentials_.state_->tickets.started())
                return {};
            const unsigned count = gnutls_session_is_resumed(session) != 0 ? 1 : 2;
            return engine_call(buffers, 0,
                               [&] { return gnutls_session_ticket_send(session, count, 0); });
        }
        if (!tls13) {
            if (gnutls_session_is_resumed(session) == 0)
                ++tickets_;
            credentials_.state_->sessions.keep(session, host_);
        }
        return {};
    }

    std::size_t take_held(std::span<std::byte> into) noexcept {
        gnutls_datum_t data{};
        gnutls_packet_get(held_.get(), &data, nullptr);
        const std::size_t n = std::min<std::size_t>(into.size(), data.size - held_offset_);
        std::memcpy(into.data(), data.data + held_offset_, n);
        held_offset_ += n;
        if (held_offset_ == data.size)
            held_.reset();
        return n;
    }

    // One engine call with the session's transport pointed at the buffers: the engine may read
    // the first `readable` bytes of the input (whole records) and append to the output.
    template <buffer_policy Buffers, class Call>
    call_result engine_call(Buffers& buffers, std::size_t readable, Call call) noexcept {
        auto& input = buffers.input();
        detail::engine_io io{session_.get(),
                             this,
                             input.data().first(readable),
                             0,
                             &buffers.output(),
                             &secctx::detail::append_to<output_queue_t<Buffers>>,
                             {}};
        io.chooser = chooser_.get();
        gnutls_transport_set_ptr(session_.get(), &io);
        const int rc = call();
        gnutls_transport_set_ptr(session_.get(), nullptr);
        call_result r{rc, io.write_error, io.consumed};
        const auto taken = input.data().first(io.consumed);
        if (rc < 0)
            r.read_bad_version = read_bad_version(taken);
        r.read_handshake_record = handshake_finished_ && tls::has_handshake_header(taken);
        input.consume(io.consumed);
        return r;
    }

    // Whether the last header in `taken` (bytes read from a record boundary on) is not TLS's.
    static bool read_bad_version(std::span<const std::byte> taken) noexcept {
        std::size_t at = 0;
        while (at + tls::record_header_size <= taken.size()) {
            if (taken[at + 1] != std::byte{3})
                return true;
            at += tls::record_header_size + tls::record_body_size(taken.subspan(at));
        }
        return false;
    }

    // A TLS 1.2 renegotiation attempt: refused, and the connection ends, as with the OpenSSL
    // provider. no_renegotiation is sent as a fatal alert, since the connection does end.
    template <buffer_policy Buffers>
    decrypt_result refuse_renegotiation(Buffers& buffers) noexcept {
        engine_call(buffers, 0, [this] {
            return gnutls_alert_send(session_.get(), GNUTLS_AL_FATAL, GNUTLS_A_NO_RENEGOTIATION);
        });
        abandon(errc::renegotiation_refused);
        return {provider_status::error, 0, 0, error_};
    }

    // After a record call that gave no plaintext: whether to call again at once, because the
    // records read held only post-handshake messages (or a warning alert) and more whole records
    // wait, or nothing failed and the engine may have more to say.
    template <buffer_policy Buffers>
    static bool call_again(Buffers& buffers, const call_result& call) noexcept {
        if (call.write_error || call.rc >= 0 || call.rc == GNUTLS_E_REHANDSHAKE ||
            gnutls_error_is_fatal(call.rc) != 0)
            return false;
        return call.rc != GNUTLS_E_AGAIN || tls::scan_records(buffers.input().data(), 1).whole != 0;
    }

    // After a record call that gave no plaintext and is not to be repeated: the peer's
    // close_notify, a wait for input, renegotiation refused, or a failure.
    template <buffer_policy Buffers>
    provider_result after_record_call(Buffers& buffers, const call_result& call) noexcept {
        if (call.write_error)
            return fail(buffers, call);
        if (call.rc == 0) {
            closed_by_peer_ = true;
            return {provider_status::context_expired, 0, {}};
        }
        if (call.rc == GNUTLS_E_REHANDSHAKE) {
            const auto r = refuse_renegotiation(buffers);
            return {r.status, r.missing_bytes, r.error};
        }
        if (gnutls_error_is_fatal(call.rc) == 0)
            return need_input(buffers, tls::scan_records(buffers.input().data()));
        return fail(buffers, call);
    }

    // Our flight does not fit the output: none of it may go out (see the OpenSSL provider).
    template <buffer_policy Buffers>
    provider_result refuse_flight(Buffers& buffers) noexcept {
        tls::replace_with_plaintext_alert(buffers.output(), tls::alert_description::internal_error);
        engine_error_ = GNUTLS_E_PUSH_ERROR;
        abandon(errc::token_too_large);
        return {provider_status::error, 0, error_};
    }

    template <buffer_policy Buffers>
    provider_result need_input(Buffers& buffers, const tls::record_scan& scan) noexcept {
        if (buffers.input().size() == 0)
            return {provider_status::continue_needed, tls::record_header_size, {}};
        if (scan.not_tls && scan.whole == 0) {
            auto& output = buffers.output();
            output.consume(output.size());
            abandon(errc::not_tls);
            return {provider_status::error, 0, error_};
        }
        return {provider_status::incomplete_message, std::max<std::size_t>(scan.missing, 1), {}};
    }

    // A fatal failure: classified once, the alert GnuTLS owes the peer appended to the output
    // (GnuTLS leaves sending it to the application), and the context destroyed.
    template <buffer_policy Buffers>
    provider_result fail(Buffers& buffers, const call_result& call) noexcept {
        gnutls_session_t session = session_.get();
        engine_error_ = call.rc < 0 ? call.rc : GNUTLS_E_INTERNAL_ERROR;
        if (call.rc == GNUTLS_E_FATAL_ALERT_RECEIVED)
            peer_alert_ = gnutls_alert_get(session);
        const bool no_shared_version = offered_versions_ != no_hello_yet &&
                                       (offered_versions_ & credentials_.state_->versions) == 0;
        const bool rejected = judgement_ && judgement_->rejected;
        const bool choice_failed = chooser_ && chooser_->failed;
        if (call.write_error)
            error_ = call.write_error;
        else if (choice_failed)
            error_ = errc::certificate_selection_failed;
        else if (rejected)
            error_ = judgement_->rejected_for;
        else if (revocation_unknown_)
            error_ = errc::revocation_unknown;
        else if (call.read_bad_version)
            error_ = errc::not_tls;
        else if (no_shared_version)
            error_ = errc::no_shared_version;
        else
            error_ = detail::map_error(engine_error_, session, verify_status_);
        const bool alert_owed = !call.write_error && !call.read_bad_version &&
                                call.rc != GNUTLS_E_FATAL_ALERT_RECEIVED &&
                                call.rc != GNUTLS_E_PREMATURE_TERMINATION;
        if (alert_owed)
            engine_call(buffers, 0, [&] {
                // A chain refused, by the engine or the application: the alert its reason calls
                // for, as OpenSSL chooses it (GnuTLS would say bad_certificate to everything).
                if (rejected || call.rc == GNUTLS_E_CERTIFICATE_ERROR ||
                    call.rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR)
                    return gnutls_alert_send(
                        session, GNUTLS_AL_FATAL,
                        static_cast<gnutls_alert_description_t>(tls::alert_for_rejection(
                            rejected ? judgement_->rejected_for : errc(error_.value()))));
                return no_shared_version
                           ? gnutls_alert_send(session, GNUTLS_AL_FATAL, GNUTLS_A_PROTOCOL_VERSION)
                           : gnutls_alert_send_appropriate(session, call.rc);
            });
        end_session(error_); // DeleteSecurityContext: nothing of the partial context survives.
        return {provider_status::error, 0, error_};
    }

    credentials credentials_;
    detail::session_ptr session_;
    std::unique_ptr<secctx::detail::peer_judgement> judgement_; // with a validator only
    std::unique_ptr<detail::certificate_chooser> chooser_; // a client's with certificates to choose
    detail::packet_ptr held_; // a record decrypted by process_post_handshake()
    std::size_t held_offset_ = 0;
    std::error_code error_;
    int engine_error_ = 0;
    gnutls_alert_description_t peer_alert_ = GNUTLS_A_CLOSE_NOTIFY; // a fatal one received
    unsigned verify_status_ = 0; // of the peer's chain, once verified
    bool revocation_unknown_ = false;
    // What secctx's own checks found wrong with the chain: its length, which certificate's CRL and
    // what was wrong with it, the stapled OCSP response.
    std::string verification_problem_;
    unsigned tickets_ = 0;
    static constexpr unsigned no_hello_yet = ~0u;
    unsigned offered_versions_ = no_hello_yet; // a server's: what the ClientHello offered
    bool verified_ = false;
    bool handshake_finished_ = false;
    bool sent_close_ = false;
    bool closed_by_peer_ = false;
    // A client's server name: what its certificate must match and what its sessions are cached
    // under. It lives here, with no allocation, and reaches GnuTLS's callbacks through engine_io.
    char host_[254] = {};
    static constexpr std::size_t max_handshake_transcript = std::size_t{256} * 1024;
    static constexpr std::size_t decrypt_window =
        4 * (tls::max_plaintext_size + tls::max_record_expansion);
};

} // namespace secctx::gnutls
