// Secure defaults and secrets, pinned: what credentials built from default settings allow and
// refuse (old protocol versions, renegotiation, compression, a security level below 2,
// unverified peers, a key log), that a buffer never hands a connection's bytes on (a pooled block
// drawn by the next connection, memory given back to an allocator, a fixed array or a caller's
// region once the connection is gone), that no private key bytes reach an error message, and that
// a peer's chain longer than max_chain_depth is refused, counted the same way on both engines.
#include "support/drive.hpp"
#include "support/pki.hpp"
#include "support/raw_peer.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <memory>
#include <memory_resource>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

using namespace secctx;
using test::bytes;
using test::text;

namespace {

using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;
using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

const credentials& default_server() {
    static const credentials creds =
        credentials::server(test::server_config_for(test::pki::get().ecdsa_server));
    return creds;
}

const credentials& default_client() {
    static const credentials creds =
        credentials::client(test::client_config_trusting(test::pki::get().ca));
    return creds;
}

// An OpenSSL context that speaks nothing newer than TLS 1.1, with the security level lowered so
// that OpenSSL itself would allow it: whatever refuses the handshake is secctx's side.
ctx_ptr tls11_only(bool server) {
    ctx_ptr ctx(SSL_CTX_new(server ? TLS_server_method() : TLS_client_method()), &SSL_CTX_free);
    BOOST_TEST_REQUIRE(ctx != nullptr);
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), TLS1_1_VERSION);
    SSL_CTX_set_cipher_list(ctx.get(), "DEFAULT:@SECLEVEL=0");
    return ctx;
}

// Runs a secctx handshake against a raw OpenSSL SSL over memory BIOs until one side stops.
template <class Handshake>
std::error_code against_raw(Handshake& h, SSL* raw, memory_transport wire) {
    test::raw_peer peer(raw, wire);
    for (int round = 0; round < 16 && !test::finished(h.step()); ++round) {
        peer.pump();
        SSL_do_handshake(raw);
        peer.pump();
    }
    ERR_clear_error();
    return h.error();
}

} // namespace

BOOST_AUTO_TEST_SUITE(secure_defaults)

BOOST_AUTO_TEST_CASE(a_tls11_client_is_refused) {
    const auto ctx = tls11_only(false);
    ssl_ptr raw(SSL_new(ctx.get()), &SSL_free);
    SSL_set_connect_state(raw.get());
    memory_link link;
    basic_handshake<server, memory_transport, dynamic_buffer> s{server{default_server()},
                                                                link.server_end()};
    const auto ec = against_raw(s, raw.get(), link.client_end());
    BOOST_TEST(text(ec) == text(errc::no_shared_version), s.error_detail());
    BOOST_TEST(SSL_is_init_finished(raw.get()) == 0);
}

BOOST_AUTO_TEST_CASE(a_tls11_server_is_refused) {
    const auto ctx = tls11_only(true);
    const auto& p = test::pki::get();
    ssl_ptr raw(SSL_new(ctx.get()), &SSL_free);
    BIO* cert = BIO_new_mem_buf(p.ecdsa_server.certificate_pem.data(),
                                static_cast<int>(p.ecdsa_server.certificate_pem.size()));
    X509* x = PEM_read_bio_X509(cert, nullptr, nullptr, nullptr);
    BIO_free(cert);
    BIO* key = BIO_new_mem_buf(p.ecdsa_server.private_key_pem.data(),
                               static_cast<int>(p.ecdsa_server.private_key_pem.size()));
    EVP_PKEY* k = PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr);
    BIO_free(key);
    BOOST_TEST_REQUIRE(SSL_use_certificate(raw.get(), x) == 1);
    BOOST_TEST_REQUIRE(SSL_use_PrivateKey(raw.get(), k) == 1);
    X509_free(x);
    EVP_PKEY_free(k);
    SSL_set_accept_state(raw.get());
    memory_link link;
    basic_handshake<client, memory_transport, dynamic_buffer> c{
        client{default_client(), "localhost"}, link.client_end()};
    const auto ec = against_raw(c, raw.get(), link.server_end());
    BOOST_TEST(text(ec) == text(errc::no_shared_version), c.error_detail());
}

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
// What the credentials' SSL_CTX carries from default settings, on both sides.
BOOST_AUTO_TEST_CASE(renegotiation_and_compression_off_security_level_two_plaintext_cleansed) {
    for (const credentials* creds : {&default_client(), &default_server()}) {
        SSL_CTX* ctx = creds->native_handle();
        const auto options = SSL_CTX_get_options(ctx);
        BOOST_TEST((options & SSL_OP_NO_RENEGOTIATION) != 0u);
        BOOST_TEST((options & SSL_OP_NO_COMPRESSION) != 0u);
        BOOST_TEST((options & SSL_OP_CLEANSE_PLAINTEXT) != 0u);
        BOOST_TEST(SSL_CTX_get_security_level(ctx) >= 2);
        BOOST_TEST(SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION);
        BOOST_TEST(SSL_CTX_get_keylog_callback(ctx) == nullptr, "no key log unless set");
    }
    // A handshake made with them has no compression.
    const auto& creds = test::credentials_for(tls_version::tls1_2);
    memory_link link;
    test::client_handshake c{client{creds.client_creds, "localhost"}, link.client_end()};
    test::server_handshake s{server{creds.server_creds}, link.server_end()};
    test::drive(c, s);
    BOOST_TEST_REQUIRE(c.done());
    BOOST_TEST(SSL_get_current_compression(c.provider().native_handle()) == nullptr);
}
#endif

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
BOOST_AUTO_TEST_CASE(the_client_verifies_unless_told_by_a_dangerous_name) {
    BOOST_TEST((SSL_CTX_get_verify_mode(default_client().native_handle()) & SSL_VERIFY_PEER) != 0);
    client_config careless = test::client_config_trusting(test::pki::get().ca);
    careless.dangerous_skip_verification = true;
    const auto skipping = credentials::client(careless);
    BOOST_TEST(SSL_CTX_get_verify_mode(skipping.native_handle()) == SSL_VERIFY_NONE);
    // Verification without a name to check is refused, not done halfway.
    memory_link link;
    test::client_handshake c{client{default_client(), ""}, link.client_end()};
    BOOST_TEST(text(c.step().error) == text(errc::server_name_required));
}
#endif

#if !defined(SECCTX_DEFAULT_ENGINE_GNUTLS) // OpenSSL's own objects
BOOST_AUTO_TEST_CASE(a_key_log_only_when_set) {
    client_config config = test::client_config_trusting(test::pki::get().ca);
    config.key_log = [](std::string_view) {};
    BOOST_TEST(SSL_CTX_get_keylog_callback(credentials::client(config).native_handle()) != nullptr);
}
#endif

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(no_bytes_handed_on)

BOOST_AUTO_TEST_CASE(a_pooled_block_drawn_again_holds_none_of_the_previous_bytes) {
    buffer_pool pool(4, 1024, 1);
    const bytes secret = test::random_bytes(700, 7);
    std::byte* block = nullptr;
    {
        pooled_queue q(pool);
        const auto room = q.prepare(secret.size());
        std::copy(secret.begin(), secret.end(), room.begin());
        q.commit(secret.size());
        block = room.data();
        q.consume(100);
        q.release(); // not empty: kept
        BOOST_TEST(q.holds_block());
        q.consume(q.size());
        q.release(); // empty: back to the pool, wiped
    }
    pooled_queue next(pool);
    const auto room = next.prepare(1);
    BOOST_TEST_REQUIRE(room.data() == block, "the same block is handed out again");
    BOOST_TEST(
        std::all_of(room.begin(), room.end(), [](std::byte b) { return b == std::byte{0}; }));
}

// A memory resource that hands out zeroed blocks and checks every block given back to it is all
// zeros again.
class zero_checking_resource : public std::pmr::memory_resource {
public:
    std::size_t returned = 0;
    std::size_t dirty = 0;

private:
    void* do_allocate(std::size_t n, std::size_t alignment) override {
        void* p = ::operator new (n, std::align_val_t{alignment});
        std::memset(p, 0, n);
        return p;
    }
    void do_deallocate(void* p, std::size_t n, std::size_t alignment) override {
        const auto* bytes = static_cast<const std::byte*>(p);
        ++returned;
        dirty += !std::all_of(bytes, bytes + n, [](std::byte b) { return b == std::byte{0}; });
        ::operator delete (p, std::align_val_t{alignment});
    }
    bool do_is_equal(const memory_resource& other) const noexcept override {
        return this == &other;
    }
};

BOOST_AUTO_TEST_CASE(dynamic_memory_goes_back_wiped_after_growth_release_and_destruction) {
    zero_checking_resource resource;
    {
        using queue = basic_dynamic_queue<std::pmr::polymorphic_allocator<std::byte>>;
        queue q(1 << 20, &resource);
        const bytes a = test::random_bytes(3000, 1), b = test::random_bytes(20000, 2);
        auto room = q.prepare(a.size());
        std::copy(a.begin(), a.end(), room.begin());
        q.commit(a.size());
        room = q.prepare(b.size()); // grows: the first block goes back
        std::copy(b.begin(), b.end(), room.begin());
        q.commit(b.size());
        q.consume(q.size());
        q.release(); // grown and empty: freed
        room = q.prepare(100);
        std::fill(room.begin(), room.begin() + 100, std::byte{0x5a});
        q.commit(100);
    } // destroyed holding bytes
    BOOST_TEST(resource.returned == 3u);
    BOOST_TEST(resource.dirty == 0u);
}

BOOST_AUTO_TEST_CASE(fixed_and_caller_supplied_queues_leave_no_bytes_behind) {
    alignas(basic_fixed_queue<512>) std::byte storage[sizeof(basic_fixed_queue<512>)];
    auto* fixed = new (storage) basic_fixed_queue<512>();
    auto room = fixed->prepare(300);
    std::fill(room.begin(), room.begin() + 300, std::byte{0xa5});
    fixed->commit(300);
    fixed->~basic_fixed_queue<512>();
    BOOST_TEST(std::count(std::begin(storage), std::end(storage), std::byte{0xa5}) == 0);

    std::array<std::byte, 512> region{};
    {
        caller_supplied_queue q(region);
        room = q.prepare(200);
        std::fill(room.begin(), room.begin() + 200, std::byte{0xa5});
        q.commit(200);
    }
    BOOST_TEST(std::count(region.begin(), region.end(), std::byte{0xa5}) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(secrets)

// The key's PEM body must not appear in what the failure says, whichever way it fails.
BOOST_AUTO_TEST_CASE(no_private_key_bytes_in_error_messages) {
    const auto& p = test::pki::get();
    const std::string& key = p.rsa_server.private_key_pem;
    const auto body_begin = key.find('\n') + 1;
    const std::string body = key.substr(body_begin, key.rfind("-----END") - body_begin);
    // Any 12 consecutive characters of the key's base64 would betray it.
    const auto leaks = [&](const std::string& text) {
        for (std::size_t i = 0; i + 12 <= body.size(); i += 4)
            if (body[i] != '\n' && text.find(body.substr(i, 12)) != std::string::npos)
                return true;
        return false;
    };
    std::string corrupted = key;
    corrupted[body_begin + 40] = corrupted[body_begin + 40] == 'A' ? 'B' : 'A';
    std::string truncated = key.substr(0, key.size() / 2);
    struct attempt {
        const char* what;
        std::string chain;
        std::string private_key;
    };
    const attempt attempts[] = {
        {"a corrupted key", p.rsa_server.certificate_pem, corrupted},
        {"a truncated key", p.rsa_server.certificate_pem, truncated},
        {"a key that does not match the certificate", p.ecdsa_server.certificate_pem, key},
    };
    for (const auto& a : attempts) {
        BOOST_TEST_CONTEXT(a.what) {
            server_config config;
            config.certificate_chain = pem_source::from_memory(a.chain);
            config.private_key = pem_source::from_memory(a.private_key);
            std::error_code ec;
            std::string detail;
            const auto creds = credentials::server(config, ec, &detail);
            BOOST_TEST(text(ec) == text(errc::invalid_credentials));
            BOOST_TEST(!leaks(detail), detail);
            BOOST_TEST(!leaks(ec.message()));
            try {
                (void)credentials::server(config);
                BOOST_FAIL("no exception");
            } catch (const std::exception& e) {
                BOOST_TEST(!leaks(e.what()), e.what());
            }
        }
    }
    ERR_clear_error();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_chain_longer_than_max_chain_depth_is_refused_on_both_engines) {
    const auto& root = test::pki::get().ca;
    std::vector<throwaway_ca> intermediates; // the root's child first
    intermediates.reserve(3);
    intermediates.push_back(root.intermediate("secctx intermediate 1"));
    for (const char* name : {"secctx intermediate 2", "secctx intermediate 3"})
        intermediates.push_back(intermediates.back().intermediate(name));
    const auto leaf = intermediates.back().issue({});
    std::string chain = leaf.certificate_pem;
    for (auto it = intermediates.rbegin(); it != intermediates.rend(); ++it)
        chain += it->certificate_pem();
    const auto result = [&](const std::string& sent, unsigned depth) {
        server_config sc = test::server_config_for(leaf);
        sc.certificate_chain = pem_source::from_memory(sent);
        client_config cc = test::client_config_trusting(root);
        cc.max_chain_depth = depth;
        memory_link link;
        test::client_handshake c{client{credentials::client(cc), "localhost"}, link.client_end()};
        test::server_handshake s{server{credentials::server(sc)}, link.server_end()};
        test::drive(c, s);
        BOOST_TEST_MESSAGE(text(c.error()) << " (" << c.error_detail() << ")");
        return text(c.error());
    };
    BOOST_TEST(result(chain, 3) == "success");
    BOOST_TEST(result(chain, 10) == "success", "the default");
    BOOST_TEST(result(chain, 2) == text(errc::certificate_invalid));
    // A trust anchor the server sends too is not an intermediate.
    BOOST_TEST(result(chain + root.certificate_pem(), 3) == "success");
    BOOST_TEST(result(chain + root.certificate_pem(), 2) == text(errc::certificate_invalid));
    client_config too_deep;
    too_deep.max_chain_depth = 101;
    std::error_code ec;
    (void)credentials::client(too_deep, ec);
    BOOST_TEST(text(ec) == text(errc::invalid_configuration));
}
