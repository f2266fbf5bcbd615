// The dynamic buffer policy: one contiguous growing region per queue, on any allocator.
// prepare/commit append, data/consume read from the front; bytes survive compaction, growth and
// moves; growth stops at max_size(); release() frees only a grown, empty queue.
#include "support/drive.hpp"
#include "support/pki.hpp"
#include "support/queues.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <memory_resource>
#include <new>
#include <stdexcept>

using namespace secctx;
using test::append;
using test::bytes;
using test::equal;
using test::pattern;

namespace {

using queue = basic_dynamic_queue<>;
using pmr_allocator = std::pmr::polymorphic_allocator<std::byte>;
using pmr_queue = basic_dynamic_queue<pmr_allocator>;
using pmr_buffer = basic_dynamic_buffer<pmr_allocator>;

static_assert(byte_queue<queue>);
static_assert(byte_queue<pmr_queue>);
static_assert(buffer_policy<pmr_buffer>);

// Counts what goes through it, so a test can tell where the queues allocate.
class counting_resource : public std::pmr::memory_resource {
public:
    explicit counting_resource(std::pmr::memory_resource* upstream) : upstream_(upstream) {}

    std::size_t allocations = 0;
    std::size_t deallocations = 0;
    std::size_t bytes_in_use = 0;

private:
    void* do_allocate(std::size_t n, std::size_t align) override {
        void* p = upstream_->allocate(n, align);
        ++allocations;
        bytes_in_use += n;
        return p;
    }
    void do_deallocate(void* p, std::size_t n, std::size_t align) override {
        ++deallocations;
        bytes_in_use -= n;
        upstream_->deallocate(p, n, align);
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }

    std::pmr::memory_resource* upstream_;
};

// Refuses every allocation while `refusing` is set, as a per-connection resource that is full.
class refusing_resource : public std::pmr::memory_resource {
public:
    bool refusing = false;
    std::size_t allocations = 0;

private:
    void* do_allocate(std::size_t n, std::size_t align) override {
        if (refusing)
            throw std::bad_alloc();
        ++allocations;
        return std::pmr::new_delete_resource()->allocate(n, align);
    }
    void do_deallocate(void* p, std::size_t n, std::size_t align) override {
        std::pmr::new_delete_resource()->deallocate(p, n, align);
    }
    bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
        return this == &other;
    }
};

// An allocator that refuses with an exception of its own, not std::bad_alloc.
template <class T>
struct throwing_allocator {
    using value_type = T;

    explicit throwing_allocator(const bool* refusing) noexcept : refusing(refusing) {}
    template <class U>
    throwing_allocator(const throwing_allocator<U>& other) noexcept : refusing(other.refusing) {}

    T* allocate(std::size_t n) {
        if (*refusing)
            throw std::runtime_error("no memory for this connection");
        return std::allocator<T>().allocate(n);
    }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>().deallocate(p, n); }
    bool operator==(const throwing_allocator&) const = default;

    const bool* refusing;
};

bool inside(std::span<const std::byte> span, std::span<const std::byte> region) {
    return span.data() >= region.data() &&
           span.data() + span.size() <= region.data() + region.size();
}

} // namespace

BOOST_AUTO_TEST_SUITE(dynamic_queue)

BOOST_AUTO_TEST_CASE(starts_empty_without_memory) {
    queue q;
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST(q.data().empty());
    BOOST_TEST(q.capacity() == 0u, "nothing is allocated before the first prepare()");
    BOOST_TEST(q.max_size() == queue::default_max_size);
    BOOST_TEST(queue(1234).max_size() == 1234u);
}

BOOST_AUTO_TEST_CASE(prepare_commit_data_consume) {
    queue q;
    const auto room = q.prepare(10);
    BOOST_TEST(room.size() >= 10u, "at least what was asked");
    BOOST_TEST(q.size() == 0u, "prepare alone adds nothing");
    const bytes first = pattern(10, 1);
    std::copy(first.begin(), first.end(), room.begin());
    q.commit(6); // only part of what was written
    BOOST_TEST(equal(q.data(), std::span(first).first(6)));

    // The next prepare()d space starts right after data().
    const bytes second = pattern(20, 100);
    BOOST_TEST_REQUIRE(append(q, second));
    BOOST_TEST(q.size() == 26u);
    BOOST_TEST(equal(q.data().first(6), std::span(first).first(6)));
    BOOST_TEST(equal(q.data().subspan(6), second));

    q.consume(4);
    BOOST_TEST(q.size() == 22u);
    BOOST_TEST(equal(q.data().first(2), std::span(first).subspan(4, 2)));
    BOOST_TEST(equal(q.data().subspan(2), second));

    q.consume(0);
    BOOST_TEST(q.size() == 22u);
    const auto capacity = q.capacity();
    q.consume(22);
    BOOST_TEST(q.size() == 0u);
    BOOST_TEST(q.data().empty());
    BOOST_TEST(q.capacity() == capacity, "consuming keeps the memory");
    // Emptied: the whole capacity is writable again.
    BOOST_TEST(q.prepare(1).size() == capacity);
}

BOOST_AUTO_TEST_CASE(first_prepare_allocates_the_initial_capacity) {
    queue q;
    BOOST_TEST(q.prepare(5).size() == queue::initial_capacity);
    BOOST_TEST(q.capacity() == queue::initial_capacity);
}

BOOST_AUTO_TEST_CASE(compaction_moves_bytes_to_the_front_without_growing) {
    queue q;
    const bytes data = pattern(4000, 7);
    BOOST_TEST_REQUIRE(append(q, data));
    const std::byte* base = q.data().data();
    q.consume(3000);
    // 96 bytes free at the end, 3096 in all: enough without growing.
    const bytes more = pattern(2000, 9);
    BOOST_TEST_REQUIRE(append(q, more));
    BOOST_TEST(q.capacity() == queue::initial_capacity);
    BOOST_TEST(q.data().data() == base, "the kept bytes moved to the front of the same region");
    BOOST_TEST(q.size() == 3000u);
    BOOST_TEST(equal(q.data().first(1000), std::span(data).subspan(3000)));
    BOOST_TEST(equal(q.data().subspan(1000), more));
}

BOOST_AUTO_TEST_CASE(growth_keeps_bytes_and_is_geometric) {
    queue q;
    bytes all;
    std::size_t last_capacity = 0;
    unsigned growths = 0;
    for (int i = 0; i < 40; ++i) {
        const bytes chunk =
            pattern(1000 + static_cast<std::size_t>(i), static_cast<std::uint8_t>(i));
        BOOST_TEST_REQUIRE(append(q, chunk));
        all.insert(all.end(), chunk.begin(), chunk.end());
        if (q.capacity() != last_capacity) {
            if (last_capacity != 0)
                BOOST_TEST(q.capacity() >= 2 * last_capacity);
            last_capacity = q.capacity();
            ++growths;
        }
        // Consume a little from the front now and then: bytes still line up.
        if (i % 7 == 6) {
            q.consume(123);
            all.erase(all.begin(), all.begin() + 123);
        }
    }
    BOOST_TEST(equal(q.data(), all));
    BOOST_TEST(growths <= 5u, "about 40 KB in doubling steps from 4 KiB");
}

BOOST_AUTO_TEST_CASE(growth_stops_at_max_size) {
    const std::size_t max = 10000;
    queue q(max);
    const bytes data = pattern(max, 3);
    BOOST_TEST_REQUIRE(append(q, std::span(data).first(6000)));
    // Doubling would give 8192, then 16384: capped at max_size.
    BOOST_TEST_REQUIRE(append(q, std::span(data).subspan(6000)));
    BOOST_TEST(q.size() == max);
    BOOST_TEST(q.capacity() == max);
    BOOST_TEST(equal(q.data(), data));
}

BOOST_AUTO_TEST_CASE(prepare_beyond_max_size_fails_and_keeps_the_data) {
    queue q(100);
    const bytes data = pattern(60, 5);
    BOOST_TEST_REQUIRE(append(q, data));
    BOOST_TEST(q.capacity() <= 100u, "a small queue never holds more than max_size");

    BOOST_TEST(q.prepare(41).empty());
    BOOST_TEST(q.prepare(std::size_t(-1)).empty(), "no overflow for huge requests");
    BOOST_TEST(equal(q.data(), data));

    BOOST_TEST(q.prepare(40).size() >= 40u, "up to max_size still works");
    q.consume(50);
    // After consuming, the room is back (by compaction).
    BOOST_TEST(q.prepare(90).size() >= 90u);
    BOOST_TEST(equal(q.data(), std::span(data).subspan(50)));
}

BOOST_AUTO_TEST_CASE(release_frees_only_a_grown_empty_queue) {
    queue q;
    BOOST_TEST_REQUIRE(append(q, pattern(100)));
    q.release();
    BOOST_TEST(q.size() == 100u, "release() never drops bytes");
    q.consume(100);
    q.release();
    BOOST_TEST(q.capacity() == queue::initial_capacity, "the initial region is kept for reuse");

    BOOST_TEST_REQUIRE(append(q, pattern(10000)));
    BOOST_TEST(q.capacity() > queue::initial_capacity);
    q.release();
    BOOST_TEST(q.capacity() > queue::initial_capacity, "not while it holds bytes");
    BOOST_TEST(q.size() == 10000u);
    q.consume(10000);
    q.release();
    BOOST_TEST(q.capacity() == 0u, "a grown queue gives its memory back when idle");
    BOOST_TEST(q.data().empty());
    // And works again afterwards.
    const bytes again = pattern(50, 8);
    BOOST_TEST_REQUIRE(append(q, again));
    BOOST_TEST(equal(q.data(), again));
}

BOOST_AUTO_TEST_CASE(move_keeps_the_bytes) {
    queue q;
    const bytes data = pattern(5000, 2);
    BOOST_TEST_REQUIRE(append(q, data));
    q.consume(1000);

    queue moved(std::move(q));
    BOOST_TEST(equal(moved.data(), std::span(data).subspan(1000)));
    BOOST_TEST(moved.max_size() == queue::default_max_size);

    queue assigned(77);
    BOOST_TEST_REQUIRE(append(assigned, pattern(10)));
    assigned = std::move(moved);
    BOOST_TEST(equal(assigned.data(), std::span(data).subspan(1000)));
    BOOST_TEST(assigned.max_size() == queue::default_max_size);

    // The queue keeps working after the move: appends go after the moved bytes.
    const bytes tail = pattern(10, 9);
    BOOST_TEST_REQUIRE(append(assigned, tail));
    BOOST_TEST(equal(assigned.data().last(10), tail));
}

BOOST_AUTO_TEST_CASE(an_allocator_that_throws_anything_is_an_allocation_failure) {
    bool refusing = false;
    basic_dynamic_queue<throwing_allocator<std::byte>> q(queue::default_max_size,
                                                         throwing_allocator<std::byte>(&refusing));
    const bytes data = pattern(100, 4);
    BOOST_TEST_REQUIRE(append(q, data));
    refusing = true;
    BOOST_TEST(q.prepare(10000).empty(), "the exception stays inside the noexcept prepare()");
    BOOST_TEST(test::text(prepare_failure(q, 10000)) == test::text(errc::out_of_memory));
    BOOST_TEST(equal(q.data(), data));
    refusing = false;
    BOOST_TEST(q.prepare(10000).size() >= 10000u);
    BOOST_TEST(equal(q.data(), data));
}

BOOST_AUTO_TEST_CASE(buffer_policy_move_keeps_both_queues) {
    dynamic_buffer b;
    const bytes in = pattern(300, 1);
    const bytes out = pattern(200, 2);
    BOOST_TEST_REQUIRE(append(b.input(), in));
    BOOST_TEST_REQUIRE(append(b.output(), out));
    dynamic_buffer moved(std::move(b));
    BOOST_TEST(equal(moved.input().data(), in));
    BOOST_TEST(equal(moved.output().data(), out));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(dynamic_queue_pmr)

BOOST_AUTO_TEST_CASE(allocations_go_to_the_given_resource) {
    alignas(std::max_align_t) std::byte arena[64 * 1024];
    // Nothing outside the arena: an allocation that does not fit fails, it never goes to the heap.
    std::pmr::monotonic_buffer_resource monotonic(arena, sizeof arena,
                                                  std::pmr::null_memory_resource());
    counting_resource counting(&monotonic);
    pmr_queue q(pmr_queue::default_max_size, pmr_allocator(&counting));

    const bytes data = pattern(20000, 4);
    BOOST_TEST_REQUIRE(append(q, data));
    BOOST_TEST(counting.allocations >= 1u);
    BOOST_TEST(inside(q.data(), arena), "the bytes live in the arena");
    BOOST_TEST(counting.bytes_in_use == q.capacity(), "one region per queue, the old one freed");
    BOOST_TEST(equal(q.data(), data));

    // Growth beyond what the arena holds fails like any allocation failure: empty span, data kept.
    BOOST_TEST(q.prepare(60 * 1024).empty());
    BOOST_TEST(equal(q.data(), data));

    q.consume(q.size());
    q.release();
    BOOST_TEST(counting.bytes_in_use == 0u);
    BOOST_TEST(counting.deallocations == counting.allocations);
}

BOOST_AUTO_TEST_CASE(move_between_resources_keeps_the_bytes) {
    std::pmr::monotonic_buffer_resource first_arena, second_arena;
    counting_resource first(&first_arena), second(&second_arena);
    pmr_queue a(pmr_queue::default_max_size, pmr_allocator(&first));
    const bytes data = pattern(3000, 6);
    BOOST_TEST_REQUIRE(append(a, data));

    // Same resource: the region itself moves.
    pmr_queue same(std::move(a));
    BOOST_TEST(equal(same.data(), data));
    BOOST_TEST(first.allocations == 1u);

    // Another resource: the bytes are copied into memory of the destination's own resource.
    pmr_queue other(pmr_queue::default_max_size, pmr_allocator(&second));
    other = std::move(same);
    BOOST_TEST(equal(other.data(), data));
    BOOST_TEST(second.allocations == 1u);
    BOOST_TEST(second.bytes_in_use == other.capacity());
    BOOST_TEST(first.bytes_in_use == 0u, "the source gave its memory back to its own resource");
}

BOOST_AUTO_TEST_CASE(move_between_resources_reuses_memory_that_holds_the_bytes) {
    counting_resource first(std::pmr::new_delete_resource());
    refusing_resource second;
    pmr_queue source(pmr_queue::default_max_size, pmr_allocator(&first));
    const bytes data = pattern(3000, 6);
    BOOST_TEST_REQUIRE(append(source, data));
    pmr_queue target(pmr_queue::default_max_size, pmr_allocator(&second));
    BOOST_TEST_REQUIRE(append(target, pattern(10)));
    BOOST_TEST_REQUIRE(target.capacity() >= data.size());

    second.refusing = true;
    target = std::move(source);
    BOOST_TEST(equal(target.data(), data), "no allocation was needed, so none could fail");
    BOOST_TEST(second.allocations == 1u);
    BOOST_TEST(first.bytes_in_use == 0u);
}

BOOST_AUTO_TEST_CASE(bytes_a_move_between_resources_cannot_copy_fail_the_queue) {
    counting_resource first(std::pmr::new_delete_resource());
    refusing_resource second;
    pmr_queue source(pmr_queue::default_max_size, pmr_allocator(&first));
    BOOST_TEST_REQUIRE(append(source, pattern(3000, 6)));
    pmr_queue target(pmr_queue::default_max_size, pmr_allocator(&second));

    second.refusing = true;
    target = std::move(source);
    second.refusing = false;
    BOOST_TEST(first.bytes_in_use == 0u, "the source gave its memory back all the same");
    BOOST_TEST(target.size() == 0u);
    // Memory is there again, but the bytes are gone: the queue keeps failing, as an allocation
    // failure does, so the loop fails the connection rather than go on without them.
    BOOST_TEST(target.prepare(10).empty());
    BOOST_TEST(test::text(prepare_failure(target, 10)) == test::text(errc::out_of_memory));
    // The failure moves with the queue, as a handshake's buffers move into its channel.
    pmr_queue moved(std::move(target));
    BOOST_TEST(moved.prepare(10).empty());

    // A queue assigned anew works again.
    pmr_queue fresh(pmr_queue::default_max_size, pmr_allocator(&second));
    const bytes data = pattern(50, 8);
    BOOST_TEST_REQUIRE(append(fresh, data));
    moved = std::move(fresh);
    BOOST_TEST(equal(moved.data(), data));
    BOOST_TEST_REQUIRE(append(moved, data));
}

// A whole handshake whose buffers all live in per-connection arenas.
BOOST_AUTO_TEST_CASE(handshake_with_pmr_buffers) {
    const auto& p = test::pki::get();
    const auto server_creds = credentials::server(test::server_config_for(p.ecdsa_server));
    for (const auto version : {tls_version::tls1_3, tls_version::tls1_2}) {
        BOOST_TEST_CONTEXT((version == tls_version::tls1_3 ? "TLS 1.3" : "TLS 1.2")) {
            auto config = test::client_config_trusting(p.ca);
            config.max_version = version;
            const auto versioned_client = credentials::client(config);
            std::pmr::monotonic_buffer_resource client_arena(64 * 1024), server_arena(64 * 1024);
            counting_resource client_memory(&client_arena), server_memory(&server_arena);

            memory_link link;
            basic_handshake<client, memory_transport, pmr_buffer> c{
                client{versioned_client, "localhost"}, link.client_end(),
                pmr_buffer(pmr_queue::default_max_size, pmr_allocator(&client_memory))};
            basic_handshake<server, memory_transport, pmr_buffer> s{
                server{server_creds}, link.server_end(),
                pmr_buffer(pmr_queue::default_max_size, pmr_allocator(&server_memory))};
            const auto [cr, sr] = test::drive(c, s);
            BOOST_TEST(!cr.error, cr.error.message());
            BOOST_TEST(!sr.error, sr.error.message());
            BOOST_TEST(c.done());
            BOOST_TEST(s.done());
            BOOST_TEST(c.provider().protocol() ==
                       (version == tls_version::tls1_3 ? "TLSv1.3" : "TLSv1.2"));
            BOOST_TEST(client_memory.allocations >= 1u, "the client's buffers use its arena");
            BOOST_TEST(server_memory.allocations >= 1u, "the server's buffers use its arena");
            BOOST_TEST(c.extra().empty());
            BOOST_TEST(s.extra().empty());
        }
    }
}

BOOST_AUTO_TEST_SUITE_END()
