// `secctx server` and `secctx client` against peers no one here wrote: openssl s_client and
// s_server, gnutls-cli and gnutls-serv, curl. Loopback only; every run bounded by `timeout`.
#include "support/drive.hpp"
#include "support/peers.hpp"
#include "support/pki.hpp"

#include "secctx/transport/pipe.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace secctx;

namespace {

const std::string tool = SECCTX_TOOL_PATH;

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
            std::system(("pkill -f '" + server_pattern + "' >/dev/null 2>&1").c_str());
    }

    // Starts `secctx server` with `options` on a free port; lives until the test ends.
    void start_server(const std::string& options) {
        port = std::to_string(test::free_port());
        server_pattern = "--listen 127.0.0.1:" + port;
        const std::string command = "timeout 60 " + tool + " server " + server_pattern +
                                    " --cert " + cert + " --key " + key + " " + options +
                                    " >/dev/null 2>" + log + " </dev/null &";
        BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0);
        wait_for_log("listening on port");
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

    bool wait_for_log(const std::string& text) const {
        for (int i = 0; i < 100; ++i) {
            if (server_log().find(text) != std::string::npos)
                return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        BOOST_ERROR("the server log never said '" << text << "':\n" << server_log());
        return false;
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
            const std::string reply = test::run(
                "(echo hello-secctx; sleep 1) | timeout 10 openssl s_client -quiet -no_ign_eof " +
                std::string(version) + " -connect 127.0.0.1:" + port + " -CAfile " + ca +
                " -servername localhost 2>/dev/null");
            BOOST_TEST(reply == "hello-secctx\n");
        }
    }
    BOOST_TEST(wait_for_log("TLSv1.2"));
    BOOST_TEST(server_log().find("TLSv1.3") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(gnutls_cli_gets_its_bytes_echoed) {
    start_server("--mode echo");
    const std::string reply = test::run("(echo hello-gnutls; sleep 1) | timeout 10 gnutls-cli "
                                        "--logfile=/dev/null --x509cafile " +
                                        ca + " -p " + port + " localhost 2>/dev/null");
    BOOST_TEST(reply.find("hello-gnutls") != std::string::npos, reply);
}

BOOST_AUTO_TEST_CASE(curl_gets_http_responses_on_one_kept_alive_connection) {
    start_server("--mode http --alpn http/1.1");
    const std::string body =
        test::run("timeout 10 curl -s --cacert " + ca + " https://localhost:" + port +
                  "/ https://localhost:" + port + "/again");
    BOOST_TEST(body == "hello from secctx\nhello from secctx\n");
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

BOOST_AUTO_TEST_CASE(a_stalled_peer_times_out_while_others_are_served_and_garbage_is_dropped) {
    start_server("--mode echo --handshake-timeout 300");
    // A peer that connects and says nothing, and one that sends an HTTP request in the clear.
    const std::string stalled =
        "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port + "; sleep 2' >/dev/null 2>&1 &";
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
    const std::string holder =
        "timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + port + "; sleep 3' >/dev/null 2>&1 &";
    BOOST_TEST_REQUIRE(std::system(holder.c_str()) == 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
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

BOOST_AUTO_TEST_SUITE_END()
