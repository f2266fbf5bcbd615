// A raw OpenSSL SSL as the peer of a secctx end over the memory transport: the SSL reads and writes
// two BIO_s_mem, and pump() moves the bytes between them and the secctx end's link.
#pragma once

#include "support/drive.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <span>

namespace secctx::test {

class raw_peer {
public:
    // `ssl` takes the BIOs; `wire` is the link end facing the secctx end.
    raw_peer(SSL* ssl, memory_transport wire)
        : in_(BIO_new(BIO_s_mem())), out_(BIO_new(BIO_s_mem())), wire_(wire) {
        SSL_set_bio(ssl, in_, out_);
    }

    // What secctx wrote goes into the SSL's input; what the SSL wrote goes to secctx.
    void pump() {
        const bytes from_secctx = drain(wire_);
        if (!from_secctx.empty())
            BIO_write(in_, from_secctx.data(), static_cast<int>(from_secctx.size()));
        char chunk[4096];
        for (int n; (n = BIO_read(out_, chunk, sizeof chunk)) > 0;)
            put(wire_, std::as_bytes(std::span(chunk, static_cast<std::size_t>(n))));
    }

    memory_transport& wire() noexcept { return wire_; }

private:
    BIO* in_;
    BIO* out_;
    memory_transport wire_;
};

} // namespace secctx::test
