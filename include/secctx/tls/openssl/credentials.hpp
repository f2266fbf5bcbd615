// Credentials (AcquireCredentialsHandle): one configuration, one SSL_CTX, shared by every
// handshake made with it. Copies share the same context; it lives as long as any copy or any
// connection made from it.
#pragma once

#include "secctx/error.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/certificate_choice.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"
#include "secctx/tls/openssl/detail/names.hpp"
#include "secctx/tls/openssl/detail/ocsp.hpp"
#include "secctx/tls/openssl/detail/pem.hpp"
#include "secctx/tls/openssl/detail/revocation.hpp"
#include "secctx/tls/openssl/detail/session_cache.hpp"
#include "secctx/tls/openssl/detail/ticket_keys.hpp"
#include "secctx/tls/openssl/detail/trust.hpp"
#include "secctx/tls/openssl/detail/validation.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace secctx::openssl {

class provider;

class credentials {
public:
    // The ec overloads never throw for a bad configuration; `detail`, when given, receives
    // OpenSSL's reason. The other overloads throw std::system_error carrying both.
    static credentials client(const client_config& config, std::error_code& ec,
                              std::string* detail = nullptr) {
        credentials made = make(role_kind::client, config, ec, detail);
        if (!ec)
            ec = made.configure_client(config, detail);
        return finish(std::move(made), ec, detail);
    }

    static credentials server(const server_config& config, std::error_code& ec,
                              std::string* detail = nullptr) {
        credentials made = make(role_kind::server, config, ec, detail);
        if (!ec)
            ec = made.configure_server(config, detail);
        return finish(std::move(made), ec, detail);
    }

    static credentials client(const client_config& config) {
        return or_throw([&](std::error_code& ec, std::string* d) { return client(config, ec, d); });
    }

    static credentials server(const server_config& config) {
        return or_throw([&](std::error_code& ec, std::string* d) { return server(config, ec, d); });
    }

    credentials() = default;

    explicit operator bool() const noexcept { return state_ != nullptr; }
    // Empty credentials are a client's that verify: the secure reading of "nothing configured".
    role_kind kind() const noexcept { return state_ ? state_->kind : role_kind::client; }
    bool verifies_peer() const noexcept { return !state_ || state_->verify_peer; }
    SSL_CTX* native_handle() const noexcept { return state_ ? state_->context.get() : nullptr; }

    // For operators and tests: a fresh session ticket key encrypts new tickets from now on; the
    // key it replaces still decrypts (its tickets resume and are renewed), and the key before that
    // is erased, so its tickets give a full handshake. Keys also rotate by themselves every
    // server_config::ticket_key_lifetime. After a suspected key leak, rotate twice. Returns false,
    // changing nothing, for credentials without ticket keys (a client's, or session_tickets off)
    // or when the random generator fails. Thread-safe.
    bool rotate_ticket_keys() const noexcept { return state_ && state_->tickets.rotate(); }

private:
    friend class provider;

    struct state {
        detail::ssl_ctx_ptr context;
        role_kind kind = role_kind::client;
        bool verify_peer = true;
        bool proceed_without_common_alpn = false;
        std::string alpn_wire; // ALPN list in wire format: length-prefixed names
        std::function<void(std::string_view)> key_log;
        peer_validation validation;
        identity_mapping identity;                                // a server's
        bool soft_revocation = false;                             // CRLs checked, but not required
        ocsp_stapling ocsp = ocsp_stapling::off;                  // a client's
        detail::certificate_candidates candidates;                // a client's
        std::unique_ptr<secctx::detail::stapled_response> staple; // a server's
        detail::session_cache sessions;                           // a client's
        detail::ticket_keys tickets;                              // a server's
    };

    template <class F>
    static credentials or_throw(F make_with) {
        std::error_code ec;
        std::string detail;
        credentials made = make_with(ec, &detail);
        if (ec && detail.empty())
            throw std::system_error(ec);
        if (ec)
            throw std::system_error(ec, detail);
        return made;
    }

    static credentials finish(credentials made, const std::error_code& ec, std::string* detail) {
        if (!ec) {
            ERR_clear_error();
            return made;
        }
        if (detail != nullptr && detail->empty()) {
            char text[256] = {};
            // The first error is the cause (a missing file's "No such file or directory"); the
            // later ones only say which call gave up.
            if (const unsigned long packed = ERR_peek_error(); packed != 0) {
                ERR_error_string_n(packed, text, sizeof text);
                *detail = text;
            }
        }
        ERR_clear_error();
        return {};
    }

    static int to_openssl(tls_version version) noexcept {
        return version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    }

    static credentials make(role_kind kind, const tls_config& config, std::error_code& ec,
                            std::string* detail) {
        ec.clear(); // an error_code out-parameter says nothing of an earlier call
        ERR_clear_error();
        credentials made;
        auto s = std::make_shared<state>();
        s->kind = kind;
        s->context.reset(
            SSL_CTX_new(kind == role_kind::client ? TLS_client_method() : TLS_server_method()));
        if (!s->context) {
            ec = errc::out_of_memory;
            return made;
        }
        SSL_CTX* ctx = s->context.get();
        if (SSL_CTX_set_ex_data(ctx, state_index(), s.get()) != 1) {
            ec = errc::out_of_memory;
            return made;
        }
        // SSL_OP_CLEANSE_PLAINTEXT: OpenSSL wipes the plaintext it decrypted into its own record
        // buffer once the application has it, instead of leaving it there until overwritten.
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_CLEANSE_PLAINTEXT);
        if (config.release_idle_buffers)
            SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        if (config.key_log) {
            s->key_log = config.key_log;
            SSL_CTX_set_keylog_callback(ctx, on_key_log);
        }
        if (config.min_version > config.max_version) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "min_version is above max_version";
            return made;
        }
        if (!SSL_CTX_set_min_proto_version(ctx, to_openssl(config.min_version)) ||
            !SSL_CTX_set_max_proto_version(ctx, to_openssl(config.max_version))) {
            ec = errc::invalid_configuration;
            return made;
        }
        if (const auto unknown = set_lists(ctx, config); !unknown.empty()) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "unknown or unsupported name in a cipher suite or group list: " + unknown;
            return made;
        }
        if (config.max_chain_depth > 100) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "max_chain_depth is at most 100";
            return made;
        }
        SSL_CTX_set_verify_depth(ctx, static_cast<int>(config.max_chain_depth));
        if (config.validation.enabled()) {
            s->validation = config.validation;
            SSL_CTX_set_cert_verify_callback(ctx, detail::verify_with_application, nullptr);
        }
        if (!detail::load_identity(ctx, config) || !detail::load_trust(ctx, config.trust, kind)) {
            ec = errc::invalid_credentials;
            return made;
        }
        if (const char* conflict = revocation_conflict(config.revocation)) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = conflict;
            return made;
        }
        if (const char* problem = detail::load_revocation(ctx, config.revocation)) {
            ec = errc::invalid_credentials;
            if (detail != nullptr && ERR_peek_error() == 0)
                *detail = problem;
            return made;
        }
        s->soft_revocation =
            config.revocation.check != revocation_scope::none && !config.revocation.require_crl;
        for (const auto& name : config.alpn) {
            if (name.empty() || name.size() > 255) {
                ec = errc::invalid_configuration;
                if (detail != nullptr)
                    *detail = "an ALPN protocol name must be 1 to 255 bytes";
                return made;
            }
            s->alpn_wire.push_back(static_cast<char>(name.size()));
            s->alpn_wire += name;
        }
        // The list and the extension holding it each have a two-byte length.
        if (s->alpn_wire.size() > 65535 - 2) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "the ALPN protocol names must fit in 65,533 bytes, with a byte of "
                          "length each";
            return made;
        }
        made.state_ = std::move(s);
        return made;
    }

    // The engine-neutral lists in OpenSSL's syntax. Returns the first name it cannot use.
    static std::string set_lists(SSL_CTX* ctx, const tls_config& config) {
        std::string list;
        std::string unknown;
        if (!config.tls12_cipher_suites.empty()) {
            if (!detail::translate_list(config.tls12_cipher_suites, detail::tls12_suite_name, list,
                                        unknown))
                return unknown;
            if (SSL_CTX_set_cipher_list(ctx, list.c_str()) != 1)
                return config.tls12_cipher_suites.front();
        }
        if (!config.tls13_cipher_suites.empty()) {
            if (!detail::translate_list(config.tls13_cipher_suites, detail::tls13_suite_name, list,
                                        unknown))
                return unknown;
            if (SSL_CTX_set_ciphersuites(ctx, list.c_str()) != 1)
                return config.tls13_cipher_suites.front();
        }
        if (!config.groups.empty()) {
            if (!detail::translate_list(config.groups, detail::group_name, list, unknown))
                return unknown;
            if (SSL_CTX_set1_groups_list(ctx, list.c_str()) != 1)
                return config.groups.front();
        }
        return {};
    }

    std::error_code configure_client(const client_config& config, std::string* detail) {
        auto& s = *state_;
        SSL_CTX* ctx = s.context.get();
        s.verify_peer = !config.dangerous_skip_verification;
        if (const char* conflict = peer_judgement_conflict(config)) {
            if (detail != nullptr)
                *detail = conflict;
            return errc::invalid_configuration;
        }
        SSL_CTX_set_verify(ctx, s.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE,
                           s.soft_revocation ? detail::pass_without_crl : nullptr);
        // Sessions go to the credentials' own cache, keyed by server name (OpenSSL's internal
        // client cache is keyed by nothing useful); the callback also counts them per connection.
        s.sessions.configure(config.resume_sessions, config.session_cache_size);
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
        if (s.sessions.resumes())
            SSL_CTX_set_info_callback(ctx, on_handshake_info);
        if (auto ec = load_candidates(config, detail))
            return ec;
        s.ocsp = config.ocsp;
        if (s.ocsp != ocsp_stapling::off) {
            SSL_CTX_set_tlsext_status_type(ctx, TLSEXT_STATUSTYPE_ocsp);
            SSL_CTX_set_tlsext_status_cb(ctx, detail::check_staple);
        }
        if (!s.alpn_wire.empty() &&
            SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(s.alpn_wire.data()),
                                    static_cast<unsigned>(s.alpn_wire.size())) != 0)
            return errc::invalid_configuration;
        return {};
    }

    // Each certificate to choose from into an SSL_CTX of its own, by the loader of the
    // credentials' own certificate.
    std::error_code load_candidates(const client_config& config, std::string* detail) {
        auto& candidates = state_->candidates;
        candidates.select = config.select_certificate;
        for (std::size_t i = 0; i < config.certificates.size(); ++i) {
            const auto& given = config.certificates[i];
            tls_config one;
            one.certificate_chain = given.certificate_chain;
            one.private_key = given.private_key;
            one.private_key_password = given.private_key_password;
            detail::ssl_ctx_ptr holder(SSL_CTX_new(TLS_client_method()));
            if (!holder)
                return errc::out_of_memory;
            if (given.certificate_chain.empty() || given.private_key.empty() ||
                !detail::load_identity(holder.get(), one)) {
                if (detail != nullptr) {
                    char text[256] = "a chain and its key are both needed";
                    if (const unsigned long packed = ERR_peek_error(); packed != 0)
                        ERR_error_string_n(packed, text, sizeof text);
                    *detail = "certificates[" + std::to_string(i) + "]: " + text;
                }
                return errc::invalid_credentials;
            }
            candidates.add(std::move(holder));
        }
        if (candidates.enabled())
            SSL_CTX_set_cert_cb(state_->context.get(), detail::choose_certificate, nullptr);
        return {};
    }

    std::error_code configure_server(const server_config& config, std::string* detail) {
        auto& s = *state_;
        SSL_CTX* ctx = s.context.get();
        if (config.certificate_chain.empty() || config.private_key.empty()) {
            if (detail != nullptr)
                *detail = "a server needs a certificate chain and its private key";
            return errc::invalid_configuration;
        }
        s.verify_peer = config.verify_clients != client_certificates::none;
        if (const char* conflict = peer_judgement_conflict(config)) {
            if (detail != nullptr)
                *detail = conflict;
            return errc::invalid_configuration;
        }
        if (config.client_identity.enabled()) {
            s.identity = config.client_identity;
            SSL_CTX_set_cert_verify_callback(ctx, detail::verify_with_application, nullptr);
        }
        s.proceed_without_common_alpn = config.proceed_without_common_alpn;
        int mode = SSL_VERIFY_NONE;
        if (config.verify_clients == client_certificates::optional)
            mode = SSL_VERIFY_PEER;
        else if (config.verify_clients == client_certificates::required)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, s.soft_revocation ? detail::pass_without_crl : nullptr);
        if (s.verify_peer && !config.trust.system_store)
            name_acceptable_authorities(ctx);
        // Sessions of verified clients can only be resumed within the same context id.
        static constexpr unsigned char context_id[] = "secctx";
        SSL_CTX_set_session_id_context(ctx, context_id, sizeof context_id - 1);
        if (!s.alpn_wire.empty())
            SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &s);
        if (auto ec = configure_stapling(config, detail))
            return ec;
        return configure_sessions(config, detail);
    }

    std::error_code configure_stapling(const server_config& config, std::string* detail) {
        if (config.ocsp_response_file.empty())
            return {};
        auto& s = *state_;
        X509* leaf = SSL_CTX_get0_certificate(s.context.get()); // lives as long as the context
        s.staple = std::make_unique<secctx::detail::stapled_response>();
        const auto problem = s.staple->open(config.ocsp_response_file, [leaf](const auto& der) {
            return detail::read_staple(der, leaf);
        });
        if (!problem.empty()) {
            if (detail != nullptr)
                *detail = problem;
            return errc::invalid_credentials;
        }
        SSL_CTX_set_tlsext_status_cb(s.context.get(), staple_response);
        return {};
    }

    // The CertificateRequest names the authorities whose client certificates the server accepts,
    // so that a client holding several can choose (certificate_selection.hpp): the anchors loaded
    // from trust.certificates, as nginx names its ssl_client_certificate file's (GnuTLS names its
    // trust list's by default). None with the system store, whose hundred-odd names would make
    // the request huge; a hashed directory's are loaded only when used, so they are not named.
    static void name_acceptable_authorities(SSL_CTX* ctx) {
        STACK_OF(X509_OBJECT)* objects = X509_STORE_get0_objects(SSL_CTX_get_cert_store(ctx));
        for (int i = 0; i < sk_X509_OBJECT_num(objects); ++i)
            if (X509* ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objects, i)))
                SSL_CTX_add_client_CA(ctx, ca);
    }

    // Resumption by stateless tickets (keys held by the credentials) and by the server's session
    // cache (OpenSSL's internal one: bounded, the oldest evicted first, locked for
    // threads, and SSL_SESSION_free cleanses the master key and the session ID).
    std::error_code configure_sessions(const server_config& config, std::string* detail) {
        auto& s = *state_;
        SSL_CTX* ctx = s.context.get();
        if (config.session_lifetime <= std::chrono::seconds::zero() ||
            config.session_lifetime > std::chrono::days(7)) {
            if (detail != nullptr)
                *detail = "session_lifetime must be positive and at most 7 days";
            return errc::invalid_configuration;
        }
        SSL_CTX_set_timeout(ctx, static_cast<long>(config.session_lifetime.count()));
        const bool cache = config.session_cache_size != 0;
        SSL_CTX_set_session_cache_mode(ctx,
                                       cache ? SSL_SESS_CACHE_SERVER
                                             : SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
        // OpenSSL 3.0 evicts while the count, the new session included, is at least its size, so
        // it holds one session fewer than it is told; and it takes 0 for "no bound".
        constexpr std::size_t largest = std::numeric_limits<long>::max() - 1;
        if (cache)
            SSL_CTX_sess_set_cache_size(
                ctx, static_cast<long>(std::min(config.session_cache_size, largest) + 1));
        // No 0-RTT: early data can be replayed by an attacker, and secctx has no API that could
        // tell the application which data is replayable. 0 is OpenSSL's default; said here so
        // that it stays so.
        SSL_CTX_set_max_early_data(ctx, 0);
        if (!config.session_tickets) {
            // TLS 1.2: no ticket; TLS 1.3: a ticket naming a cached session, or none.
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
            if (!cache)
                SSL_CTX_set_num_tickets(ctx, 0);
            return {};
        }
        // The bound keeps the key ages, counted in the steady clock's nanoseconds, far from
        // overflow; a key that lives longer is one that should have been rotated.
        if (config.ticket_key_lifetime <= std::chrono::seconds::zero() ||
            config.ticket_key_lifetime > std::chrono::years(10)) {
            if (detail != nullptr)
                *detail = "ticket_key_lifetime must be positive and at most 10 years";
            return errc::invalid_configuration;
        }
        if (!s.tickets.start(config.ticket_key_lifetime)) {
            if (detail != nullptr)
                *detail = "no random bytes for the session ticket key";
            return errc::invalid_configuration;
        }
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
        return {};
    }

    // ---- callbacks: OpenSSL finds the state through the SSL_CTX's ex_data ----

    static int state_index() noexcept {
        static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
        return index;
    }

    static state* state_of(const SSL* ssl) noexcept {
        const SSL_CTX* ctx = SSL_get_SSL_CTX(ssl);
        return ctx != nullptr ? static_cast<state*>(SSL_CTX_get_ex_data(ctx, state_index()))
                              : nullptr;
    }

    static void on_key_log(const SSL* ssl, const char* line) {
        const state* s = state_of(ssl);
        if (s == nullptr || !s->key_log)
            return;
        try {
            s->key_log(std::string_view(line));
        } catch (...) { // nothing may unwind through OpenSSL
        }
    }

    static int on_ticket_key(SSL* ssl, unsigned char* name, unsigned char* iv,
                             EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
        state* s = state_of(ssl);
        return s != nullptr ? s->tickets.prepare(ssl, name, iv, cipher, mac, enc) : 0;
    }

    // Called for a client that asks for a stapled response: the current one, if any.
    static int staple_response(SSL* ssl, void*) {
        state* s = state_of(ssl);
        if (s == nullptr || !s->staple)
            return SSL_TLSEXT_ERR_NOACK;
        try {
            const auto der = s->staple->current();
            if (!der)
                return SSL_TLSEXT_ERR_NOACK;
            // OpenSSL takes the copy and frees it with the connection.
            auto* copy = static_cast<unsigned char*>(OPENSSL_memdup(der->data(), der->size()));
            if (copy == nullptr)
                return SSL_TLSEXT_ERR_NOACK;
            SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der->size()));
            return SSL_TLSEXT_ERR_OK;
        } catch (...) { // nothing may unwind through OpenSSL
            return SSL_TLSEXT_ERR_NOACK;
        }
    }

    static int on_new_session(SSL* ssl, SSL_SESSION* session) {
        state* s = state_of(ssl);
        return s != nullptr && s->sessions.add(ssl, session) ? 1 : 0;
    }

    static void on_handshake_info(const SSL* ssl, int where, int) {
        if ((where & SSL_CB_HANDSHAKE_DONE) == 0)
            return;
        if (state* s = state_of(ssl))
            s->sessions.handshake_done(ssl);
    }

    // For the provider: a client connection to `server_name` offers the session cached for it,
    // and counts the sessions it receives.
    void prepare_client(SSL* ssl, std::string_view server_name) const noexcept {
        state_->sessions.prepare(ssl, server_name);
    }

    // For the provider: the sessions (tickets) a client connection has received.
    static unsigned sessions_received(const SSL* ssl) noexcept {
        return detail::session_cache::received(ssl);
    }

    static int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size,
                           const unsigned char* offered, unsigned offered_size, void* arg) {
        const auto& s = *static_cast<const state*>(arg);
        unsigned char* selected = nullptr;
        // Server preference: SSL_select_next_proto walks its first list in order.
        if (SSL_select_next_proto(&selected, out_size,
                                  reinterpret_cast<const unsigned char*>(s.alpn_wire.data()),
                                  static_cast<unsigned>(s.alpn_wire.size()), offered,
                                  offered_size) == OPENSSL_NPN_NEGOTIATED) {
            *out = selected;
            return SSL_TLSEXT_ERR_OK;
        }
        return s.proceed_without_common_alpn ? SSL_TLSEXT_ERR_NOACK : SSL_TLSEXT_ERR_ALERT_FATAL;
    }

    std::shared_ptr<state> state_;
};

} // namespace secctx::openssl
