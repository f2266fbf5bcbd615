// Credentials (AcquireCredentialsHandle): one configuration, one SSL_CTX, shared by every
// handshake made with it. Copies share the same context; it lives as long as any copy or any
// connection made from it.
#pragma once

#include "secctx/error.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <chrono>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

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
            ec = made.configure_client(config);
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
    bool rotate_ticket_keys() const noexcept {
        if (!state_ || !state_->tickets)
            return false;
        std::lock_guard lock(state_->ticket_mutex);
        const auto now = std::chrono::steady_clock::now();
        return state_->rotate(now, now);
    }

private:
    friend class provider;

    // A session ticket key (RFC 5077 layout, as OpenSSL's own: AES-256-CBC and HMAC-SHA256).
    struct ticket_key {
        unsigned char name[16] = {};
        unsigned char aes[32] = {};
        unsigned char hmac[32] = {};
        std::chrono::steady_clock::time_point since; // made current, or, for the previous key,
                                                     // replaced
    };

    struct cached_session {
        std::string server_name;
        detail::ssl_session_ptr session;
    };

    // What a client connection keeps in its SSL (ex_data): the name its sessions are cached
    // under and the sessions it received.
    struct connection_sessions {
        std::string server_name; // empty: nothing cached
        unsigned received = 0;
    };

    struct state {
        state() = default;
        state(const state&) = delete;
        state& operator=(const state&) = delete;
        ~state() {
            OPENSSL_cleanse(&current_key, sizeof current_key);
            OPENSSL_cleanse(&previous_key, sizeof previous_key);
        }

        // Under ticket_mutex. A fresh key becomes the current one and the current one the
        // previous, replaced at `replaced` (it decrypts for a lifetime from then); false, nothing
        // changed, if the random generator fails.
        bool rotate(std::chrono::steady_clock::time_point now,
                    std::chrono::steady_clock::time_point replaced) noexcept {
            ticket_key fresh;
            if (RAND_bytes(fresh.name, sizeof fresh.name) != 1 ||
                RAND_bytes(fresh.aes, sizeof fresh.aes) != 1 ||
                RAND_bytes(fresh.hmac, sizeof fresh.hmac) != 1) {
                OPENSSL_cleanse(&fresh, sizeof fresh);
                return false;
            }
            fresh.since = now;
            previous_key = current_key;
            previous_key.since = replaced;
            has_previous = has_current;
            current_key = fresh;
            has_current = true;
            OPENSSL_cleanse(&fresh, sizeof fresh);
            return true;
        }

        // Under ticket_mutex: rotation by age. Rotation is lazy (at the first ticket after the
        // key's lifetime), but the replaced key counts as replaced when its lifetime ended: it
        // encrypted nothing after that, so its tickets are never decrypted more than two
        // lifetimes after the key was made.
        void age_keys(std::chrono::steady_clock::time_point now) noexcept {
            if (now - current_key.since >= ticket_key_lifetime)
                rotate(now, current_key.since + ticket_key_lifetime); // on failure: next time
            if (has_previous && now - previous_key.since >= ticket_key_lifetime) {
                OPENSSL_cleanse(&previous_key, sizeof previous_key);
                has_previous = false;
            }
        }

        detail::ssl_ctx_ptr context;
        role_kind kind = role_kind::client;
        bool verify_peer = true;
        bool alpn_required = false;
        std::string alpn_wire; // ALPN list in wire format: length-prefixed names
        std::function<void(std::string_view)> key_log;

        // Client: the session cache, oldest first.
        bool resume_sessions = false;
        std::size_t session_cache_size = 0;
        std::mutex session_mutex;
        std::vector<cached_session> sessions;

        // Server: the session ticket keys.
        bool tickets = false;
        std::chrono::steady_clock::duration ticket_key_lifetime{};
        std::mutex ticket_mutex;
        ticket_key current_key;
        ticket_key previous_key;
        bool has_current = false;
        bool has_previous = false;
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
            if (const unsigned long packed = ERR_peek_last_error(); packed != 0) {
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
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
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
            !SSL_CTX_set_max_proto_version(ctx, to_openssl(config.max_version)) ||
            (!config.tls12_ciphers.empty() &&
             !SSL_CTX_set_cipher_list(ctx, config.tls12_ciphers.c_str())) ||
            (!config.tls13_ciphersuites.empty() &&
             !SSL_CTX_set_ciphersuites(ctx, config.tls13_ciphersuites.c_str())) ||
            (!config.groups.empty() && !SSL_CTX_set1_groups_list(ctx, config.groups.c_str()))) {
            ec = errc::invalid_configuration;
            return made;
        }
        if (!load_identity(ctx, config) || !load_trust(ctx, config.trust, kind)) {
            ec = errc::invalid_credentials;
            return made;
        }
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
        made.state_ = std::move(s);
        return made;
    }

    std::error_code configure_client(const client_config& config) {
        auto& s = *state_;
        SSL_CTX* ctx = s.context.get();
        s.verify_peer = !config.dangerous_skip_verification;
        SSL_CTX_set_verify(ctx, s.verify_peer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
        // Sessions go to the credentials' own cache, keyed by server name (OpenSSL's internal
        // client cache is keyed by nothing useful); the callback also counts them per connection.
        s.resume_sessions = config.resume_sessions && config.session_cache_size != 0;
        s.session_cache_size = config.session_cache_size;
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
        if (s.resume_sessions)
            SSL_CTX_set_info_callback(ctx, on_handshake_info);
        if (!s.alpn_wire.empty() &&
            SSL_CTX_set_alpn_protos(ctx, reinterpret_cast<const unsigned char*>(s.alpn_wire.data()),
                                    static_cast<unsigned>(s.alpn_wire.size())) != 0)
            return errc::invalid_configuration;
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
        if (s.verify_peer && config.trust.empty()) {
            if (detail != nullptr)
                *detail = "verifying client certificates needs trust anchors";
            return errc::invalid_configuration;
        }
        s.alpn_required = config.alpn_required;
        int mode = SSL_VERIFY_NONE;
        if (config.verify_clients == client_certificates::optional)
            mode = SSL_VERIFY_PEER;
        else if (config.verify_clients == client_certificates::required)
            mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, nullptr);
        // Sessions of verified clients can only be resumed within the same context id.
        static constexpr unsigned char context_id[] = "secctx";
        SSL_CTX_set_session_id_context(ctx, context_id, sizeof context_id - 1);
        if (!s.alpn_wire.empty())
            SSL_CTX_set_alpn_select_cb(ctx, select_alpn, &s);
        return configure_tickets(config, detail);
    }

    // Stateless tickets only: the server keeps no session cache, so resumption costs it no
    // memory however many clients come; with tickets off there is no resumption at all.
    std::error_code configure_tickets(const server_config& config, std::string* detail) {
        auto& s = *state_;
        SSL_CTX* ctx = s.context.get();
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL);
        // No 0-RTT: early data can be replayed by an attacker, and secctx has no API that could
        // tell the application which data is replayable. 0 is OpenSSL's default; said here so
        // that it stays so.
        SSL_CTX_set_max_early_data(ctx, 0);
        if (!config.session_tickets) {
            SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET); // TLS 1.2
            SSL_CTX_set_num_tickets(ctx, 0);            // TLS 1.3
            return {};
        }
        if (config.ticket_key_lifetime <= std::chrono::seconds::zero()) {
            if (detail != nullptr)
                *detail = "ticket_key_lifetime must be positive";
            return errc::invalid_configuration;
        }
        s.ticket_key_lifetime = config.ticket_key_lifetime;
        const auto now = std::chrono::steady_clock::now();
        if (!s.rotate(now, now)) {
            if (detail != nullptr)
                *detail = "no random bytes for the session ticket key";
            return errc::invalid_configuration;
        }
        s.tickets = true;
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

    // enc = 1: choose the key for a new ticket (its name and a fresh IV go into the ticket);
    // enc = 0: find the key named by a ticket. Returns 1 (the current key), 2 (renew the ticket:
    // the previous key's, and every TLS 1.3 ticket, as OpenSSL's own keys do, since a TLS 1.3
    // client uses a ticket once), 0 (unknown key: full handshake) or -1 (failure).
    static int on_ticket_key(SSL* ssl, unsigned char* name, unsigned char* iv,
                             EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac, int enc) {
        state* s = state_of(ssl);
        if (s == nullptr || !s->tickets)
            return 0;
        ticket_key key;
        int found = 1;
        {
            std::lock_guard lock(s->ticket_mutex);
            s->age_keys(std::chrono::steady_clock::now());
            if (enc != 0 || std::memcmp(name, s->current_key.name, sizeof key.name) == 0) {
                key = s->current_key;
                found = enc == 0 && SSL_version(ssl) >= TLS1_3_VERSION ? 2 : 1;
            } else if (s->has_previous &&
                       std::memcmp(name, s->previous_key.name, sizeof key.name) == 0) {
                key = s->previous_key;
                found = 2;
            } else {
                return 0;
            }
        }
        const int iv_size = EVP_CIPHER_get_iv_length(EVP_aes_256_cbc());
        if (enc != 0) {
            std::memcpy(name, key.name, sizeof key.name);
            if (RAND_bytes(iv, iv_size) != 1)
                found = -1;
        }
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac, sizeof key.hmac),
            OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
            OSSL_PARAM_construct_end()};
        if (found > 0 &&
            (EVP_CipherInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes, iv, enc) != 1 ||
             EVP_MAC_CTX_set_params(mac, params) != 1))
            found = -1;
        OPENSSL_cleanse(&key, sizeof key);
        return found;
    }

    // ---- the client's session cache ----

    static int connection_index() noexcept {
        static const int index =
            SSL_get_ex_new_index(0, nullptr, nullptr, forget_connection, free_connection);
        return index;
    }

    static connection_sessions* connection_of(const SSL* ssl) noexcept {
        return static_cast<connection_sessions*>(SSL_get_ex_data(ssl, connection_index()));
    }

    static void free_connection(void*, void* data, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<connection_sessions*>(data);
    }

    // SSL_dup: the copy starts with nothing (sharing the pointer would free it twice).
    static int forget_connection(CRYPTO_EX_DATA*, const CRYPTO_EX_DATA*, void** data, int, long,
                                 void*) {
        *data = nullptr;
        return 1;
    }

    static bool expired(const SSL_SESSION* session) noexcept {
        const auto start = static_cast<std::time_t>(SSL_SESSION_get_time(session));
        const auto lifetime = static_cast<std::time_t>(SSL_SESSION_get_timeout(session));
        return start + lifetime <= std::time(nullptr) || SSL_SESSION_is_resumable(session) != 1;
    }

    // Caches `session` under `server_name`, taking over the reference: true if it did. A TLS 1.2
    // session replaces the name's older ones; TLS 1.3 tickets add up (each is good for one
    // resumption). The oldest is evicted when the cache is full.
    static bool keep_session(state& s, const std::string& server_name,
                             SSL_SESSION* session) noexcept {
        const bool tls13 = SSL_SESSION_get_protocol_version(session) >= TLS1_3_VERSION;
        try {
            std::lock_guard lock(s.session_mutex);
            auto& sessions = s.sessions;
            std::erase_if(sessions, [&](const cached_session& c) {
                return (!tls13 && c.server_name == server_name) || expired(c.session.get());
            });
            while (sessions.size() >= s.session_cache_size)
                sessions.erase(sessions.begin());
            sessions.push_back({server_name, nullptr});
            sessions.back().session.reset(session);
        } catch (...) { // out of memory: the session is simply not kept
            return false;
        }
        return true;
    }

    // A new session from the server (a TLS 1.3 ticket, or a TLS 1.2 full handshake's session):
    // counted for the connection, and cached under its name. Returns 1 when the cache keeps the
    // reference OpenSSL handed over.
    static int on_new_session(SSL* ssl, SSL_SESSION* session) {
        connection_sessions* connection = connection_of(ssl);
        if (connection == nullptr)
            return 0;
        ++connection->received;
        state* s = state_of(ssl);
        if (s == nullptr || !s->resume_sessions || connection->server_name.empty())
            return 0;
        return keep_session(*s, connection->server_name, session) ? 1 : 0;
    }

    // A resumed TLS 1.2 handshake gives no new session, but the server may have renewed the
    // ticket (one of its previous key): the session now in use replaces the cached one.
    static void on_handshake_info(const SSL* ssl, int where, int) {
        if ((where & SSL_CB_HANDSHAKE_DONE) == 0 || SSL_version(ssl) >= TLS1_3_VERSION ||
            SSL_session_reused(ssl) != 1)
            return;
        const connection_sessions* connection = connection_of(ssl);
        state* s = state_of(ssl);
        SSL_SESSION* session = SSL_get_session(ssl);
        if (connection == nullptr || connection->server_name.empty() || s == nullptr ||
            session == nullptr || SSL_SESSION_up_ref(session) != 1)
            return;
        if (!keep_session(*s, connection->server_name, session))
            SSL_SESSION_free(session);
    }

    // The newest session cached for `server_name`: taken out for TLS 1.3 (tickets are
    // single-use), shared for TLS 1.2.
    detail::ssl_session_ptr take_session(std::string_view server_name) const noexcept {
        auto& s = *state_;
        std::lock_guard lock(s.session_mutex);
        for (std::size_t i = s.sessions.size(); i-- > 0;) {
            auto& cached = s.sessions[i];
            if (cached.server_name != server_name)
                continue;
            if (expired(cached.session.get())) {
                s.sessions.erase(s.sessions.begin() + static_cast<std::ptrdiff_t>(i));
                continue;
            }
            if (SSL_SESSION_get_protocol_version(cached.session.get()) >= TLS1_3_VERSION) {
                detail::ssl_session_ptr taken = std::move(cached.session);
                s.sessions.erase(s.sessions.begin() + static_cast<std::ptrdiff_t>(i));
                return taken;
            }
            SSL_SESSION_up_ref(cached.session.get());
            return detail::ssl_session_ptr(cached.session.get());
        }
        return nullptr;
    }

    // For the provider: a client connection to `server_name` offers the session cached for it,
    // and counts the sessions it receives. Without memory, the connection simply does neither.
    void prepare_client(SSL* ssl, std::string_view server_name) const noexcept {
        const bool resume = state_->resume_sessions && !server_name.empty();
        std::unique_ptr<connection_sessions> connection;
        try {
            connection = std::make_unique<connection_sessions>();
            if (resume)
                connection->server_name.assign(server_name);
        } catch (...) {
            return;
        }
        if (SSL_set_ex_data(ssl, connection_index(), connection.get()) != 1)
            return;
        connection.release(); // the SSL owns it now: free_connection
        if (!resume)
            return;
        if (const auto session = take_session(server_name))
            SSL_set_session(ssl, session.get());
    }

    // For the provider: the sessions (tickets) a client connection has received.
    static unsigned sessions_received(const SSL* ssl) noexcept {
        const connection_sessions* connection = connection_of(ssl);
        return connection != nullptr ? connection->received : 0;
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
        return s.alpn_required ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
    }

    static detail::bio_ptr memory_bio(const std::string& text) {
        return detail::bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    }

    static bool load_identity(SSL_CTX* ctx, const tls_config& config) {
        if (config.certificate_chain.empty() != config.private_key.empty())
            return false;
        if (config.certificate_chain.empty())
            return true;
        if (config.certificate_chain.where == pem_source::kind::file) {
            if (SSL_CTX_use_certificate_chain_file(ctx, config.certificate_chain.value.c_str()) !=
                1)
                return false;
        } else {
            auto bio = memory_bio(config.certificate_chain.value);
            detail::x509_ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
            if (!leaf || SSL_CTX_use_certificate(ctx, leaf.get()) != 1)
                return false;
            while (X509* next = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
                if (SSL_CTX_add0_chain_cert(ctx, next) != 1) {
                    X509_free(next);
                    return false;
                }
            }
            ERR_clear_error(); // the end of the PEM text reads as "no start line"
        }
        if (config.private_key.where == pem_source::kind::file) {
            if (SSL_CTX_use_PrivateKey_file(ctx, config.private_key.value.c_str(),
                                            SSL_FILETYPE_PEM) != 1)
                return false;
        } else {
            auto bio = memory_bio(config.private_key.value);
            detail::evp_pkey_ptr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
            if (!key || SSL_CTX_use_PrivateKey(ctx, key.get()) != 1)
                return false;
        }
        return SSL_CTX_check_private_key(ctx) == 1;
    }

    static bool load_trust(SSL_CTX* ctx, const trust_anchors& trust, role_kind kind) {
        if (trust.empty() && kind == role_kind::client)
            return SSL_CTX_set_default_verify_paths(ctx) == 1;
        if (trust.system_store && SSL_CTX_set_default_verify_paths(ctx) != 1)
            return false;
        if (!trust.directory.empty() &&
            SSL_CTX_load_verify_locations(ctx, nullptr, trust.directory.c_str()) != 1)
            return false;
        if (trust.certificates.where == pem_source::kind::file)
            return SSL_CTX_load_verify_locations(ctx, trust.certificates.value.c_str(), nullptr) ==
                   1;
        if (trust.certificates.where == pem_source::kind::memory) {
            auto bio = memory_bio(trust.certificates.value);
            X509_STORE* store = SSL_CTX_get_cert_store(ctx);
            int added = 0;
            while (detail::x509_ptr ca{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
                if (X509_STORE_add_cert(store, ca.get()) != 1)
                    return false;
                ++added;
            }
            if (added == 0)
                return false; // PEM's own reason ("no start line") stays for the detail
            ERR_clear_error();
            return true;
        }
        return true;
    }

    std::shared_ptr<state> state_;
};

} // namespace secctx::openssl
