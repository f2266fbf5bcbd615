// The caller-supplied buffer policy: the user's own memory (two spans of their arena), used in
// place, never allocated, never freed. Same queue semantics as the fixed-capacity policy; moving
// hands the regions on; handshakes and a channel exchange work over a memory link and over TCP
// with buffers in a std::array arena; a region too small for a flight fails with
// errc::token_too_large. Also measures, by halving, the smallest capacities a full handshake needs
// (the table in docs/concepts.md).
#include "support/bounded_buffers.hpp"
#include "support/queues.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

using namespace secctx;
using test::append;
using test::bytes;
using test::equal;
using test::pattern;
using test::text;

namespace {

static_assert(byte_queue<caller_supplied_queue>);
static_assert(buffer_policy<caller_supplied_buffer>);

bool inside(std::span<const std::byte> span, std::span<const std::byte> region) {
    return span.data() >= region.data() &&
           span.data() + span.size() <= region.data() + region.size();
}

// One arena per connection end, cut into an input and an output region.
struct arena {
    static constexpr std::size_t input_size = channel_input_capacity;
    static constexpr std::size_t output_size = 4 * channel_input_capacity;
    alignas(64) std::array<std::byte, input_size + output_size> memory;

    caller_supplied_buffer buffers() {
        const std::span<std::byte> all(memory);
        return {all.first(input_size), all.subspan(input_size)};
    }
};

} // namespace

BOOST_AUTO_TEST_SUITE(caller_supplied_queue_semantics)

BOOST_AUTO_TEST_CASE(works_in_the_given_region) {
    std::array<std::byte, 100> region{};
    caller_supplied_queue q(region);
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST(q.max_size() == 100u);
    const auto room = q.prepare(1);
    BOOST_TEST(room.size() == 100u);
    BOOST_TEST(room.data() == region.data());
    BOOST_TEST(caller_supplied_queue().prepare(1).empty(), "no region, no room");
    BOOST_TEST(caller_supplied_queue().max_size() == 0u);
}

BOOST_AUTO_TEST_CASE(prepare_commit_data_consume_and_compaction) {
    std::array<std::byte, 100> region{};
    caller_supplied_queue q(region);
    const bytes data = pattern(90, 7);
    BOOST_TEST_REQUIRE(append(q, data));
    q.consume(60);
    BOOST_TEST(equal(q.data(), std::span(data).subspan(60)));
    const bytes more = pattern(50, 9);
    BOOST_TEST_REQUIRE(append(q, more));
    BOOST_TEST(q.size() == 80u);
    BOOST_TEST(q.data().data() == region.data(), "compacted to the front of the region");
    BOOST_TEST(equal(q.data().first(30), std::span(data).subspan(60)));
    BOOST_TEST(equal(q.data().subspan(30), more));
    q.consume(80);
    BOOST_TEST(q.prepare(100).size() == 100u);
}

BOOST_AUTO_TEST_CASE(prepare_beyond_the_region_fails_and_keeps_the_data) {
    std::array<std::byte, 100> region{};
    caller_supplied_queue q(region);
    const bytes data = pattern(60, 5);
    BOOST_TEST_REQUIRE(append(q, data));
    BOOST_TEST(q.prepare(41).empty());
    BOOST_TEST(q.prepare(std::size_t(-1)).empty());
    BOOST_TEST(text(prepare_failure(q, 41)) == text(errc::token_too_large));
    BOOST_TEST(equal(q.data(), data));
    BOOST_TEST(q.prepare(40).size() == 40u);
    q.release();
    BOOST_TEST(equal(q.data(), data), "release() keeps the bytes");
}

BOOST_AUTO_TEST_CASE(move_hands_the_region_on) {
    std::array<std::byte, 100> in{}, out{};
    caller_supplied_buffer b(in, out);
    const bytes data = pattern(40, 3);
    BOOST_TEST_REQUIRE(append(b.input(), data));
    BOOST_TEST_REQUIRE(append(b.output(), data));
    b.input().consume(10);
    caller_supplied_buffer moved(std::move(b));
    BOOST_TEST(equal(moved.input().data(), std::span(data).subspan(10)));
    BOOST_TEST(equal(moved.output().data(), data));
    BOOST_TEST(inside(moved.input().data(), in));
    BOOST_TEST(inside(moved.output().data(), out));
    BOOST_TEST(b.input().max_size() == 0u, "the moved-from buffer has no region");
    caller_supplied_buffer assigned;
    assigned = std::move(moved);
    BOOST_TEST(equal(assigned.input().data(), std::span(data).subspan(10)));
    BOOST_TEST(assigned.input().region().data() == in.data());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(caller_supplied_tls)

BOOST_AUTO_TEST_CASE(handshake_and_channel_in_an_array_arena_over_memory) {
    auto client_arena = std::make_unique<arena>();
    auto server_arena = std::make_unique<arena>();
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            test::check_memory_exchange<caller_supplied_buffer>(
                version, [&] { return client_arena->buffers(); },
                [&] { return server_arena->buffers(); });
        }
    }
}

BOOST_AUTO_TEST_CASE(handshake_and_channel_in_an_array_arena_over_tcp) {
    auto client_arena = std::make_unique<arena>();
    auto server_arena = std::make_unique<arena>();
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            test::check_socket_exchange<caller_supplied_buffer>(
                version, 100 * 1024, [&] { return client_arena->buffers(); },
                [&] { return server_arena->buffers(); });
        }
    }
}

BOOST_AUTO_TEST_CASE(region_too_small_fails_with_token_too_large) {
    std::array<std::byte, 256> small_in{};
    std::array<std::byte, 4096> out{}, server_in{}, server_out{};
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            const auto r = test::run_failing_pair(version, caller_supplied_buffer(small_in, out),
                                                  caller_supplied_buffer(server_in, server_out));
            test::check_input_too_small(r);
        }
    }
}

// The smallest capacity of each queue for which a full handshake completes (the others large),
// found by halving. Printed with --log_level=message; the table in docs/concepts.md comes from
// here. The bounds checked are the table's rounded figures.
BOOST_AUTO_TEST_CASE(smallest_capacities_a_handshake_needs) {
    const auto& p = test::pki::get();
    struct chain {
        const char* name;
        const issued_certificate* identity;
    };
    const chain chains[] = {{"ECDSA P-256", &p.ecdsa_server}, {"RSA 2048", &p.rsa_server}};
    constexpr std::size_t large = 64 * 1024;
    for (const auto& c : chains) {
        for (const auto version : test::versions) {
            auto config = test::server_config_for(*c.identity);
            config.min_version = config.max_version = version;
            const auto server_creds = credentials::server(config);
            const auto with = [&](std::size_t ci, std::size_t co, std::size_t si, std::size_t so) {
                return test::completes_with(version, server_creds, ci, co, si, so);
            };
            const std::size_t client_in =
                test::smallest(large, [&](std::size_t n) { return with(n, large, large, large); });
            const std::size_t client_out =
                test::smallest(large, [&](std::size_t n) { return with(large, n, large, large); });
            const std::size_t server_in =
                test::smallest(large, [&](std::size_t n) { return with(large, large, n, large); });
            const std::size_t server_out =
                test::smallest(large, [&](std::size_t n) { return with(large, large, large, n); });
            BOOST_TEST_MESSAGE("capacities " << c.name << " " << test::name_of(version)
                                             << ": client in " << client_in << " out " << client_out
                                             << "; server in " << server_in << " out "
                                             << server_out);
            // All four near their minimum together still work (an ECDSA signature's DER length
            // varies by a few bytes from one handshake to the next).
            constexpr std::size_t slack = 16;
            BOOST_TEST(
                with(client_in + slack, client_out + slack, server_in + slack, server_out + slack));
            BOOST_TEST(client_in <= 4096u);
            BOOST_TEST(client_out <= 4096u);
            BOOST_TEST(server_in <= 4096u);
            BOOST_TEST(server_out <= 4096u);
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
