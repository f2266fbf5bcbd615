// The pooled buffer policy: blocks from a bounded pool shared by many connections, given back when
// a queue is idle and empty; exhaustion is a clear error (errc::out_of_memory), never an abort; the
// pool is safe to use from several threads, and its per-thread caches survive the pool.
#include "secctx/buffer/pooled.hpp"

#include "support/drive.hpp"
#include "support/pki.hpp"
#include "support/queues.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace secctx;
using test::append;
using test::bytes;
using test::equal;
using test::pattern;
using test::text;

namespace {

using client_handshake = basic_handshake<client, memory_transport, pooled_buffer>;
using server_handshake = basic_handshake<server, memory_transport, pooled_buffer>;
using client_channel = basic_channel_for<client_handshake>;
using server_channel = basic_channel_for<server_handshake>;

static_assert(byte_queue<pooled_queue>);
static_assert(buffer_policy<pooled_buffer>);
static_assert(buffer_pool::default_block_size >= 16384 + 256 + 5);
static_assert(buffer_pool::default_block_size % 64 == 0);

struct credential_pair {
    credentials client_creds;
    credentials server_creds;
};

const credential_pair& creds() {
    static const credential_pair pair{
        credentials::client(test::client_config_trusting(test::pki::get().ca)),
        credentials::server(test::server_config_for(test::pki::get().ecdsa_server))};
    return pair;
}

// One connection over a memory link, both ends on `pool`.
struct connection {
    explicit connection(buffer_pool& pool)
        : c{client{creds().client_creds, "localhost"}, link.client_end(), pooled_buffer(pool)},
          s{server{creds().server_creds}, link.server_end(), pooled_buffer(pool)} {}

    memory_link link;
    client_handshake c;
    server_handshake s;
};

// Reads whatever is there until the channel would block (or fails); appends the plaintext.
template <class Channel>
std::error_code read_available(Channel& channel, bytes& into) {
    std::byte chunk[2048];
    for (;;) {
        const io_result r = channel.read_some(chunk);
        if (r.error)
            return r.error == errc::would_block ? std::error_code() : r.error;
        into.insert(into.end(), chunk, chunk + r.bytes);
    }
}

// Handshake, "ping" one way and "pong" back; both channels end idle (every read would block).
// Returns what went wrong, or an empty string. No Boost.Test macros: it runs on worker threads.
struct established {
    std::unique_ptr<memory_link> link;
    std::optional<client_channel> c;
    std::optional<server_channel> s;
};

std::string establish(buffer_pool& pool, established& out) {
    out.link = std::make_unique<memory_link>();
    client_handshake ch{client{creds().client_creds, "localhost"}, out.link->client_end(),
                        pooled_buffer(pool)};
    server_handshake sh{server{creds().server_creds}, out.link->server_end(), pooled_buffer(pool)};
    const auto [cr, sr] = test::drive(ch, sh);
    if (!ch.done() || !sh.done())
        return "handshake: " + text(cr.error) + " / " + text(sr.error);
    out.c.emplace(std::move(ch));
    out.s.emplace(std::move(sh));
    const bytes ping = test::to_bytes("ping"), pong = test::to_bytes("pong");
    if (const auto r = out.c->write_some(ping); r.error || r.bytes != ping.size())
        return "client write: " + text(r.error);
    bytes got;
    if (const auto ec = read_available(*out.s, got); ec || got != ping)
        return "server read: " + text(ec);
    if (const auto r = out.s->write_some(pong); r.error || r.bytes != pong.size())
        return "server write: " + text(r.error);
    got.clear();
    if (const auto ec = read_available(*out.c, got); ec || got != pong)
        return "client read: " + text(ec);
    // Once more on both sides: nothing left, both idle.
    got.clear();
    if (read_available(*out.s, got) || read_available(*out.c, got) || !got.empty())
        return "idle read";
    return {};
}

} // namespace

BOOST_AUTO_TEST_SUITE(pool)

BOOST_AUTO_TEST_CASE(bounds_and_counters) {
    buffer_pool pool(3, 1000, 0);
    BOOST_TEST(pool.block_size() == 1000u);
    BOOST_TEST(pool.max_blocks() == 3u);
    BOOST_TEST(pool.in_use() == 0u);
    BOOST_TEST(pool.allocated() == 0u, "nothing allocated before the first block is asked for");

    std::byte* a = pool.acquire();
    std::byte* b = pool.acquire();
    std::byte* c = pool.acquire();
    BOOST_TEST_REQUIRE((a && b && c));
    BOOST_TEST(pool.in_use() == 3u);
    BOOST_TEST(pool.acquire() == nullptr, "exhausted: no block, no abort");
    BOOST_TEST(pool.in_use() == 3u);
    BOOST_TEST(pool.peak() == 3u);

    pool.release(b);
    BOOST_TEST(pool.in_use() == 2u);
    std::byte* again = pool.acquire();
    BOOST_TEST(again == b, "a returned block is reused");
    BOOST_TEST(pool.allocated() == 3u);
    pool.release(a);
    pool.release(again);
    pool.release(c);
    BOOST_TEST(pool.in_use() == 0u);
    BOOST_TEST(pool.peak() == 3u);
    pool.reset_peak();
    BOOST_TEST(pool.peak() == 0u);
}

BOOST_AUTO_TEST_CASE(reserve_allocates_up_front) {
    buffer_pool pool(4, 512);
    BOOST_TEST(pool.reserve(10));
    BOOST_TEST(pool.allocated() == 4u, "never more than max_blocks");
    std::vector<std::byte*> blocks;
    for (int i = 0; i < 4; ++i)
        blocks.push_back(pool.acquire());
    BOOST_TEST(pool.allocated() == 4u, "no allocation after reserve()");
    for (auto* block : blocks)
        pool.release(block);
}

BOOST_AUTO_TEST_CASE(thread_cache_overflow_returns_to_the_shared_list) {
    buffer_pool pool(40, 256, 4);
    std::vector<std::byte*> blocks;
    for (int i = 0; i < 40; ++i)
        blocks.push_back(pool.acquire());
    BOOST_TEST(pool.acquire() == nullptr);
    for (auto* block : blocks)
        pool.release(block);
    BOOST_TEST(pool.in_use() == 0u);
    blocks.clear();
    for (int i = 0; i < 40; ++i)
        blocks.push_back(pool.acquire());
    BOOST_TEST(pool.allocated() == 40u, "every block came back and is reused");
    for (auto* block : blocks)
        pool.release(block);
}

BOOST_AUTO_TEST_CASE(thread_caches_survive_the_pool) {
    // Same thread: a new pool (possibly at the same address) never sees the old pool's blocks.
    for (int round = 0; round < 3; ++round) {
        auto pool = std::make_unique<buffer_pool>(2, 300, 2);
        std::byte* block = pool->acquire();
        BOOST_TEST_REQUIRE(block != nullptr);
        pool->release(block); // into this thread's cache
        BOOST_TEST(pool->allocated() == 1u);
    }
    // Another thread caches blocks of a pool that dies first; it frees them when it ends.
    std::atomic<int> stage{0};
    auto pool = std::make_unique<buffer_pool>(4, 300, 4);
    std::thread user([&] {
        std::byte* block = pool->acquire();
        pool->release(block);
        stage = 1;
        while (stage.load() != 2)
            std::this_thread::yield();
        // And a new pool in this thread takes over the dead pool's cache slot.
        buffer_pool fresh(1, 300, 4);
        std::byte* b = fresh.acquire();
        fresh.release(b);
    });
    while (stage.load() != 1)
        std::this_thread::yield();
    pool.reset();
    stage = 2;
    user.join();
}

// A queue that is a thread_local object made before the thread first used the pool is destroyed
// after the thread's cache: the block it gives back then goes to the shared list, not into the
// dead cache, where it would be lost to the pool.
BOOST_AUTO_TEST_CASE(a_block_released_after_the_threads_cache_ended_returns_to_the_pool) {
    buffer_pool pool(4, 256, 4);
    bool took_block = false;
    std::thread user(
        [](buffer_pool& shared, bool& took) {
            thread_local pooled_queue late(shared);
            took = append(late, pattern(100)); // the thread's first acquire: the cache is made now
        },
        std::ref(pool), std::ref(took_block));
    user.join();
    BOOST_TEST_REQUIRE(took_block);
    BOOST_TEST(pool.in_use() == 0u);
    BOOST_TEST(pool.allocated() == 1u);
    BOOST_TEST(pool.reserve(1));
    BOOST_TEST(pool.allocated() == 1u, "the block is in the shared list: none was allocated");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pooled_queue_tests)

BOOST_AUTO_TEST_CASE(one_block_from_first_prepare_to_release) {
    buffer_pool pool(4, 1024, 0);
    pooled_queue q(pool);
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST(!q.holds_block());
    BOOST_TEST(q.max_size() == 1024u);

    const bytes data = pattern(600, 3);
    BOOST_TEST_REQUIRE(append(q, data));
    BOOST_TEST(q.holds_block());
    BOOST_TEST(pool.in_use() == 1u);
    BOOST_TEST(equal(q.data(), data));

    q.consume(500);
    // 424 free at the end, 924 in all: compaction, same block.
    const bytes more = pattern(800, 9);
    BOOST_TEST_REQUIRE(append(q, more));
    BOOST_TEST(equal(q.data().first(100), std::span(data).subspan(500)));
    BOOST_TEST(equal(q.data().subspan(100), more));
    BOOST_TEST(q.prepare(200).empty(), "more than the block: fails, the data stays");
    BOOST_TEST(text(prepare_failure(q, 200)) == text(errc::token_too_large));
    BOOST_TEST(q.size() == 900u);

    q.release();
    BOOST_TEST(q.holds_block(), "release() keeps a block that holds bytes");
    q.consume(900);
    q.release();
    BOOST_TEST(!q.holds_block(), "an empty queue gives its block back when idle");
    BOOST_TEST(pool.in_use() == 0u);
    BOOST_TEST(q.data().empty());
}

BOOST_AUTO_TEST_CASE(exhausted_pool_means_empty_prepare_and_out_of_memory) {
    buffer_pool pool(1, 512, 0);
    pooled_queue a(pool), b(pool);
    BOOST_TEST(!a.prepare(10).empty());
    BOOST_TEST(b.prepare(10).empty());
    BOOST_TEST(text(prepare_failure(b, 10)) == text(errc::out_of_memory));
    a.release(); // empty: the block goes back
    BOOST_TEST(!b.prepare(10).empty());
}

BOOST_AUTO_TEST_CASE(blocks_return_on_destruction_and_move) {
    buffer_pool pool(4, 256, 0);
    {
        pooled_buffer buffers(pool);
        BOOST_TEST_REQUIRE(append(buffers.input(), pattern(100, 1)));
        BOOST_TEST_REQUIRE(append(buffers.output(), pattern(50, 2)));
        BOOST_TEST(pool.in_use() == 2u);
        pooled_buffer moved(std::move(buffers));
        BOOST_TEST(pool.in_use() == 2u, "a move keeps the blocks, it takes none");
        BOOST_TEST(equal(moved.input().data(), pattern(100, 1)));
        BOOST_TEST(equal(moved.output().data(), pattern(50, 2)));
        BOOST_TEST(buffers.input().size() == 0u);

        pooled_queue assigned(pool);
        BOOST_TEST_REQUIRE(append(assigned, pattern(10)));
        BOOST_TEST(pool.in_use() == 3u);
        assigned = std::move(moved.input());
        BOOST_TEST(pool.in_use() == 2u, "the assigned-to queue gave its own block back");
        BOOST_TEST(equal(assigned.data(), pattern(100, 1)));
    }
    BOOST_TEST(pool.in_use() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pooled_connections)

BOOST_AUTO_TEST_CASE(exhaustion_fails_the_handshake_with_out_of_memory) {
    // One block: the client's output takes it for the ClientHello, its input finds none.
    buffer_pool pool(1);
    {
        connection conn(pool);
        const auto [cr, sr] = test::drive(conn.c, conn.s);
        BOOST_TEST(text(cr.error) == text(errc::out_of_memory));
        BOOST_TEST(!conn.c.done());
    }
    BOOST_TEST(pool.in_use() == 0u, "the failed handshakes gave their blocks back");
}

BOOST_AUTO_TEST_CASE(a_flight_larger_than_a_block_is_token_too_large) {
    buffer_pool pool(8, 512);
    {
        connection conn(pool);
        const auto [cr, sr] = test::drive(conn.c, conn.s);
        BOOST_TEST((cr.error == errc::token_too_large || sr.error == errc::token_too_large),
                   text(cr.error) << " / " << text(sr.error));
    }
    BOOST_TEST(pool.in_use() == 0u);
}

BOOST_AUTO_TEST_CASE(many_connections_share_a_small_pool_and_hold_nothing_when_idle) {
    // 50 live connections (100 ends) on a pool of 8 blocks: only busy ends hold blocks.
    buffer_pool pool(8);
    std::vector<established> connections(50);
    for (std::size_t i = 0; i < connections.size(); ++i) {
        BOOST_TEST_CONTEXT("connection " << i) {
            const std::string failed = establish(pool, connections[i]);
            BOOST_TEST_REQUIRE(failed.empty(), failed);
            BOOST_TEST(pool.in_use() == 0u, "an idle established connection holds no block");
        }
    }
    BOOST_TEST(pool.peak() <= 4u, "two queues per end, two ends busy at once");
    BOOST_TEST(pool.peak() >= 2u);
    // All idle and still alive: nothing held. Close them.
    // (A channel that has read the peer's close_notify may keep its input block until it is
    // destroyed, so each connection is closed and destroyed in turn.)
    for (auto& conn : connections) {
        BOOST_TEST(!conn.c->shutdown_send());
        bytes got;
        BOOST_TEST(text(read_available(*conn.s, got)) == text(errc::end_of_stream));
        BOOST_TEST_MESSAGE("blocks held by one closed connection: " << pool.in_use());
        BOOST_TEST(pool.in_use() <= 2u);
        conn.s.reset();
        conn.c.reset();
        conn.link.reset();
        BOOST_TEST(pool.in_use() == 0u);
    }
    BOOST_TEST(pool.in_use() == 0u);
    BOOST_TEST(pool.peak() <= 4u);
}

BOOST_AUTO_TEST_CASE(four_threads_share_one_pool) {
    constexpr int threads = 4, per_thread = 8;
    buffer_pool pool(4 * threads, buffer_pool::default_block_size, 4);
    std::atomic<int> succeeded{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (int i = 0; i < per_thread; ++i) {
                established conn;
                if (establish(pool, conn).empty())
                    ++succeeded;
            }
        });
    for (auto& w : workers)
        w.join();
    BOOST_TEST(succeeded.load() == threads * per_thread);
    BOOST_TEST(pool.in_use() == 0u);
    BOOST_TEST(pool.peak() <= pool.max_blocks());
    BOOST_TEST(pool.allocated() <= pool.max_blocks() + threads * 4u);
}

BOOST_AUTO_TEST_SUITE_END()

// A write larger than one block is taken in pieces the output block can hold, never failing the
// channel: 100 KB arrive byte for byte through one-record blocks.
BOOST_AUTO_TEST_CASE(writes_larger_than_a_block_go_out_in_pieces_that_fit) {
    buffer_pool pool;
    established x;
    BOOST_TEST_REQUIRE(establish(pool, x) == "");
    const bytes sent = test::random_bytes(100'000, 7);
    const auto deadline = clock::now() + std::chrono::seconds(10);
    // Boost.Test's assertions are not thread-safe: the writer's result is checked after join().
    std::error_code written;
    std::thread writer([&] { written = x.c->write_all(sent, deadline); });
    bytes received(sent.size());
    BOOST_TEST(text(x.s->read_exactly(received, deadline)) == "success");
    writer.join();
    BOOST_TEST(text(written) == "success");
    BOOST_TEST((received == sent));
    BOOST_TEST(!x.c->error());
}
