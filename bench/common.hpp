// What both benchmark programs share: one PKI and one pair of credentials (so every variant runs
// on the very same SSL_CTX settings), and the handshake loops being compared. Each loop is built
// once (setup) and then performs one complete client+server handshake per handshake() call, in one
// thread, with new SSL objects every time and no session reuse. connect() establishes one
// connection and keeps it; transfer() then carries one message from the client to the server over
// it (the per-record measurement).
//
//   secctx-dynamic      basic_handshake<client|server, memory_transport, dynamic_buffer>, both
//                       ends stepped in turn over one memory_link that is clear()ed and reused;
//                       transfer() through the channels' write_some()/read_some().
//   secctx-fixed        the same with fixed_buffer (inline queues of one record each).
//   secctx-pooled       the same with pooled_buffer on a pool reserved up front.
//   openssl-mem         the loop most code writes: two BIO_s_mem per SSL, SSL_do_handshake on each
//                       side, bytes shuttled through a stack buffer with BIO_read/BIO_write.
//   openssl-custom-bio  the best loop by hand: one BIO per SSL over two fixed byte lanes the two
//                       SSLs share, so the only copies are the ones the BIO interface forces (into
//                       the lane on write, out of it on read); each side runs only when it has
//                       input; the BIOs are made once and reused.
// Both hand-written loops transfer() with SSL_write_ex and SSL_read_ex.
#pragma once

#include "secctx/buffer/dynamic.hpp"
#include "secctx/buffer/fixed.hpp"
#include "secctx/buffer/pooled.hpp"
#include "secctx/channel.hpp"
#include "secctx/default_engine.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/memory.hpp"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

namespace secctx::bench {

inline constexpr char server_name[] = "localhost";
// A TLS 1.3 handshake takes two rounds; anything beyond this is a stuck loop.
inline constexpr int max_rounds = 16;

enum class variant { secctx_dynamic, secctx_fixed, secctx_pooled, openssl_mem, openssl_custom_bio };

inline constexpr std::array<variant, 5> all_variants = {
    variant::secctx_dynamic, variant::secctx_fixed, variant::secctx_pooled, variant::openssl_mem,
    variant::openssl_custom_bio};

constexpr std::string_view name_of(variant v) noexcept {
    switch (v) {
    case variant::secctx_dynamic:
        return "secctx-dynamic";
    case variant::secctx_fixed:
        return "secctx-fixed";
    case variant::secctx_pooled:
        return "secctx-pooled";
    case variant::openssl_mem:
        return "openssl-mem";
    case variant::openssl_custom_bio:
        return "openssl-custom-bio";
    }
    return {};
}

inline std::optional<variant> parse_variant(std::string_view name) noexcept {
    for (const variant v : all_variants)
        if (name_of(v) == name)
            return v;
    return std::nullopt;
}

// TLS 1.3 only, X25519 only, an ECDSA P-256 server certificate for "localhost" issued by a
// throwaway CA, the client verifying the server against that CA.
struct pki {
    static tls_config common() {
        tls_config config;
        config.min_version = tls_version::tls1_3;
        config.max_version = tls_version::tls1_3;
        config.groups = {"x25519"};
        return config;
    }

    static server_config server_settings(const issued_certificate& identity) {
        server_config config;
        static_cast<tls_config&>(config) = common();
        config.certificate_chain = pem_source::from_memory(identity.certificate_pem);
        config.private_key = pem_source::from_memory(identity.private_key_pem);
        return config;
    }

    static client_config client_settings(const throwaway_ca& anchor) {
        client_config config;
        static_cast<tls_config&>(config) = common();
        config.trust.certificates = pem_source::from_memory(anchor.certificate_pem());
        // Every variant makes full handshakes: no session is ever offered again.
        config.resume_sessions = false;
        return config;
    }

    throwaway_ca ca{key_type::ecdsa_p256, "secctx bench CA"};
    issued_certificate identity = ca.issue({});
    credentials server = credentials::server(server_settings(identity));
    credentials client = credentials::client(client_settings(ca));
};

// ---------------------------------------------------------------------------------------------
// secctx-dynamic, secctx-fixed, secctx-pooled: one loop, three buffer policies.

// Each policy's buffers for one end. The fixed queues hold one full record each way (what a
// channel needs; a handshake flight is far smaller), inline. The pool holds blocks for both ends
// up front, so steady-state handshakes and records take every block from it.
struct dynamic_buffers {
    dynamic_buffer make() { return dynamic_buffer(); }
};

struct fixed_buffers {
    using type = fixed_buffer<channel_input_capacity>;
    type make() { return type(); }
};

struct pooled_buffers {
    pooled_buffers() { pool.reserve(4); }
    pooled_buffer make() { return pooled_buffer{pool}; }
    buffer_pool pool{8};
};

template <class Buffers>
class secctx_loop {
    using buffer_type = decltype(std::declval<Buffers&>().make());
    using client_handshake = basic_handshake<client, memory_transport, buffer_type>;
    using server_handshake = basic_handshake<server, memory_transport, buffer_type>;

public:
    // A link with room for a few records in flight, so that it never grows inside a measurement.
    explicit secctx_loop(const pki& p) : pki_(p) { link_.reserve(4 * 16384); }

    bool handshake() {
        link_.clear();
        client_handshake c{client{pki_.client, server_name}, link_.client_end(), buffers_.make()};
        server_handshake s{server{pki_.server}, link_.server_end(), buffers_.make()};
        return run(c, s);
    }

    // Establishes the connection that transfer() uses.
    bool connect() {
        link_.clear();
        client_handshake c{client{pki_.client, server_name}, link_.client_end(), buffers_.make()};
        server_handshake s{server{pki_.server}, link_.server_end(), buffers_.make()};
        if (!run(c, s))
            return false;
        client_.emplace(std::move(c));
        server_.emplace(std::move(s));
        return true;
    }

    // The client sends `message` (one record when it is at most 16 KiB), the server reads it into
    // `into` (of the same size).
    bool transfer(std::span<const std::byte> message, std::span<std::byte> into) {
        for (std::size_t sent = 0, got = 0; got < into.size();) {
            if (sent < message.size()) {
                const io_result put = client_->write_some(message.subspan(sent));
                if (put.error)
                    return false;
                sent += put.bytes;
            }
            const io_result read = server_->read_some(into.subspan(got));
            if (read.error && read.error != errc::would_block)
                return false;
            got += read.bytes;
        }
        return true;
    }

private:
    static bool run(client_handshake& c, server_handshake& s) {
        for (int round = 0; round < max_rounds; ++round) {
            const step_status cs = c.step().status;
            const step_status ss = s.step().status;
            if (cs == step_status::failed || ss == step_status::failed)
                return false;
            if (cs == step_status::done && ss == step_status::done)
                return true;
        }
        return false;
    }

    const pki& pki_;
    memory_link link_;
    Buffers buffers_;
    std::optional<basic_channel_for<client_handshake>> client_;
    std::optional<basic_channel_for<server_handshake>> server_;
};

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
        : client_ctx_(p.client.native_handle()), server_ctx_(p.server.native_handle()) {}

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
        : client_ctx_(p.client.native_handle()), server_ctx_(p.server.native_handle()),
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
    // One direction: written by one SSL's BIO, read in place by the other's.
    struct lane {
        std::size_t head = 0;
        std::size_t tail = 0;
        std::array<std::byte, 32 * 1024> bytes;

        bool empty() const noexcept { return head == tail; }
        void clear() noexcept { head = tail = 0; }
    };

    struct end {
        lane* in;
        lane* out;
    };

    static int lane_write(BIO* bio, const char* data, std::size_t size, std::size_t* written) {
        lane& out = *static_cast<end*>(BIO_get_data(bio))->out;
        if (size > out.bytes.size() - out.tail) {
            BIO_clear_retry_flags(bio);
            return 0;
        }
        std::memcpy(out.bytes.data() + out.tail, data, size);
        out.tail += size;
        *written = size;
        return 1;
    }

    static int lane_read(BIO* bio, char* data, std::size_t size, std::size_t* read) {
        lane& in = *static_cast<end*>(BIO_get_data(bio))->in;
        const std::size_t available = in.tail - in.head;
        if (available == 0) {
            BIO_set_retry_read(bio);
            return 0;
        }
        const std::size_t n = std::min(size, available);
        std::memcpy(data, in.bytes.data() + in.head, n);
        in.head += n;
        if (in.head == in.tail)
            in.clear();
        *read = n;
        return 1;
    }

    static long lane_ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH; }

    BIO* make_bio(end& e) {
        BIO* bio = BIO_new(method_);
        if (bio != nullptr) {
            BIO_set_data(bio, &e);
            BIO_set_init(bio, 1);
        }
        return bio;
    }

    // Each side runs only when it has something new to read (the client also once to start).
    bool run(SSL* c, SSL* s) {
        bool c_done = false;
        bool s_done = false;
        if (!advance(c, c_done))
            return false;
        for (int round = 0; round < max_rounds && !(c_done && s_done); ++round) {
            const bool s_turn = !s_done && !to_server_.empty();
            if (s_turn && !advance(s, s_done))
                return false;
            const bool c_turn = !c_done && !to_client_.empty();
            if (c_turn && !advance(c, c_done))
                return false;
            if (!s_turn && !c_turn)
                return false;
        }
        return c_done && s_done;
    }

    SSL_CTX* client_ctx_;
    SSL_CTX* server_ctx_;
    BIO_METHOD* method_;
    lane to_server_;
    lane to_client_;
    end client_end_{&to_client_, &to_server_};
    end server_end_{&to_server_, &to_client_};
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

// Calls f.template operator()<Loop>() with the loop type of `v`.
template <class F>
decltype(auto) with_loop(variant v, F&& f) {
    switch (v) {
    case variant::openssl_mem:
        return f.template operator()<openssl_mem_loop>();
    case variant::openssl_custom_bio:
        return f.template operator()<openssl_custom_bio_loop>();
    case variant::secctx_fixed:
        return f.template operator()<secctx_loop<fixed_buffers>>();
    case variant::secctx_pooled:
        return f.template operator()<secctx_loop<pooled_buffers>>();
    case variant::secctx_dynamic:
        break;
    }
    return f.template operator()<secctx_loop<dynamic_buffers>>();
}

} // namespace secctx::bench
