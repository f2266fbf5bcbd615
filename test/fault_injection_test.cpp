// faulty_transport: one-byte reads and writes, with would_block on every other call, still
// carry a full handshake and a 100 KiB exchange (over memory and over a real socket); and each
// fault, injected after every K bytes across a handshake, on either side and in either
// direction, ends that side's handshake with the error the fault explains: the injected errno,
// or peer_closed_during_handshake for an end of stream. Never a hang (every drive is bounded),
// a crash or a leak (the ASan build runs the same sweep).
#include "secctx/transport/fault_injection.hpp"
#include "secctx/transport/socket.hpp"

#include "support/exchange.hpp"

#include <boost/test/unit_test.hpp>

#include <sys/socket.h>

#include <chrono>
#include <thread>
#include <vector>

using namespace secctx;
using test::name_of;
using test::text;
using test::versions;

namespace {

using namespace std::chrono_literals;
using faulty_memory = faulty_transport<memory_transport>;
using faulty_client = basic_handshake<client, faulty_memory, dynamic_buffer>;
using faulty_server = basic_handshake<server, faulty_memory, dynamic_buffer>;

constexpr std::size_t exchange_size = 100 * 1024;

clock::time_point soon() {
    return clock::now() + 60s;
}

std::error_code system_error(int value) {
    return {value, std::system_category()};
}

fault_plan one_byte_at_a_time() {
    fault_plan plan;
    plan.max_read = 1;
    plan.max_write = 1;
    plan.would_block_every_other = true;
    return plan;
}

template <class Transport>
void check_exchange(Transport client_end, Transport server_end, tls_version version) {
    const auto& creds = test::credentials_for(version);
    const auto deadline = soon();
    test::exchange_result served;
    std::thread server_thread([&] {
        served =
            test::serve_echo(std::move(server_end), creds.server_creds, exchange_size, deadline);
    });
    const auto done =
        test::echo_client(std::move(client_end), creds.client_creds, exchange_size, deadline);
    server_thread.join();
    BOOST_TEST(text(done.error) == "success", done.where << ": " << text(done.error));
    BOOST_TEST(text(served.error) == "success", served.where << ": " << text(served.error));
}

enum class fault { read_error, write_error, end_of_stream };
enum class side { client, server };

const char* name_of(fault f) {
    switch (f) {
    case fault::read_error:
        return "ECONNRESET after K bytes read";
    case fault::write_error:
        return "EPIPE after K bytes written";
    case fault::end_of_stream:
        return "end of stream after K bytes read";
    }
    return "?";
}

// Without resumption: every handshake of the sweep is a full one, the same bytes as the
// fault-free handshake that measured the totals.
const test::credential_pair& full_handshake_credentials(tls_version version) {
    static const auto make = [](tls_version v) {
        const auto& p = test::pki::get();
        auto server_settings = test::server_config_for(p.ecdsa_server);
        server_settings.min_version = server_settings.max_version = v;
        auto client_settings = test::client_config_trusting(p.ca);
        client_settings.resume_sessions = false;
        return test::credential_pair{credentials::client(client_settings),
                                     credentials::server(server_settings)};
    };
    static const test::credential_pair tls13 = make(tls_version::tls1_3);
    static const test::credential_pair tls12 = make(tls_version::tls1_2);
    return version == tls_version::tls1_3 ? tls13 : tls12;
}

struct handshake_pair {
    memory_link link;
    faulty_client c;
    faulty_server s;
    handshake_pair(tls_version version, const fault_plan& client_plan,
                   const fault_plan& server_plan)
        : c{client{full_handshake_credentials(version).client_creds, "localhost"},
            faulty_memory(link.client_end(), client_plan)},
          s{server{full_handshake_credentials(version).server_creds},
            faulty_memory(link.server_end(), server_plan)} {}
};

// The same over a connected pair of Unix sockets: the bytes really go through the kernel, and
// both ends are stepped from one thread (the transport never blocks).
struct socket_handshake_pair {
    using faulty_socket = faulty_transport<socket_transport>;
    basic_handshake<client, faulty_socket, dynamic_buffer> c;
    basic_handshake<server, faulty_socket, dynamic_buffer> s;
    socket_handshake_pair(tls_version version, const fault_plan& client_plan,
                          const fault_plan& server_plan)
        : socket_handshake_pair(version, client_plan, server_plan, make_socketpair()) {}

private:
    struct ends {
        int client = -1, server = -1;
    };
    static ends make_socketpair() {
        int fds[2] = {-1, -1};
        BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        return {fds[0], fds[1]};
    }
    socket_handshake_pair(tls_version version, const fault_plan& client_plan,
                          const fault_plan& server_plan, ends fds)
        : c{client{full_handshake_credentials(version).client_creds, "localhost"},
            faulty_socket(socket_transport(fds.client), client_plan)},
          s{server{full_handshake_credentials(version).server_creds},
            faulty_socket(socket_transport(fds.server), server_plan)} {}
};

fault_plan plan_for(fault f, std::size_t k) {
    fault_plan plan;
    switch (f) {
    case fault::read_error:
        plan.read_error_after = k;
        break;
    case fault::write_error:
        plan.write_error_after = k;
        break;
    case fault::end_of_stream:
        plan.end_of_stream_after = k;
        break;
    }
    return plan;
}

std::error_code expected_error(fault f) {
    switch (f) {
    case fault::read_error:
        return system_error(ECONNRESET);
    case fault::write_error:
        return system_error(EPIPE);
    case fault::end_of_stream:
        return errc::peer_closed_during_handshake;
    }
    return {};
}

// The K to try below `total`: every byte of the first records (headers, short messages), then
// an even spread, and the last byte.
std::vector<std::size_t> sweep_points(std::size_t total) {
    std::vector<std::size_t> points;
    const std::size_t stride = std::max<std::size_t>(1, total / 40);
    for (std::size_t k = 0; k < total; k += k < 12 ? 1 : stride)
        points.push_back(k);
    if (total != 0 && points.back() != total - 1)
        points.push_back(total - 1);
    return points;
}

} // namespace

BOOST_AUTO_TEST_CASE(one_byte_reads_and_writes_carry_a_handshake_and_100_kib_over_memory) {
    for (const tls_version version : versions) {
        BOOST_TEST_CONTEXT(name_of(version)) {
            memory_link link;
            check_exchange(faulty_memory(link.client_end(), one_byte_at_a_time()),
                           faulty_memory(link.server_end(), one_byte_at_a_time()), version);
        }
    }
}

BOOST_AUTO_TEST_CASE(one_byte_reads_and_writes_carry_a_handshake_and_100_kib_over_a_socket) {
    int fds[2];
    BOOST_TEST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    using faulty_socket = faulty_transport<socket_transport>;
    // TLS 1.2: a TLS 1.3 server writes its session tickets after the handshake, while this
    // client is already writing its 100 KiB before it reads; with one-byte writes the kernel's
    // per-packet overhead leaves a Unix socket room for only a few hundred bytes in flight, so
    // both would wait for the other to read. (The same exchange in TLS 1.3 runs over memory.)
    check_exchange(faulty_socket(socket_transport(fds[0]), one_byte_at_a_time()),
                   faulty_socket(socket_transport(fds[1]), one_byte_at_a_time()),
                   tls_version::tls1_2);
}

BOOST_AUTO_TEST_CASE(the_plan_is_followed_byte_for_byte) {
    memory_link link;
    fault_plan plan;
    plan.max_read = 3;
    plan.end_of_stream_after = 7;
    faulty_memory reader(link.client_end(), plan);
    auto writer = link.server_end();
    test::put(writer, test::to_bytes("0123456789"));
    std::byte into[16];
    BOOST_TEST(reader.read_some(into).bytes == 3u);
    BOOST_TEST(reader.read_some(into).bytes == 3u);
    BOOST_TEST(reader.read_some(into).bytes == 1u);
    BOOST_TEST(text(reader.read_some(into).error) == text(errc::end_of_stream));
    BOOST_TEST(text(reader.read_some(into).error) == text(errc::end_of_stream));
    BOOST_TEST(reader.bytes_read() == 7u);
    // A due fault does not wait for the inner transport.
    BOOST_TEST(!reader.wait(wait_for::readable, clock::now() + 10s));

    fault_plan writes;
    writes.max_write = 4;
    writes.write_error_after = 6;
    writes.write_error = errc::out_of_memory;
    faulty_memory out(link.client_end(), writes);
    const test::bytes data = test::to_bytes("abcdefghij");
    BOOST_TEST(out.write_some(data).bytes == 4u);
    BOOST_TEST(out.write_some(std::span(data).subspan(4)).bytes == 2u);
    BOOST_TEST(text(out.write_some(data).error) == text(errc::out_of_memory));
}

// For each fault, each side and a sweep of K over a handshake: that side fails with the error
// the fault explains (or, near the end, finishes without needing the bytes past K).
template <class Pair>
void sweep_every_fault() {
    for (const tls_version version : versions) {
        // The bytes each side reads and writes in a fault-free handshake.
        Pair clean(version, {}, {});
        const auto [rc, rs] = test::drive(clean.c, clean.s);
        BOOST_TEST_REQUIRE((rc.status == step_status::done && rs.status == step_status::done));
        const std::size_t totals[2][2] = {
            {clean.c.transport().bytes_read(), clean.c.transport().bytes_written()},
            {clean.s.transport().bytes_read(), clean.s.transport().bytes_written()}};

        for (const side who : {side::client, side::server}) {
            for (const fault f : {fault::read_error, fault::end_of_stream, fault::write_error}) {
                const std::size_t total =
                    totals[who == side::server][f == fault::write_error ? 1 : 0];
                BOOST_TEST_REQUIRE(total > 0u);
                for (const std::size_t k : sweep_points(total)) {
                    BOOST_TEST_CONTEXT(name_of(version)
                                       << ", " << (who == side::client ? "client" : "server")
                                       << ", " << name_of(f) << ", K = " << k << " of " << total) {
                        const fault_plan plan = plan_for(f, k);
                        Pair p(version, who == side::client ? plan : fault_plan{},
                               who == side::server ? plan : fault_plan{});
                        const auto [c, s] = test::drive(p.c, p.s);
                        const step_result& faulty = who == side::client ? c : s;
                        if (faulty.status == step_status::done) {
                            // An ECDSA signature's length varies by a byte or two: near the
                            // end, this handshake may have needed fewer bytes than K.
                            const auto& t = who == side::client ? p.c.transport() : p.s.transport();
                            BOOST_TEST(k + 8 >= total);
                            BOOST_TEST((f == fault::write_error ? t.bytes_written()
                                                                : t.bytes_read()) <= k);
                        } else {
                            BOOST_TEST((faulty.status == step_status::failed));
                            BOOST_TEST(text(faulty.error) == text(expected_error(f)));
                            // The context is gone with the failure.
                            const auto handle = who == side::client
                                                    ? p.c.provider().native_handle()
                                                    : p.s.provider().native_handle();
                            BOOST_TEST(handle == nullptr);
                        }
                    }
                }
            }
        }
    }
}

BOOST_AUTO_TEST_CASE(every_fault_after_every_k_bytes_ends_in_the_error_it_explains) {
    sweep_every_fault<handshake_pair>();
}

BOOST_AUTO_TEST_CASE(every_fault_after_every_k_bytes_over_a_socket_ends_in_its_error) {
    sweep_every_fault<socket_handshake_pair>();
}
