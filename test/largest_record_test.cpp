// The largest record each protocol version and cipher family allows reaches the application
// through every buffer policy secctx ships, at its default or documented capacity: the pooled
// policy's default blocks (what `secctx server` uses), the fixed and caller-supplied policies at
// channel_input_capacity, and the dynamic policy's default limit.
//
// OpenSSL never pads a CBC record beyond the minimum, so the largest TLS 1.2 record (2^14 bytes of
// data, a SHA-384 MAC and 256 bytes of padding: 16,704 bytes of ciphertext) is built here from the
// connection's own keys, as another TLS implementation may send it; the AEAD records are the
// engine's own, full 2^14-byte writes.
#include "support/drive.hpp"
#include "support/pki.hpp"
#include "support/raw_peer.hpp"

#include <boost/test/unit_test.hpp>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

using namespace secctx;
using test::bytes;
using test::text;

namespace {

constexpr std::size_t max_plaintext = 16384;

using ssl_ptr = std::unique_ptr<SSL, decltype(&SSL_free)>;
using ctx_ptr = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

enum class record_kind {
    engine,               // the engine's own full record (an AEAD cipher)
    cbc_mac_then_encrypt, // RFC 5246 6.2.3.2, the MAC inside the encryption
    cbc_encrypt_then_mac, // RFC 7366
};

struct cipher_case {
    const char* name;
    tls_version version;
    const char* openssl_name; // a TLS 1.2 cipher list or a TLS 1.3 ciphersuite
    record_kind kind;
    std::size_t ciphertext; // of the largest record, header excluded
};

// 2^14 + 16 (tag) + 1 (content type) for TLS 1.3; 2^14 + 8 (explicit nonce) + 16 for TLS 1.2 GCM;
// IV + data + MAC + 256 bytes of padding for CBC.
const cipher_case cases[] = {
    {"TLS 1.3 AES-256-GCM", tls_version::tls1_3, "TLS_AES_256_GCM_SHA384", record_kind::engine,
     max_plaintext + 17},
    {"TLS 1.3 ChaCha20-Poly1305", tls_version::tls1_3, "TLS_CHACHA20_POLY1305_SHA256",
     record_kind::engine, max_plaintext + 17},
    {"TLS 1.2 AES-128-GCM", tls_version::tls1_2, "ECDHE-RSA-AES128-GCM-SHA256", record_kind::engine,
     max_plaintext + 24},
    {"TLS 1.2 ChaCha20-Poly1305", tls_version::tls1_2, "ECDHE-RSA-CHACHA20-POLY1305",
     record_kind::engine, max_plaintext + 16},
    {"TLS 1.2 AES-256-CBC-SHA384, MAC then encrypt", tls_version::tls1_2, "ECDHE-RSA-AES256-SHA384",
     record_kind::cbc_mac_then_encrypt, 16 + max_plaintext + 48 + 256},
    {"TLS 1.2 AES-256-CBC-SHA384, encrypt then MAC", tls_version::tls1_2, "ECDHE-RSA-AES256-SHA384",
     record_kind::cbc_encrypt_then_mac, 16 + max_plaintext + 256 + 48},
};

const credentials& rsa_server() {
    static const credentials creds = [] {
        auto config = test::server_config_for(test::pki::get().rsa_server);
        // CBC suites are in OpenSSL's defaults; they are named here so that the test does not
        // depend on that.
        config.tls12_cipher_suites = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
                                      "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"};
        return credentials::server(config);
    }();
    return creds;
}

ctx_ptr client_context(const cipher_case& c) {
    ctx_ptr ctx(SSL_CTX_new(TLS_client_method()), &SSL_CTX_free);
    BOOST_TEST_REQUIRE(ctx != nullptr);
    const int version = c.version == tls_version::tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(ctx.get(), version);
    SSL_CTX_set_max_proto_version(ctx.get(), version);
    const int listed = c.version == tls_version::tls1_3
                           ? SSL_CTX_set_ciphersuites(ctx.get(), c.openssl_name)
                           : SSL_CTX_set_cipher_list(ctx.get(), c.openssl_name);
    BOOST_TEST_REQUIRE(listed == 1);
    if (c.kind == record_kind::cbc_mac_then_encrypt)
        SSL_CTX_set_options(ctx.get(), SSL_OP_NO_ENCRYPT_THEN_MAC);
    return ctx;
}

struct cbc_keys {
    std::array<unsigned char, 48> mac{};
    std::array<unsigned char, 32> cipher{};
};

// RFC 5246 6.3: the client's write keys from the key block (no IVs: TLS 1.2 sends one per record).
cbc_keys client_write_keys(SSL* ssl) {
    unsigned char master[SSL_MAX_MASTER_KEY_LENGTH];
    const std::size_t master_size =
        SSL_SESSION_get_master_key(SSL_get_session(ssl), master, sizeof master);
    unsigned char seed[13 + 2 * SSL3_RANDOM_SIZE] = "key expansion";
    SSL_get_server_random(ssl, seed + 13, SSL3_RANDOM_SIZE);
    SSL_get_client_random(ssl, seed + 13 + SSL3_RANDOM_SIZE, SSL3_RANDOM_SIZE);
    unsigned char block[2 * 48 + 2 * 32];
    std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(
        EVP_KDF_fetch(nullptr, "TLS1-PRF", nullptr), &EVP_KDF_free);
    std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> kctx(EVP_KDF_CTX_new(kdf.get()),
                                                                   &EVP_KDF_CTX_free);
    char digest[] = "SHA384";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, master, master_size),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
        OSSL_PARAM_construct_end()};
    BOOST_TEST_REQUIRE(EVP_KDF_derive(kctx.get(), block, sizeof block, params) == 1);
    cbc_keys keys;
    std::copy_n(block, 48, keys.mac.begin());
    std::copy_n(block + 2 * 48, 32, keys.cipher.begin());
    return keys;
}

void put_u16(bytes& out, std::size_t value) {
    out.push_back(std::byte{static_cast<std::uint8_t>(value >> 8)});
    out.push_back(std::byte{static_cast<std::uint8_t>(value & 0xff)});
}

// HMAC-SHA384 over the sequence number, the record's type, version and length, and `body`.
std::array<unsigned char, 48> record_mac(const cbc_keys& keys, std::uint64_t sequence,
                                         std::span<const std::byte> body) {
    bytes input;
    for (int shift = 56; shift >= 0; shift -= 8)
        input.push_back(std::byte{static_cast<std::uint8_t>(sequence >> shift)});
    input.push_back(std::byte{0x17});
    input.push_back(std::byte{0x03});
    input.push_back(std::byte{0x03});
    put_u16(input, body.size());
    input.insert(input.end(), body.begin(), body.end());
    std::array<unsigned char, 48> mac{};
    unsigned size = 0;
    HMAC(EVP_sha384(), keys.mac.data(), static_cast<int>(keys.mac.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac.data(), &size);
    BOOST_TEST_REQUIRE(size == mac.size());
    return mac;
}

bytes aes256_cbc(const cbc_keys& keys, std::span<const unsigned char, 16> iv,
                 std::span<const std::byte> plain) {
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> cctx(EVP_CIPHER_CTX_new(),
                                                                         &EVP_CIPHER_CTX_free);
    BOOST_TEST_REQUIRE(EVP_EncryptInit_ex(cctx.get(), EVP_aes_256_cbc(), nullptr,
                                          keys.cipher.data(), iv.data()) == 1);
    EVP_CIPHER_CTX_set_padding(cctx.get(), 0);
    bytes out(plain.size());
    int written = 0;
    BOOST_TEST_REQUIRE(EVP_EncryptUpdate(cctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                                         &written,
                                         reinterpret_cast<const unsigned char*>(plain.data()),
                                         static_cast<int>(plain.size())) == 1);
    BOOST_TEST_REQUIRE(static_cast<std::size_t>(written) == plain.size());
    return out;
}

// The client's first application data record (sequence number 1: its Finished was 0), with the
// most padding a CBC record may carry: 255 padding bytes and the length byte, all 255.
bytes largest_cbc_record(SSL* client, const cipher_case& c, std::span<const std::byte> data) {
    const cbc_keys keys = client_write_keys(client);
    std::array<unsigned char, 16> iv{};
    BOOST_TEST_REQUIRE(RAND_bytes(iv.data(), static_cast<int>(iv.size())) == 1);
    const bytes padding(256, std::byte{255});
    bytes body(iv.size());
    std::memcpy(body.data(), iv.data(), iv.size());
    if (c.kind == record_kind::cbc_mac_then_encrypt) {
        const auto mac = record_mac(keys, 1, data);
        bytes plain(data.begin(), data.end());
        plain.insert(plain.end(), reinterpret_cast<const std::byte*>(mac.data()),
                     reinterpret_cast<const std::byte*>(mac.data() + mac.size()));
        plain.insert(plain.end(), padding.begin(), padding.end());
        const bytes sealed = aes256_cbc(keys, iv, plain);
        body.insert(body.end(), sealed.begin(), sealed.end());
    } else {
        const bytes sealed = aes256_cbc(keys, iv, test::concat(data, padding));
        body.insert(body.end(), sealed.begin(), sealed.end());
        const auto mac = record_mac(keys, 1, body);
        body.insert(body.end(), reinterpret_cast<const std::byte*>(mac.data()),
                    reinterpret_cast<const std::byte*>(mac.data() + mac.size()));
    }
    bytes record{std::byte{0x17}, std::byte{0x03}, std::byte{0x03}};
    put_u16(record, body.size());
    record.insert(record.end(), body.begin(), body.end());
    return record;
}

// Handshakes a secctx server on `buffers` with a raw OpenSSL client, sends the largest record of
// the case, and checks that the server's channel delivers all of its data.
template <buffer_policy Buffers>
void check_largest_record(const cipher_case& c, Buffers buffers) {
    const ctx_ptr ctx = client_context(c);
    ssl_ptr raw(SSL_new(ctx.get()), &SSL_free);
    SSL_set_connect_state(raw.get());
    memory_link link;
    test::raw_peer peer(raw.get(), link.client_end());
    using handshake = basic_handshake<server, memory_transport, Buffers>;
    handshake h{server{rsa_server()}, link.server_end(), std::move(buffers)};
    for (int round = 0; round < 16 && !(h.done() && SSL_is_init_finished(raw.get())); ++round) {
        SSL_do_handshake(raw.get());
        peer.pump();
        h.step();
        peer.pump();
    }
    BOOST_TEST_REQUIRE(h.done(), text(h.error()) << ": " << h.error_detail());
    BOOST_TEST_REQUIRE(SSL_is_init_finished(raw.get()) == 1);
    BOOST_TEST_REQUIRE(std::string(SSL_CIPHER_standard_name(SSL_get_current_cipher(raw.get()))) ==
                       std::string(h.provider().cipher()));

    const bytes data = test::random_bytes(max_plaintext, 7);
    bytes record;
    if (c.kind == record_kind::engine) {
        BOOST_TEST_REQUIRE(SSL_write(raw.get(), data.data(), static_cast<int>(data.size())) ==
                           static_cast<int>(data.size()));
        char wire[2 * max_plaintext];
        const int n = BIO_read(SSL_get_wbio(raw.get()), wire, sizeof wire);
        BOOST_TEST_REQUIRE(n > 0);
        record.assign(reinterpret_cast<const std::byte*>(wire),
                      reinterpret_cast<const std::byte*>(wire) + n);
    } else {
        record = largest_cbc_record(raw.get(), c, data);
    }
    BOOST_TEST_REQUIRE(record.size() == tls::record_header_size + c.ciphertext);
    BOOST_TEST(tls::record_body_size(record) == c.ciphertext);

    basic_channel_for<handshake> channel{std::move(h)};
    test::put(peer.wire(), record);
    bytes received;
    std::byte into[4096];
    for (int i = 0; i < 64 && received.size() < data.size(); ++i) {
        const io_result r = channel.read_some(into);
        BOOST_TEST_REQUIRE(text(r.error) == "success", channel.error_detail());
        received.insert(received.end(), into, into + r.bytes);
    }
    BOOST_TEST((received == data));
}

} // namespace

BOOST_AUTO_TEST_SUITE(largest_record)

BOOST_AUTO_TEST_CASE(every_policy_takes_the_largest_record_of_every_version_and_cipher_family) {
    buffer_pool pool; // default blocks, as secctx server's
    for (const cipher_case& c : cases) {
        BOOST_TEST_CONTEXT(c.name << " (" << c.ciphertext << " bytes of ciphertext)") {
            BOOST_TEST_CONTEXT("pooled, default blocks") {
                check_largest_record(c, pooled_buffer(pool));
            }
            BOOST_TEST_CONTEXT("fixed, channel_input_capacity") {
                auto buffers = std::make_unique<
                    fixed_buffer<channel_input_capacity, channel_input_capacity>>();
                check_largest_record(c, std::move(*buffers));
            }
            BOOST_TEST_CONTEXT("caller-supplied, channel_input_capacity") {
                std::vector<std::byte> in(channel_input_capacity), out(channel_input_capacity);
                check_largest_record(c, caller_supplied_buffer(in, out));
            }
            BOOST_TEST_CONTEXT("dynamic, default limit") {
                check_largest_record(c, dynamic_buffer());
            }
        }
    }
    ERR_clear_error();
}

// The records above are the largest any engine secctx uses will accept; the protocol's own bound
// is larger still (2^14 + 2048, from TLS 1.2's compression and expansion allowances), and every
// default capacity holds it too, so that a record is never refused by the buffers first.

static_assert(buffer_pool::default_block_size >= channel_input_capacity);
static_assert(channel_input_capacity == tls::record_header_size + tls::max_record_body);

BOOST_AUTO_TEST_SUITE_END()
