// The OpenSSL 3 provider: TLS 1.2 and 1.3 through one SSL object per connection, reading from and
// writing to the buffer policy's memory through secctx's own BIO (see detail/bio.hpp).
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/alert.hpp"
#include "secctx/tls/openssl/credentials.hpp"
#include "secctx/tls/openssl/detail/alerts.hpp"
#include "secctx/tls/openssl/detail/bio.hpp"
#include "secctx/tls/openssl/detail/certificate_choice.hpp"
#include "secctx/tls/openssl/detail/error_mapping.hpp"
#include "secctx/tls/openssl/detail/ocsp.hpp"
#include "secctx/tls/openssl/detail/validation.hpp"
#include "secctx/tls/provider.hpp"
#include "secctx/tls/record_framing.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace secctx::openssl {

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
        if (creds.kind() !=
            kind) { // a server's credentials cannot initialize, nor a client's accept
            error_ = errc::invalid_configuration;
            return;
        }
        ssl_.reset(SSL_new(creds.native_handle()));
        BIO* bio = ssl_ ? BIO_new(detail::bio_method()) : nullptr;
        if (bio == nullptr) {
            ssl_.reset();
            error_ = errc::out_of_memory;
            return;
        }
        SSL_set_bio(ssl_.get(), bio, bio);
        if (const auto ec = set_up_validation(creds, kind, server_name)) {
            ssl_.reset();
            error_ = ec;
            return;
        }
        if (kind == role_kind::server) {
            SSL_set_accept_state(ssl_.get());
            return;
        }
        SSL_set_connect_state(ssl_.get());
        auto ec = set_server_name(server_name, creds.verifies_peer());
        if (!ec)
            ec = set_up_staple_check(creds);
        if (!ec)
            ec = set_up_certificate_choice(creds, server_name);
        if (ec) {
            ssl_.reset();
            error_ = ec;
            return;
        }
        // Offers the session the credentials keep for this name, and counts the tickets.
        creds.prepare_client(ssl_.get(), server_name);
    }

    provider(provider&&) noexcept = default;
    provider& operator=(provider&& other) noexcept {
        if (this != &other) {
            end_paused_verification();
            std::destroy_at(this);
            std::construct_at(this, std::move(other));
        }
        return *this;
    }
    ~provider() { end_paused_verification(); }

    template <buffer_policy Buffers>
    provider_result handshake(Buffers& buffers) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        if (judgement_ && judgement_->slot->awaiting())
            return {provider_status::verdict_needed, 0, {}};
        if (chooser_ && chooser_->slot->awaiting())
            return {provider_status::certificate_needed, 0, {}};
        if (judgement_ && judgement_->paused &&
            judgement_->paused_on != std::this_thread::get_id()) {
            // The paused job's stack belongs to another thread (detail/validation.hpp).
            abandon(errc::invalid_state);
            return {provider_status::error, 0, error_};
        }
        const auto scan = tls::scan_records(buffers.input().data());
        if (scan.whole == 0 && buffers.input().size() != 0 && !(judgement_ && judgement_->paused))
            return need_input(buffers, scan);
        const auto [rc, write_error] =
            engine_call(buffers, scan.whole, [this] { return SSL_do_handshake(ssl_.get()); });
        if (rc == 1) {
            if (judgement_)
                judged_handshake_done();
            return {provider_status::ok, 0, {}};
        }
        if (write_error == errc::token_too_large)
            return refuse_flight(buffers);
        // Only a connection with a judgement or certificates to choose from can wait for the
        // application: the others pay nothing.
        if ((judgement_ || chooser_) && !write_error) {
            const int reason = SSL_get_error(ssl_.get(), rc);
            if (reason == SSL_ERROR_WANT_RETRY_VERIFY || reason == SSL_ERROR_WANT_ASYNC)
                return {provider_status::verdict_needed, 0, {}};
            if (reason == SSL_ERROR_WANT_X509_LOOKUP)
                return {provider_status::certificate_needed, 0, {}};
        }
        return after_failed_call(buffers, rc, write_error);
    }

    // The slot a client's deferred choice of certificate is given through (the
    // deferred_certificate_choice capability); null when the credentials have nothing to choose.
    const std::shared_ptr<secctx::detail::certificate_slot>& certificate_choices() const noexcept {
        static const std::shared_ptr<secctx::detail::certificate_slot> none;
        return chooser_ ? chooser_->slot : none;
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
        if (!ssl_ || SSL_get0_peer_certificate(ssl_.get()) == nullptr ||
            SSL_get_verify_mode(ssl_.get()) == SSL_VERIFY_NONE ||
            SSL_get_verify_result(ssl_.get()) != X509_V_OK)
            return verifier::none;
        if (judgement_ && judgement_->verified_by != verifier::none)
            return judgement_->verified_by;
        return verifier::engine;
    }

    template <buffer_policy Buffers>
    provider_result reject_record(Buffers& buffers, std::error_code ec) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        std::byte peeked{};
        std::size_t read = 0;
        engine_call(buffers, detail::oversized_record_header,
                    [&] { return SSL_peek_ex(ssl_.get(), &peeked, 1, &read); });
        ERR_clear_error();
        abandon(ec);
        return {provider_status::error, 0, error_};
    }

    // EncryptMessage: all of `plaintext` becomes records (of at most 16 KiB of plaintext each)
    // appended to buffers.output().
    template <buffer_policy Buffers>
    provider_result encrypt(std::span<const std::byte> plaintext, Buffers& buffers) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        if (plaintext.empty())
            return {provider_status::ok, 0, {}};
        std::size_t written = 0;
        const auto [rc, write_error] = engine_call(buffers, 0, [&] {
            return SSL_write_ex(ssl_.get(), plaintext.data(), plaintext.size(), &written);
        });
        if (rc == 1)
            return {provider_status::ok, 0, {}};
        return fail(SSL_get_error(ssl_.get(), rc), write_error);
    }

    // DecryptMessage: plaintext from the whole records at the front of buffers.input() into
    // `into`. Post-handshake messages (NewSessionTicket, KeyUpdate) are handled on the way; what
    // they owe the peer (a KeyUpdate answer) is appended to buffers.output(). Returns ok with
    // `bytes` > 0, continue_needed / incomplete_message (as handshake()), context_expired when the
    // peer's close_notify arrived (what follows it stays in the input), or error.
    template <buffer_policy Buffers>
    decrypt_result decrypt(Buffers& buffers, std::span<std::byte> into) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, 0, error_};
        if (into.empty() || closed_by_peer_)
            return {
                closed_by_peer_ ? provider_status::context_expired : provider_status::ok, 0, 0, {}};
        for (;;) {
            // A window of whole records, not all of a large input, is handed over per call.
            const auto scan = tls::scan_records(buffers.input().data(), decrypt_window);
            // Nothing to read and nothing decrypted waiting: the engine is not even called (with
            // released buffers, a call would set up its read buffer only to free it again).
            if (scan.whole == 0 && SSL_pending(ssl_.get()) == 0) {
                const auto need = need_input(buffers, scan);
                return {need.status, 0, need.missing_bytes, need.error};
            }
            std::size_t read = 0;
            bool handshake_record_read = false;
            const auto [rc, write_error] = engine_call(
                buffers, scan.whole,
                [&] { return SSL_read_ex(ssl_.get(), into.data(), into.size(), &read); },
                [&](std::span<const std::byte> taken) {
                    handshake_record_read = tls::has_handshake_header(taken);
                });
            // TLS 1.2 has no handshake message after the handshake but renegotiation; OpenSSL
            // answered it with a no_renegotiation alert, and secctx ends the connection. Only
            // records the engine read count: data before one, and a cleartext handshake after
            // close_notify (detach()), are not an attempt.
            if (handshake_record_read && SSL_version(ssl_.get()) < TLS1_3_VERSION) {
                abandon(errc::renegotiation_refused);
                return {provider_status::error, 0, 0, error_};
            }
            if (rc == 1)
                return {provider_status::ok, read, 0, {}};
            const int reason = SSL_get_error(ssl_.get(), rc);
            if (reason == SSL_ERROR_ZERO_RETURN && !write_error) {
                closed_by_peer_ = true;
                return {provider_status::context_expired, 0, 0, {}};
            }
            // The window held only post-handshake messages and more whole records wait.
            if (reason == SSL_ERROR_WANT_READ && !write_error &&
                tls::scan_records(buffers.input().data(), 1).whole != 0)
                continue;
            const auto r = after_failed_call(buffers, rc, write_error);
            return {r.status, 0, r.missing_bytes, r.error};
        }
    }

    // ApplyControlToken(SCHANNEL_SHUTDOWN): appends close_notify to buffers.output(). Reading
    // goes on until the peer's own close_notify (decrypt() returns context_expired).
    template <buffer_policy Buffers>
    provider_result close(Buffers& buffers) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        const auto [rc, write_error] =
            engine_call(buffers, 0, [this] { return SSL_shutdown(ssl_.get()); });
        if (rc >= 0 && !write_error)
            return {provider_status::ok, 0, {}};
        return fail(SSL_get_error(ssl_.get(), rc), write_error);
    }

    // TLS 1.3 KeyUpdate: our sending keys change now; with `request_peer`, the peer is asked to
    // change its own. errc::invalid_state under TLS 1.2.
    template <buffer_policy Buffers>
    provider_result update_keys(Buffers& buffers, bool request_peer) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        if (SSL_version(ssl_.get()) < TLS1_3_VERSION)
            return {provider_status::error, 0, errc::invalid_state};
        const int type = request_peer ? SSL_KEY_UPDATE_REQUESTED : SSL_KEY_UPDATE_NOT_REQUESTED;
        const auto [rc, write_error] = engine_call(buffers, 0, [&] {
            return SSL_key_update(ssl_.get(), type) == 1 ? SSL_do_handshake(ssl_.get()) : 0;
        });
        if (rc == 1 && !write_error)
            return {provider_status::ok, 0, {}};
        return fail(SSL_get_error(ssl_.get(), rc), write_error);
    }

    // SSL_MODE_RELEASE_BUFFERS frees the engine's record buffers after most records, but not
    // all: OpenSSL 3.0 keeps its 16 KB read buffer after NewSessionTicket messages, for example.
    // SSL_free_buffers() frees them whenever nothing is pending in them.
    void release_memory() noexcept {
        if (ssl_)
            SSL_free_buffers(ssl_.get());
    }

    // The post-handshake messages (NewSessionTicket, KeyUpdate) in the whole records at the front
    // of buffers.input(), without handing out application data: a record of it is decrypted and
    // stays in the engine (pending_plaintext()) for the next decrypt(). Returns ok when plaintext
    // is waiting, and at once under TLS 1.2 (its session comes with the handshake; nothing but
    // data follows); continue_needed / incomplete_message when the input has no whole record
    // left; context_expired on the peer's close_notify; or error, as decrypt().
    template <buffer_policy Buffers>
    provider_result process_post_handshake(Buffers& buffers) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        if (closed_by_peer_)
            return {provider_status::context_expired, 0, {}};
        if (SSL_pending(ssl_.get()) != 0 || SSL_version(ssl_.get()) < TLS1_3_VERSION)
            return {provider_status::ok, 0, {}};
        const auto scan = tls::scan_records(buffers.input().data());
        if (scan.whole == 0)
            return need_input(buffers, scan);
        std::byte peeked{};
        std::size_t read = 0;
        const auto [rc, write_error] = engine_call(
            buffers, scan.whole, [&] { return SSL_peek_ex(ssl_.get(), &peeked, 1, &read); });
        if (rc == 1 && !write_error)
            return {provider_status::ok, 0, {}};
        if (SSL_get_error(ssl_.get(), rc) == SSL_ERROR_ZERO_RETURN && !write_error) {
            closed_by_peer_ = true;
            return {provider_status::context_expired, 0, {}};
        }
        return after_failed_call(buffers, rc, write_error);
    }

    // Sessions the server gave this client connection for resumption: the TLS 1.3
    // NewSessionTicket messages processed so far, or the TLS 1.2 session of a full handshake.
    // Always 0 on a server.
    unsigned tickets_received() const noexcept {
        return ssl_ ? credentials::sessions_received(ssl_.get()) : 0;
    }

    // Plaintext the engine has decrypted and not yet handed out.
    std::size_t pending_plaintext() const noexcept {
        return ssl_ ? static_cast<std::size_t>(SSL_pending(ssl_.get())) : 0;
    }

    bool closed_by_peer() const noexcept { return closed_by_peer_; }

    void abandon(std::error_code ec) noexcept {
        end_paused_verification();
        // OpenSSL takes the session of an SSL freed without our close_notify out of the server's
        // cache. A client that closes without close_notify at a record boundary has done nothing
        // wrong (RFC 5246 7.2.1: since TLS 1.1 that no longer forbids resuming), and many do, so
        // the server keeps that session, as openssl s_server does; any other end removes it.
        if (ec == errc::truncated && ssl_ && SSL_is_server(ssl_.get()) == 1 &&
            SSL_is_init_finished(ssl_.get()) == 1)
            SSL_set_shutdown(ssl_.get(), SSL_get_shutdown(ssl_.get()) | SSL_SENT_SHUTDOWN);
        ssl_.reset();
        error_ = ec;
    }

    // OpenSSL's words for the failure: its error string and, for certificate failures, the
    // verification result.
    std::string error_detail() const {
        if (judgement_ && judgement_->rejected)
            return judgement_->rejection_detail();
        if (staple_ && staple_->failed)
            return staple_->why;
        if (chooser_ && chooser_->failed)
            return chooser_->why.empty() ? "the certificate selector threw an exception"
                                         : chooser_->why;
        std::string text;
        if (engine_error_ != 0) {
            char buffer[256] = {};
            ERR_error_string_n(engine_error_, buffer, sizeof buffer);
            text = buffer;
        }
        if (verify_result_ != X509_V_OK) {
            text += text.empty() ? "" : "; ";
            text += "certificate verification: ";
            text += X509_verify_cert_error_string(verify_result_);
        }
        return text;
    }

    const std::error_code& error() const noexcept { return error_; }

    std::string_view protocol() const noexcept {
        return ssl_ ? std::string_view(SSL_get_version(ssl_.get())) : std::string_view();
    }

    std::string_view cipher() const noexcept {
        const SSL_CIPHER* c = ssl_ ? SSL_get_current_cipher(ssl_.get()) : nullptr;
        return c != nullptr ? std::string_view(SSL_CIPHER_standard_name(c)) : std::string_view();
    }

    std::string_view alpn() const noexcept {
        const unsigned char* name = nullptr;
        unsigned size = 0;
        if (ssl_)
            SSL_get0_alpn_selected(ssl_.get(), &name, &size);
        return name != nullptr ? std::string_view(reinterpret_cast<const char*>(name), size)
                               : std::string_view();
    }

    bool resumed() const noexcept { return ssl_ && SSL_session_reused(ssl_.get()) == 1; }

    // The engine's own object, for what secctx does not wrap. Null after a failure.
    SSL* native_handle() const noexcept { return ssl_.get(); }

private:
    // With a validator, this connection's judgement goes where the verification callback finds
    // it; a server that may defer runs its handshake as an async job (detail/validation.hpp).
    std::error_code set_up_validation(const credentials& creds, role_kind kind,
                                      std::string_view server_name) noexcept {
        const auto& validation = creds.state_->validation;
        const auto& mapping = creds.state_->identity;
        if (!validation.enabled() && !mapping.enabled())
            return {};
        try {
            judgement_ = std::make_unique<detail::judgement>();
            judgement_->server_name = server_name;
        } catch (...) {
            return errc::out_of_memory;
        }
        judgement_->validation = &validation;
        judgement_->mapping = &mapping;
        judgement_->server = kind == role_kind::server;
        if (SSL_set_ex_data(ssl_.get(), detail::judgement::index(), judgement_.get()) != 1)
            return errc::out_of_memory;
        if (judgement_->server && validation.enabled())
            SSL_set_mode(ssl_.get(), SSL_MODE_ASYNC);
        return {};
    }

    // A client that asks for a stapled OCSP response keeps what its check finds where the
    // status callback sees it (detail/ocsp.hpp).
    std::error_code set_up_staple_check(const credentials& creds) noexcept {
        if (creds.state_->ocsp == ocsp_stapling::off)
            return {};
        staple_.reset(new (std::nothrow) detail::staple_check);
        if (!staple_ ||
            SSL_set_ex_data(ssl_.get(), detail::staple_check::index(), staple_.get()) != 1)
            return errc::out_of_memory;
        staple_->policy = creds.state_->ocsp;
        return {};
    }

    // A client with certificates to choose from keeps its choice where the certificate callback
    // finds it (detail/certificate_choice.hpp).
    std::error_code set_up_certificate_choice(const credentials& creds,
                                              std::string_view server_name) noexcept {
        const auto& candidates = creds.state_->candidates;
        if (!candidates.enabled())
            return {};
        try {
            chooser_ = std::make_unique<detail::certificate_chooser>();
            chooser_->server_name = server_name;
        } catch (...) {
            return errc::out_of_memory;
        }
        chooser_->candidates = &candidates;
        if (SSL_set_ex_data(ssl_.get(), detail::certificate_chooser::index(), chooser_.get()) != 1)
            return errc::out_of_memory;
        return {};
    }

    // Only a deferred verdict needs the handshake in an async job; data needs none. And a
    // resumption verifies nothing: its identity comes from the session's chain.
    void judged_handshake_done() noexcept {
        SSL_clear_mode(ssl_.get(), SSL_MODE_ASYNC);
        if (SSL_session_reused(ssl_.get()) != 1 || !judgement_->maps() ||
            judgement_->identity.mapped())
            return;
        try {
            judgement_->map(detail::peer_chain(ssl_.get()));
        } catch (...) { // out of memory: the connection is left unmapped
        }
    }

    // A verification paused for a verdict ends now: later verdicts (and choices of certificate)
    // are refused, and a server's paused job is resumed, without a verdict, so that it finishes
    // (rejecting) and frees its stack. Only the thread that paused it can resume it; on another
    // the job is left, lost.
    void end_paused_verification() noexcept {
        if (chooser_)
            chooser_->slot->close();
        if (!judgement_)
            return;
        judgement_->slot->close();
        if (ssl_ && judgement_->paused && judgement_->paused_on == std::this_thread::get_id()) {
            SSL_do_handshake(ssl_.get());
            ERR_clear_error();
        }
    }

    std::error_code set_server_name(std::string_view name, bool verify) noexcept {
        char host[256];
        if (name.size() >= sizeof host)
            return errc::invalid_configuration;
        if (name.empty())
            return verify ? std::error_code(errc::server_name_required) : std::error_code();
        std::memcpy(host, name.data(), name.size());
        host[name.size()] = '\0';
        // RFC 6066: SNI carries host names only, never addresses. Only something made of hex
        // digits, dots and colons can be an address; parsing anything else would be wasted work.
        if (name.find_first_not_of("0123456789abcdefABCDEF.:") == std::string_view::npos) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl_.get());
            if (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1) {
                if (!verify)
                    X509_VERIFY_PARAM_set1_ip(param, nullptr, 0);
                return {};
            }
            ERR_clear_error();
        }
        if (SSL_set_tlsext_host_name(ssl_.get(), host) != 1)
            return errc::invalid_configuration;
        if (verify) {
            SSL_set_hostflags(ssl_.get(), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
            if (SSL_set1_host(ssl_.get(), host) != 1)
                return errc::invalid_configuration;
        }
        return {};
    }

    // One engine call with the BIO pointed at the buffers: the engine may read the first
    // `readable` bytes of the input (whole records) and append to the output. Returns the call's
    // result and why a write to the output failed, if one did.
    template <buffer_policy Buffers, class Call>
    std::pair<int, std::error_code> engine_call(Buffers& buffers, std::size_t readable,
                                                Call call) noexcept {
        return engine_call(buffers, readable, call, [](std::span<const std::byte>) {});
    }

    // The same, showing `taken` the input bytes the engine read before they are consumed.
    template <buffer_policy Buffers, class Call, class Taken>
    std::pair<int, std::error_code> engine_call(Buffers& buffers, std::size_t readable, Call call,
                                                Taken taken) noexcept {
        auto& input = buffers.input();
        const auto [rc, io] = engine_call(buffers, input.data().first(readable), call);
        taken(input.data().first(io.consumed));
        input.consume(io.consumed);
        return {rc, io.write_error};
    }

    // One engine call reading from `readable` (not the input queue) and appending to the
    // output. Returns the call's result and the BIO's account of it.
    template <buffer_policy Buffers, class Call>
    std::pair<int, detail::bio_io>
    engine_call(Buffers& buffers, std::span<const std::byte> readable, Call call) noexcept {
        detail::bio_io io{readable,
                          0,
                          &buffers.output(),
                          &secctx::detail::append_to<output_queue_t<Buffers>>,
                          {}};
        BIO* bio = SSL_get_rbio(ssl_.get());
        BIO_set_data(bio, &io);
        // SSL_get_error needs an empty queue; peeking first is much cheaper than clearing.
        if (ERR_peek_error() != 0)
            ERR_clear_error();
        const int rc = call();
        BIO_set_data(bio, nullptr);
        return {rc, io};
    }

    // Our flight does not fit the output: none of it may go out, since the peer would wait for
    // the rest. The peer has seen nothing from us since its last flight, so a plaintext fatal
    // internal_error alert is one it reads in any state (an OpenSSL TLS 1.3 server accepts
    // plaintext alerts until the client's first encrypted record).
    template <buffer_policy Buffers>
    provider_result refuse_flight(Buffers& buffers) noexcept {
        tls::replace_with_plaintext_alert(buffers.output(), tls::alert_description::internal_error);
        return fail(SSL_ERROR_SSL, errc::token_too_large);
    }

    // After a call that did not succeed: wait for input, or fail.
    template <buffer_policy Buffers>
    provider_result after_failed_call(Buffers& buffers, int rc,
                                      std::error_code write_error) noexcept {
        const int reason = SSL_get_error(ssl_.get(), rc);
        if (reason == SSL_ERROR_WANT_READ && !write_error)
            return need_input(buffers, tls::scan_records(buffers.input().data()));
        return fail(reason, write_error);
    }

    // What the engine cannot go on without: the peer's next token, the rest of an incomplete
    // record, or nothing ever (a header no TLS peer sends).
    // `scan` is of what is left in the input.
    template <buffer_policy Buffers>
    provider_result need_input(Buffers& buffers, const tls::record_scan& scan) noexcept {
        if (buffers.input().size() == 0)
            return {provider_status::continue_needed, tls::record_header_size, {}};
        if (scan.not_tls && scan.whole == 0) {
            // Whatever the engine just wrote is a flight for a peer that is not one, not an
            // alert: it must not go out.
            auto& output = buffers.output();
            output.consume(output.size());
            abandon(errc::not_tls);
            return {provider_status::error, 0, error_};
        }
        return {provider_status::incomplete_message, std::max<std::size_t>(scan.missing, 1), {}};
    }

    provider_result fail(int reason, std::error_code write_error) noexcept {
        error_ = detail::classify_failure(ssl_.get(), reason, write_error, engine_error_,
                                          verify_result_);
        if (judgement_) {
            judgement_->slot->close();
            if (judgement_->rejected && !write_error)
                error_ = judgement_->rejected_for;
        }
        if (staple_ && staple_->failed && !write_error)
            error_ = staple_->reason;
        if (chooser_) {
            chooser_->slot->close();
            if (chooser_->failed && !write_error)
                error_ = errc::certificate_selection_failed;
        }
        ssl_.reset(); // DeleteSecurityContext: nothing of the partial context survives.
        return {provider_status::error, 0, error_};
    }

    credentials credentials_;
    detail::ssl_ptr ssl_;
    std::unique_ptr<detail::judgement> judgement_;         // with a validator only
    std::unique_ptr<detail::staple_check> staple_;         // a client's that asks for OCSP stapling
    std::unique_ptr<detail::certificate_chooser> chooser_; // a client's with certificates to choose
    std::error_code error_;
    unsigned long engine_error_ = 0;
    // Four full records: enough for any read, small enough never to walk a large input twice.
    static constexpr std::size_t decrypt_window =
        4 * (tls::max_plaintext_size + tls::max_record_expansion);

    long verify_result_ = X509_V_OK;
    bool closed_by_peer_ = false;
};

} // namespace secctx::openssl
