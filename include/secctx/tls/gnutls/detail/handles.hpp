// RAII owners for the GnuTLS objects secctx creates; no naked deinit or free calls elsewhere.
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <cstring>
#include <memory>
#include <type_traits>

namespace secctx::gnutls::detail {

template <class T, void (*Free)(T)>
struct deleter {
    void operator()(T p) const noexcept { Free(p); }
};

template <class Handle, void (*Free)(Handle)>
using owner = std::unique_ptr<std::remove_pointer_t<Handle>, deleter<Handle, Free>>;

using session_ptr = owner<gnutls_session_t, gnutls_deinit>;
using certificate_credentials_ptr =
    owner<gnutls_certificate_credentials_t, gnutls_certificate_free_credentials>;
using priority_ptr = owner<gnutls_priority_t, gnutls_priority_deinit>;
using x509_crt_ptr = owner<gnutls_x509_crt_t, gnutls_x509_crt_deinit>;
using x509_crl_ptr = owner<gnutls_x509_crl_t, gnutls_x509_crl_deinit>;
using x509_privkey_ptr = owner<gnutls_x509_privkey_t, gnutls_x509_privkey_deinit>;
using privkey_ptr = owner<gnutls_privkey_t, gnutls_privkey_deinit>;
using packet_ptr = owner<gnutls_packet_t, gnutls_packet_deinit>;

// Bytes GnuTLS allocated for us (gnutls_free), wiped first when they are secret.
class datum {
public:
    datum() = default;
    datum(const datum&) = delete;
    datum& operator=(const datum&) = delete;
    datum(datum&& other) noexcept : d_(other.d_), secret_(other.secret_) { other.d_ = {}; }
    datum& operator=(datum&& other) noexcept {
        if (this != &other) {
            reset();
            d_ = other.d_;
            secret_ = other.secret_;
            other.d_ = {};
        }
        return *this;
    }
    ~datum() { reset(); }

    // For a GnuTLS call that fills it; `secret` wipes it when it is freed.
    gnutls_datum_t* out(bool secret = false) noexcept {
        reset();
        secret_ = secret;
        return &d_;
    }
    const gnutls_datum_t* get() const noexcept { return &d_; }
    bool empty() const noexcept { return d_.data == nullptr || d_.size == 0; }

    void reset() noexcept {
        if (d_.data != nullptr) {
            if (secret_)
                gnutls_memset(d_.data, 0, d_.size);
            gnutls_free(d_.data);
        }
        d_ = {};
    }

private:
    gnutls_datum_t d_{};
    bool secret_ = false;
};

// A datum that lends `size` bytes at `data` to GnuTLS without copying them.
inline gnutls_datum_t borrow(const void* data, std::size_t size) noexcept {
    return {static_cast<unsigned char*>(const_cast<void*>(data)), static_cast<unsigned>(size)};
}

} // namespace secctx::gnutls::detail
