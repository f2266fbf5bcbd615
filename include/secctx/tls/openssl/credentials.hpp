// Credentials (AcquireCredentialsHandle): one configuration, one SSL_CTX, shared by every
// handshake made with it. Copies share the same context; it lives as long as any copy or any
// connection made from it.
#pragma once

#include "secctx/error.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/config.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace secctx::openssl {

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

private:
    struct state {
        detail::ssl_ctx_ptr context;
        role_kind kind = role_kind::client;
        bool verify_peer = true;
        bool alpn_required = false;
        std::string alpn_wire; // ALPN list in wire format: length-prefixed names
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
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
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
        return {};
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
