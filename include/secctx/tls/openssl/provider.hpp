// The OpenSSL 3 provider: TLS 1.2 and 1.3 through one SSL object per connection, reading from and
// writing to the buffer policy's memory through secctx's own BIO (see detail/bio.hpp).
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/role.hpp"
#include "secctx/tls/detail/record_framing.hpp"
#include "secctx/tls/openssl/credentials.hpp"
#include "secctx/tls/openssl/detail/bio.hpp"
#include "secctx/tls/openssl/detail/error_mapping.hpp"
#include "secctx/tls/provider.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

namespace secctx::openssl {

class provider {
public:
    using credentials_type = credentials;

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
        if (kind == role_kind::server) {
            SSL_set_accept_state(ssl_.get());
            return;
        }
        SSL_set_connect_state(ssl_.get());
        if (const auto ec = set_server_name(server_name, creds.verifies_peer())) {
            ssl_.reset();
            error_ = ec;
        }
    }

    provider(provider&&) noexcept = default;
    provider& operator=(provider&&) noexcept = default;

    template <buffer_policy Buffers>
    provider_result handshake(Buffers& buffers) noexcept {
        if (!ssl_)
            return {provider_status::error, 0, error_};
        auto& input = buffers.input();
        const auto scan = tls::detail::scan_records(input.data());
        if (scan.whole == 0 && input.size() != 0)
            return need_input(buffers, scan);

        detail::bio_io io{input.data().first(scan.whole),
                          0,
                          &buffers.output(),
                          &detail::append_to<output_queue_t<Buffers>>,
                          {}};
        BIO* bio = SSL_get_rbio(ssl_.get());
        BIO_set_data(bio, &io);
        // SSL_get_error needs an empty queue; peeking first is much cheaper than clearing.
        if (ERR_peek_error() != 0)
            ERR_clear_error();
        const int rc = SSL_do_handshake(ssl_.get());
        BIO_set_data(bio, nullptr);
        input.consume(io.consumed);

        if (rc == 1)
            return {provider_status::ok, 0, {}};
        const int reason = SSL_get_error(ssl_.get(), rc);
        if (reason == SSL_ERROR_WANT_READ && !io.write_error)
            return need_input(buffers, tls::detail::scan_records(input.data()));
        return fail(reason, io.write_error);
    }

    void abandon(std::error_code ec) noexcept {
        ssl_.reset();
        error_ = ec;
    }

    // OpenSSL's words for the failure: its error string and, for certificate failures, the
    // verification result.
    std::string error_detail() const {
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
        return c != nullptr ? std::string_view(SSL_CIPHER_get_name(c)) : std::string_view();
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

    // What the engine cannot go on without: the peer's next token, the rest of an incomplete
    // record, or nothing ever (a header no TLS peer sends).
    // `scan` is of what is left in the input.
    template <buffer_policy Buffers>
    provider_result need_input(Buffers& buffers, const tls::detail::record_scan& scan) noexcept {
        if (buffers.input().size() == 0)
            return {provider_status::continue_needed, tls::detail::record_header_size, {}};
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
        verify_result_ = SSL_get_verify_result(ssl_.get());
        // The first SSL-library error is the cause; later entries are consequences.
        unsigned long first = 0;
        while (const unsigned long packed = ERR_get_error()) {
            if (first == 0)
                first = packed;
            if (engine_error_ == 0 && ERR_GET_LIB(packed) == ERR_LIB_SSL)
                engine_error_ = packed;
        }
        if (engine_error_ == 0)
            engine_error_ = first;
        if (write_error)
            error_ = write_error;
        else if (reason == SSL_ERROR_ZERO_RETURN)
            error_ = errc::peer_closed_during_handshake;
        else
            error_ = detail::map_error(engine_error_, verify_result_);
        ssl_.reset(); // DeleteSecurityContext: nothing of the partial context survives.
        return {provider_status::error, 0, error_};
    }

    credentials credentials_;
    detail::ssl_ptr ssl_;
    std::error_code error_;
    unsigned long engine_error_ = 0;
    long verify_result_ = X509_V_OK;
};

} // namespace secctx::openssl
