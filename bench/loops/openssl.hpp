// The hand-written OpenSSL loops, on the SSL_CTX of the PKI's OpenSSL credentials:
//
//   openssl-mem         the loop most code writes: two BIO_s_mem per SSL, SSL_do_handshake on each
//                       side, bytes shuttled through a stack buffer with BIO_read/BIO_write.
//   openssl-custom-bio  the best loop by hand: one BIO per SSL over two fixed byte lanes the two
//                       SSLs share, so the only copies are the ones the BIO interface forces (into
//                       the lane on write, out of it on read); each side runs only when it has
//                       input; the BIOs are made once and reused.
// Both transfer() with SSL_write_ex and SSL_read_ex.
#pragma once

#include "../pki.hpp"
#include "lane.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstddef>
#include <span>

namespace secctx::bench {

// ---------------------------------------------------------------------------------------------
// What both hand-written loops do to a client SSL, as secctx's provider does: SNI, and verify the
// server's certificate against the name.
inline bool expect_server_name(SSL* ssl) {
    if (SSL_set_tlsext_host_name(ssl, server_name) != 1)
        return false;
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    return SSL_set1_host(ssl, server_name) == 1;
}

// SSL_read_ex until `into` is full; false if the records run out first.
inline bool read_all(SSL* ssl, std::span<std::byte> into) {
    for (std::size_t got = 0; got < into.size();) {
        std::size_t n = 0;
        if (SSL_read_ex(ssl, into.data() + got, into.size() - got, &n) != 1)
            return false;
        got += n;
    }
    return true;
}

// One SSL_do_handshake; false on anything but progress or "waiting for the peer".
inline bool advance(SSL* ssl, bool& done) {
    if (done)
        return true;
    const int rc = SSL_do_handshake(ssl);
    if (rc == 1) {
        done = true;
        return true;
    }
    return SSL_get_error(ssl, rc) == SSL_ERROR_WANT_READ;
}

// ---------------------------------------------------------------------------------------------
// openssl-mem

class openssl_mem_loop {
public:
    explicit openssl_mem_loop(const pki& p)
        : client_ctx_(p.openssl_client.native_handle()),
          server_ctx_(p.openssl_server.native_handle()) {}

    openssl_mem_loop(const openssl_mem_loop&) = delete;
    openssl_mem_loop& operator=(const openssl_mem_loop&) = delete;
    ~openssl_mem_loop() { close(); }

    bool handshake() {
        const bool ok = connect();
        close();
        return ok;
    }

    bool connect() {
        close();
        c_ = make(client_ctx_, true);
        s_ = make(server_ctx_, false);
        return c_ != nullptr && s_ != nullptr && run(c_, s_);
    }

    bool transfer(std::span<const std::byte> message, std::span<std::byte> into) {
        std::size_t n = 0;
        if (SSL_write_ex(c_, message.data(), message.size(), &n) != 1 || !shuttle(c_, s_))
            return false;
        return read_all(s_, into);
    }

private:
    void close() {
        SSL_free(c_);
        SSL_free(s_);
        c_ = s_ = nullptr;
    }

private:
    static SSL* make(SSL_CTX* ctx, bool is_client) {
        SSL* ssl = SSL_new(ctx);
        if (ssl == nullptr)
            return nullptr;
        BIO* in = BIO_new(BIO_s_mem());
        BIO* out = BIO_new(BIO_s_mem());
        if (in == nullptr || out == nullptr) {
            BIO_free(in);
            BIO_free(out);
            SSL_free(ssl);
            return nullptr;
        }
        SSL_set_bio(ssl, in, out);
        if (!is_client) {
            SSL_set_accept_state(ssl);
            return ssl;
        }
        SSL_set_connect_state(ssl);
        if (!expect_server_name(ssl)) {
            SSL_free(ssl);
            return nullptr;
        }
        return ssl;
    }

    // Moves everything `from` wrote into what `to` reads.
    static bool shuttle(SSL* from, SSL* to) {
        char buffer[4096];
        BIO* out = SSL_get_wbio(from);
        BIO* in = SSL_get_rbio(to);
        int n = 0;
        while ((n = BIO_read(out, buffer, sizeof buffer)) > 0)
            if (BIO_write(in, buffer, n) != n)
                return false;
        return true;
    }

    static bool run(SSL* c, SSL* s) {
        bool c_done = false;
        bool s_done = false;
        for (int round = 0; round < max_rounds; ++round) {
            if (!advance(c, c_done) || !shuttle(c, s) || !advance(s, s_done) || !shuttle(s, c))
                return false;
            if (c_done && s_done)
                return true;
        }
        return false;
    }

    SSL_CTX* client_ctx_;
    SSL_CTX* server_ctx_;
    SSL* c_ = nullptr;
    SSL* s_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// openssl-custom-bio

class openssl_custom_bio_loop {
public:
    explicit openssl_custom_bio_loop(const pki& p)
        : client_ctx_(p.openssl_client.native_handle()),
          server_ctx_(p.openssl_server.native_handle()),
          method_(BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "bench lane")) {
        BIO_meth_set_write_ex(method_, lane_write);
        BIO_meth_set_read_ex(method_, lane_read);
        BIO_meth_set_ctrl(method_, lane_ctrl);
        client_bio_ = make_bio(client_end_);
        server_bio_ = make_bio(server_end_);
    }

    openssl_custom_bio_loop(const openssl_custom_bio_loop&) = delete;
    openssl_custom_bio_loop& operator=(const openssl_custom_bio_loop&) = delete;

    ~openssl_custom_bio_loop() {
        close();
        BIO_free(client_bio_);
        BIO_free(server_bio_);
        BIO_meth_free(method_);
    }

    bool handshake() {
        const bool ok = connect();
        close();
        return ok;
    }

    bool connect() {
        close();
        to_server_.clear();
        to_client_.clear();
        c_ = SSL_new(client_ctx_);
        s_ = SSL_new(server_ctx_);
        if (c_ == nullptr || s_ == nullptr || client_bio_ == nullptr || server_bio_ == nullptr)
            return false;
        // The SSLs take a reference each and drop it in SSL_free; ours keeps the BIOs alive.
        BIO_up_ref(client_bio_);
        SSL_set_bio(c_, client_bio_, client_bio_);
        BIO_up_ref(server_bio_);
        SSL_set_bio(s_, server_bio_, server_bio_);
        SSL_set_connect_state(c_);
        SSL_set_accept_state(s_);
        return expect_server_name(c_) && run(c_, s_);
    }

    bool transfer(std::span<const std::byte> message, std::span<std::byte> into) {
        std::size_t n = 0;
        return SSL_write_ex(c_, message.data(), message.size(), &n) == 1 && read_all(s_, into);
    }

private:
    static int lane_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
        if (!static_cast<lane_end*>(BIO_get_data(bio))->out->write(data, size)) {
            BIO_clear_retry_flags(bio);
            return 0;
        }
        *written = size;
        return 1;
    }

    static int lane_read(BIO* bio, char* data, std::size_t size, std::size_t* read) {
        *read = static_cast<lane_end*>(BIO_get_data(bio))->in->read(data, size);
        if (*read == 0) {
            BIO_set_retry_read(bio);
            return 0;
        }
        return 1;
    }

    static long lane_ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH; }

    BIO* make_bio(lane_end& e) {
        BIO* bio = BIO_new(method_);
        if (bio != nullptr) {
            BIO_set_data(bio, &e);
            BIO_set_init(bio, 1);
        }
        return bio;
    }

    bool run(SSL* c, SSL* s) {
        return take_turns(
            to_server_, to_client_, [c](bool& done) { return advance(c, done); },
            [s](bool& done) { return advance(s, done); });
    }

    SSL_CTX* client_ctx_;
    SSL_CTX* server_ctx_;
    BIO_METHOD* method_;
    lane to_server_;
    lane to_client_;
    lane_end client_end_{&to_client_, &to_server_};
    lane_end server_end_{&to_server_, &to_client_};
    BIO* client_bio_ = nullptr;
    BIO* server_bio_ = nullptr;
    SSL* c_ = nullptr;
    SSL* s_ = nullptr;

    void close() {
        SSL_free(c_);
        SSL_free(s_);
        c_ = s_ = nullptr;
    }
};

} // namespace secctx::bench
