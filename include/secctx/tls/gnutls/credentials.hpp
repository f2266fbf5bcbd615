// Credentials (AcquireCredentialsHandle) for the GnuTLS engine: one configuration, one set of
// certificate credentials and one priority cache, shared by every handshake made with them. Copies
// share the same state; it lives as long as any copy or any connection made from it.
#pragma once

#include "secctx/error.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/gnutls/detail/certificate_choice.hpp"
#include "secctx/tls/gnutls/detail/handles.hpp"
#include "secctx/tls/gnutls/detail/names.hpp"
#include "secctx/tls/gnutls/detail/ocsp.hpp"
#include "secctx/tls/gnutls/detail/pem.hpp"
#include "secctx/tls/gnutls/detail/revocation.hpp"
#include "secctx/tls/gnutls/detail/server_sessions.hpp"
#include "secctx/tls/gnutls/detail/session_cache.hpp"
#include "secctx/tls/gnutls/detail/transport.hpp"
#include "secctx/tls/gnutls/detail/trust.hpp"

#include <gnutls/gnutls.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace secctx::gnutls {

class provider;

class credentials {
public:
    // The ec overloads never throw for a bad configuration; `detail`, when given, receives
    // GnuTLS's reason. The other overloads throw std::system_error carrying both.
    static credentials client(const client_config& config, std::error_code& ec,
                              std::string* detail = nullptr) {
        credentials made = make(role_kind::client, config, ec, detail);
        if (!ec)
            ec = made.configure_client(config, detail);
        return ec ? credentials() : made;
    }

    static credentials server(const server_config& config, std::error_code& ec,
                              std::string* detail = nullptr) {
        credentials made = make(role_kind::server, config, ec, detail);
        if (!ec)
            ec = made.configure_server(config, detail);
        return ec ? credentials() : made;
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
    // The engine's own objects, for what secctx does not wrap: the certificate credentials and
    // the priority cache every session made with these credentials is given.
    gnutls_certificate_credentials_t native_handle() const noexcept {
        return state_ ? state_->certificates.get() : nullptr;
    }
    gnutls_priority_t native_priority() const noexcept {
        return state_ ? state_->priority.get() : nullptr;
    }

    // For operators and tests: a fresh ticket master key from now on. GnuTLS holds one master key
    // per connection, so tickets issued under the old one give a full handshake; GnuTLS's own
    // rotation, every session lifetime, keeps the previous key's tickets good. Returns false,
    // changing nothing, for credentials without tickets. Thread-safe.
    bool rotate_ticket_keys() const noexcept {
        return state_ && state_->tickets.started() && state_->tickets.rotate();
    }

private:
    friend class provider;

    struct state {
        role_kind kind = role_kind::client;
        unsigned versions = 0; // bit 0: TLS 1.2, bit 1: TLS 1.3
        bool verify_peer = true;
        client_certificates verify_clients = client_certificates::none;
        bool proceed_without_common_alpn = false;
        unsigned session_lifetime = 0; // seconds, a server's
        detail::certificate_credentials_ptr certificates;
        detail::priority_ptr priority;
        std::vector<std::string> alpn;
        std::vector<gnutls_datum_t> alpn_datums; // into `alpn`
        std::function<void(std::string_view)> key_log;
        peer_validation validation;
        identity_mapping identity; // a server's
        unsigned max_chain_depth = 10;
        detail::revocation_checker revocation;
        ocsp_stapling ocsp = ocsp_stapling::off;                  // a client's
        detail::certificate_candidates candidates;                // a client's
        std::unique_ptr<secctx::detail::stapled_response> staple; // a server's
        detail::session_cache sessions;                           // a client's
        detail::ticket_key tickets;                               // a server's
        detail::server_session_cache server_sessions;             // a server's
    };

    // GnuTLS's own default bound on a peer key's size, kept.
    static constexpr unsigned max_verify_bits = 16384;

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

    // The detail of a failed load: GnuTLS's reason, after secctx's own words when there are any
    // (a file's name and the system's reason already say it all).
    static void explain(std::string* detail, const std::string& why, int rc) {
        if (detail == nullptr)
            return;
        *detail = why.empty() ? gnutls_strerror(rc) : why;
        if (!why.empty() && rc < 0 && rc != GNUTLS_E_FILE_ERROR)
            *detail += std::string(": ") + gnutls_strerror(rc);
    }

    static credentials make(role_kind kind, const tls_config& config, std::error_code& ec,
                            std::string* detail) {
        ec.clear(); // an error_code out-parameter says nothing of an earlier call
        credentials made;
        auto s = std::make_shared<state>();
        s->kind = kind;
        s->versions = (config.min_version == tls_version::tls1_2 ? 1u : 0u) |
                      (config.max_version == tls_version::tls1_3 ? 2u : 0u);
        if (config.min_version > config.max_version) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "min_version is above max_version";
            return made;
        }
        std::string priority;
        std::string unknown;
        if (!detail::priority_string(config, priority, unknown)) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "unknown or unsupported name in a cipher suite or group list: " + unknown;
            return made;
        }
        gnutls_priority_t cache = nullptr;
        const char* where = nullptr;
        if (const int rc = gnutls_priority_init2(&cache, priority.c_str(), &where, 0); rc < 0) {
            ec = errc::invalid_configuration;
            explain(detail, "GnuTLS refused the priority string " + priority, rc);
            return made;
        }
        s->priority.reset(cache);
        gnutls_certificate_credentials_t certificates = nullptr;
        if (gnutls_certificate_allocate_credentials(&certificates) < 0) {
            ec = errc::out_of_memory;
            return made;
        }
        s->certificates.reset(certificates);
        std::string why;
        if (const int rc = detail::load_identity(certificates, config, why); rc < 0) {
            ec = rc == GNUTLS_E_INVALID_REQUEST && !why.empty() ? errc::invalid_configuration
                                                                : errc::invalid_credentials;
            explain(detail, why, rc);
            return made;
        }
        if (config.max_chain_depth > 100) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "max_chain_depth is at most 100";
            return made;
        }
        // GnuTLS counts the certificates the peer sends; the provider counts the intermediates
        // among them, as OpenSSL does, so GnuTLS's own bound must never be the one that bites.
        s->max_chain_depth = config.max_chain_depth;
        gnutls_certificate_set_verify_limits(certificates, max_verify_bits,
                                             config.max_chain_depth + 2);
        if (const int rc = detail::load_trust(certificates, config.trust, kind); rc < 0) {
            ec = errc::invalid_credentials;
            explain(detail, "cannot load the trust anchors", rc);
            return made;
        }
        if (const char* conflict = revocation_conflict(config.revocation)) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = conflict;
            return made;
        }
        int crl_code = 0;
        if (const auto problem = s->revocation.load(config.revocation, crl_code);
            !problem.empty()) {
            ec = errc::invalid_credentials;
            explain(detail, problem, crl_code);
            return made;
        }
        std::size_t wire = 0;
        for (const auto& name : config.alpn) {
            if (name.empty() || name.size() > 255) {
                ec = errc::invalid_configuration;
                if (detail != nullptr)
                    *detail = "an ALPN protocol name must be 1 to 255 bytes";
                return made;
            }
            wire += 1 + name.size();
        }
        if (wire > 65535 - 2) {
            ec = errc::invalid_configuration;
            if (detail != nullptr)
                *detail = "the ALPN protocol names must fit in 65,533 bytes, with a byte of "
                          "length each";
            return made;
        }
        s->alpn = config.alpn;
        for (const auto& name : s->alpn)
            s->alpn_datums.push_back(detail::borrow(name.data(), name.size()));
        s->key_log = config.key_log;
        s->validation = config.validation;
        made.state_ = std::move(s);
        return made;
    }

    std::error_code configure_client(const client_config& config, std::string* detail) {
        if (const char* conflict = peer_judgement_conflict(config)) {
            if (detail != nullptr)
                *detail = conflict;
            return errc::invalid_configuration;
        }
        state_->verify_peer = !config.dangerous_skip_verification;
        state_->ocsp = config.ocsp;
        auto& candidates = state_->candidates;
        candidates.select = config.select_certificate;
        for (std::size_t i = 0; i < config.certificates.size(); ++i) {
            auto loaded = std::make_unique<detail::loaded_certificate>();
            std::string why;
            if (const int rc = loaded->load(config.certificates[i], why); rc < 0) {
                explain(detail, "certificates[" + std::to_string(i) + "]: " + why, rc);
                return errc::invalid_credentials;
            }
            candidates.described.push_back(loaded->describe_it());
            candidates.loaded.push_back(std::move(loaded));
        }
        if (candidates.enabled())
            gnutls_certificate_set_retrieve_function2(state_->certificates.get(),
                                                      retrieve_certificate);
        state_->sessions.configure(config.resume_sessions, config.session_cache_size);
        return {};
    }

    std::error_code configure_server(const server_config& config, std::string* detail) {
        auto& s = *state_;
        if (config.certificate_chain.empty() || config.private_key.empty()) {
            if (detail != nullptr)
                *detail = "a server needs a certificate chain and its private key";
            return errc::invalid_configuration;
        }
        s.verify_clients = config.verify_clients;
        s.verify_peer = config.verify_clients != client_certificates::none;
        if (const char* conflict = peer_judgement_conflict(config)) {
            if (detail != nullptr)
                *detail = conflict;
            return errc::invalid_configuration;
        }
        s.identity = config.client_identity;
        s.proceed_without_common_alpn = config.proceed_without_common_alpn;
        if (config.session_lifetime <= std::chrono::seconds::zero() ||
            config.session_lifetime > std::chrono::days(7)) {
            if (detail != nullptr)
                *detail = "session_lifetime must be positive and at most 7 days";
            return errc::invalid_configuration;
        }
        if (auto ec = configure_stapling(config, detail))
            return ec;
        s.session_lifetime = static_cast<unsigned>(config.session_lifetime.count());
        s.server_sessions.configure(config.session_cache_size, config.session_lifetime);
        if (!config.session_tickets)
            return {};
        if (config.ticket_key_lifetime <= std::chrono::seconds::zero() ||
            config.ticket_key_lifetime > std::chrono::years(10)) {
            if (detail != nullptr)
                *detail = "ticket_key_lifetime must be positive and at most 10 years";
            return errc::invalid_configuration;
        }
        if (!s.tickets.start()) {
            if (detail != nullptr)
                *detail = "no random bytes for the session ticket key";
            return errc::invalid_configuration;
        }
        return {};
    }

    std::error_code configure_stapling(const server_config& config, std::string* detail) {
        if (config.ocsp_response_file.empty())
            return {};
        auto& s = *state_;
        // The leaf's serial number, which the response must be about.
        gnutls_datum_t der{};
        gnutls_x509_crt_t raw = nullptr;
        if (gnutls_certificate_get_crt_raw(s.certificates.get(), 0, 0, &der) < 0 ||
            gnutls_x509_crt_init(&raw) < 0)
            return errc::out_of_memory;
        const detail::x509_crt_ptr leaf(raw);
        unsigned char number[64];
        std::size_t size = sizeof number;
        if (gnutls_x509_crt_import(raw, &der, GNUTLS_X509_FMT_DER) < 0 ||
            gnutls_x509_crt_get_serial(raw, number, &size) < 0)
            return errc::invalid_credentials;
        const std::string serial(reinterpret_cast<const char*>(number), size);
        s.staple = std::make_unique<secctx::detail::stapled_response>();
        const auto problem = s.staple->open(config.ocsp_response_file, [serial](const auto& r) {
            return detail::read_staple(r, serial);
        });
        if (!problem.empty()) {
            if (detail != nullptr)
                *detail = problem;
            return errc::invalid_credentials;
        }
        if (gnutls_certificate_set_ocsp_status_request_function2(s.certificates.get(), 0,
                                                                 staple_response, &s) < 0)
            return errc::invalid_configuration;
        return {};
    }

    // GnuTLS's status request function: the current response, in memory GnuTLS frees.
    static int staple_response(gnutls_session_t, void* arg, gnutls_datum_t* response) {
        auto* s = static_cast<state*>(arg);
        try {
            const auto der = s->staple->current();
            if (!der)
                return GNUTLS_E_NO_CERTIFICATE_STATUS;
            response->data = static_cast<unsigned char*>(gnutls_malloc(der->size()));
            if (response->data == nullptr)
                return GNUTLS_E_NO_CERTIFICATE_STATUS;
            std::memcpy(response->data, der->data(), der->size());
            response->size = static_cast<unsigned>(der->size());
            return 0;
        } catch (...) { // nothing may unwind through GnuTLS
            return GNUTLS_E_NO_CERTIFICATE_STATUS;
        }
    }

    // GnuTLS's retrieve function, for a client that chooses its certificate when asked: the
    // selector's choice, which must be made at once (detail/certificate_choice.hpp).
    static int retrieve_certificate(gnutls_session_t session, const gnutls_datum_t* names,
                                    int count, const gnutls_pk_algorithm_t*, int,
                                    gnutls_pcert_st** chain, unsigned* length,
                                    gnutls_privkey_t* key) {
        *chain = nullptr;
        *length = 0;
        *key = nullptr;
        const auto* io = static_cast<const detail::engine_io*>(gnutls_transport_get_ptr(session));
        auto* c = io != nullptr ? static_cast<detail::certificate_chooser*>(io->chooser) : nullptr;
        if (c == nullptr)
            return 0;
        try {
            const auto& from = *c->candidates;
            const auto request = detail::question(session, names, count, c->server_name);
            const certificate_choice choice = from.select
                                                  ? from.select(request, from.described)
                                                  : first_acceptable(request, from.described);
            if (choice.what() == certificate_choice::kind::none)
                return 0;
            if (choice.what() == certificate_choice::kind::later) {
                c->failed = true;
                c->why = "the GnuTLS engine cannot wait for a choice of certificate "
                         "(certificate_choice::later()): choose at once";
                return GNUTLS_E_INSUFFICIENT_CREDENTIALS;
            }
            if (choice.index() >= from.loaded.size()) {
                c->failed = true;
                c->why = "the selector chose certificate " + std::to_string(choice.index()) +
                         " of " + std::to_string(from.loaded.size());
                return GNUTLS_E_INSUFFICIENT_CREDENTIALS;
            }
            auto& chosen = *from.loaded[choice.index()];
            *chain = chosen.chain();
            *length = chosen.length();
            *key = chosen.key();
            return 0;
        } catch (...) { // nothing may unwind through GnuTLS
            c->failed = true;
            return GNUTLS_E_INSUFFICIENT_CREDENTIALS;
        }
    }

    // NSS key log lines: "LABEL <client random> <secret>", in hex.
    static int on_key_log(gnutls_session_t session, const char* label,
                          const gnutls_datum_t* secret) {
        const auto* s = static_cast<const state*>(gnutls_session_get_ptr(session));
        if (s == nullptr || !s->key_log)
            return 0;
        try {
            gnutls_datum_t client_random{};
            gnutls_datum_t server_random{};
            gnutls_session_get_random(session, &client_random, &server_random);
            static constexpr char digits[] = "0123456789abcdef";
            std::string line = label;
            const auto hex = [&](const gnutls_datum_t& d) {
                line += ' ';
                for (unsigned i = 0; i < d.size; ++i) {
                    line += digits[d.data[i] >> 4];
                    line += digits[d.data[i] & 15];
                }
            };
            hex(client_random);
            hex(*secret);
            s->key_log(line);
            secctx::detail::wipe(line.data(), line.size());
        } catch (...) { // nothing may unwind through GnuTLS
        }
        return 0;
    }

    std::shared_ptr<state> state_;
};

} // namespace secctx::gnutls
