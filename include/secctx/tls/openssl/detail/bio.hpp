// The custom BIO through which OpenSSL reads from and writes to the buffer policy's own memory:
// no BIO_s_mem, no BIO pair, no staging copy. The provider points the BIO at a bio_io for the
// duration of one engine call; between calls the BIO is detached and reads/writes fail.
#pragma once

#include "secctx/buffer/buffer_policy.hpp"
#include "secctx/buffer/detail/append.hpp"
#include "secctx/error.hpp"
#include "secctx/tls/openssl/detail/handles.hpp"

#include <openssl/bio.h>

#include <algorithm>
#include <cstring>
#include <span>

namespace secctx::openssl::detail {

struct bio_io {
    // Whole records the engine may read; it takes them from the front, in order.
    std::span<const std::byte> readable;
    std::size_t consumed = 0;
    // The output queue and the function that appends to it: the one indirection that lets a
    // single BIO_METHOD serve every buffer policy.
    void* output = nullptr;
    secctx::detail::append_function append = nullptr;
    // Why a write failed, when it did: the buffer policy could not take the token.
    std::error_code write_error;
};

inline int bio_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
    BIO_clear_retry_flags(bio);
    auto* io = static_cast<bio_io*>(BIO_get_data(bio));
    if (io == nullptr)
        return 0;
    if (auto error = io->append(io->output, data, size)) {
        io->write_error = error;
        return 0;
    }
    *written = size;
    return 1;
}

inline int bio_read(BIO* bio, char* data, std::size_t size, std::size_t* read) {
    BIO_clear_retry_flags(bio);
    auto* io = static_cast<bio_io*>(BIO_get_data(bio));
    const std::size_t available = io == nullptr ? 0 : io->readable.size() - io->consumed;
    if (available == 0) {
        BIO_set_retry_read(bio);
        return 0;
    }
    const std::size_t n = std::min(size, available);
    std::memcpy(data, io->readable.data() + io->consumed, n);
    io->consumed += n;
    *read = n;
    return 1;
}

inline long bio_ctrl(BIO*, int command, long, void*) {
    // OpenSSL flushes after each flight; the bytes are already in the buffer policy.
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

inline int bio_create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
}

inline const BIO_METHOD* bio_method() noexcept {
    // Built once; freed at exit, before OpenSSL's own cleanup (which was registered first, when
    // the library initialised, and so runs last).
    static const bio_method_ptr method = [] {
        OPENSSL_init_ssl(0, nullptr);
        bio_method_ptr m(BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "secctx"));
        if (m) {
            BIO_meth_set_write_ex(m.get(), bio_write);
            BIO_meth_set_read_ex(m.get(), bio_read);
            BIO_meth_set_ctrl(m.get(), bio_ctrl);
            BIO_meth_set_create(m.get(), bio_create);
        }
        return m;
    }();
    return method.get();
}

} // namespace secctx::openssl::detail
