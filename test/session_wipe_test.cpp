// A session evicted from the server's session cache is wiped before its memory goes back to the
// allocator: its master key must not outlive it in freed heap memory. OpenSSL's allocator is
// replaced for the whole process (before OpenSSL allocates anything), so that the free of the
// evicted session can be seen and its bytes checked.
#include "support/drive.hpp"
#include "support/pki.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

using namespace secctx;
using test::text;

namespace {

// Each block carries its requested size in front, so that a free knows how many bytes were ours.
constexpr std::size_t header = 16;

std::atomic<const void*> watched{nullptr};
std::atomic<int> watched_frees{0};
std::atomic<int> watched_frees_wiped{0};
std::atomic<std::size_t> watched_size{0};

void* counted_malloc(std::size_t size, const char*, int) {
    auto* block = static_cast<unsigned char*>(std::malloc(size + header));
    if (block == nullptr)
        return nullptr;
    std::memcpy(block, &size, sizeof size);
    return block + header;
}

void counted_free(void* p, const char*, int) {
    if (p == nullptr)
        return;
    auto* block = static_cast<unsigned char*>(p) - header;
    if (p == watched.load()) {
        std::size_t size = 0;
        std::memcpy(&size, block, sizeof size);
        const auto* bytes = static_cast<const unsigned char*>(p);
        bool zero = true;
        for (std::size_t i = 0; i < size; ++i)
            zero = zero && bytes[i] == 0;
        watched_size = size;
        ++watched_frees;
        watched_frees_wiped += zero ? 1 : 0;
        watched = nullptr;
    }
    std::free(block);
}

void* counted_realloc(void* p, std::size_t size, const char* file, int line) {
    if (p == nullptr)
        return counted_malloc(size, file, line);
    auto* block = static_cast<unsigned char*>(p) - header;
    auto* grown = static_cast<unsigned char*>(std::realloc(block, size + header));
    if (grown == nullptr)
        return nullptr;
    std::memcpy(grown, &size, sizeof size);
    return grown + header;
}

// Before main(), so before OpenSSL's first allocation; CRYPTO_set_mem_functions refuses after it.
const bool allocator_installed =
    CRYPTO_set_mem_functions(counted_malloc, counted_realloc, counted_free) == 1;

// The session the cache lets go of is the one whose free is checked.
void on_remove(SSL_CTX*, SSL_SESSION* session) {
    watched = session;
}

bool connect_and_close(const credentials& client_creds, const credentials& server_creds) {
    memory_link link;
    test::client_handshake c{client{client_creds, "localhost"}, link.client_end()};
    test::server_handshake s{server{server_creds}, link.server_end()};
    const auto [cr, sr] = test::drive(c, s);
    BOOST_TEST_REQUIRE(text(cr.error) == "success");
    BOOST_TEST_REQUIRE(text(sr.error) == "success");
    const bool resumed = s.provider().resumed();
    basic_channel_for<test::client_handshake> client_channel{std::move(c)};
    basic_channel_for<test::server_handshake> server_channel{std::move(s)};
    const auto deadline = clock::now() + std::chrono::seconds(5);
    BOOST_TEST(text(client_channel.shutdown_send()) == "success");
    BOOST_TEST(text(server_channel.shutdown(deadline)) == "success");
    BOOST_TEST(text(client_channel.shutdown(deadline)) == "success");
    return resumed;
}

} // namespace

BOOST_AUTO_TEST_SUITE(session_wipe)

BOOST_AUTO_TEST_CASE(an_evicted_session_is_wiped_before_it_is_freed) {
    BOOST_TEST_REQUIRE(allocator_installed);
    auto config = test::server_config_for(test::pki::get().ecdsa_server);
    config.min_version = config.max_version = tls_version::tls1_2;
    config.session_tickets = false;
    config.session_cache_size = 1;
    const auto server_creds = credentials::server(config);
    SSL_CTX_sess_set_remove_cb(server_creds.native_handle(), on_remove);
    const auto first = credentials::client(test::client_config_trusting(test::pki::get().ca));
    const auto second = credentials::client(test::client_config_trusting(test::pki::get().ca));
    BOOST_TEST(!connect_and_close(first, server_creds));
    BOOST_TEST(connect_and_close(first, server_creds)); // it was cached
    BOOST_TEST(watched_frees == 0);
    // The second client's session evicts the first's, whose last reference is the cache's.
    BOOST_TEST(!connect_and_close(second, server_creds));
    BOOST_TEST(watched_frees == 1);
    BOOST_TEST(watched_frees_wiped == 1);
    BOOST_TEST(watched_size.load() >= 500u, "the whole SSL_SESSION, master key included");
    BOOST_TEST(!connect_and_close(first, server_creds)); // it is gone
}

BOOST_AUTO_TEST_SUITE_END()
