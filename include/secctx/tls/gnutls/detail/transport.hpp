// GnuTLS's push and pull functions over the buffer policy's own memory: the counterpart of the
// OpenSSL provider's BIO (no staging copy beyond the one the callback interface forces). The
// provider points the session at an engine_io for the duration of one engine call.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/detail/append.hpp"
#include "secctx/error.hpp"
#include "secctx/tls/record_framing.hpp"

#include <gnutls/gnutls.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <sys/types.h>

namespace secctx::gnutls::detail {

struct engine_io {
    gnutls_session_t session = nullptr;
    // The provider making the call: GnuTLS's callbacks during it (verification, tickets) find
    // their connection's state through here, with no allocation per connection.
    void* owner = nullptr;
    // Whole records the engine may read; it takes them from the front, in order, and never past
    // the end of the record it is reading (so what follows stays in the input, for the caller).
    std::span<const std::byte> readable;
    std::size_t consumed = 0;
    void* output = nullptr;
    secctx::detail::append_function append = nullptr;
    std::error_code write_error;
    // A client's choice of certificate (certificate_choice.hpp), if it has one to make.
    void* chooser = nullptr;
};

// The bytes of the record being read that the engine has not taken yet: up to the end of the
// record that starts at or before `consumed`.
inline std::size_t record_rest(const engine_io& io) noexcept {
    std::size_t at = 0;
    while (at + tls::record_header_size <= io.readable.size()) {
        const std::size_t end =
            at + tls::record_header_size + tls::record_body_size(io.readable.subspan(at));
        if (io.consumed < end)
            return std::min(end, io.readable.size()) - io.consumed;
        at = end;
    }
    return io.readable.size() - io.consumed;
}

inline ssize_t pull(gnutls_transport_ptr_t ptr, void* data, std::size_t size) {
    auto* io = static_cast<engine_io*>(ptr);
    const std::size_t available = io == nullptr ? 0 : record_rest(*io);
    if (available == 0) {
        if (io != nullptr)
            gnutls_transport_set_errno(io->session, EAGAIN);
        errno = EAGAIN;
        return -1;
    }
    const std::size_t n = std::min(size, available);
    std::memcpy(data, io->readable.data() + io->consumed, n);
    io->consumed += n;
    return static_cast<ssize_t>(n);
}

inline int pull_timeout(gnutls_transport_ptr_t ptr, unsigned) {
    const auto* io = static_cast<const engine_io*>(ptr);
    return io != nullptr && io->consumed < io->readable.size() ? 1 : 0;
}

inline ssize_t push(gnutls_transport_ptr_t ptr, const void* data, std::size_t size) {
    auto* io = static_cast<engine_io*>(ptr);
    if (io == nullptr) {
        errno = EIO;
        return -1;
    }
    if (auto error = io->append(io->output, data, size)) {
        io->write_error = error;
        gnutls_transport_set_errno(io->session, EIO);
        return -1;
    }
    return static_cast<ssize_t>(size);
}

inline void attach_callbacks(gnutls_session_t session) noexcept {
    gnutls_transport_set_ptr(session, nullptr);
    gnutls_transport_set_pull_function(session, pull);
    gnutls_transport_set_pull_timeout_function(session, pull_timeout);
    gnutls_transport_set_push_function(session, push);
}

} // namespace secctx::gnutls::detail
