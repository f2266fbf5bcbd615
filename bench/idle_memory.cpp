// Memory held per established, idle TLS 1.3 connection end, for each buffer policy on either
// engine against the loop people write by hand (SSL + two BIO_s_mem) and against Boost.Asio's
// ssl::stream.
//
//   idle_memory VARIANT N
//
// One process holds the listener and the N server ends, a forked child the N client ends, so each
// stays under the descriptor limit and measures only its own heap. Each process takes a sample
// after its credentials, contexts and one warm-up connection exist (so one-time allocations, such
// as OpenSSL's per-thread state or the pool's thread cache, are not charged to the connections),
// establishes the N connections one at a time over TCP loopback, waits for a quiet period and
// takes a second sample. The server greets every connection with one byte of application data
// and the client reads it: the TLS 1.3 session tickets travel before it, so once it has arrived
// every ticket has been processed and nothing is pending in either end. After that both ends
// are what an event loop holds for an idle connection: a secctx client has read until
// would_block, which is where the channel gives its input back.
//
// Each process prints one JSON line: the heap in use (glibc mallinfo2: uordblks + hblkhd) per end,
// split into what C++ code holds (secctx, Asio, the container of connections, the pool's retained
// blocks: everything from operator new, which this program replaces to count it) and the rest,
// which is the engine's (OpenSSL, or GnuTLS with Nettle and GMP: C libraries that allocate with
// malloc), and the VmRSS growth per end. bench/idle_memory.py runs every variant and tabulates
// the lines.
#include <utility> // Boost 1.74's Asio uses std::exchange without including it (C++20)

#include "counted_new.hpp"
#include "loops/openssl.hpp"
#include "pki.hpp"
#include "secctx/buffer/dynamic.hpp"
#include "secctx/buffer/fixed.hpp"
#include "secctx/buffer/pooled.hpp"
#include "secctx/channel.hpp"
#include "secctx/handshake.hpp"
#include "secctx/transport/socket.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace secctx;
using bench::pki;

// ---------------------------------------------------------------------------------------------
// C++'s share of the heap. mallinfo2 counts whole chunks, header included, so each block is
// counted the same way: its usable size plus the chunk header glibc keeps before it.

std::atomic<std::size_t> cxx_bytes{0};
std::atomic<std::size_t> cxx_blocks{0};

std::size_t chunk_size(void* p) noexcept {
    return malloc_usable_size(p) + sizeof(std::size_t);
}

struct sample {
    std::size_t heap = 0;
    std::size_t cxx = 0;
    std::size_t cxx_blocks = 0;
    std::size_t rss = 0;
};

std::size_t rss_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stoull(line.substr(6)) * 1024;
    return 0;
}

sample take_sample() {
    const struct mallinfo2 info = mallinfo2();
    return {info.uordblks + info.hblkhd, cxx_bytes.load(), cxx_blocks.load(), rss_bytes()};
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "idle_memory: %s\n", what.c_str());
    std::fflush(stderr);
    std::_Exit(1);
}

constexpr auto io_timeout = std::chrono::seconds(30);
constexpr std::byte greeting{0x2a};

clock::time_point deadline() {
    return clock::now() + io_timeout;
}

socket_transport accept_one(socket_listener& listener) {
    socket_transport t;
    if (const auto ec = listener.accept(t, deadline()))
        die("accept: " + ec.message());
    return t;
}

socket_transport connect_one(std::uint16_t port) {
    socket_transport t;
    if (const auto ec = connect_tcp("127.0.0.1", port, deadline(), t))
        die("connect: " + ec.message());
    return t;
}

// ---------------------------------------------------------------------------------------------
// secctx: basic_handshake, then the basic_channel a server keeps per connection.

struct dynamic_buffers {
    dynamic_buffer operator()() const { return dynamic_buffer(); }
    std::string report() const { return {}; }
};

struct fixed_buffers {
    // A full record of any TLS version in, one TLS 1.3 record out: write_some() takes only the
    // plaintext whose records fit, so one record of output is all the channel needs.
    using type = fixed_buffer<channel_input_capacity, 17 * 1024>;
    type operator()() const { return type(); }
    std::string report() const { return {}; }
};

struct pooled_buffers {
    buffer_pool pool;
    pooled_buffer operator()() { return pooled_buffer(pool); }
    std::string report() const {
        return ",\"pool_blocks_in_use\":" + std::to_string(pool.in_use()) +
               ",\"pool_blocks_allocated\":" + std::to_string(pool.allocated()) +
               ",\"pool_block_size\":" + std::to_string(pool.block_size());
    }
};

template <class Engine, class Factory>
class secctx_ends {
    using buffers = decltype(std::declval<Factory&>()());
    using server_handshake = basic_handshake<typename Engine::server, socket_transport, buffers>;
    using client_handshake = basic_handshake<typename Engine::client, socket_transport, buffers>;
    // Both roles share the provider, so one channel type holds either end.
    using channel = basic_channel_for<server_handshake>;

public:
    explicit secctx_ends(const pki& p) : pki_(p) {}

    void reserve(std::size_t n) { ends_.reserve(n); }

    void accept(socket_listener& listener) {
        server_handshake hs{typename Engine::server{Engine::server_credentials(pki_)},
                            accept_one(listener), make_()};
        if (const auto ec = hs.run(deadline()))
            die("server handshake: " + ec.message() + " " + hs.error_detail());
        channel& ch = ends_.emplace_back(std::move(hs));
        if (const auto ec = ch.write_all(std::span(&greeting, 1), deadline()))
            die("greeting: " + ec.message());
    }

    void connect(std::uint16_t port) {
        client_handshake hs{
            typename Engine::client{Engine::client_credentials(pki_), bench::server_name},
            connect_one(port), make_()};
        if (const auto ec = hs.run(deadline()))
            die("client handshake: " + ec.message() + " " + hs.error_detail());
        channel& ch = ends_.emplace_back(std::move(hs));
        std::byte got{};
        if (const auto ec = ch.read_exactly(std::span(&got, 1), deadline()); ec || got != greeting)
            die("reading the greeting: " + ec.message());
        if (ch.provider().tickets_received() == 0)
            die("the session tickets did not arrive before the greeting");
        // An event loop reads until would_block; that is where the input goes back to the pool.
        if (const io_result r = ch.read_some(std::span(&got, 1)); r.error != errc::would_block)
            die("expected an idle connection after the greeting: " + r.error.message());
    }

    std::string report() const { return make_.report(); }

private:
    const pki& pki_;
    Factory make_; // before ends_: a pool outlives the channels drawing from it
    std::vector<channel> ends_;
};

// ---------------------------------------------------------------------------------------------
// openssl-mem: the loop most code writes, an SSL with two BIO_s_mem shuttled by hand to the socket.

struct ssl_free {
    void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};

class openssl_mem_ends {
    struct end {
        socket_transport socket;
        std::unique_ptr<SSL, ssl_free> ssl;
    };

public:
    explicit openssl_mem_ends(const pki& p) : pki_(p) {}

    void reserve(std::size_t n) { ends_.reserve(n); }

    void accept(socket_listener& listener) {
        end& e = ends_.emplace_back(
            end{accept_one(listener), make(pki_.openssl_server.native_handle())});
        SSL_set_accept_state(e.ssl.get());
        handshake(e);
        if (SSL_write(e.ssl.get(), &greeting, 1) != 1 || !flush(e))
            die("openssl-mem: greeting");
    }

    void connect(std::uint16_t port) {
        end& e =
            ends_.emplace_back(end{connect_one(port), make(pki_.openssl_client.native_handle())});
        SSL_set_connect_state(e.ssl.get());
        if (!bench::expect_server_name(e.ssl.get()))
            die("openssl-mem: server name");
        handshake(e);
        std::byte got{};
        for (;;) {
            const int rc = SSL_read(e.ssl.get(), &got, 1);
            if (rc == 1 && got == greeting)
                break;
            if (rc == 1 || SSL_get_error(e.ssl.get(), rc) != SSL_ERROR_WANT_READ || !receive(e))
                die("openssl-mem: reading the greeting");
        }
    }

    std::string report() const { return {}; }

private:
    static std::unique_ptr<SSL, ssl_free> make(SSL_CTX* ctx) {
        std::unique_ptr<SSL, ssl_free> ssl(SSL_new(ctx));
        BIO* in = BIO_new(BIO_s_mem());
        BIO* out = BIO_new(BIO_s_mem());
        if (!ssl || in == nullptr || out == nullptr)
            die("openssl-mem: out of memory");
        SSL_set_bio(ssl.get(), in, out);
        SSL_set_mode(ssl.get(), SSL_MODE_RELEASE_BUFFERS);
        return ssl;
    }

    // Everything the SSL wrote, to the socket.
    static bool flush(end& e) {
        BIO* out = SSL_get_wbio(e.ssl.get());
        char chunk[4096];
        int n = 0;
        while ((n = BIO_read(out, chunk, sizeof chunk)) > 0) {
            auto rest = std::as_bytes(std::span(chunk, static_cast<std::size_t>(n)));
            while (!rest.empty()) {
                const io_result put = e.socket.write_some(rest);
                if (put.error == errc::would_block) {
                    if (e.socket.wait(wait_for::writable, deadline()))
                        return false;
                } else if (put.error) {
                    return false;
                }
                rest = rest.subspan(put.bytes);
            }
        }
        return true;
    }

    // What the socket has (waiting for at least one byte), to the SSL.
    static bool receive(end& e) {
        std::byte chunk[4096];
        for (;;) {
            const io_result got = e.socket.read_some(chunk);
            if (!got.error)
                return BIO_write(SSL_get_rbio(e.ssl.get()), chunk, static_cast<int>(got.bytes)) ==
                       static_cast<int>(got.bytes);
            if (got.error != errc::would_block || e.socket.wait(wait_for::readable, deadline()))
                return false;
        }
    }

    static void handshake(end& e) {
        for (;;) {
            const int rc = SSL_do_handshake(e.ssl.get());
            if (!flush(e))
                die("openssl-mem: write");
            if (rc == 1)
                return;
            if (SSL_get_error(e.ssl.get(), rc) != SSL_ERROR_WANT_READ || !receive(e))
                die("openssl-mem: handshake");
        }
    }

    const pki& pki_;
    std::vector<end> ends_;
};

// ---------------------------------------------------------------------------------------------
// asio-ssl-stream: boost::asio::ssl::stream<tcp::socket> on the very same SSL_CTX (Boost 1.74's
// ssl::context adopts a native handle and frees it when destroyed, hence the extra reference).
// Asio sets SSL_MODE_RELEASE_BUFFERS on each stream itself, but each stream also owns two 17 KiB
// staging vectors and a BIO pair.

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

asio::ssl::context adopt(SSL_CTX* ctx) {
    SSL_CTX_up_ref(ctx);
    return asio::ssl::context(ctx);
}

class asio_ends {
    using stream = asio::ssl::stream<tcp::socket>;

public:
    explicit asio_ends(const pki& p)
        : server_context_(adopt(p.openssl_server.native_handle())),
          client_context_(adopt(p.openssl_client.native_handle())) {}

    // Streams cannot move in Boost 1.74: a deque keeps them in place.
    void reserve(std::size_t) {}

    void accept(socket_listener& listener) {
        tcp::socket socket(io_);
        socket.assign(tcp::v4(), accept_one(listener).release());
        stream& s = ends_.emplace_back(std::move(socket), server_context_);
        boost::system::error_code ec;
        s.handshake(stream::server, ec);
        if (!ec)
            asio::write(s, asio::buffer(&greeting, 1), ec);
        if (ec)
            die("asio server: " + ec.message());
    }

    void connect(std::uint16_t port) {
        tcp::socket socket(io_);
        boost::system::error_code ec;
        socket.connect({asio::ip::address_v4::loopback(), port}, ec);
        if (!ec)
            socket.set_option(tcp::no_delay(true), ec); // as secctx's sockets
        if (ec)
            die("asio connect: " + ec.message());
        stream& s = ends_.emplace_back(std::move(socket), client_context_);
        if (!bench::expect_server_name(s.native_handle()))
            die("asio: server name");
        s.handshake(stream::client, ec);
        std::byte got{};
        if (!ec)
            asio::read(s, asio::buffer(&got, 1), ec);
        if (ec || got != greeting)
            die("asio client: " + ec.message());
    }

    std::string report() const { return {}; }

private:
    asio::io_context io_;
    asio::ssl::context server_context_;
    asio::ssl::context client_context_;
    std::deque<stream> ends_;
};

// ---------------------------------------------------------------------------------------------

enum class side { server, client };

template <class Ends>
void measure(const pki& p, const char* variant, side role, std::size_t n, socket_listener& listener,
             std::uint16_t port) {
    Ends ends(p);
    const auto establish = [&] {
        if (role == side::server)
            ends.accept(listener);
        else
            ends.connect(port);
    };
    // The warm-up connection stays up: closing it would race with the peer's reads, and being in
    // both samples it cancels out.
    establish();
    const sample before = take_sample();
    const auto start = clock::now();
    ends.reserve(n + 1);
    for (std::size_t i = 0; i < n; ++i)
        establish();
    const double seconds = std::chrono::duration<double>(clock::now() - start).count();
    // Quiet period: whatever the peer still sends (a late ticket, a FIN) would show up by now.
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const sample after = take_sample();
    const auto per_end = [n](std::size_t a, std::size_t b) {
        return (static_cast<double>(a) - static_cast<double>(b)) / static_cast<double>(n);
    };
    const double heap = per_end(after.heap, before.heap);
    const double cxx = per_end(after.cxx, before.cxx);
    std::printf("{\"variant\":\"%s\",\"role\":\"%s\",\"n\":%zu,\"bytes_per_end\":%.1f,"
                "\"engine_bytes_per_end\":%.1f,\"other_bytes_per_end\":%.1f,"
                "\"other_blocks_per_end\":%.2f,\"rss_per_end\":%.1f,\"establish_seconds\":%.3f"
                "%s}\n",
                variant, role == side::server ? "server" : "client", n, heap, heap - cxx, cxx,
                per_end(after.cxx_blocks, before.cxx_blocks), per_end(after.rss, before.rss),
                seconds, ends.report().c_str());
    std::fflush(stdout);
}

using measure_fn = void (*)(const pki&, const char*, side, std::size_t, socket_listener&,
                            std::uint16_t);

measure_fn find_variant(std::string_view name) {
    using bench::gnutls_engine;
    using bench::openssl_engine;
    if (name == "secctx-dynamic")
        return measure<secctx_ends<openssl_engine, dynamic_buffers>>;
    if (name == "secctx-fixed")
        return measure<secctx_ends<openssl_engine, fixed_buffers>>;
    if (name == "secctx-pooled")
        return measure<secctx_ends<openssl_engine, pooled_buffers>>;
    if (name == "secctx-gnutls-dynamic")
        return measure<secctx_ends<gnutls_engine, dynamic_buffers>>;
    if (name == "secctx-gnutls-fixed")
        return measure<secctx_ends<gnutls_engine, fixed_buffers>>;
    if (name == "secctx-gnutls-pooled")
        return measure<secctx_ends<gnutls_engine, pooled_buffers>>;
    if (name == "openssl-mem")
        return measure<openssl_mem_ends>;
    if (name == "asio-ssl-stream")
        return measure<asio_ends>;
    return nullptr;
}

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// One byte over a pipe: "I have measured" / "you may go".
void signal_peer(int fd) {
    const char byte = 1;
    if (::write(fd, &byte, 1) != 1)
        die("pipe write");
}

void wait_peer(int fd) {
    char byte = 0;
    if (::read(fd, &byte, 1) != 1)
        die("the other process ended early");
}

} // namespace

void* secctx::bench::counted_new(std::size_t size, std::size_t alignment) {
    void* p = allocate(size, alignment);
    cxx_bytes.fetch_add(chunk_size(p), std::memory_order_relaxed);
    cxx_blocks.fetch_add(1, std::memory_order_relaxed);
    return p;
}

void secctx::bench::counted_delete(void* p) noexcept {
    if (p == nullptr)
        return;
    cxx_bytes.fetch_sub(chunk_size(p), std::memory_order_relaxed);
    cxx_blocks.fetch_sub(1, std::memory_order_relaxed);
    std::free(p);
}

int main(int argc, char** argv) {
    const measure_fn run = argc == 3 ? find_variant(argv[1]) : nullptr;
    const long n = argc == 3 ? std::strtol(argv[2], nullptr, 10) : 0;
    if (run == nullptr || n <= 0) {
        std::fprintf(stderr, "usage: idle_memory secctx-dynamic|secctx-fixed|secctx-pooled|"
                             "secctx-gnutls-dynamic|secctx-gnutls-fixed|secctx-gnutls-pooled|"
                             "openssl-mem|asio-ssl-stream N\n");
        return 2;
    }
    raise_descriptor_limit();
    socket_listener listener;
    if (const auto ec = socket_listener::listen_tcp("127.0.0.1:0", listener))
        die("listen: " + ec.message());
    const std::uint16_t port = listener.port();
    // One PKI for both processes: the client must trust the CA that issued the server's cert.
    const pki p;
    int measured[2];
    int release[2];
    if (::pipe(measured) != 0 || ::pipe(release) != 0)
        die("pipe");
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        listener.close();
        run(p, argv[1], side::client, static_cast<std::size_t>(n), listener, port);
        // The connections stay up until the server has measured too.
        signal_peer(measured[1]);
        wait_peer(release[0]);
        std::_Exit(0);
    }
    run(p, argv[1], side::server, static_cast<std::size_t>(n), listener, port);
    wait_peer(measured[0]);
    signal_peer(release[1]);
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
