// The core names no engine: the loop, the channel, the roles, the transports and the buffer
// policies, with a provider that is neither OpenSSL nor GnuTLS and frames its tokens its own way
// (a two-byte length, not a TLS record). This translation unit includes no engine header, and
// checks below that none was reached.
#include "secctx/buffer/dynamic.hpp"
#include "secctx/buffer/fixed.hpp"
#include "secctx/buffer/pooled.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/roles.hpp"
#include "secctx/transport/fault_injection.hpp"
#include "secctx/transport/memory.hpp"
#include "secctx/transport/pipe.hpp"
#include "secctx/transport/socket.hpp"

#if defined(OPENSSL_VERSION_MAJOR) || defined(HEADER_SSL_H) || defined(OPENSSL_SSL_H)
#error "a core header reached an OpenSSL header"
#endif
#if defined(GNUTLS_VERSION) || defined(GNUTLS_GNUTLS_H)
#error "a core header reached a GnuTLS header"
#endif

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

using namespace secctx;

namespace {

// A toy security package with GSS-API-style tokens: a two-byte big-endian length, then the body.
// The client says "hello", the server "welcome"; data is "protected" by XOR with a byte the two
// agree on (a test of the seam, not of security). An empty token is the close notification.
namespace toy {

struct credentials {
    std::byte key{0x5a};
};

class provider {
public:
    using credentials_type = credentials;
    static constexpr std::size_t token_header_size = 2;
    static constexpr std::size_t max_message_size = 1000;
    static constexpr std::size_t max_message_expansion = token_header_size;

    provider(const credentials& c, role_kind kind, std::string_view = {}) noexcept
        : key_(c.key), kind_(kind) {}

    template <class B>
    provider_result handshake(B& b) noexcept {
        if (error_)
            return {provider_status::error, 0, error_};
        if (kind_ == role_kind::client && !said_hello_) {
            said_hello_ = true;
            return put(b, as_bytes("hello"), false) ? continue_needed()
                                                    : fail(errc::token_too_large);
        }
        std::span<const std::byte> body;
        if (const auto missing = take(b, body))
            return {provider_status::incomplete_message, missing, {}};
        if (body.empty() && b.input().size() == 0)
            return continue_needed();
        const std::string_view expected = kind_ == role_kind::client ? "welcome" : "hello";
        if (std::string_view(reinterpret_cast<const char*>(body.data()), body.size()) != expected)
            return fail(errc::protocol_error);
        b.input().consume(token_header_size + body.size());
        if (kind_ == role_kind::server && !put(b, as_bytes("welcome"), false))
            return fail(errc::token_too_large);
        return {provider_status::ok, 0, {}};
    }

    void abandon(std::error_code ec) noexcept { error_ = ec; }

    template <class B>
    provider_result reject_record(B&, std::error_code ec) noexcept {
        return fail(ec);
    }

    template <class B>
    provider_result encrypt(std::span<const std::byte> plaintext, B& b) noexcept {
        for (; !plaintext.empty();) {
            const auto n = std::min(plaintext.size(), max_message_size);
            if (!put(b, plaintext.first(n), true))
                return fail(errc::token_too_large);
            plaintext = plaintext.subspan(n);
        }
        return {provider_status::ok, 0, {}};
    }

    template <class B>
    decrypt_result decrypt(B& b, std::span<std::byte> into) noexcept {
        if (error_)
            return {provider_status::error, 0, 0, error_};
        if (closed_)
            return {provider_status::context_expired, 0, 0, {}};
        if (pending_ == 0) {
            std::span<const std::byte> body;
            if (const auto missing = take(b, body))
                return {b.input().size() == 0 ? provider_status::continue_needed
                                              : provider_status::incomplete_message,
                        0,
                        missing,
                        {}};
            if (body.empty()) {
                b.input().consume(token_header_size);
                closed_ = true;
                return {provider_status::context_expired, 0, 0, {}};
            }
            pending_ = body.size();
            b.input().consume(token_header_size);
        }
        const auto n = std::min(pending_, into.size());
        for (std::size_t i = 0; i < n; ++i)
            into[i] = b.input().data()[i] ^ key_;
        b.input().consume(n);
        pending_ -= n;
        return {provider_status::ok, n, 0, {}};
    }

    template <class B>
    provider_result close(B& b) noexcept {
        return put(b, {}, false) ? provider_result{provider_status::ok, 0, {}}
                                 : fail(errc::token_too_large);
    }

    template <class B>
    provider_result update_keys(B&, bool) noexcept {
        return {provider_status::error, 0, errc::invalid_state};
    }

    void release_memory() noexcept {}
    std::size_t pending_plaintext() const noexcept { return pending_; }
    bool closed_by_peer() const noexcept { return closed_; }
    std::string error_detail() const { return error_ ? "toy: " + error_.message() : ""; }
    std::string_view protocol() const noexcept { return "toy/1"; }
    std::string_view cipher() const noexcept { return "xor"; }
    std::string_view alpn() const noexcept { return {}; }
    bool resumed() const noexcept { return false; }

private:
    static std::span<const std::byte> as_bytes(std::string_view text) noexcept {
        return std::as_bytes(std::span(text.data(), text.size()));
    }

    provider_result continue_needed() const noexcept {
        return {provider_status::continue_needed, token_header_size, {}};
    }

    provider_result fail(std::error_code ec) noexcept {
        error_ = ec;
        return {provider_status::error, 0, ec};
    }

    // Appends one token; false if the output cannot hold it.
    template <class B>
    bool put(B& b, std::span<const std::byte> body, bool protect) noexcept {
        auto& out = b.output();
        const auto room = out.prepare(token_header_size + body.size());
        if (room.size() < token_header_size + body.size())
            return false;
        room[0] = std::byte(body.size() >> 8);
        room[1] = std::byte(body.size() & 0xff);
        for (std::size_t i = 0; i < body.size(); ++i)
            room[token_header_size + i] = protect ? body[i] ^ key_ : body[i];
        out.commit(token_header_size + body.size());
        return true;
    }

    // The whole token at the front of the input (0), or the bytes still missing from it.
    template <class B>
    static std::size_t take(B& b, std::span<const std::byte>& body) noexcept {
        const auto in = b.input().data();
        if (in.size() < token_header_size)
            return token_header_size - in.size();
        const std::size_t size =
            (std::to_integer<std::size_t>(in[0]) << 8) | std::to_integer<std::size_t>(in[1]);
        if (in.size() < token_header_size + size)
            return token_header_size + size - in.size();
        body = in.subspan(token_header_size, size);
        return 0;
    }

    std::byte key_;
    role_kind kind_;
    std::error_code error_;
    std::size_t pending_ = 0;
    bool said_hello_ = false;
    bool closed_ = false;
};

inline connection_attributes query_attributes(const provider& p) {
    connection_attributes a;
    a.protocol = p.protocol();
    a.cipher = p.cipher();
    return a;
}

} // namespace toy

static_assert(record_protection<toy::provider, dynamic_buffer>);

template <class Buffers>
void exchange_over(Buffers client_buffers, Buffers server_buffers) {
    memory_link link;
    using client = basic_client<toy::provider>;
    using server = basic_server<toy::provider>;
    basic_handshake<client, memory_transport, Buffers> c{client{{}, "peer"}, link.client_end(),
                                                         std::move(client_buffers)};
    basic_handshake<server, memory_transport, Buffers> s{server{{}}, link.server_end(),
                                                         std::move(server_buffers)};
    for (int i = 0; i < 8 && !(c.done() && s.done()); ++i) {
        c.step();
        s.step();
    }
    BOOST_TEST_REQUIRE(c.done(), c.error().message());
    BOOST_TEST_REQUIRE(s.done(), s.error().message());

    basic_channel_for<decltype(c)> cc{std::move(c)};
    basic_channel_for<decltype(s)> sc{std::move(s)};
    const std::string message(2500, 'm'); // three messages of at most 1000 bytes
    const auto sent = cc.write_some(std::as_bytes(std::span(message)));
    BOOST_TEST_REQUIRE(!sent.error);
    BOOST_TEST(sent.bytes == message.size());
    std::string got;
    while (got.size() < message.size()) {
        char into[700];
        const auto r = sc.read_some(std::as_writable_bytes(std::span(into)));
        BOOST_TEST_REQUIRE(!r.error, r.error.message());
        got.append(into, r.bytes);
    }
    BOOST_TEST(got == message);
    BOOST_TEST(cc.attributes().protocol == "toy/1");

    BOOST_TEST(!cc.shutdown_send());
    char into[16];
    const auto end = sc.read_some(std::as_writable_bytes(std::span(into)));
    BOOST_TEST((end.error == errc::end_of_stream));
}

} // namespace

BOOST_AUTO_TEST_CASE(a_provider_of_neither_engine_runs_the_handshake_and_the_channel) {
    exchange_over(dynamic_buffer{}, dynamic_buffer{});
    exchange_over(fixed_buffer<4096>{}, fixed_buffer<4096>{});
    buffer_pool pool(4, 4096);
    exchange_over(pooled_buffer{pool}, pooled_buffer{pool});
}

BOOST_AUTO_TEST_CASE(the_loop_reads_the_providers_header_size_first) {
    memory_link link;
    using server = basic_server<toy::provider>;
    basic_handshake<server, memory_transport, dynamic_buffer> s{server{{}}, link.server_end()};
    const auto first = s.step();
    BOOST_TEST((first.status == step_status::want_read));
    BOOST_TEST(first.missing_bytes == toy::provider::token_header_size);
    // A token that is not the expected one fails, for good.
    const std::byte wrong[] = {std::byte{0}, std::byte{3}, std::byte{'b'}, std::byte{'a'},
                               std::byte{'d'}};
    auto end = link.client_end();
    BOOST_TEST_REQUIRE(end.write_some(wrong).bytes == sizeof wrong);
    const auto r = s.step();
    BOOST_TEST((r.status == step_status::failed));
    BOOST_TEST((r.error == errc::protocol_error));
}
