// `secctx server` and `secctx client` against peers no one here wrote: openssl s_client and
// s_server, gnutls-cli and gnutls-serv, curl. Loopback only; every run bounded by `timeout`.
#include "support/drive.hpp"
#include "support/peers.hpp"
#include "support/pki.hpp"

#include "secctx/transport/pipe.hpp"
#include "secctx/transport/socket.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

using namespace secctx;

namespace {

const std::string tool = SECCTX_TOOL_PATH;

using tcp_client = basic_handshake<secctx::client, socket_transport, dynamic_buffer>;
using tcp_channel = basic_channel_for<tcp_client>;

// Client credentials that resume nothing: every connection is a full handshake.
credentials full_handshake_client() {
    auto config = test::client_config_trusting(test::pki::get().ca);
    config.resume_sessions = false;
    return credentials::client(config);
}

// A TLS connection to the server under test; a failed one fails with its error.
tcp_channel open_channel(const std::string& port, const credentials& creds,
                         clock::time_point deadline) {
    socket_transport socket;
    const auto connected = connect_tcp("127.0.0.1:" + port, deadline, socket);
    tcp_client handshake{secctx::client{creds, "localhost"}, std::move(socket)};
    if (!connected)
        handshake.run(deadline);
    return tcp_channel{std::move(handshake)};
}

std::string read_to_end(tcp_channel& channel, clock::time_point deadline, std::error_code& end) {
    std::string text;
    char buffer[4096];
    for (;;) {
        const io_result r = channel.read(std::as_writable_bytes(std::span(buffer)), deadline);
        if (r.error) {
            end = r.error;
            return text;
        }
        text.append(buffer, r.bytes);
    }
}

// Reads until `text` has come (or the channel fails or ends, which `end` says).
std::string read_until(tcp_channel& channel, const std::string& text, clock::time_point deadline,
                       std::error_code& end) {
    std::string got;
    char buffer[4096];
    while (got.find(text) == std::string::npos) {
        const io_result r = channel.read(std::as_writable_bytes(std::span(buffer)), deadline);
        if (r.error) {
            end = r.error;
            break;
        }
        got.append(buffer, r.bytes);
    }
    return got;
}

std::size_t count(const std::string& text, const std::string& word) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = text.find(word, at)) != std::string::npos; at += word.size())
        ++n;
    return n;
}

// The files every peer needs, and a secctx server started in the background for one test.
struct fixture {
    fixture() {
        const auto& p = test::pki::get();
        ca = files.write("ca.pem", p.ca.certificate_pem());
        cert = files.write("cert.pem", p.ecdsa_server.certificate_pem);
        key = files.write("key.pem", p.ecdsa_server.private_key_pem);
        rsa_cert = files.write("rsa-cert.pem", p.rsa_server.certificate_pem);
        rsa_key = files.write("rsa-key.pem", p.rsa_server.private_key_pem);
        client_cert = files.write("client-cert.pem", p.client.certificate_pem);
        client_key = files.write("client-key.pem", p.client.private_key_pem);
        untrusted_cert = files.write("untrusted-cert.pem", p.untrusted_server.certificate_pem);
        untrusted_key = files.write("untrusted-key.pem", p.untrusted_server.private_key_pem);
        log = (files.directory / "server.log").string();
    }

    ~fixture() {
        if (!server_pattern.empty())
            std::system(("pkill -f -- '" + server_pattern + "' >/dev/null 2>&1").c_str());
    }

    // Starts `secctx server` with `options` on a free port; lives until the test ends.
    void start_server(const std::string& options) {
        port = std::to_string(test::free_port());
        server_pattern = "--listen 127.0.0.1:" + port;
        std::ofstream(log, std::ios::trunc); // an earlier server's "listening" must not count
        const std::string command = "timeout 60 " + tool + " server " + server_pattern +
                                    " --cert " + cert + " --key " + key + " " + options +
                                    " >/dev/null 2>" + log + " </dev/null &";
        BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0);
        wait_for_log("listening on port");
    }

    // What the server sends back to `openssl s_client` (at `version`, "-tls1_3" or "-tls1_2")
    // and to `gnutls-cli`, each sending one line and then waiting a second before it closes.
    std::string openssl_client_echo(const std::string& version) const {
        return test::run("(echo hello-secctx; sleep 1) | timeout 10 openssl s_client -quiet "
                         "-no_ign_eof " +
                         version + " -connect 127.0.0.1:" + port + " -CAfile " + ca +
                         " -servername localhost 2>/dev/null");
    }

    std::string gnutls_client_echo() const {
        return test::run("(echo hello-gnutls; sleep 1) | timeout 10 gnutls-cli "
                         "--logfile=/dev/null --x509cafile " +
                         ca + " -p " + port + " localhost 2>/dev/null");
    }

    // Starts a peer server command (its port is `port`); lives until the test ends.
    void start_peer(const std::string& command, const std::string& pattern) {
        server_pattern = pattern;
        // Its stdin stays open (openssl s_server ends at end of input) and no descriptor of the
        // test is left to it.
        BOOST_TEST_REQUIRE(
            std::system(("(sleep 30 | timeout 30 " + command + ") >/dev/null 2>&1 &").c_str()) ==
            0);
        // Ready once it listens (asking by connecting would use up an s_server -naccept).
        for (int i = 0; i < 100; ++i) {
            if (test::run("ss -Hltn 'sport = :" + port + "'").find(port) != std::string::npos)
                return;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        BOOST_ERROR("the peer never listened on port " << port);
    }

    std::string server_log() const { return test::run("cat " + log); }

    // The running secctx server's process id (not the `timeout` or shell that started it).
    std::string server_pid() const {
        const std::string pids =
            test::run("pgrep -f -- '^" + tool + " server " + server_pattern + "'");
        return pids.substr(0, pids.find('\n'));
    }

    // The server's event loops: the main thread and the threads it names "secctx-loop" (a
    // sanitizer may run threads of its own).
    std::size_t server_loops() const {
        return 1 +
               static_cast<std::size_t>(std::stoul(test::run(
                   "cat /proc/" + server_pid() + "/task/*/comm | grep -cx secctx-loop || true")));
    }

    // User and system time the server has used, in clock ticks.
    long server_cpu_ticks() const {
        return std::stol(test::run("awk '{print $14 + $15}' /proc/" + server_pid() + "/stat"));
    }

    bool wait_for_log(const std::string& text) const {
        for (int i = 0; i < 100; ++i) {
            if (server_log().find(text) != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        BOOST_ERROR("the server log never said '" << text << "':\n" << server_log());
        return false;
    }

    // Sends `request` on a new TLS connection (a full handshake) and reads until the connection
    // ends; `end` says how it ended.
    std::string exchange(const std::string& request, std::error_code& end) const {
        const auto deadline = clock::now() + std::chrono::seconds(20);
        tcp_channel channel = open_channel(port, full_handshake_client(), deadline);
        BOOST_TEST_REQUIRE(!channel.write_all(std::as_bytes(std::span(request)), deadline));
        return read_to_end(channel, deadline, end);
    }

    std::string exchange(const std::string& request) const {
        std::error_code end;
        return exchange(request, end);
    }

    // Runs the secctx client; returns its exit status and output.
    int client(const std::string& options, std::string& out) const {
        const std::string file = (files.directory / "client.out").string();
        const int status =
            std::system(("timeout 20 " + tool + " client --connect 127.0.0.1:" + port + " " +
                         options + " >" + file + " 2>&1")
                            .c_str());
        out = test::run("cat " + file);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }

    test::pem_files files{"tools"};
    std::string ca, cert, key, rsa_cert, rsa_key, client_cert, client_key, untrusted_cert,
        untrusted_key, log, port, server_pattern;
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(secctx_server, fixture)

BOOST_AUTO_TEST_CASE(openssl_s_client_gets_its_bytes_echoed_over_tls13_and_tls12) {
    start_server("--mode echo");
    for (const char* version : {"-tls1_3", "-tls1_2"}) {
        BOOST_TEST_CONTEXT(version) {
            BOOST_TEST(openssl_client_echo(version) == "hello-secctx\n");
        }
    }
    BOOST_TEST(wait_for_log("TLSv1.2"));
    BOOST_TEST(server_log().find("TLSv1.3") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gnutls_cli_gets_its_bytes_echoed) {
    start_server("--mode echo");
    const std::string reply = gnutls_client_echo();
    BOOST_TEST(reply.find("hello-gnutls") != std::string::npos, reply);
}

// The GnuTLS engine behind the same server, against the same real clients: OpenSSL's and GnuTLS's
// command-line clients over both versions, and resumption by session ID (the server's cache) and
// by ticket, five reconnections each.
BOOST_AUTO_TEST_CASE(the_gnutls_engine_serves_openssl_and_gnutls_clients_and_resumes) {
    start_server("--engine gnutls --mode echo");
    BOOST_TEST(wait_for_log("gnutls"));
    for (const char* version : {"-tls1_3", "-tls1_2"}) {
        BOOST_TEST_CONTEXT(version) {
            BOOST_TEST(openssl_client_echo(version) == "hello-secctx\n");
        }
    }
    const std::string reply = gnutls_client_echo();
    BOOST_TEST(reply.find("hello-gnutls") != std::string::npos, reply);
    for (const std::string tickets : {" -no_ticket", ""}) {
        BOOST_TEST_CONTEXT("TLS 1.2" << tickets) {
            const std::string out =
                test::run("timeout 20 openssl s_client -tls1_2" + tickets +
                          " -reconnect -connect 127.0.0.1:" + port + " -CAfile " + ca +
                          " -servername localhost </dev/null 2>&1");
            BOOST_TEST(count(out, "Reused, TLSv1.2") == 5u, out);
        }
    }
}

BOOST_AUTO_TEST_CASE(curl_gets_http_responses_on_one_kept_alive_connection) {
    start_server("--mode http --alpn http/1.1");
    const std::string body =
        test::run("timeout 10 curl -q -s --noproxy '*' --cacert " + ca +
                  " https://localhost:" + port + "/ https://localhost:" + port + "/again");
    BOOST_TEST(body == "hello from secctx\nhello from secctx: /again\n");
    BOOST_TEST(wait_for_log("closed by the peer"));
    const std::string log_text = server_log();
    // Both requests went over one handshake: keep-alive.
    std::size_t handshakes = 0;
    for (std::size_t at = 0; (at = log_text.find("handshake ", at)) != std::string::npos; ++at)
        ++handshakes;
    BOOST_TEST(handshakes == 1u, log_text);
    BOOST_TEST(log_text.find("alpn=http/1.1") != std::string::npos, log_text);
}

BOOST_AUTO_TEST_CASE(mutual_tls_requires_the_client_certificate) {
    start_server("--mode echo --verify-client required --ca " + ca);
    std::string out;
    BOOST_TEST(client("--ca " + ca + " --servername localhost --cert " + client_cert + " --key " +
                          client_key + " --send mtls",
                      out) == 0,
               out);
    BOOST_TEST(out.find("reply: mtls") != std::string::npos, out);
    // openssl s_client without a certificate: the server refuses the handshake.
    test::run("echo x | timeout 10 openssl s_client -quiet -connect 127.0.0.1:" + port +
              " -CAfile " + ca + " >/dev/null 2>&1");
    BOOST_TEST(wait_for_log("requires a client certificate"));
}

// --client-map: curl with a client certificate is answered with the identity its certificate
// maps to, for each engine, and the identity is logged; an unmapped one is refused with
// --require-identity; a map with a bad line stops the server at start, naming the line.
BOOST_AUTO_TEST_CASE(a_client_map_names_curl_by_its_certificate) {
    const std::string map = files.write("clients.map", "# test clients\n"
                                                       "cn \"secctx test client\" tester\n");
    for (const std::string engine : {"openssl", "gnutls"}) {
        BOOST_TEST_CONTEXT(engine) {
            start_server("--engine " + engine + " --mode http --verify-client required --ca " + ca +
                         " --client-map " + map + " --require-identity");
            const std::string curl = "timeout 10 curl -q -s --noproxy '*' --cacert " + ca +
                                     " https://localhost:" + port + "/who";
            BOOST_TEST(test::run(curl + " --cert " + client_cert + " --key " + client_key) ==
                       "hello from secctx: /who\nclient identity: tester\n");
            BOOST_TEST(wait_for_log("identity=tester (" + map + ":2 cn)"), server_log());
            std::system(("pkill -f -- '" + server_pattern + "' >/dev/null 2>&1").c_str());
        }
    }
    const std::string other = files.write("other.map", "cn somebody-else x\n");
    start_server("--mode http --verify-client required --ca " + ca + " --client-map " + other +
                 " --require-identity");
    test::run("timeout 10 curl -q -s --noproxy '*' --cacert " + ca + " --cert " + client_cert +
              " --key " + client_key + " https://localhost:" + port + "/");
    BOOST_TEST(wait_for_log("no identity is mapped to the client's certificate"), server_log());

    const std::string bad = files.write("bad.map", "cn a b\n\nemail only-one-field\n");
    const std::string refused =
        test::run(tool + " server --listen 127.0.0.1:" + std::to_string(test::free_port()) +
                  " --cert " + cert + " --key " + key + " --verify-client required --ca " + ca +
                  " --client-map " + bad + " 2>&1; echo exit=$?");
    BOOST_TEST(refused.find(bad + ":3: expected: email <name> <identity>") != std::string::npos,
               refused);
    BOOST_TEST(refused.find("exit=2") != std::string::npos, refused);
}

BOOST_AUTO_TEST_CASE(an_encrypted_key_is_read_with_its_password_file_and_never_prompted_for) {
    const std::string encrypted = (files.directory / "encrypted-key.pem").string();
    BOOST_TEST_REQUIRE(
        std::system(("openssl pkey -in " + key + " -aes256 -passout pass:s3cret -out " + encrypted)
                        .c_str()) == 0);
    const std::string password = files.write("password", "s3cret\n");
    // Without the password the server refuses to start, though its standard input stays open
    // (OpenSSL's default would wait there for a passphrase): a FIFO opened for reading and
    // writing never has a byte to read, nor an end.
    const std::string stdin_fifo = (files.directory / "stdin.fifo").string();
    const std::string refused =
        test::run("bash -c 'mkfifo " + stdin_fifo + " && timeout 10 " + tool +
                  " server --listen 127.0.0.1:0 --cert " + cert + " --key " + encrypted + " <>" +
                  stdin_fifo + " 2>&1; echo exit=$?'");
    BOOST_TEST(refused.find("could not be loaded") != std::string::npos, refused);
    BOOST_TEST(refused.find("exit=1") != std::string::npos, refused);
    start_server("--mode echo --key " + encrypted + " --key-password-file " + password);
    std::string out;
    BOOST_TEST(client("--ca " + ca + " --servername localhost --send sealed", out) == 0, out);
    BOOST_TEST(out.find("reply: sealed") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(a_stalled_peer_times_out_while_others_are_served_and_garbage_is_dropped) {
    // Long enough for the served client's handshake with a sanitizer build on busy cores.
    start_server("--mode echo --handshake-timeout 1000");
    // A peer that connects and says nothing, and one that sends an HTTP request in the clear.
    const std::string stalled =
        "timeout 8 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port + "; sleep 4' >/dev/null 2>&1 &";
    BOOST_TEST_REQUIRE(std::system(stalled.c_str()) == 0);
    const std::string garbage = "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port +
                                "; printf \"GET / HTTP/1.1\\r\\n\\r\\n\" >&3; sleep 1' "
                                ">/dev/null 2>&1";
    std::system(garbage.c_str());
    std::string out;
    BOOST_TEST(client("--ca " + ca + " --servername localhost --send still-served", out) == 0, out);
    BOOST_TEST(out.find("reply: still-served") != std::string::npos, out);
    BOOST_TEST(wait_for_log("closed: handshake timeout"));
    BOOST_TEST(wait_for_log("does not speak TLS"));
}

BOOST_AUTO_TEST_CASE(connections_over_the_limit_are_refused_at_once) {
    start_server("--mode echo --max-connections 1");
    // The listener's queue is first in, first out: the holder is accepted before the client.
    socket_transport holder;
    BOOST_TEST_REQUIRE(
        !connect_tcp("127.0.0.1:" + port, clock::now() + std::chrono::seconds(5), holder));
    std::string out;
    BOOST_TEST(client("--ca " + ca + " --servername localhost --send x --timeout 3000", out) != 0,
               out);
    BOOST_TEST(wait_for_log("refused: too many connections"));
}

BOOST_AUTO_TEST_CASE(stdio_mode_speaks_tls_on_its_own_stdin_and_stdout) {
    int to_server[2], from_server[2];
    BOOST_TEST_REQUIRE(::pipe2(to_server, O_CLOEXEC) == 0);
    BOOST_TEST_REQUIRE(::pipe2(from_server, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_server[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_server[1], 1);
    const std::string log_redirect = log;
    posix_spawn_file_actions_addopen(&actions, 2, log_redirect.c_str(), O_WRONLY | O_CREAT, 0600);
    std::string arguments[] = {tool,     "server", "--stdio", "--mode", "echo",
                               "--cert", cert,     "--key",   key};
    char* argv[std::size(arguments) + 1] = {};
    for (std::size_t i = 0; i < std::size(arguments); ++i)
        argv[i] = arguments[i].data();
    pid_t child = 0;
    BOOST_TEST_REQUIRE(::posix_spawn(&child, tool.c_str(), &actions, nullptr, argv, environ) == 0);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_server[0]);
    ::close(from_server[1]);

    using pipe_client = basic_handshake<secctx::client, pipe_transport, dynamic_buffer>;
    const auto deadline = clock::now() + std::chrono::seconds(10);
    pipe_client handshake{
        secctx::client{test::credentials_for(tls_version::tls1_3).client_creds, "localhost"},
        pipe_transport(from_server[0], to_server[1])};
    BOOST_TEST_REQUIRE(test::text(handshake.run(deadline)) == "success", handshake.error_detail());
    basic_channel_for<pipe_client> channel{std::move(handshake)};
    const std::string hello = "over the child's stdin and stdout";
    BOOST_TEST(!channel.write_all(std::as_bytes(std::span(hello)), deadline));
    std::string echoed(hello.size(), '\0');
    BOOST_TEST(!channel.read_exactly(std::as_writable_bytes(std::span(echoed)), deadline));
    BOOST_TEST(echoed == hello);
    BOOST_TEST(!channel.shutdown(deadline)); // the child answers close_notify and exits
    int status = 0;
    BOOST_TEST(::waitpid(child, &status, 0) == child);
    BOOST_TEST((WIFEXITED(status) && WEXITSTATUS(status) == 0), server_log());
}

BOOST_AUTO_TEST_CASE(two_threads_serve_concurrent_clients) {
    start_server("--mode echo --threads 2");
    // The second loop names itself once its thread runs, maybe after "listening".
    std::size_t loops = 0;
    for (int i = 0; i < 100 && (loops = server_loops()) < 2u; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(loops == 2u);
    const credentials creds = full_handshake_client();
    const auto deadline = clock::now() + std::chrono::seconds(20);
    // All connections are open at once before any is answered, so both loops hold some.
    std::vector<tcp_channel> channels;
    for (int i = 0; i < 16; ++i)
        channels.push_back(open_channel(port, creds, deadline));
    std::vector<std::thread> clients;
    std::vector<std::string> echoed(channels.size());
    for (std::size_t i = 0; i < channels.size(); ++i)
        clients.emplace_back([&, i] {
            const std::string message = "client " + std::to_string(i) + std::string(40000, 'x');
            if (channels[i].write_all(std::as_bytes(std::span(message)), deadline))
                return;
            std::string got(message.size(), '\0');
            if (!channels[i].read_exactly(std::as_writable_bytes(std::span(got)), deadline) &&
                got == message)
                echoed[i] = got.substr(0, got.find('x'));
        });
    for (auto& t : clients)
        t.join();
    for (std::size_t i = 0; i < channels.size(); ++i) {
        BOOST_TEST(echoed[i] == "client " + std::to_string(i));
        BOOST_TEST(!channels[i].shutdown(deadline));
    }
}

BOOST_AUTO_TEST_CASE(pipelined_http_requests_are_answered_in_order) {
    start_server("--mode http");
    const std::string reply = test::run(
        "printf 'GET /one HTTP/1.1\r\nHost: a\r\n\r\nPOST /two HTTP/1.1\r\nContent-Length: "
        "5\r\n\r\nGET /xGET /three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' | "
        "timeout 10 openssl s_client -quiet -ign_eof -connect 127.0.0.1:" +
        port + " -CAfile " + ca + " -servername localhost 2>/dev/null");
    const auto one = reply.find("hello from secctx: /one\n");
    const auto two = reply.find("hello from secctx: /two\n");
    const auto three = reply.find("hello from secctx: /three\n");
    BOOST_TEST_REQUIRE(three != std::string::npos, reply);
    BOOST_TEST((one < two && two < three), reply);
    BOOST_TEST(count(reply, "HTTP/1.1 200 OK") == 3u, reply);
    BOOST_TEST(count(reply, "Connection: close") == 1u, reply);
    BOOST_TEST(wait_for_log("closed after the response"));
}

BOOST_AUTO_TEST_CASE(http_framing_the_server_cannot_follow_is_refused_and_the_connection_ends) {
    start_server("--mode http");
    // A length between tabs is a length: the body is skipped, not taken for a request.
    const std::string tabbed = exchange("POST /a HTTP/1.1\r\nContent-Length:\t5\t\r\n\r\nhello"
                                        "GET /b HTTP/1.1\r\nConnection: close\r\n\r\n");
    BOOST_TEST(count(tabbed, "HTTP/1.1 200 OK") == 2u, tabbed);
    BOOST_TEST(tabbed.ends_with("hello from secctx: /b\n"), tabbed);
    // Where the body would end is unknown, there is no request at all, a CR ends no line, or
    // the head has not ended within its limit: one refusal, no answer to what follows, and the
    // connection ends. Empty lines before a request line are skipped (RFC 9112 2.2), so the line
    // after them is judged, and they count towards the head limit. A head at the limit is
    // refused without a byte more, which could meet the server's close as a reset.
    const std::size_t head_limit = std::size_t{16} * 1024;
    const std::pair<std::string, std::string> refused[] = {
        {"\r\n\nno-request-line\r\n\r\n", "400 Bad Request"},
        {"GET /\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nX: a\rb\r\n\r\nGET / HTTP/1.1\r\n\r\n", "400 Bad Request"},
        // RFC 9112 5.1: whitespace before the colon (here it would hide the body's length).
        {"POST / HTTP/1.1\r\nContent-Length : 18\r\n\r\nGET / HTTP/1.1\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", "400 Bad Request"}, // obs-fold
        {"GET / HTTP/1.1\r\nno colon\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\n: no name\r\n\r\n", "400 Bad Request"},
        {"GET / HTTP/1.1\r\nX: " + std::string(head_limit - 19, 'a'),
         "431 Request Header Fields Too Large"},
        {std::string(head_limit, '\n'), "431 Request Header Fields Too Large"},
        {"POST / HTTP/1.1\r\nContent-Length: 5x\r\n\r\nGET / HTTP/1.1\r\n\r\n", "400 Bad Request"},
        {"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 30\r\n\r\nhello"
         "GET / HTTP/1.1\r\n\r\n",
         "400 Bad Request"},
        {"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
         "13\r\nGET / HTTP/1.1\r\n\r\n\r\n0\r\n\r\n",
         "501 Not Implemented"},
    };
    for (const auto& [request, status] : refused) {
        const std::string reply = exchange(request);
        BOOST_TEST(reply.starts_with("HTTP/1.1 " + status + "\r\n"), reply);
        BOOST_TEST(count(reply, "HTTP/1.1 ") == 1u, reply);
    }
}

BOOST_AUTO_TEST_CASE(a_peer_that_streams_without_pause_does_not_hold_up_the_others) {
    start_server("--mode http"); // one loop for both
    const credentials creds = full_handshake_client();
    const auto deadline = clock::now() + std::chrono::seconds(20);
    tcp_channel streamer = open_channel(port, creds, deadline);
    const std::string head = "POST / HTTP/1.1\r\nContent-Length: 100000000000\r\n\r\n";
    BOOST_TEST_REQUIRE(!streamer.write_all(std::as_bytes(std::span(head)), deadline));
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> streamed{0};
    std::thread pump([&] {
        const std::vector<std::byte> body(16384);
        while (!stop && !streamer.write_all(body, deadline))
            streamed += body.size();
    });
    while (streamed < std::size_t{1} << 20 && clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    // The body keeps coming while another connection is made and served.
    tcp_channel other = open_channel(port, creds, deadline);
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    std::error_code end;
    const bool sent = !other.write_all(std::as_bytes(std::span(request)), deadline);
    const std::string reply = read_to_end(other, deadline, end);
    const std::size_t streamed_meanwhile = streamed;
    stop = true;
    pump.join();
    BOOST_TEST(sent);
    BOOST_TEST(reply.ends_with("hello from secctx\n"), reply);
    BOOST_TEST(streamed_meanwhile > std::size_t{1} << 20);
}

BOOST_AUTO_TEST_CASE(http10_gets_data_then_close_notify_then_the_close) {
    start_server("--mode http");
    const auto deadline = clock::now() + std::chrono::seconds(10);
    tcp_channel channel = open_channel(port, full_handshake_client(), deadline);
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    BOOST_TEST_REQUIRE(!channel.write_all(std::as_bytes(std::span(request)), deadline));
    std::error_code end;
    const std::string reply = read_to_end(channel, deadline, end);
    BOOST_TEST(reply.starts_with("HTTP/1.0 200 OK\r\n"), reply);
    BOOST_TEST(reply.ends_with("\r\n\r\nhello from secctx\n"), reply);
    BOOST_TEST(test::text(end) == test::text(errc::end_of_stream)); // close_notify, not a cut
    // Then the TCP connection itself ends.
    std::byte after[1];
    BOOST_TEST(!channel.transport().wait(wait_for::readable, deadline));
    const io_result eof = channel.transport().read_some(after);
    BOOST_TEST(test::text(eof.error) == test::text(errc::end_of_stream));
}

// RFC 9112 2.2: a line may end with a bare LF; tlsfuzzer sends exactly this with every probe.
BOOST_AUTO_TEST_CASE(a_bare_lf_http10_request_gets_data_then_the_close) {
    start_server("--mode http");
    std::error_code end;
    const std::string reply = exchange("GET / HTTP/1.0\n\n", end);
    BOOST_TEST(reply.starts_with("HTTP/1.0 200 OK\r\n"), reply);
    BOOST_TEST(reply.ends_with("\r\n\r\nhello from secctx\n"), reply);
    BOOST_TEST(test::text(end) == test::text(errc::end_of_stream));
}

BOOST_AUTO_TEST_CASE(a_bare_lf_request_keeps_the_connection_for_a_crlf_one) {
    start_server("--mode http");
    const auto deadline = clock::now() + std::chrono::seconds(10);
    tcp_channel channel = open_channel(port, full_handshake_client(), deadline);
    const std::string first = "GET /a HTTP/1.1\nHost: x\n\n";
    BOOST_TEST_REQUIRE(!channel.write_all(std::as_bytes(std::span(first)), deadline));
    std::error_code end;
    // Answered before the second request is sent: the first head ended at its bare-LF empty line.
    const std::string reply_a = read_until(channel, "hello from secctx: /a\n", deadline, end);
    BOOST_TEST_REQUIRE(!end, reply_a);
    BOOST_TEST(reply_a.starts_with("HTTP/1.1 200 OK\r\n"), reply_a);
    BOOST_TEST(reply_a.find("Connection: close") == std::string::npos, reply_a);
    const std::string second = "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    BOOST_TEST_REQUIRE(!channel.write_all(std::as_bytes(std::span(second)), deadline));
    const std::string reply_b = read_to_end(channel, deadline, end);
    BOOST_TEST(reply_b.starts_with("HTTP/1.1 200 OK\r\n"), reply_b);
    BOOST_TEST(reply_b.ends_with("hello from secctx: /b\n"), reply_b);
    BOOST_TEST(test::text(end) == test::text(errc::end_of_stream));
}

BOOST_AUTO_TEST_CASE(empty_lines_before_a_request_are_ignored) {
    start_server("--mode http");
    const std::string reply = exchange("\r\n\nGET /after-empty-lines HTTP/1.0\r\n\r\n");
    BOOST_TEST(reply.starts_with("HTTP/1.0 200 OK\r\n"), reply);
    BOOST_TEST(reply.ends_with("hello from secctx: /after-empty-lines\n"), reply);
    BOOST_TEST(count(reply, "HTTP/1.") == 1u, reply);
}

BOOST_AUTO_TEST_CASE(heads_ended_by_mixed_crlf_and_lf_are_answered) {
    start_server("--mode http");
    std::error_code end;
    const std::string reply = exchange("GET /crlf-lf HTTP/1.1\r\nHost: x\r\n\n"
                                       "GET /lf-crlf HTTP/1.0\nHost: x\n\r\n",
                                       end);
    const auto first = reply.find("hello from secctx: /crlf-lf\n");
    const auto second = reply.find("hello from secctx: /lf-crlf\n");
    BOOST_TEST_REQUIRE(second != std::string::npos, reply);
    BOOST_TEST(first < second, reply);
    BOOST_TEST(count(reply, " 200 OK\r\n") == 2u, reply);
    BOOST_TEST(test::text(end) == test::text(errc::end_of_stream));
}

BOOST_AUTO_TEST_CASE(an_idle_connection_is_closed_with_close_notify) {
    start_server("--mode echo --idle-timeout 300");
    const auto started = clock::now();
    const auto deadline = started + std::chrono::seconds(10);
    tcp_channel channel = open_channel(port, full_handshake_client(), deadline);
    std::error_code end;
    BOOST_TEST(read_to_end(channel, deadline, end).empty());
    BOOST_TEST(test::text(end) == test::text(errc::end_of_stream));
    BOOST_TEST((clock::now() - started < std::chrono::seconds(5)));
    BOOST_TEST(wait_for_log("closed: idle timeout (300 ms)"));
}

BOOST_AUTO_TEST_CASE(a_client_that_never_reads_hits_the_output_limit) {
    start_server("--mode echo --max-output 65536");
    const auto deadline = clock::now() + std::chrono::seconds(15);
    tcp_channel channel = open_channel(port, full_handshake_client(), deadline);
    BOOST_TEST_REQUIRE(!channel.error(), channel.error_detail());
    // Far more than the kernel's socket buffers on both sides can hold for it.
    const std::vector<std::byte> chunk(1 << 20, std::byte{'a'});
    std::error_code ec;
    for (int i = 0; i < 256 && !ec; ++i)
        ec = channel.write_all(chunk, deadline);
    BOOST_TEST(ec, "the server took 256 MiB from a peer that never read");
    BOOST_TEST(ec != errc::timed_out);
    BOOST_TEST(wait_for_log("closed: output limit"));
}

BOOST_AUTO_TEST_CASE(cipher_group_and_version_options_reach_openssl_s_client) {
    // Its input stays open a moment, so that the echo is read before it quits (a second: the
    // server may be a slow sanitizer build on busy cores).
    const auto s_client = [&](const std::string& flags) {
        return test::run("(echo ping; sleep 1) | timeout 10 openssl s_client -no_ign_eof " + flags +
                         " -connect 127.0.0.1:" + port + " -CAfile " + ca +
                         " -servername localhost 2>&1");
    };
    start_server("--mode echo --min-version tls1.3 --ciphersuites TLS_CHACHA20_POLY1305_SHA256 "
                 "--groups secp384r1");
    const std::string good = s_client("-tls1_3");
    BOOST_TEST(good.find("Cipher is TLS_CHACHA20_POLY1305_SHA256") != std::string::npos, good);
    BOOST_TEST(good.find("ping") != std::string::npos, good);
    BOOST_TEST(s_client("-tls1_2").find("Cipher is (NONE)") != std::string::npos);
    BOOST_TEST(s_client("-tls1_3 -groups X25519").find("Cipher is (NONE)") != std::string::npos);
    BOOST_TEST(wait_for_log("handshake failed"));
    std::system(("pkill -f -- '" + server_pattern + "'").c_str());

    // An RSA certificate, TLS 1.2 only, one cipher.
    start_server("--mode echo --cert " + rsa_cert + " --key " + rsa_key +
                 " --max-version tls1.2 --cipher TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    const std::string rsa = s_client("");
    BOOST_TEST(rsa.find("Cipher is ECDHE-RSA-AES128-GCM-SHA256") != std::string::npos, rsa);
    BOOST_TEST(rsa.find("Protocol  : TLSv1.2") != std::string::npos, rsa);
    BOOST_TEST(s_client("-tls1_3").find("Cipher is (NONE)") != std::string::npos);
}

// RFC 7301 3.2: no protocol in common ends the handshake with a fatal no_application_protocol
// alert, as openssl s_server and nginx send it.
BOOST_AUTO_TEST_CASE(an_alpn_mismatch_gets_a_fatal_no_application_protocol_alert) {
    start_server("--mode echo --alpn h2");
    const std::string refused =
        test::run("echo hi | timeout 10 openssl s_client -alpn imap -connect 127.0.0.1:" + port +
                  " -CAfile " + ca + " -servername localhost 2>&1");
    BOOST_TEST(refused.find("no application protocol") != std::string::npos, refused);
    BOOST_TEST(wait_for_log("client and server have no application protocol (ALPN) in common"));
    const std::string agreed =
        test::run("(echo hi; sleep 1) | timeout 10 openssl s_client -quiet -alpn imap,h2 "
                  "-connect 127.0.0.1:" +
                  port + " -CAfile " + ca +
                  " -servername localhost "
                  "2>/dev/null");
    BOOST_TEST(agreed == "hi\n");
}

// The largest ClientHello OpenSSL accepts (131,396 bytes of body: 32,767 suites, 255 compression
// methods, 65,535 bytes of extensions), sent by Python over TCP in records of one byte each
// (788,400 bytes), is answered with a ServerHello by the server's default limits and pooled
// buffers.
BOOST_AUTO_TEST_CASE(the_largest_client_hello_in_one_byte_records_is_answered) {
    start_server("--mode echo");
    const std::string script = (files.directory / "large_hello.py").string();
    std::ofstream(script) << R"(
import os, socket, struct, sys, time
def ext(kind, body):
    return struct.pack(">HH", kind, len(body)) + body
extensions = (ext(0x000a, bytes([0, 4, 0, 0x1d, 0, 0x17]))   # supported_groups
              + ext(0x000b, bytes([1, 0]))                   # ec_point_formats
              + ext(0x000d, bytes([0, 2, 4, 3]))             # ECDSA P-256 SHA-256
              + ext(0xff01, bytes([0])))                      # renegotiation_info
extensions += ext(0x0015, bytes(65535 - len(extensions) - 4))  # padding
suites = [0xC02B] + [s for s in range(0x0100, 0xC000) if s >> 8 != 0x13 and s != 0x5600][:32766]
body = (struct.pack(">H", 0x0303) + os.urandom(32) + bytes([32]) + os.urandom(32)
        + struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", s) for s in suites)
        + bytes([255]) + bytes(range(255)) + struct.pack(">H", len(extensions)) + extensions)
assert len(body) == 131396, len(body)
hello = bytes([1]) + len(body).to_bytes(3, "big") + body
wire = b"".join(bytes([0x16, 3, 1, 0, 1, b]) for b in hello)
start = time.monotonic()
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as s:
    s.sendall(wire)
    answer = b""
    while len(answer) < 6:
        chunk = s.recv(6 - len(answer))
        if not chunk:
            break
        answer += chunk
print(len(wire), answer[:3].hex(), answer[5:6].hex(), "%.2f s" % (time.monotonic() - start))
)";
    const std::string out = test::run("timeout 50 python3 " + script + " " + port + " 2>&1");
    BOOST_TEST_MESSAGE("python: " << out);
    // 788,400 bytes sent; a handshake record (16 03 03) holding a ServerHello (02) came back.
    BOOST_TEST(out.starts_with("788400 160303 02 "), out);
}

// Clients that take no tickets resume by session ID from the server's cache, as with openssl
// s_server: openssl s_client reconnects five times with its session, Python's ssl once.
BOOST_AUTO_TEST_CASE(tls12_clients_without_tickets_resume_by_session_id) {
    for (const std::string cache : {"", " --session-cache 0"}) {
        BOOST_TEST_CONTEXT(cache) {
            start_server("--mode echo --threads 2" + cache);
            const std::string out = test::run(
                "timeout 20 openssl s_client -tls1_2 -no_ticket -reconnect -connect 127.0.0.1:" +
                port + " -CAfile " + ca + " -servername localhost </dev/null 2>&1");
            const std::size_t expected = cache.empty() ? 5 : 0;
            BOOST_TEST(count(out, "Reused, TLSv1.2") == expected, out);
            BOOST_TEST(count(out, "New, TLSv1.2") == 6 - expected, out);
            const std::string script = (files.directory / "resume.py").string();
            std::ofstream(script) << R"(
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.options |= ssl.OP_NO_TICKET
session = None
for i in range(2):
    with socket.create_connection(("127.0.0.1", int(sys.argv[2]))) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
            s.sendall(b"x")
            s.recv(1)
            print(s.session_reused)
            session = s.session
)";
            const std::string python =
                test::run("timeout 20 python3 " + script + " " + ca + " " + port + " 2>&1");
            BOOST_TEST(python == (cache.empty() ? "False\nTrue\n" : "False\nFalse\n"), python);
            std::system(("pkill -f -- '" + server_pattern + "' >/dev/null 2>&1").c_str());
        }
    }
}

BOOST_AUTO_TEST_CASE(out_of_descriptors_it_refuses_without_spinning) {
    start_server("--mode echo");
    const std::string pid = server_pid();
    // Room for two more descriptors: the connections after them meet EMFILE in accept().
    const std::size_t open = std::stoul(test::run("ls /proc/" + pid + "/fd | wc -l"));
    const std::string limit = std::to_string(open + 2);
    BOOST_TEST_REQUIRE(
        std::system(("prlimit --pid " + pid + " --nofile=" + limit + ":" + limit).c_str()) == 0);
    const long ticks = server_cpu_ticks();
    const auto deadline = clock::now() + std::chrono::seconds(5);
    std::vector<socket_transport> sockets(6);
    for (auto& socket : sockets)
        BOOST_TEST_REQUIRE(!connect_tcp("127.0.0.1:" + port, deadline, socket));
    BOOST_TEST(wait_for_log("refused: out of file descriptors"));
    std::this_thread::sleep_for(std::chrono::seconds(1));
    // Refused ones learn it now (their socket ends); the server did not spin meanwhile.
    std::size_t ended = 0;
    for (auto& socket : sockets) {
        std::byte byte[1];
        if (!socket.wait(wait_for::readable, clock::now() + std::chrono::milliseconds(100)))
            ended += socket.read_some(byte).error == errc::end_of_stream;
    }
    BOOST_TEST(ended >= 1u, server_log());
    BOOST_TEST(server_cpu_ticks() - ticks < 20, server_log()); // under 0.2 s of CPU in over 1 s
}

BOOST_AUTO_TEST_CASE(two_thousand_connections_in_sequence_are_all_served) {
    start_server("--mode http --threads 2 --max-connections 64");
    const credentials creds = full_handshake_client();
    const auto deadline = clock::now() + std::chrono::seconds(50);
    const std::string request = "GET / HTTP/1.0\r\n\r\n";
    int served = 0;
    for (int i = 0; i < 2000 && clock::now() < deadline; ++i) {
        tcp_channel channel = open_channel(port, creds, deadline);
        std::error_code end;
        if (!channel.write_all(std::as_bytes(std::span(request)), deadline) &&
            read_to_end(channel, deadline, end).ends_with("hello from secctx\n") &&
            end == errc::end_of_stream)
            ++served;
    }
    BOOST_TEST(served == 2000);
    BOOST_TEST(wait_for_log("listening"));
    // One log line each, every one a response; 2000 connections never ran over 64 at once.
    for (int i = 0; i < 50 && count(server_log(), "closed after the response") < 2000u; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    BOOST_TEST(count(server_log(), "closed after the response") == 2000u);
    BOOST_TEST(count(server_log(), "refused") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(secctx_client, fixture)

BOOST_AUTO_TEST_CASE(talks_to_openssl_s_server_with_tls13_and_rsa_tls12_and_alpn) {
    const struct {
        const char* flags;
        const std::string* certificate;
        const std::string* private_key;
        const char* protocol;
    } cases[] = {{"-tls1_3", &cert, &key, "TLSv1.3"}, {"-tls1_2", &rsa_cert, &rsa_key, "TLSv1.2"}};
    for (const auto& c : cases) {
        BOOST_TEST_CONTEXT(c.protocol) {
            port = std::to_string(test::free_port());
            start_peer("openssl s_server -rev -naccept 1 -alpn h2 " + std::string(c.flags) +
                           " -accept 127.0.0.1:" + port + " -cert " + *c.certificate + " -key " +
                           *c.private_key,
                       "-accept 127.0.0.1:" + port);
            std::string out;
            BOOST_TEST(client("--ca " + ca + " --servername localhost --alpn h2 --send 'olleh\n'",
                              out) == 0,
                       out);
            BOOST_TEST(out.find(std::string("protocol: ") + c.protocol) != std::string::npos, out);
            BOOST_TEST(out.find("alpn: h2") != std::string::npos, out);
            BOOST_TEST(out.find("reply: hello") != std::string::npos, out); // s_server -rev
        }
    }
}

BOOST_AUTO_TEST_CASE(talks_to_gnutls_serv) {
    port = std::to_string(test::free_port());
    start_peer("gnutls-serv --echo --x509certfile " + cert + " --x509keyfile " + key + " -p " +
                   port,
               "gnutls-serv --echo --x509certfile " + cert);
    std::string out;
    BOOST_TEST(client("--ca " + ca + " --servername localhost --send 'gnutls-echo\n'", out) == 0,
               out);
    BOOST_TEST(out.find("reply: gnutls-echo") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(an_untrusted_certificate_or_a_wrong_name_is_a_clear_failure) {
    port = std::to_string(test::free_port());
    start_peer("openssl s_server -naccept 2 -accept 127.0.0.1:" + port + " -cert " + cert +
                   " -key " + key,
               "-accept 127.0.0.1:" + port);
    std::string out;
    BOOST_TEST(client("--servername localhost --send x", out) == 1, out); // system store only
    BOOST_TEST(out.find("does not chain to a trusted authority") != std::string::npos, out);
    BOOST_TEST(client("--ca " + ca + " --servername wrong.example --send x", out) == 1, out);
    BOOST_TEST(out.find("does not match the requested host name") != std::string::npos, out);
}

// --crl: secctx client refuses openssl s_server's revoked certificate and accepts it against a
// CRL that does not list it; secctx server refuses curl's revoked client certificate.
BOOST_AUTO_TEST_CASE(crls_refuse_revoked_peers_on_both_tools) {
    const auto& p = test::pki::get();
    const std::string revoked_server =
        files.write("server-revoked.crl", p.ca.revocation_list({{p.ecdsa_server.certificate_pem}}));
    const std::string revoked_client =
        files.write("client-revoked.crl", p.ca.revocation_list({{p.client.certificate_pem}}));
    port = std::to_string(test::free_port());
    start_peer("openssl s_server -naccept 2 -accept 127.0.0.1:" + port + " -cert " + cert +
                   " -key " + key,
               "-accept 127.0.0.1:" + port);
    std::string out;
    BOOST_TEST(
        client("--ca " + ca + " --servername localhost --crl " + revoked_server + " --send x",
               out) == 1,
        out);
    BOOST_TEST(out.find("has been revoked") != std::string::npos, out);
    BOOST_TEST(
        client("--ca " + ca + " --servername localhost --crl " + revoked_client + " --send x",
               out) == 0,
        out);

    start_server("--mode http --verify-client required --ca " + ca + " --crl " + revoked_client);
    test::run("timeout 10 curl -q -s --noproxy '*' --cacert " + ca + " --cert " + client_cert +
              " --key " + client_key + " https://localhost:" + port + "/");
    BOOST_TEST(wait_for_log("has been revoked"), server_log());
}

// OCSP stapling: secctx server staples its response for openssl s_client -status and
// gnutls-cli --ocsp (which checks it: a revoked one fails); secctx client checks what openssl
// s_server and gnutls-serv staple, responses that secctx's own server would not staple included.
BOOST_AUTO_TEST_CASE(ocsp_stapling_with_real_peers_both_ways) {
    using namespace std::chrono_literals;
    const auto& p = test::pki::get();
    const auto staple = [&](const std::string& name, ocsp_certificate_status status,
                            std::chrono::seconds from = -1h, std::chrono::seconds until = 24h) {
        return files.write(
            name, p.ca.ocsp_response({p.ecdsa_server.certificate_pem, status, from, until, true}));
    };
    const std::string good = staple("good.der", ocsp_certificate_status::good);
    const std::string revoked = staple("revoked.der", ocsp_certificate_status::revoked);
    for (const char* engine : {"openssl", "gnutls"}) {
        BOOST_TEST_CONTEXT("secctx server --engine " << engine) {
            start_server(std::string("--engine ") + engine + " --ocsp-response " + good);
            const std::string report =
                test::run("timeout 10 openssl s_client -status -connect 127.0.0.1:" + port +
                          " -CAfile " + ca + " -servername localhost </dev/null 2>&1");
            BOOST_TEST(report.find("OCSP Response Status: successful") != std::string::npos,
                       report);
            BOOST_TEST(report.find("Cert Status: good") != std::string::npos, report);
            const auto cli = [&] {
                return test::run("timeout 10 gnutls-cli --ocsp --x509cafile " + ca + " -p " + port +
                                 " localhost </dev/null 2>&1; echo exit=$?");
            };
            std::string out = cli();
            BOOST_TEST(out.find("exit=0") != std::string::npos, out);
            BOOST_TEST(out.find("Options: OCSP status request") != std::string::npos, out);
            std::system(("pkill -f -- '" + server_pattern + "' >/dev/null 2>&1").c_str());
            start_server(std::string("--engine ") + engine + " --ocsp-response " + revoked);
            out = cli();
            BOOST_TEST(out.find("exit=0") == std::string::npos, out);
            BOOST_TEST(out.find("revoked") != std::string::npos, out);
            std::system(("pkill -f -- '" + server_pattern + "' >/dev/null 2>&1").c_str());
        }
    }

    const struct {
        const char* what;
        std::string file;
        const char* failure; // what secctx client --ocsp check says, or nullptr: it succeeds
    } staples[] = {
        {"good", good, nullptr},
        {"revoked", revoked, "has been revoked"},
        {"expired", staple("expired.der", ocsp_certificate_status::good, -48h, -24h),
         "could not be established"},
        {"not yet valid", staple("future.der", ocsp_certificate_status::good, 24h, 48h),
         "could not be established"},
    };
    for (const auto& s : staples) {
        for (const bool gnutls_serv : {false, true}) {
            BOOST_TEST_CONTEXT(s.what << (gnutls_serv ? " from gnutls-serv" : " from s_server")) {
                port = std::to_string(test::free_port());
                if (gnutls_serv)
                    start_peer("gnutls-serv --echo --x509certfile " + cert + " --x509keyfile " +
                                   key + " --ignore-ocsp-response-errors --ocsp-response " +
                                   s.file + " -p " + port,
                               "gnutls-serv --echo --x509certfile " + cert);
                else
                    start_peer("openssl s_server -naccept 1 -accept 127.0.0.1:" + port + " -cert " +
                                   cert + " -key " + key + " -status_file " + s.file,
                               "-accept 127.0.0.1:" + port);
                std::string out;
                const int status =
                    client("--ca " + ca + " --servername localhost --ocsp check --send x", out);
                BOOST_TEST(status == (s.failure == nullptr ? 0 : 1), out);
                if (s.failure != nullptr)
                    BOOST_TEST(out.find(s.failure) != std::string::npos, out);
                std::system(("pkill -f -- '" + server_pattern + "' >/dev/null 2>&1").c_str());
            }
        }
    }
    // No staple: only a requirement fails.
    port = std::to_string(test::free_port());
    start_peer("openssl s_server -naccept 2 -accept 127.0.0.1:" + port + " -cert " + cert +
                   " -key " + key,
               "-accept 127.0.0.1:" + port);
    std::string out;
    BOOST_TEST(client("--ca " + ca + " --servername localhost --ocsp check --send x", out) == 0,
               out);
    BOOST_TEST(client("--ca " + ca + " --servername localhost --ocsp require --send x", out) == 1,
               out);
    BOOST_TEST(out.find("could not be established") != std::string::npos, out);
}

BOOST_AUTO_TEST_SUITE_END()
