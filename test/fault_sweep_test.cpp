// Every fault path, enumerated: a whole session (TLS 1.3 handshake, data both ways, a KeyUpdate,
// close_notify both ways) runs once for every transport call K of one end and every fault a socket
// produces at that call (EAGAIN, EINTR, a one-byte short read or write, ECONNRESET, EPIPE, EOF),
// with the fault on the client's side and on the server's, for each buffer policy. Each run must
// end, within a deadline, in success or in the error its fault explains, on both ends; what each
// end received must be a prefix of what the other sent (nothing lost in the middle, nothing
// delivered twice), and an end that saw the peer's close_notify must have received everything.
// An end that fails closes its side of the link, as an application does, so that its peer ends
// too. Leaks are the ASan build's to find.
#include "support/conformance.hpp"

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <vector>

using namespace secctx;
using test::bytes;
using test::text;
namespace conformance = test::conformance;

namespace {

using faulty = faulty_transport<memory_transport>;

const char* name_of(call_fault f) {
    switch (f) {
    case call_fault::none:
        return "none";
    case call_fault::would_block:
        return "EAGAIN";
    case call_fault::interrupted:
        return "EINTR";
    case call_fault::short_io:
        return "one-byte read or write";
    case call_fault::connection_reset:
        return "ECONNRESET";
    case call_fault::broken_pipe:
        return "EPIPE";
    case call_fault::end_of_stream:
        return "EOF";
    }
    return "?";
}

constexpr call_fault faults[] = {call_fault::would_block, call_fault::interrupted,
                                 call_fault::short_io,    call_fault::connection_reset,
                                 call_fault::broken_pipe, call_fault::end_of_stream};

// One end's session, stepped without blocking: handshake, then (the client first asking for a
// KeyUpdate) write everything, send close_notify, and read until the peer's close_notify.
template <class Handshake>
struct session_end {
    std::optional<Handshake> handshake;
    std::optional<basic_channel_for<Handshake>> channel;
    bytes to_send;
    std::size_t sent = 0;
    bytes received;
    bool update_keys = false;
    bool close_sent = false;
    bool peer_closed = false;
    std::error_code error;

    bool over() const {
        return error || (close_sent && peer_closed && channel->buffers().output().size() == 0);
    }

    faulty& transport() { return channel ? channel->transport() : handshake->transport(); }

    void fail(std::error_code ec) {
        error = ec;
        transport().inner().close();
    }

    void advance() {
        if (over())
            return;
        if (handshake) {
            const step_result r = handshake->step();
            if (r.status == step_status::failed)
                return fail(r.error);
            if (r.status != step_status::done)
                return;
            channel.emplace(std::move(*handshake));
            handshake.reset();
            if (update_keys)
                if (const auto ec = channel->update_keys(true))
                    return fail(ec);
        }
        auto& c = *channel;
        while (sent < to_send.size()) {
            const io_result r = c.write_some(std::span<const std::byte>(to_send).subspan(sent));
            if (r.error == errc::would_block)
                break;
            if (r.error)
                return fail(r.error);
            sent += r.bytes;
        }
        if (sent == to_send.size() && !close_sent) {
            if (const auto ec = c.shutdown_send())
                return fail(ec);
            close_sent = true;
        }
        if (const auto ec = c.flush(); ec && ec != errc::would_block)
            return fail(ec);
        std::byte buffer[7000];
        while (!peer_closed) {
            const io_result r = c.read_some(buffer);
            if (r.error == errc::would_block)
                break;
            if (r.error == errc::end_of_stream) {
                peer_closed = true;
                break;
            }
            if (r.error)
                return fail(r.error);
            received.insert(received.end(), buffer, buffer + r.bytes);
        }
    }
};

bool is_end_of_stream(std::error_code ec) {
    return ec == errc::peer_closed_during_handshake || ec == errc::truncated ||
           ec == errc::truncated_mid_record;
}

// The errors a fault explains on the end it hit; success is always allowed (the fault may come
// when nothing was left to lose).
bool explained(call_fault fault, std::error_code ec) {
    if (!ec)
        return true;
    switch (fault) {
    case call_fault::connection_reset:
        return ec == std::error_code(ECONNRESET, std::system_category());
    case call_fault::broken_pipe:
        return ec == std::error_code(EPIPE, std::system_category());
    case call_fault::end_of_stream:
        return is_end_of_stream(ec);
    default:
        return false; // the transient faults must not fail anything
    }
}

struct outcome {
    std::size_t faulted_calls = 0; // transport calls of the faulted end
};

// Both ends read at most 512 bytes and write at most 1400 per call, as over a small TCP window,
// so that records and flights take many calls and a fault can land inside any of them.
fault_plan segmented(fault_plan plan = {}) {
    plan.max_read = 512;
    plan.max_write = 1400;
    return plan;
}

template <class Policy>
outcome run_session(bool fault_client, fault_plan plan) {
    using buffers = typename Policy::buffers;
    using client_handshake = basic_handshake<client, faulty, buffers>;
    using server_handshake = basic_handshake<server, faulty, buffers>;
    const auto& creds = test::credentials_for(tls_version::tls1_3);
    Policy policy;
    memory_link link;
    session_end<client_handshake> c;
    session_end<server_handshake> s;
    c.handshake.emplace(client{test::fresh_client(tls_version::tls1_3), "localhost"},
                        faulty(link.client_end(), fault_client ? plan : segmented()),
                        policy.make());
    s.handshake.emplace(server{creds.server_creds},
                        faulty(link.server_end(), fault_client ? segmented() : plan),
                        policy.make());
    c.to_send = test::random_bytes(20000, 1);
    s.to_send = test::random_bytes(30000, 2);
    c.update_keys = true;

    const auto deadline = test::bounded_deadline();
    while (!(c.over() && s.over())) {
        c.advance();
        s.advance();
        BOOST_TEST_REQUIRE((clock::now() < deadline),
                           "hung: client " << text(c.error) << ", server " << text(s.error));
    }

    const call_fault fault = plan.fault;
    const bool transient = fault == call_fault::would_block || fault == call_fault::interrupted ||
                           fault == call_fault::short_io;
    const std::error_code faulted = fault_client ? c.error : s.error;
    const std::error_code peer = fault_client ? s.error : c.error;
    BOOST_TEST(explained(fault, faulted), "the faulted end: " << text(faulted));
    BOOST_TEST((!peer || (!transient && is_end_of_stream(peer))), "its peer: " << text(peer));
    // Nothing corrupted, lost in the middle or delivered twice; all of it after close_notify.
    const auto check_direction = [](const auto& from, const auto& to) {
        BOOST_TEST_REQUIRE(to.received.size() <= from.to_send.size());
        BOOST_TEST(std::equal(to.received.begin(), to.received.end(), from.to_send.begin()));
        if (to.peer_closed)
            BOOST_TEST(to.received.size() == from.to_send.size());
    };
    check_direction(c, s);
    check_direction(s, c);
    if (transient) {
        BOOST_TEST((c.peer_closed && s.peer_closed), "both ends finish despite " << name_of(fault));
    }
    auto& faulted_end = fault_client ? c.transport() : s.transport();
    return {faulted_end.calls()};
}

template <class Policy>
void sweep(bool fault_client) {
    // How many calls the end makes when nothing goes wrong: the range of K.
    const std::size_t calls = run_session<Policy>(fault_client, segmented()).faulted_calls;
    BOOST_TEST_REQUIRE(calls > 50u);
    std::size_t runs = 0;
    for (const call_fault fault : faults)
        for (std::size_t k = 0; k < calls; ++k) {
            BOOST_TEST_CONTEXT(name_of(fault) << " at call " << k << " of " << calls) {
                fault_plan plan = segmented();
                plan.fault = fault;
                plan.fault_at_call = k;
                run_session<Policy>(fault_client, plan);
                ++runs;
            }
        }
    BOOST_TEST_MESSAGE(runs << " sessions, faults at each of " << calls << " calls");
}

} // namespace

BOOST_AUTO_TEST_SUITE(fault_sweep)

BOOST_AUTO_TEST_CASE_TEMPLATE(faults_on_the_client_side, Policy, conformance::policies) {
    sweep<Policy>(true);
}

BOOST_AUTO_TEST_CASE_TEMPLATE(faults_on_the_server_side, Policy, conformance::policies) {
    sweep<Policy>(false);
}

BOOST_AUTO_TEST_SUITE_END()
