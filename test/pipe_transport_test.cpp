// The pipe transport: a child process that runs the server over its own stdin/stdout, two pipe
// pairs between threads, and named FIFOs all carry a full handshake, data both ways and a clean
// shutdown; a writer whose reader has gone gets EPIPE and no SIGPIPE (none left pending either);
// a peer that closes mid-handshake and a stalled peer end in their own errors.
#include "secctx/transport/pipe.hpp"

#include "support/exchange.hpp"
#include "support/interruptions.hpp"

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace secctx;
using test::text;

namespace {

using namespace std::chrono_literals;
using pipe_client = basic_handshake<client, pipe_transport, dynamic_buffer>;

constexpr std::size_t exchange_size = 100 * 1024;

const test::credential_pair& creds() {
    return test::credentials_for(tls_version::tls1_3);
}

clock::time_point soon() {
    return clock::now() + 20s;
}

std::error_code system_error(int value) {
    return {value, std::system_category()};
}

struct pipe_fds {
    int read = -1;
    int write = -1;
    pipe_fds() {
        int fds[2];
        BOOST_TEST_REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
        read = fds[0];
        write = fds[1];
    }
};

} // namespace

BOOST_AUTO_TEST_CASE(a_child_process_serves_over_its_stdin_and_stdout) {
    const auto& credentials = creds(); // made before the fork, shared by copy
    const pipe_fds to_child, from_child;
    const auto deadline = soon();
    const pid_t child = ::fork();
    BOOST_TEST_REQUIRE(child >= 0);
    if (child == 0) {
        // The child: its stdin and stdout become the pipes, and the server speaks TLS on them.
        // It leaves with _exit(): no atexit handlers, no test framework, no leak check of the
        // parent's memory.
        if (::dup2(to_child.read, STDIN_FILENO) < 0 || ::dup2(from_child.write, STDOUT_FILENO) < 0)
            ::_exit(2);
        const auto served = test::serve_echo(pipe_transport::standard_streams(),
                                             credentials.server_creds, exchange_size, deadline);
        ::_exit(served.error ? 1 : 0);
    }
    ::close(to_child.read);
    ::close(from_child.write);
    const auto done = test::echo_client(pipe_transport(from_child.read, to_child.write),
                                        credentials.client_creds, exchange_size, deadline);
    BOOST_TEST(text(done.error) == "success", done.where);
    int status = 0;
    BOOST_TEST_REQUIRE(::waitpid(child, &status, 0) == child);
    BOOST_TEST(WIFEXITED(status));
    BOOST_TEST(WEXITSTATUS(status) == 0);
}

BOOST_AUTO_TEST_CASE(two_pipe_pairs_between_threads_carry_the_exchange) {
    const pipe_fds to_server, to_client;
    const auto deadline = soon();
    test::exchange_result served;
    std::thread server_thread([&] {
        served = test::serve_echo(pipe_transport(to_server.read, to_client.write),
                                  creds().server_creds, exchange_size, deadline);
    });
    const auto done = test::echo_client(pipe_transport(to_client.read, to_server.write),
                                        creds().client_creds, exchange_size, deadline);
    server_thread.join();
    BOOST_TEST(text(done.error) == "success", done.where);
    BOOST_TEST(text(served.error) == "success", served.where);
}

BOOST_AUTO_TEST_CASE(named_fifos_carry_the_exchange) {
    char dir_template[] = "/tmp/secctx-fifo-XXXXXX";
    BOOST_TEST_REQUIRE(::mkdtemp(dir_template) != nullptr);
    const std::string dir = dir_template;
    const std::string up = dir + "/to-server", down = dir + "/to-client";
    BOOST_TEST_REQUIRE(::mkfifo(up.c_str(), 0600) == 0);
    BOOST_TEST_REQUIRE(::mkfifo(down.c_str(), 0600) == 0);
    // A FIFO opened for writing without blocking needs a reader: open the read ends first.
    const int server_in = ::open(up.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    const int client_in = ::open(down.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    const int client_out = ::open(up.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    const int server_out = ::open(down.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    ::unlink(up.c_str());
    ::unlink(down.c_str());
    ::rmdir(dir.c_str());
    BOOST_TEST_REQUIRE((server_in >= 0 && client_in >= 0 && client_out >= 0 && server_out >= 0));

    const auto deadline = soon();
    test::exchange_result served;
    std::thread server_thread([&] {
        served = test::serve_echo(pipe_transport(server_in, server_out), creds().server_creds,
                                  exchange_size, deadline);
    });
    const auto done = test::echo_client(pipe_transport(client_in, client_out), creds().client_creds,
                                        exchange_size, deadline);
    server_thread.join();
    BOOST_TEST(text(done.error) == "success", done.where);
    BOOST_TEST(text(served.error) == "success", served.where);
}

BOOST_AUTO_TEST_CASE(writing_to_a_pipe_without_reader_is_epipe_and_never_raises_sigpipe) {
    // With the default disposition, a SIGPIPE would kill this test process.
    struct sigaction dfl {
    }, old{};
    dfl.sa_handler = SIG_DFL;
    ::sigaction(SIGPIPE, &dfl, &old);
    const pipe_fds p;
    ::close(p.read);
    const int unused_read_end = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    pipe_transport end(unused_read_end, p.write);
    const test::bytes data = test::to_bytes("nobody reads this");
    for (int again = 0; again < 3; ++again)
        BOOST_TEST(text(end.write_some(data).error) == text(system_error(EPIPE)));
    // The SIGPIPE the kernel generated was consumed, not left pending for later.
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    BOOST_TEST(sigismember(&pending, SIGPIPE) == 0);
    ::sigaction(SIGPIPE, &old, nullptr);
}

BOOST_AUTO_TEST_CASE(a_sigpipe_pending_before_the_write_is_left_alone) {
    // The application's own pending SIGPIPE (blocked in this thread) is not ours to consume.
    sigset_t pipe_only, old_mask;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
    ::pthread_kill(::pthread_self(), SIGPIPE);
    const pipe_fds p;
    ::close(p.read);
    pipe_transport end(::open("/dev/null", O_RDONLY | O_CLOEXEC), p.write);
    const test::bytes data = test::to_bytes("x");
    BOOST_TEST(text(end.write_some(data).error) == text(system_error(EPIPE)));
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    BOOST_TEST(sigismember(&pending, SIGPIPE) == 1);
    const timespec no_wait{0, 0};
    BOOST_TEST(::sigtimedwait(&pipe_only, nullptr, &no_wait) == SIGPIPE);
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
}

BOOST_AUTO_TEST_CASE(a_peer_that_closes_mid_handshake_is_peer_closed_during_handshake) {
    const pipe_fds to_server, to_client;
    pipe_client c{client{creds().client_creds, "localhost"},
                  pipe_transport(to_client.read, to_server.write)};
    BOOST_TEST_REQUIRE((c.step().status == step_status::want_read));
    // The "server" reads the ClientHello and goes away.
    pipe_transport server_end(to_server.read, to_client.write);
    BOOST_TEST_REQUIRE(!server_end.wait(wait_for::readable, soon()));
    std::byte chunk[4096];
    BOOST_TEST(server_end.read_some(chunk).bytes > 0u);
    server_end.close_write();
    BOOST_TEST(text(c.run(soon())) == text(errc::peer_closed_during_handshake));
}

BOOST_AUTO_TEST_CASE(a_stalled_peer_makes_run_time_out) {
    const pipe_fds to_server, to_client;
    pipe_client c{client{creds().client_creds, "localhost"},
                  pipe_transport(to_client.read, to_server.write)};
    const auto before = clock::now();
    BOOST_TEST(text(c.run(clock::now() + 200ms)) == text(errc::timed_out));
    const auto took = clock::now() - before;
    BOOST_TEST((took >= 200ms && took < 10s));
    ::close(to_server.read);
    ::close(to_client.write);
}

BOOST_AUTO_TEST_CASE(a_borrowed_pair_is_used_but_not_closed) {
    const pipe_fds p;
    {
        pipe_transport borrowed = pipe_transport::borrow(p.read, p.write);
        const test::bytes hello = test::to_bytes("hello");
        BOOST_TEST(borrowed.write_some(hello).bytes == hello.size());
        std::byte got[8];
        BOOST_TEST(borrowed.read_some(got).bytes == hello.size());
        BOOST_TEST(text(borrowed.read_some(got).error) == text(errc::would_block));
    }
    BOOST_TEST(::fcntl(p.read, F_GETFD) >= 0);
    BOOST_TEST(::fcntl(p.write, F_GETFD) >= 0);
    ::close(p.read);
    ::close(p.write);
}

BOOST_AUTO_TEST_CASE(signals_interrupting_a_blocking_handshake_over_pipes_change_nothing) {
    const test::interruptions signals;
    BOOST_TEST_REQUIRE(signals.installed());

    const pipe_fds to_server, to_client;
    const pthread_t blocked = ::pthread_self();
    const auto deadline = soon();
    test::exchange_result served;
    std::thread helper([&] {
        // The client is blocked in wait() for the server that is not there yet.
        signals.send(blocked, 5, deadline);
        served = test::serve_echo(pipe_transport(to_server.read, to_client.write),
                                  creds().server_creds, 4096, deadline);
    });
    const auto done = test::echo_client(pipe_transport(to_client.read, to_server.write),
                                        creds().client_creds, 4096, deadline);
    helper.join();
    BOOST_TEST(text(done.error) == "success", done.where);
    BOOST_TEST(text(served.error) == "success", served.where);
    BOOST_TEST(signals.handled() == 5);
}
