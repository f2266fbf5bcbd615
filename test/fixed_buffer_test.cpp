// The fixed-capacity buffer policy: an inline array per queue, no heap. prepare/commit append,
// data/consume read from the front, bytes survive compaction and moves; a prepare() beyond the
// capacity gives an empty span and keeps the data; handshakes (TLS 1.3 and 1.2) and a channel
// exchange work over a memory link and over TCP; a capacity too small for a flight fails with
// errc::token_too_large, never overflows.
#include "support/bounded_buffers.hpp"
#include "support/queues.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

using namespace secctx;
using test::append;
using test::bytes;
using test::equal;
using test::pattern;
using test::text;

namespace {

using small_queue = basic_fixed_queue<100>;
// Enough for the handshake and one full record in; a write chunk (four records) out.
constexpr std::size_t channel_output_capacity = 4 * channel_input_capacity;
using channel_buffers = fixed_buffer<channel_input_capacity, channel_output_capacity>;
// Enough for a handshake only (measured in docs/concepts.md), and small messages after it.
using handshake_buffers = fixed_buffer<8192>;

static_assert(byte_queue<small_queue>);
static_assert(buffer_policy<channel_buffers>);
static_assert(buffer_policy<handshake_buffers>);
static_assert(sizeof(fixed_buffer<4096, 1024>) < 4096 + 1024 + 64, "storage is inline");

bool inside(std::span<const std::byte> span, const void* object, std::size_t size) {
    const auto* base = static_cast<const std::byte*>(object);
    return span.data() >= base && span.data() + span.size() <= base + size;
}

} // namespace

BOOST_AUTO_TEST_SUITE(fixed_queue)

BOOST_AUTO_TEST_CASE(starts_empty_with_its_capacity) {
    small_queue q;
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST(q.data().empty());
    BOOST_TEST(q.max_size() == 100u);
    BOOST_TEST(q.capacity() == 100u);
    const auto room = q.prepare(1);
    BOOST_TEST(room.size() == 100u, "the whole array is writable");
    BOOST_TEST(inside(room, &q, sizeof q), "the storage is inside the object");
}

BOOST_AUTO_TEST_CASE(prepare_commit_data_consume) {
    small_queue q;
    const bytes first = pattern(10, 1);
    const auto room = q.prepare(10);
    BOOST_TEST_REQUIRE(room.size() >= 10u);
    std::copy(first.begin(), first.end(), room.begin());
    q.commit(6);
    BOOST_TEST(equal(q.data(), std::span(first).first(6)));
    const bytes second = pattern(20, 100);
    BOOST_TEST_REQUIRE(append(q, second));
    BOOST_TEST(q.size() == 26u);
    BOOST_TEST(equal(q.data().subspan(6), second));
    q.consume(4);
    BOOST_TEST(equal(q.data().first(2), std::span(first).subspan(4, 2)));
    BOOST_TEST(equal(q.data().subspan(2), second));
    q.consume(22);
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST(q.prepare(1).size() == 100u, "emptied: the whole array again");
}

BOOST_AUTO_TEST_CASE(compaction_makes_room_in_place) {
    small_queue q;
    const bytes data = pattern(90, 7);
    BOOST_TEST_REQUIRE(append(q, data));
    q.consume(60);
    // 10 bytes free at the end, 70 in all: 50 fit after moving the 30 live bytes to the front.
    const bytes more = pattern(50, 9);
    BOOST_TEST_REQUIRE(append(q, more));
    BOOST_TEST(q.size() == 80u);
    BOOST_TEST(equal(q.data().first(30), std::span(data).subspan(60)));
    BOOST_TEST(equal(q.data().subspan(30), more));
    BOOST_TEST(inside(q.data(), &q, sizeof q));
}

BOOST_AUTO_TEST_CASE(prepare_beyond_capacity_fails_and_keeps_the_data) {
    small_queue q;
    const bytes data = pattern(60, 5);
    BOOST_TEST_REQUIRE(append(q, data));
    BOOST_TEST(q.prepare(41).empty());
    BOOST_TEST(q.prepare(std::size_t(-1)).empty(), "no overflow for huge requests");
    BOOST_TEST(equal(q.data(), data));
    BOOST_TEST(text(prepare_failure(q, 41)) == text(errc::token_too_large));
    BOOST_TEST(q.prepare(40).size() == 40u, "up to the capacity still works");
    q.consume(50);
    BOOST_TEST(q.prepare(90).size() == 90u);
    BOOST_TEST(equal(q.data(), std::span(data).subspan(50)));
    BOOST_TEST(small_queue().prepare(101).empty());
}

BOOST_AUTO_TEST_CASE(release_keeps_everything) {
    small_queue q;
    const bytes data = pattern(30, 3);
    BOOST_TEST_REQUIRE(append(q, data));
    q.release();
    BOOST_TEST(equal(q.data(), data));
    q.consume(30);
    q.release();
    BOOST_TEST(q.prepare(100).size() == 100u);
}

BOOST_AUTO_TEST_CASE(move_keeps_the_bytes) {
    small_queue q;
    const bytes data = pattern(80, 2);
    BOOST_TEST_REQUIRE(append(q, data));
    q.consume(30);
    small_queue moved(std::move(q));
    BOOST_TEST(equal(moved.data(), std::span(data).subspan(30)));
    BOOST_TEST(inside(moved.data(), &moved, sizeof moved));

    small_queue assigned;
    BOOST_TEST_REQUIRE(append(assigned, pattern(10)));
    assigned = std::move(moved);
    BOOST_TEST(equal(assigned.data(), std::span(data).subspan(30)));
    // Moved to the front: the rest of the array is writable.
    BOOST_TEST(assigned.prepare(50).size() == 50u);
    const bytes tail = pattern(50, 9);
    BOOST_TEST_REQUIRE(append(assigned, tail));
    BOOST_TEST(equal(assigned.data().last(50), tail));
}

BOOST_AUTO_TEST_CASE(buffer_policy_move_keeps_both_queues) {
    auto b = std::make_unique<fixed_buffer<1000, 500>>();
    const bytes in = pattern(300, 1);
    const bytes out = pattern(200, 2);
    BOOST_TEST_REQUIRE(append(b->input(), in));
    BOOST_TEST_REQUIRE(append(b->output(), out));
    BOOST_TEST(b->input().max_size() == 1000u);
    BOOST_TEST(b->output().max_size() == 500u);
    auto moved = std::make_unique<fixed_buffer<1000, 500>>(std::move(*b));
    BOOST_TEST(equal(moved->input().data(), in));
    BOOST_TEST(equal(moved->output().data(), out));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fixed_buffer_tls)

BOOST_AUTO_TEST_CASE(handshake_and_channel_over_memory) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            test::check_memory_exchange<channel_buffers>(
                version, [] { return channel_buffers(); }, [] { return channel_buffers(); });
            // Small buffers complete the handshake and carry small messages.
            test::check_memory_exchange<handshake_buffers>(
                version, [] { return handshake_buffers(); }, [] { return handshake_buffers(); });
        }
    }
}

BOOST_AUTO_TEST_CASE(handshake_and_channel_over_tcp) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            test::check_socket_exchange<channel_buffers>(
                version, 100 * 1024, [] { return channel_buffers(); },
                [] { return channel_buffers(); });
        }
    }
}

// 256 bytes of input cannot hold the server's flight: the client fails with token_too_large,
// gives up its context and tells the server with a record_overflow alert.
BOOST_AUTO_TEST_CASE(client_input_too_small_for_the_servers_flight) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            const auto r = test::run_failing_pair(version, fixed_buffer<256, 4096>(),
                                                  fixed_buffer<4096, 4096>());
            test::check_input_too_small(r);
        }
    }
}

// The server's flight does not fit its output: the server fails with token_too_large.
BOOST_AUTO_TEST_CASE(server_output_too_small_for_its_flight) {
    for (const auto version : test::versions) {
        BOOST_TEST_CONTEXT(test::name_of(version)) {
            const auto r = test::run_failing_pair(version, fixed_buffer<4096, 4096>(),
                                                  fixed_buffer<4096, 256>());
            BOOST_TEST(text(r.server) == text(errc::token_too_large));
            // None of the flight went out, only a plaintext internal_error alert.
            BOOST_TEST(text(r.client) == text(errc::peer_alert));
            BOOST_TEST(test::lower(r.client_detail).find("internal error") != std::string::npos,
                       r.client_detail);
        }
    }
}

// A record larger than the channel's input capacity: token_too_large on the receiving channel,
// and an alert to the sender.
BOOST_AUTO_TEST_CASE(record_larger_than_the_channels_input) {
    const auto& creds = test::credentials_for(tls_version::tls1_3);
    memory_link link;
    using small = fixed_buffer<8192>;
    basic_handshake<client, memory_transport, channel_buffers> c{
        client{creds.client_creds, "localhost"}, link.client_end(), channel_buffers()};
    basic_handshake<server, memory_transport, small> s{server{creds.server_creds},
                                                       link.server_end(), small()};
    test::drive(c, s);
    BOOST_TEST_REQUIRE(c.done());
    BOOST_TEST_REQUIRE(s.done());
    basic_channel_for<decltype(c)> cc{std::move(c)};
    basic_channel_for<decltype(s)> sc{std::move(s)};
    const bytes big = test::random_bytes(16384, 3); // one full record
    BOOST_TEST_REQUIRE(!cc.write_all(big, test::bounded_deadline()));
    std::byte into[64];
    BOOST_TEST(text(sc.read_some(into).error) == text(errc::token_too_large));
    BOOST_TEST(text(sc.read_some(into).error) == text(errc::token_too_large), "sticky");
    // The writer learns why from the record_overflow alert.
    BOOST_TEST(text(cc.read_some(into).error) == text(errc::peer_alert));
}

BOOST_AUTO_TEST_SUITE_END()
